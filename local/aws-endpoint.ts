/**
 * The front door every local AWS JSON API shares (Scheduler, EventBridge, SQS, Secrets Manager, the
 * SES front): a loopback HTTP server that reads the body with a size limit, refuses what is not
 * signed with the local key (SigV4, the body's hash included, the service's signing name and region
 * checked, as every AWS endpoint does), and answers errors in the protocol the SDK parses:
 *
 * - `json` (AWS JSON 1.0/1.1, `X-Amz-Target`): body `{"__type": code, "message"}`;
 * - `rest-json` (Scheduler, SES v2): header `x-amzn-ErrorType: code`, body `{"Message", "message"}`.
 *
 * The signature-failure answers are those of AWS's JSON services (as lambda-invoke.ts gives them).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo-local.js';
import { listenOn } from './http-util.js';
import type { Log } from './log.js';
import {
  amzDate,
  type Credentials,
  parseAmzDate,
  rawQueryPairs,
  type SigV4Failure,
  sha256Hex,
  verifyHeaderSignature,
} from './sigv4.js';

/** The account id of every local ARN (as lambda.ts's fake context and lambda-invoke.ts use). */
export const LOCAL_ACCOUNT = '123456789012';

export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** `1 validation error detected: ...`, the shape AWS's JSON services give a constraint failure. */
export function validationError(message: string, code = 'ValidationException'): AwsError {
  return new AwsError(400, code, message);
}

export interface AwsRequest {
  readonly method: string;
  /** Percent-decoded path segments after the leading slash. */
  readonly segments: readonly string[];
  readonly query: readonly [string, string][];
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `X-Amz-Target` (JSON protocols): `Service.Operation`. */
  readonly target: string | undefined;
}

export interface AwsAnswer {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: OutgoingHttpHeaders;
}

export interface AwsEndpointOptions {
  /** What logs and errors call it. */
  readonly name: string;
  /** The SigV4 signing name (`scheduler`, `events`, `sqs`, `secretsmanager`, `ses`). */
  readonly service: string;
  readonly protocol: 'json' | 'rest-json';
  readonly log: Log;
  readonly handle: (request: AwsRequest) => Promise<AwsAnswer>;
  /**
   * Requests served before any signature check (the SES front's mailbox page): return true when it
   * answered. Nothing of the AWS API goes this way.
   */
  readonly open?: (req: IncomingMessage, res: ServerResponse) => boolean;
  readonly maxBodyBytes?: number;
  readonly host?: string;
  readonly port?: number;
  readonly credentials?: Credentials;
  readonly region?: string;
}

export interface AwsEndpoint {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The answer every AWS JSON service gives a refused signature (Lambda's Invoke endpoint uses it too). */
export function signatureError(failure: SigV4Failure): AwsError {
  switch (failure.reason) {
    case 'unknownKey':
      return new AwsError(
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'region':
      return new AwsError(
        403,
        'InvalidSignatureException',
        'Credential should be scoped to a valid region. ',
      );
    case 'service':
      return new AwsError(
        403,
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${failure.expected}'. `,
      );
    case 'skewed': {
      // AWS's wording: the bound the request's time passed, and the server's time it came from.
      const minutes = failure.maxSkewMs / 60_000;
      const server = failure.serverTime.getTime();
      const late = (parseAmzDate(failure.requestTime)?.getTime() ?? 0) < server;
      const bound = amzDate(new Date(late ? server - failure.maxSkewMs : server + failure.maxSkewMs));
      return new AwsError(
        403,
        'InvalidSignatureException',
        late
          ? `Signature expired: ${failure.requestTime} is now earlier than ${bound} (${amzDate(failure.serverTime)} - ${minutes} min.)`
          : `Signature not yet current: ${failure.requestTime} is still later than ${bound} (${amzDate(failure.serverTime)} + ${minutes} min.)`,
      );
    }
    case 'malformed':
      return new AwsError(403, 'IncompleteSignatureException', failure.message);
    default:
      return new AwsError(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
  }
}

async function readLimited(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > max) throw new AwsError(413, 'RequestEntityTooLargeException', 'Request is too large.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body as an object; an AWS `SerializationException` otherwise. */
export function jsonBody(request: AwsRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(request.body.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new AwsError(400, 'SerializationException', 'Start of structure or map found where not expected.');
}

export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const region = options.region ?? LOCAL_REGION;
  const credentials = options.credentials ?? LOCAL_CREDENTIALS;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.open?.(req, res) === true) return;
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = rawQueryPairs(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
    const body = await readLimited(req, maxBody);
    if (req.headers.authorization === undefined) {
      throw new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const verified = verifyHeaderSignature(
      { method: req.method ?? 'GET', rawPath, query, headers: req.headers },
      { region, service: options.service, credentials },
      sha256Hex(body),
    );
    if (!verified.ok) throw signatureError(verified.failure);
    let segments: string[];
    try {
      segments = rawPath
        .split('/')
        .filter((part) => part !== '')
        .map((part) => decodeURIComponent(part));
    } catch {
      throw new AwsError(400, 'ValidationException', 'The request path is not valid.');
    }
    const target = req.headers['x-amz-target'];
    const answer = await options.handle({
      method: req.method ?? 'GET',
      segments,
      query,
      headers: req.headers,
      body,
      target: typeof target === 'string' ? target : undefined,
    });
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, {
      'content-type': options.protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...answer.headers,
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      const refusal =
        error instanceof AwsError
          ? error
          : new AwsError(500, 'InternalServerException', 'Internal server error.');
      if (!(error instanceof AwsError))
        options.log.error(`${options.name} ${req.method} ${req.url} failed`, error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = JSON.stringify(
        options.protocol === 'json'
          ? { __type: refusal.code, message: refusal.message }
          : { Message: refusal.message, message: refusal.message },
      );
      const unread = !req.readableEnded;
      res.writeHead(refusal.status, {
        'content-type': options.protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-amzn-errortype': refusal.code,
        'x-amzn-requestid': randomUUID(),
        ...refusal.headers,
        ...(unread ? { connection: 'close' } : {}),
      });
      res.end(body);
      if (unread) req.resume();
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listenOn(server, options.port ?? 0, host);
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** A JSON file written whole (temp file, then rename), so a crash never leaves half of it. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const { rename, writeFile, mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
