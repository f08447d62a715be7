/**
 * A raw HTTP client on node:http: the path is sent exactly as given (no URL normalisation by fetch) and
 * the body as bytes, so that invalid UTF-8 and odd encodings reach the server untouched.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface RawRequest {
  readonly method: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export async function send(baseUrl: string, input: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const response = await sendRetried(baseUrl, input, timeoutMs);
  // A path with the seed's trailing slash gets 308 from the `ANY /{proxy+}` route: follow it once, with
  // the same method, headers and body, as fetch and browsers do for a same-origin 308.
  const location = response.headers.location;
  if (response.status === 308 && location?.startsWith('/') === true && !location.startsWith('//')) {
    return sendRetried(baseUrl, { ...input, path: location }, timeoutMs);
  }
  return response;
}

async function sendRetried(baseUrl: string, input: RawRequest, timeoutMs: number): Promise<RawResponse> {
  try {
    return await sendOnce(baseUrl, input, timeoutMs);
  } catch (error) {
    // A kept-alive socket the server closed just as it was reused: Node's documented race, not an answer.
    if ((error as { reusedSocket?: boolean }).reusedSocket !== true) throw error;
    return sendOnce(baseUrl, input, timeoutMs);
  }
}

function sendOnce(baseUrl: string, input: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: input.method,
        path: input.path,
        headers: {
          ...input.headers,
          ...(input.body === undefined ? {} : { 'content-length': String(input.body.length) }),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${input.method} ${input.path}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(Object.assign(error, { reusedSocket: req.reusedSocket && error.code === 'ECONNRESET' }));
    });
    req.end(input.body);
  });
}

/** Sends JSON and parses the JSON answer (setup and probes, where the request is known to be valid). */
export async function sendJson(
  baseUrl: string,
  method: string,
  path: string,
  token: string | undefined,
  json?: unknown,
): Promise<{ status: number; text: string; body: unknown }> {
  const response = await send(baseUrl, {
    method,
    path,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: Buffer.from(JSON.stringify(json)) }),
  });
  let body: unknown;
  try {
    body = response.text === '' ? undefined : JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  return { status: response.status, text: response.text, body };
}

/** Lets the process exit: keep-alive sockets would otherwise hold it open. */
export function closeHttp(): void {
  agent.destroy();
}
