/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`) for the handlers that
 * invoke another function (the send and profile handlers call the attachment check), served on its
 * own loopback port: on AWS only IAM principals reach it, never a browser, so it is not on the
 * gateway's port. Handlers get its URL as AWS_ENDPOINT_URL_LAMBDA and call it with
 * @aws-sdk/client-lambda, unchanged.
 *
 * The function runs in this process through the same resolver as the gateway's routes (lambda.ts),
 * as `handler(event, context)`. Sources: the Lambda API reference for Invoke (invocation types,
 * X-Amz-Function-Error, X-Amz-Executed-Version, errors) and the quotas page (6 MB payloads).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { HandlerDefinition } from '../definitions/routes.js';
import { signatureError } from './aws-endpoint.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo-local.js';
import { listenOn } from './http-util.js';
import { type HandlerResolver, HandlerTimeoutError, invoke } from './lambda.js';
import type { Log } from './log.js';
import {
  type Credentials,
  rawQueryPairs,
  type SigV4Failure,
  sha256Hex,
  verifyHeaderSignature,
} from './sigv4.js';

/** Synchronous invocation payload quota: 6 MB (6,291,456 bytes, as Lambda counts it). */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The response quota is 100 bytes larger than the request's (measured on AWS, see local/README.md). */
export const MAX_RESPONSE_BYTES = MAX_SYNC_PAYLOAD_BYTES + 100;
/**
 * Asynchronous (Event) payload quota. AWS documented 256 KB for years; the stricter value is kept so
 * that nothing that works here fails there.
 */
export const MAX_ASYNC_PAYLOAD_BYTES = 256 * 1024;
/** The account id of the local ARNs (as in lambda.ts's fake context). */
const ACCOUNT = '123456789012';
/**
 * The attachment check, the one function invoked this way, runs with lib's `waitedOnTimeout` (5 s):
 * its callers wait for it within their own limits.
 */
const DEFAULT_TIMEOUT_MS = 5_000;

export interface LambdaInvokeOptions {
  readonly resolve: HandlerResolver;
  /** Functions that can be invoked, by `functionId` (their local function name). */
  readonly functions: readonly HandlerDefinition[];
  readonly log: Log;
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  readonly credentials?: Credentials;
  readonly region?: string;
  readonly timeoutMs?: number;
}

export interface LambdaInvokeServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

const functionArn = (region: string, name: string) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;

/** Lambda's answer to a refused signature: that of every AWS JSON service (aws-endpoint.ts). */
function lambdaSignatureError(failure: SigV4Failure): LambdaError {
  const error = signatureError(failure);
  return new LambdaError(error.status, error.code, error.message);
}

/** Reads the body, refusing it once it passes `max` bytes. */
async function readPayload(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > max) {
      throw new LambdaError(
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${max} bytes for the InvokeFunction operation`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** How the Node.js runtime reports an error thrown by a handler. */
function functionError(error: unknown, requestTimeoutMs: number, requestId: string): Record<string, unknown> {
  if (error instanceof HandlerTimeoutError) {
    return {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(requestTimeoutMs / 1000).toFixed(2)} seconds`,
    };
  }
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

export async function startLambdaInvoke(options: LambdaInvokeOptions): Promise<LambdaInvokeServer> {
  const region = options.region ?? LOCAL_REGION;
  const credentials = options.credentials ?? LOCAL_CREDENTIALS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const byName = new Map(options.functions.map((definition) => [definition.functionId, definition]));
  const background = new Set<Promise<unknown>>();

  /** A function name, a partial ARN (`account:function:name`) or a full ARN; `$LATEST` is the only version. */
  function findFunction(nameOrArn: string, qualifier: string | undefined): HandlerDefinition {
    let name = nameOrArn;
    let version = qualifier;
    const arn = /^(?:arn:aws:lambda:([a-z0-9-]+):)?(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(nameOrArn);
    if (arn !== null) {
      if ((arn[1] !== undefined && arn[1] !== region) || arn[2] !== ACCOUNT) name = '';
      else name = arn[3] ?? '';
      if (arn[4] !== undefined) version = arn[4];
    }
    const definition = byName.get(name);
    if (definition === undefined || (version !== undefined && version !== '$LATEST')) {
      const qualified = version === undefined ? nameOrArn : `${nameOrArn}:${version}`;
      throw new LambdaError(
        404,
        'ResourceNotFoundException',
        `Function not found: ${qualified.startsWith('arn:') ? qualified : functionArn(region, qualified)}`,
      );
    }
    return definition;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = rawQueryPairs(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(rawPath);
    if (req.method !== 'POST' || match === null) {
      throw new LambdaError(404, 'UnknownOperationException', 'Unknown operation');
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      throw new LambdaError(
        400,
        'InvalidParameterValueException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    const payload = await readPayload(
      req,
      invocationType === 'Event' ? MAX_ASYNC_PAYLOAD_BYTES : MAX_SYNC_PAYLOAD_BYTES,
    );
    if (req.headers.authorization === undefined) {
      throw new LambdaError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const verified = verifyHeaderSignature(
      { method: 'POST', rawPath, query, headers: req.headers },
      { region, service: 'lambda', credentials },
      sha256Hex(payload),
    );
    if (!verified.ok) throw lambdaSignatureError(verified.failure);

    const definition = findFunction(
      decodeURIComponent(match[1] ?? ''),
      query.find(([name]) => name === 'Qualifier')?.[1],
    );
    let event: unknown = {};
    if (payload.length > 0) {
      try {
        event = JSON.parse(payload.toString('utf8'));
      } catch (error) {
        throw new LambdaError(
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const requestId = randomUUID();
    const common = { 'x-amzn-requestid': requestId };
    if (invocationType === 'DryRun') {
      res.writeHead(204, common);
      res.end();
      return;
    }
    if (invocationType === 'Event') {
      res.writeHead(202, { ...common, 'content-length': 0 });
      res.end();
      // Lambda retries a failed asynchronous invocation twice; here it is logged, not retried.
      const running = invoke(options.resolve, definition, event, timeoutMs).catch((error: unknown) =>
        options.log.error(`${definition.functionId} (Event invocation) failed`, error),
      );
      background.add(running);
      running.finally(() => background.delete(running));
      return;
    }

    let body: string;
    let failed = false;
    try {
      body = JSON.stringify(await invoke(options.resolve, definition, event, timeoutMs)) ?? 'null';
      if (Buffer.byteLength(body) > MAX_RESPONSE_BYTES) {
        failed = true;
        body = JSON.stringify({
          errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
          errorType: 'Function.ResponseSizeTooLarge',
        });
      }
    } catch (error) {
      failed = true;
      body = JSON.stringify(functionError(error, timeoutMs, requestId));
      options.log.error(`${definition.functionId} failed`, error);
    }
    res.writeHead(200, {
      ...common,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amz-executed-version': '$LATEST',
      ...(failed ? { 'x-amz-function-error': 'Unhandled' } : {}),
    });
    res.end(body);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      const refusal =
        error instanceof LambdaError
          ? error
          : new LambdaError(500, 'ServiceException', 'The service encountered an internal error.');
      if (!(error instanceof LambdaError))
        options.log.error(`Lambda Invoke ${req.method} ${req.url} failed`, error);
      const body = JSON.stringify({
        Type: refusal.status < 500 ? 'User' : 'Service',
        message: refusal.message,
      });
      // An answer given before the body was read: the connection cannot be reused for another request.
      const unread = !req.readableEnded;
      res.writeHead(refusal.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-amzn-errortype': refusal.type,
        'x-amzn-requestid': randomUUID(),
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
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        // Event invocations already accepted finish first (they may still write to the tables).
        await Promise.allSettled([...background]);
      })();
      return closed;
    },
  };
}
