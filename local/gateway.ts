/**
 * The gateway emulator: one Node http server for the HTTP API, the WebSocket API and its management
 * API, the local sign-in endpoints and the web client. It knows nothing of DynamoDB: handlers come
 * from a resolver and profiles from a callback, so unit tests run it with stubs.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type HandlerDefinition,
  type HttpRouteDefinition,
  httpAuthorizer,
  httpRoutes,
  type WebSocketRouteDefinition,
  webSocketAuthorizer,
  webSocketRoutes,
} from '../definitions/routes.js';
import { headerCsp, pageCsp, serializeCsp, type WebOrigins } from '../definitions/web.js';
import { ChatError } from '../lambdas/domain/errors.js';
import { isValidUserId, MAX_DISPLAY_NAME, parseDisplayName } from '../lambdas/domain/validation.js';
import { createHttpApi } from './http-api.js';
import {
  corsHeaders,
  isPreflight,
  preflightHeaders,
  readBody,
  sendError,
  sendInternalError,
  sendJson,
} from './http-util.js';
import type { HandlerResolver } from './lambda.js';
import type { Log } from './log.js';
import { jwks, type SigningKey, signIdToken } from './sign-in.js';
import { serveStatic } from './static-files.js';
import { WebSocketApi, type WebSocketLimits } from './websocket-api.js';

export interface DemoUser {
  readonly userId: string;
  readonly displayName: string;
  /** Where the notification e-mails go (the profile store keeps it when it can). */
  readonly email?: string;
}

export interface SignInOptions {
  readonly key: SigningKey;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
  readonly tokenLifetimeSeconds: number;
  readonly demoUsers: readonly DemoUser[];
  /**
   * Creates the profile if it does not exist and keeps the account's address (given: the sign-in's
   * `email`); answers the profile's display name.
   */
  readonly createProfile: (
    userId: string,
    displayName: string,
    email: string | undefined,
  ) => Promise<{ readonly displayName: string }>;
  /**
   * More public keys for `/dev/jwks.json` (the local Cognito's): the handlers verify tokens from both
   * issuers of the same pool through the same code path.
   */
  readonly moreKeys?: readonly Readonly<Record<string, string>>[];
  /** More fields for `/config.json` (the local Cognito's endpoint and ids), read per request. */
  readonly publicConfig?: () => Readonly<Record<string, string>>;
}

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly stage: string;
  readonly resolve: HandlerResolver;
  readonly limits: WebSocketLimits;
  readonly log: Log;
  readonly signIn: SignInOptions;
  readonly webRoot?: string;
  /**
   * The origins the web client talks to (read per request: the local S3 and Cognito start later), for
   * its Content-Security-Policy: the deployed site's (definitions/web.ts), with the local origins, so
   * the client runs here under the policy it gets on AWS. Absent: no policy (unit tests).
   */
  readonly webOrigins?: () => Omit<WebOrigins, 'rest' | 'webSocket'> | undefined;
  readonly handlerTimeoutMs?: number;
  readonly httpRoutes?: readonly HttpRouteDefinition[];
  readonly httpAuthorizer?: HandlerDefinition;
  readonly webSocketRoutes?: readonly WebSocketRouteDefinition[];
  readonly webSocketAuthorizer?: HandlerDefinition;
  /** Browser origins given CORS, as the stack's `allowedOrigins` context; default none (no CORS). */
  readonly allowedOrigins?: readonly string[];
}

export interface Gateway {
  readonly server: Server;
  readonly port: number;
  /** `http://host:port`, no trailing slash. */
  readonly baseUrl: string;
  /** `ws://host:port/<stage>`. */
  readonly wsUrl: string;
  readonly webSocketApi: WebSocketApi;
  close(): Promise<void>;
}

