/** The built web client, served from the same origin as the API so it needs no CORS and no config. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

async function fileAt(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.isFile()) return path;
    if (info.isDirectory()) return fileAt(join(path, 'index.html'));
  } catch {
    // Missing: fall through.
  }
  return undefined;
}

/**
 * Serves `pathname` from `root` for GET and HEAD; answers false when there is no such file. A browser
 * navigation to a path that names no file gets `index.html` (client-side routing: `/rooms/<roomId>`,
 * where a room id may contain a dot, so the path's "extension" says nothing).
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  pathname: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const base = normalize(root);
  const target = normalize(join(base, decoded));
  if (target !== base && !target.startsWith(base.endsWith(sep) ? base : base + sep)) return false;
  // Only a browser navigation falls back to index.html: an API client asking for an unknown path
  // must still get the JSON 404.
  const isNavigation = (req.headers.accept ?? '').includes('text/html');
  const file = (await fileAt(target)) ?? (isNavigation ? await fileAt(join(base, 'index.html')) : undefined);
  if (file === undefined) return false;
  const info = await stat(file);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
    ...headers,
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    stream.pipe(res);
  });
  return true;
}
