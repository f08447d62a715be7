/**
 * Builds the web client into web/dist: index.html, app.js (the bundled TypeScript), styles.css and
 * the icons (favicon.svg, and favicon.ico drawn here).
 * `tsx web/build.ts` from the command line; `buildWeb()` from the e2e setup.
 */
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { faviconIco } from './favicon-ico.js';

const webDir = dirname(fileURLToPath(import.meta.url));

export interface WebBuild {
  readonly outDir: string;
  /** Bytes of each file written, by name. */
  readonly sizes: Readonly<Record<string, number>>;
}

export async function buildWeb(outDir = join(webDir, 'dist')): Promise<WebBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(webDir, 'src/main.ts'), styles: join(webDir, 'styles.css') },
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    logLevel: 'warning',
  });
  await copyFile(join(webDir, 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(webDir, 'favicon.svg'), join(outDir, 'favicon.svg'));
  await writeFile(join(outDir, 'favicon.ico'), faviconIco());
  const sizes: Record<string, number> = {};
  for (const name of ['index.html', 'app.js', 'styles.css', 'favicon.svg', 'favicon.ico'])
    sizes[name] = (await stat(join(outDir, name))).size;
  return { outDir, sizes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { outDir, sizes } = await buildWeb();
  const files = Object.entries(sizes).map(([name, bytes]) => `${name} ${bytes} B`);
  console.log(`Web client built in ${outDir}: ${files.join(', ')}`);
}