/** `host` as it goes into a URL (IPv6 literals in brackets; the wildcard becomes loopback). */
/** One address, loosely (Cognito's own check is not the point here): something@domain.tld, at most 254 characters. */
const isEmailAddress = (value: string) => value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log, stage, signIn } = options;
  const allowedOrigins = options.allowedOrigins ?? [];
  const httpApi = createHttpApi({
    routes: options.httpRoutes ?? httpRoutes,
    authorizer: options.httpAuthorizer ?? httpAuthorizer,
    resolve: options.resolve,
    log,
    ...(options.handlerTimeoutMs !== undefined ? { timeoutMs: options.handlerTimeoutMs } : {}),
  });
  const webSocketApi = new WebSocketApi({
    stage,
    routes: options.webSocketRoutes ?? webSocketRoutes,
    authorizer: options.webSocketAuthorizer ?? webSocketAuthorizer,
    identityQueryParameter: 'token',
    resolve: options.resolve,
    log,
    limits: options.limits,
    ...(options.handlerTimeoutMs !== undefined ? { timeoutMs: options.handlerTimeoutMs } : {}),
  });
  const webRoot = options.webRoot !== undefined && existsSync(options.webRoot) ? options.webRoot : undefined;
  /**
   * CloudFront's two policies: the header's, and the page's (a `<meta>` in the deployed index.html,
   * a second header here: a browser enforces both either way).
   */
  const webPolicyHeaders = (): Record<string, string[]> => {
    if (options.webOrigins === undefined) return {};
    // Before the local S3 and Cognito run, the page may reach nothing but this origin (fail closed).
    const origins = options.webOrigins() ?? { files: "'self'", cognito: "'self'" };
    const page = pageCsp({ ...origins, rest: new URL(baseUrl).origin, webSocket: new URL(wsUrl).origin });
    return { 'content-security-policy': [serializeCsp(headerCsp), serializeCsp(page)] };
  };
  const managementPrefix = `/${stage}/@connections/`;
  let baseUrl = '';
  let wsUrl = '';

  async function signInRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let input: { userId?: unknown; displayName?: unknown; email?: unknown };
    try {
      input = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}') as typeof input;
      if (typeof input !== 'object' || input === null) throw new Error('not an object');
    } catch {
      sendError(req, res, 400, 'bad_request', 'Body must be JSON: {"userId": "...", "displayName": "..."}');
      return;
    }
    const { userId } = input;
    if (!isValidUserId(userId)) {
      sendError(
        req,
        res,
        400,
        'bad_request',
        'userId must be 1 to 128 characters of letters, digits and _ . @ + -',
      );
      return;
    }
    // The account's verified address, as Cognito would hold it: what offline e-mails go to.
    const { email } = input;
    if (email !== undefined && (typeof email !== 'string' || !isEmailAddress(email))) {
      sendError(req, res, 400, 'bad_request', 'email must be an address such as ann@example.com');
      return;
    }
    try {
      const displayName =
        input.displayName === undefined || input.displayName === null
          ? userId.slice(0, MAX_DISPLAY_NAME)
          : parseDisplayName(input.displayName);
      const profile = await signIn.createProfile(userId, displayName, email);
      const token = signIdToken(signIn.key, {
        userId,
        displayName: profile.displayName,
        userPoolId: signIn.userPoolId,
        clientId: signIn.clientId,
        region: signIn.region,
        lifetimeSeconds: signIn.tokenLifetimeSeconds,
      });
      sendJson(req, res, 200, { token, userId, displayName: profile.displayName });
    } catch (error) {
      if (error instanceof ChatError) {
        sendError(req, res, 400, 'bad_request', error.message);
        return;
      }
      log.error('Local sign-in failed', error);
      sendInternalError(req, res);
    }
  }

  async function throttleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let input: { count?: unknown; connectionId?: unknown };
    try {
      input = JSON.parse((await readBody(req, 4096)).toString('utf8') || '{}') as typeof input;
    } catch {
      input = {};
    }
    const count = typeof input.count === 'number' && Number.isInteger(input.count) ? input.count : 1;
    if (count < 1 || (input.connectionId !== undefined && typeof input.connectionId !== 'string')) {
      sendError(req, res, 400, 'bad_request', 'Body: {"count": positive integer, "connectionId"?: string}');
      return;
    }
    webSocketApi.throttleNextPosts(count, input.connectionId as string | undefined);
    res.writeHead(204);
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { pathname } = url;
    const method = req.method ?? 'GET';

    // With CORS configured, API Gateway answers preflights itself (no route, no authorizer) and adds
    // the CORS headers to every response for an allowed origin. Without it, OPTIONS is routed.
    if (allowedOrigins.length > 0 && isPreflight(req)) {
      res.writeHead(204, preflightHeaders(req, allowedOrigins));
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(corsHeaders(req, allowedOrigins))) {
      if (value !== undefined) res.setHeader(name, value);
    }
    if (pathname.startsWith(managementPrefix)) {
      await webSocketApi.handleManagement(req, res, pathname.slice(managementPrefix.length));
      return;
    }
    if (method === 'POST' && pathname === '/dev/token') return signInRequest(req, res);
    if (method === 'GET' && pathname === '/dev/jwks.json') {
      return sendJson(req, res, 200, { keys: [...jwks(signIn.key).keys, ...(signIn.moreKeys ?? [])] });
    }
    if (method === 'GET' && pathname === '/dev/users') {
      return sendJson(req, res, 200, { users: signIn.demoUsers });
    }
    if (method === 'GET' && pathname === '/dev/connections') {
      return sendJson(req, res, 200, { connections: webSocketApi.connections() });
    }
    if (method === 'POST' && pathname === '/dev/throttle') return throttleRequest(req, res);
    if (method === 'GET' && pathname === '/dev/throttle') {
      return sendJson(req, res, 200, { pending: webSocketApi.pendingThrottles() });
    }
    if (method === 'GET' && pathname === '/config.json') {
      return sendJson(req, res, 200, {
        restUrl: baseUrl,
        wsUrl,
        signInUrl: `${baseUrl}/dev/token`,
        ...(signIn.publicConfig?.() ?? {}),
      });
    }

    const match = httpApi.match(method, pathname);
    // The web client is no part of the API (on AWS it is hosted elsewhere), so its files may shadow
    // the API's greedy catch-all route here, but never a route with an exact path.
    const greedy = match?.route.path.includes('+}') ?? false;
    if (match !== undefined && !greedy) return httpApi.serve(req, res, url, match);
    if (webRoot !== undefined && (await serveStatic(req, res, webRoot, pathname, webPolicyHeaders()))) return;
    if (match !== undefined) return httpApi.serve(req, res, url, match);
    // What an HTTP API answers when no route matches (not the contract's shape: no handler runs).
    sendJson(req, res, 404, { message: 'Not Found' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.error(`Request ${req.method} ${req.url} failed`, error);
      sendInternalError(req, res);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === webSocketApi.stagePath || url.pathname === `${webSocketApi.stagePath}/`) {
      webSocketApi.handleUpgrade(req, socket, head, url);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${options.port} on ${options.host} is in use: pick another with --port (0 = any free port)`,
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${urlHost(options.host)}:${port}`;
  wsUrl = `ws://${urlHost(options.host)}:${port}/${stage}`;

  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    baseUrl,
    wsUrl,
    webSocketApi,
    close() {
      closed ??= (async () => {
        // Connections first: their $disconnect handlers still post presence through this server.
        await webSocketApi.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
