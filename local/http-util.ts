/** Small helpers shared by the emulator's HTTP endpoints. */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** API Gateway HTTP APIs accept request bodies up to 10 MB. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super('Request body too large');
    this.name = 'BodyTooLargeError';
  }
}

export async function readBody(req: IncomingMessage, maxBytes = MAX_REQUEST_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * CORS as the HTTP API is configured with `allowedOrigins` (lib/chat-http-api.ts `corsPreflight`):
 * only those origins get CORS headers, and preflights are answered with the configured methods and
 * headers, whatever the browser asked for. No origins (the default, as on a stack deployed without
 * the context value): no CORS at all, and an OPTIONS request is routed like any other.
 */
export const CORS_PREFLIGHT = {
  allowMethods: 'GET,POST,PUT,OPTIONS',
  allowHeaders: 'authorization,content-type',
  maxAgeSeconds: 3600,
} as const;

export function corsHeaders(req: IncomingMessage, allowedOrigins: readonly string[]): OutgoingHttpHeaders {
  const { origin } = req.headers;
  if (origin === undefined || !allowedOrigins.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export function isPreflight(req: IncomingMessage): boolean {
  return (
    req.method === 'OPTIONS' &&
    req.headers.origin !== undefined &&
    req.headers['access-control-request-method'] !== undefined
  );
}

export function preflightHeaders(
  req: IncomingMessage,
  allowedOrigins: readonly string[],
): OutgoingHttpHeaders {
  const allowed = corsHeaders(req, allowedOrigins);
  if (allowed['access-control-allow-origin'] === undefined) return {};
  return {
    ...allowed,
    'access-control-allow-methods': CORS_PREFLIGHT.allowMethods,
    'access-control-allow-headers': CORS_PREFLIGHT.allowHeaders,
    'access-control-max-age': String(CORS_PREFLIGHT.maxAgeSeconds),
  };
}

/** `_req` stays in the signature so that every sender reads alike; CORS headers are set by the gateway. */
export function sendJson(
  _req: IncomingMessage,
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The contract's REST error shape (API.md "Errors"). */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
): void {
  sendJson(req, res, statusCode, { error: { code, message } });
}

export function sendInternalError(req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(req, res, 500, 'internal', 'Internal server error');
}

/** The caller's address without the IPv4-mapped IPv6 prefix, as API Gateway reports `sourceIp`. */
export function sourceIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Query parameters with repeated names joined by commas, as API Gateway does; undefined when none. */
export function queryParameters(searchParams: URLSearchParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  let any = false;
  for (const [name, value] of searchParams) {
    result[name] = result[name] === undefined ? value : `${result[name]},${value}`;
    any = true;
  }
  return any ? result : undefined;
}

export function multiValueQueryParameters(
  searchParams: URLSearchParams,
): Record<string, string[]> | undefined {
  const result: Record<string, string[]> = {};
  let any = false;
  for (const [name, value] of searchParams) {
    const values = result[name] ?? [];
    values.push(value);
    result[name] = values;
    any = true;
  }
  return any ? result : undefined;
}

/** API Gateway's `requestTime` format: `24/Nov/2026:10:00:00 +0000`. */
export function requestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** Lower-cased request headers, repeated values joined by commas (HTTP API payload v2). */
export function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Headers with their names as the client sent them (WebSocket API events keep the case). */
export function rawCaseHeaders(req: IncomingMessage): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    const values = multiValueHeaders[name] ?? [];
    values.push(value);
    multiValueHeaders[name] = values;
    headers[name] = values.join(',');
  }
  return { headers, multiValueHeaders };
}

/** A request id shaped like API Gateway's `extendedRequestId`/`requestId` (base64-ish, 16 chars). */
export function shortRequestId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 15; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `${id}=`;
}

/** Starts `server` on `host:port` (0: any free port) and answers the port it got. */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
