/** A gateway emulator on a free port with stub handlers: no Java, no DynamoDB, no handler modules. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type {
  HandlerDefinition,
  HttpRouteDefinition,
  WebSocketRouteDefinition,
} from '../../../definitions/routes.js';
import { type Gateway, type SignInOptions, startGateway } from '../../../local/gateway.js';
import { type LambdaHandler, withOverrides } from '../../../local/lambda.js';
import type { Log } from '../../../local/log.js';
import { generateSigningKey, type SigningKey } from '../../../local/sign-in.js';
import type { WebSocketLimits } from '../../../local/websocket-api.js';

const base = { tables: {}, postsToConnections: false, verifiesTokens: false } as const;
const fn = (functionId: string): HandlerDefinition => ({
  ...base,
  functionId,
  entry: `stub/${functionId}.ts`,
});

export const httpAuthorizerDef = fn('HttpAuthorizer');
export const wsAuthorizerDef = fn('WsAuthorizer');
export const stubHttpRoutes: HttpRouteDefinition[] = [
  { ...fn('Echo'), method: 'POST', path: '/echo/{id}' },
  { ...fn('List'), method: 'GET', path: '/chat/list' },
  { ...fn('CatchAll'), method: 'ANY', path: '/{proxy+}', unauthenticated: true },
];
const wsRoute = (routeKey: string, functionId: string, returnResponse = true): WebSocketRouteDefinition => ({
  ...fn(functionId),
  routeKey,
  returnResponse,
});
export const stubWsRoutes: WebSocketRouteDefinition[] = [
  wsRoute('$connect', 'Connect', false),
  wsRoute('$disconnect', 'Disconnect', false),
  wsRoute('echo', 'WsEcho'),
  wsRoute('silent', 'Silent', false),
  wsRoute('$default', 'Default'),
];

export interface Captured {
  log: { errors: unknown[]; warnings: string[] };
  profiles: { userId: string; displayName: string; email?: string }[];
}

export interface TestGateway extends Gateway {
  key: SigningKey;
  captured: Captured;
  webRoot: string;
}

let sharedKey: SigningKey | undefined;

export async function startTestGateway(
  handlers: Record<string, LambdaHandler>,
  options: {
    limits?: Partial<WebSocketLimits>;
    signIn?: Partial<SignInOptions>;
    handlerTimeoutMs?: number;
    allowedOrigins?: readonly string[];
    webOrigins?: { readonly files: string; readonly cognito: string };
  } = {},
): Promise<TestGateway> {
  sharedKey ??= generateSigningKey();
  const captured: Captured = { log: { errors: [], warnings: [] }, profiles: [] };
  const log: Log = {
    info: () => undefined,
    warn: (message) => captured.log.warnings.push(message),
    error: (message, error) => captured.log.errors.push({ message, error }),
  };
  const webRoot = mkdtempSync(join(tmpdir(), 'local-web-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>chat</title>');
  writeFileSync(join(webRoot, 'app.js'), 'console.log(1);');
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    stage: 'local',
    resolve: withOverrides(handlers),
    log,
    limits: { maxFrameBytes: 32 * 1024, idleTimeoutMs: 60_000, maxConnectionMs: 120_000, ...options.limits },
    webRoot,
    ...(options.handlerTimeoutMs !== undefined ? { handlerTimeoutMs: options.handlerTimeoutMs } : {}),
    ...(options.allowedOrigins !== undefined ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.webOrigins !== undefined ? { webOrigins: () => options.webOrigins } : {}),
    signIn: {
      key: sharedKey,
      userPoolId: 'us-east-1_localChat',
      clientId: 'local-client',
      region: 'us-east-1',
      tokenLifetimeSeconds: 3600,
      demoUsers: [{ userId: 'ann', displayName: 'Ann' }],
      createProfile: async (userId, displayName, email) => {
        captured.profiles.push({ userId, displayName, ...(email === undefined ? {} : { email }) });
        return { displayName };
      },
      ...options.signIn,
    },
    httpRoutes: stubHttpRoutes,
    httpAuthorizer: httpAuthorizerDef,
    webSocketRoutes: stubWsRoutes,
    webSocketAuthorizer: wsAuthorizerDef,
  });
  return { ...gateway, close: () => gateway.close(), key: sharedKey, captured, webRoot };
}

/** The WS authorizer most tests want: token "good-<user>" allowed, "deny" denied, others 401. */
export const tokenAuthorizer: LambdaHandler = async (event) => {
  const { queryStringParameters, methodArn } = event as {
    queryStringParameters?: Record<string, string>;
    methodArn: string;
  };
  const token = queryStringParameters?.token ?? '';
  if (token.startsWith('good-')) {
    const userId = token.slice('good-'.length);
    return {
      principalId: userId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
      context: { userId },
    };
  }
  if (token === 'deny') {
    return {
      principalId: 'x',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: methodArn }],
      },
    };
  }
  throw new Error('Unauthorized');
};

export interface Client {
  ws: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
  next(): Promise<string>;
}

/** Opens a client; resolves once open, or rejects with the refused handshake's status. */
export function connect(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: string[] = [];
    const waiters: ((frame: string) => void)[] = [];
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? `<binary ${(data as Buffer).length}>` : String(data);
      const waiter = waiters.shift();
      if (waiter) waiter(frame);
      else frames.push(frame);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolveClosed) =>
      ws.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() })),
    );
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.on('error', (error) => reject(error));
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        closed,
        next: () => {
          const frame = frames.shift();
          if (frame !== undefined) return Promise.resolve(frame);
          return new Promise((resolveFrame, rejectFrame) => {
            const timer = setTimeout(() => rejectFrame(new Error('no frame within 3 s')), 3000);
            waiters.push((value) => {
              clearTimeout(timer);
              resolveFrame(value);
            });
          });
        },
      }),
    );
  });
}

/** Resolves when `check` passes, polling; fails after `ms`. */
export async function eventually<T>(check: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
