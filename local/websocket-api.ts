/**
 * The WebSocket API half of the gateway emulator: the `$connect` REQUEST authorizer and route, route
 * selection on `$request.body.action`, `$disconnect`, API Gateway's connection limits, and the
 * `@connections` management API that handlers post to.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyWebsocketEventV2, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { HandlerDefinition, WebSocketRouteDefinition } from '../definitions/routes.js';
import { policyAllows } from './http-api.js';
import {
  BodyTooLargeError,
  multiValueQueryParameters,
  queryParameters,
  rawCaseHeaders,
  readBody,
  requestTime,
  shortRequestId,
  sourceIp,
} from './http-util.js';
import { type HandlerResolver, invoke } from './lambda.js';
import type { Log } from './log.js';

export const WS_API_ID = 'localws';
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
/** WebSocket API quotas: the URL (wss://host/stage?query) is at most 4096 characters. */
export const MAX_URL_CHARACTERS = 4096;
/** WebSocket API quotas: a Lambda authorizer's result is at most 8 KB. */
export const MAX_AUTHORIZER_RESULT_BYTES = 8 * 1024;
/** PostToConnection accepts up to 128 KB. */
const MAX_POST_BYTES = 128 * 1024;

export interface WebSocketLimits {
  /** Largest client frame (API Gateway: 32 KB); larger closes the connection with 1009. */
  readonly maxFrameBytes: number;
  /** No client message for this long closes the connection with 1001 (API Gateway: 10 minutes). */
  readonly idleTimeoutMs: number;
  /** A connection lives at most this long, then closes with 1001 (API Gateway: 2 hours). */
  readonly maxConnectionMs: number;
}

export interface WebSocketApiOptions {
  readonly stage: string;
  readonly routes: readonly WebSocketRouteDefinition[];
  readonly authorizer: HandlerDefinition;
  /** The query parameter the authorizer's identity source names; missing means 401 before any call. */
  readonly identityQueryParameter: string;
  readonly resolve: HandlerResolver;
  readonly log: Log;
  readonly limits: WebSocketLimits;
  readonly timeoutMs?: number;
}

export interface ConnectionInfo {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly authorizer: Readonly<Record<string, unknown>>;
}

interface LiveConnection extends ConnectionInfo {
  lastActiveAt: number;
  readonly socket: WebSocket;
  readonly domainName: string;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  idleTimer: NodeJS.Timeout | undefined;
  readonly lifetimeTimer: NodeJS.Timeout;
  /** Set when the emulator closes the connection, so `$disconnect` reports its code, not the echo's. */
  serverClose: { code: number; reason: string } | undefined;
}

/** Connection ids shaped like API Gateway's: base64 of 11 random bytes, e.g. `L0SM9cOFvHcCIhw=`. */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

type AuthorizerOutcome =
  | { readonly kind: 'allow'; readonly authorizer: Record<string, unknown> }
  | { readonly kind: 'refuse'; readonly status: number };

function refuseHandshake(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

const isPrimitive = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

export class WebSocketApi {
  readonly #options: WebSocketApiOptions;
  readonly #server: WebSocketServer;
  readonly #connections = new Map<string, LiveConnection>();
  readonly #pendingDisconnects = new Set<Promise<void>>();
  /** Subprotocol chosen by `$connect`'s response headers, per upgrade request. */
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  #throttles: { connectionId: string | undefined; remaining: number }[] = [];
  #closing = false;

  constructor(options: WebSocketApiOptions) {
    this.#options = options;
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // API Gateway negotiates no compression extension.
      perMessageDeflate: false,
      maxPayload: options.limits.maxFrameBytes,
      handleProtocols: (_protocols, request) => this.#protocols.get(request) ?? false,
    });
  }

  get stagePath(): string {
    return `/${this.#options.stage}`;
  }

  /** Open connections, for tests and the dev endpoints. */
  connections(): ConnectionInfo[] {
    return [...this.#connections.values()].map(
      ({ connectionId, connectedAt, lastActiveAt, sourceIp, userAgent, authorizer }) => ({
        connectionId,
        connectedAt,
        lastActiveAt,
        sourceIp,
        userAgent,
        authorizer,
      }),
    );
  }

  /** The next `count` posts (to `connectionId`, or to any connection) answer 429 LimitExceededException. */
  throttleNextPosts(count: number, connectionId?: string): void {
    this.#throttles.push({ connectionId, remaining: count });
  }

  /** Throttles not used up yet, so a test can see that posts met them (and were retried). */
  pendingThrottles(): { connectionId: string | undefined; remaining: number }[] {
    return this.#throttles.map(({ connectionId, remaining }) => ({ connectionId, remaining }));
  }

  /** Handles an HTTP upgrade on the stage path: authorizer, `$connect`, then the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    socket.on('error', () => socket.destroy());
    if (this.#closing) {
      refuseHandshake(socket, 503, { message: 'Service Unavailable' });
      return;
    }
    this.#connect(req, socket, head, url).catch((error: unknown) => {
      this.#options.log.error('WebSocket connect failed', error);
      refuseHandshake(socket, 500, { message: 'Internal server error' });
    });
  }

  async #connect(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const { log, stage } = this.#options;
    const connectionId = newConnectionId();
    const connectedAt = Date.now();
    const domainName = req.headers.host ?? '127.0.0.1';
    const { headers, multiValueHeaders } = rawCaseHeaders(req);
    const queryStringParameters = queryParameters(url.searchParams);
    const multiValueQueryStringParameters = multiValueQueryParameters(url.searchParams);
    const identity = { sourceIp: sourceIp(req), userAgent: req.headers['user-agent'] ?? '' };
    const baseContext = () => {
      const now = new Date();
      return {
        routeKey: '$connect',
        eventType: 'CONNECT',
        extendedRequestId: shortRequestId(),
        requestTime: requestTime(now),
        messageDirection: 'IN',
        stage,
        connectedAt,
        requestTimeEpoch: now.getTime(),
        identity,
        requestId: shortRequestId(),
        domainName,
        connectionId,
        apiId: WS_API_ID,
      };
    };

    // WebSocket quotas: "Length, in characters, of the URL for a WebSocket API: 4096" (the token rides
    // in the query string). The status AWS answers is not documented; 414 says what is wrong.
    if (`wss://${domainName}${req.url ?? ''}`.length > MAX_URL_CHARACTERS) {
      refuseHandshake(socket, 414, { message: 'URI Too Long' });
      return;
    }
    // A malformed handshake is refused before any handler runs: ws would refuse it after $connect,
    // leaving a connection record that no $disconnect would ever remove.
    const key = req.headers['sec-websocket-key'];
    if (
      req.headers['sec-websocket-version'] !== '13' ||
      key === undefined ||
      !/^[+/0-9A-Za-z]{22}==$/.test(key)
    ) {
      refuseHandshake(socket, 400, { message: 'Bad Request' });
      return;
    }
    const token = url.searchParams.get(this.#options.identityQueryParameter);
    if (token === null || token === '') {
      refuseHandshake(socket, 401, { message: 'Unauthorized' });
      return;
    }
    const outcome = await this.#authorize({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${WS_API_ID}/${stage}/$connect`,
      headers,
      multiValueHeaders,
      queryStringParameters: queryStringParameters ?? {},
      multiValueQueryStringParameters: multiValueQueryStringParameters ?? {},
      stageVariables: {},
      requestContext: baseContext(),
    } as unknown as APIGatewayRequestAuthorizerEvent);
    if (outcome.kind === 'refuse') {
      refuseHandshake(socket, outcome.status, {
        message:
          outcome.status === 401
            ? 'Unauthorized'
            : outcome.status === 403
              ? 'Forbidden'
              : 'Internal server error',
      });
      return;
    }

    const connectRoute = this.#route('$connect');
    if (connectRoute !== undefined) {
      let result: unknown;
      try {
        result = await invoke(
          this.#options.resolve,
          connectRoute,
          {
            headers,
            multiValueHeaders,
            ...(queryStringParameters !== undefined
              ? { queryStringParameters, multiValueQueryStringParameters }
              : {}),
            requestContext: { ...baseContext(), authorizer: outcome.authorizer },
            isBase64Encoded: false,
          },
          this.#options.timeoutMs,
        );
      } catch (error) {
        log.error(`${connectRoute.functionId} failed`, error);
        refuseHandshake(socket, 500, { message: 'Internal server error' });
        return;
      }
      const {
        statusCode,
        body,
        headers: responseHeaders,
      } = (result ?? {}) as {
        statusCode?: unknown;
        body?: unknown;
        headers?: Record<string, unknown>;
      };
      if (typeof statusCode === 'number' && (statusCode < 200 || statusCode > 299)) {
        refuseHandshake(socket, statusCode, typeof body === 'string' && body !== '' ? safeJson(body) : {});
        return;
      }
      const protocol = Object.entries(responseHeaders ?? {}).find(
        ([name]) => name.toLowerCase() === 'sec-websocket-protocol',
      )?.[1];
      if (typeof protocol === 'string') this.#protocols.set(req, protocol);
    }

    const info = {
      connectionId,
      connectedAt,
      lastActiveAt: connectedAt,
      sourceIp: identity.sourceIp,
      userAgent: identity.userAgent,
      authorizer: outcome.authorizer,
      domainName,
      headers,
      multiValueHeaders,
    };
    if (socket.destroyed || this.#closing) {
      // The client left (or the stack is stopping) while $connect ran: the handler has recorded the
      // connection, so it must hear of its end.
      socket.destroy();
      await this.#runDisconnect(info, 1006, 'Connection closed before the handshake completed');
      return;
    }
    this.#server.handleUpgrade(req, socket, head, (ws) => this.#open(ws, info));
  }

  async #authorize(event: APIGatewayRequestAuthorizerEvent): Promise<AuthorizerOutcome> {
    const { log, authorizer } = this.#options;
    let result: unknown;
    try {
      result = await invoke(this.#options.resolve, authorizer, event, this.#options.timeoutMs);
    } catch (error) {
      // The documented way for a REQUEST authorizer to answer 401.
      if (error instanceof Error && error.message === 'Unauthorized') return { kind: 'refuse', status: 401 };
      log.error(`${authorizer.functionId} failed`, error);
      return { kind: 'refuse', status: 500 };
    }
    // WebSocket quotas: "AWS Lambda authorizer result size: 8 KB". What AWS answers above it is not
    // documented; an authorizer failure (500) is the strict reading.
    if (Buffer.byteLength(JSON.stringify(result ?? null)) > MAX_AUTHORIZER_RESULT_BYTES) {
      log.error(`${authorizer.functionId} returned more than 8 KB`);
      return { kind: 'refuse', status: 500 };
    }
    const { principalId, policyDocument, context } = (result ?? {}) as {
      principalId?: unknown;
      policyDocument?: unknown;
      context?: unknown;
    };
    if (typeof policyDocument !== 'object' || policyDocument === null || principalId === undefined) {
      log.error(`${authorizer.functionId} returned no principalId or policyDocument (AWS answers 500)`);
      return { kind: 'refuse', status: 500 };
    }
    const contextRecord = (typeof context === 'object' && context !== null ? context : {}) as Record<
      string,
      unknown
    >;
    if (!Object.values(contextRecord).every(isPrimitive)) {
      log.error(`${authorizer.functionId} returned a context with non-primitive values (AWS answers 500)`);
      return { kind: 'refuse', status: 500 };
    }
    if (!policyAllows(policyDocument, event.methodArn)) return { kind: 'refuse', status: 403 };
    return { kind: 'allow', authorizer: { ...contextRecord, principalId, integrationLatency: 0 } };
  }

  #route(routeKey: string): WebSocketRouteDefinition | undefined {
    return this.#options.routes.find((route) => route.routeKey === routeKey);
  }

  #open(
    socket: WebSocket,
    info: Omit<LiveConnection, 'socket' | 'idleTimer' | 'lifetimeTimer' | 'serverClose'>,
  ): void {
    const { limits } = this.#options;
    const connection: LiveConnection = {
      ...info,
      socket,
      idleTimer: undefined,
      lifetimeTimer: setTimeout(
        () => this.#serverClose(connection, 1001, 'Going away'),
        limits.maxConnectionMs,
      ),
      serverClose: undefined,
    };
    this.#connections.set(connection.connectionId, connection);
    const touch = () => {
      connection.lastActiveAt = Date.now();
      clearTimeout(connection.idleTimer);
      connection.idleTimer = setTimeout(
        () => this.#serverClose(connection, 1001, 'Going away'),
        limits.idleTimeoutMs,
      );
    };
    touch();

    socket.on('message', (data: RawData, isBinary: boolean) => {
      touch();
      if (isBinary) {
        // API Gateway does not accept binary frames from clients.
        this.#serverClose(connection, 1003, 'Binary frames are not supported');
        return;
      }
      this.#message(connection, rawDataToString(data)).catch((error: unknown) =>
        this.#options.log.error('WebSocket message dispatch failed', error),
      );
    });
    // Ping and pong control frames do not reset the idle timer: AWS documents only "Idle Connection
    // Timeout: 10 minutes", not which frames count, so only what surely counts (a message) does here.
    // Browsers cannot send pings anyway; the chat's own {"action":"ping"} keeps a connection alive on both.
    socket.on('error', (error: Error & { code?: string }) => {
      // ws closes with 1009 itself when a frame exceeds maxPayload; remember why for $disconnect.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        connection.serverClose ??= { code: 1009, reason: 'Message too big' };
      }
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(connection.idleTimer);
      clearTimeout(connection.lifetimeTimer);
      this.#connections.delete(connection.connectionId);
      const closeCode = connection.serverClose?.code ?? code;
      const closeReason = connection.serverClose?.reason ?? reason.toString('utf8');
      // Never rejects; close() waits for it through #pendingDisconnects.
      void this.#runDisconnect(connection, closeCode, closeReason);
    });
  }

  #serverClose(connection: LiveConnection, code: number, reason: string): void {
    connection.serverClose ??= { code, reason };
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.close(code, reason);
    // A peer that never answers the close handshake is cut off, as API Gateway would.
    setTimeout(() => connection.socket.terminate(), 2000).unref();
  }

  async #message(connection: LiveConnection, body: string): Promise<void> {
    const { log, stage } = this.#options;
    let action: unknown;
    try {
      action = (JSON.parse(body) as { action?: unknown } | null)?.action;
    } catch {
      action = undefined;
    }
    const route =
      (typeof action === 'string' && action !== '$connect' && action !== '$disconnect'
        ? this.#route(action)
        : undefined) ?? this.#route('$default');
    const now = new Date();
    const requestId = shortRequestId();
    const send = (text: string) => {
      if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(text);
    };
    if (route === undefined) {
      send(JSON.stringify({ message: 'Forbidden', connectionId: connection.connectionId, requestId }));
      return;
    }
    const event = {
      requestContext: {
        routeKey: route.routeKey,
        messageId: shortRequestId(),
        eventType: 'MESSAGE',
        extendedRequestId: requestId,
        requestTime: requestTime(now),
        messageDirection: 'IN',
        stage,
        connectedAt: connection.connectedAt,
        requestTimeEpoch: now.getTime(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        requestId,
        domainName: connection.domainName,
        connectionId: connection.connectionId,
        apiId: WS_API_ID,
        authorizer: connection.authorizer,
      },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyWebsocketEventV2;
    let result: unknown;
    try {
      result = await invoke(this.#options.resolve, route, event, this.#options.timeoutMs);
    } catch (error) {
      log.error(`${route.functionId} failed on ${route.routeKey}`, error);
      send(
        JSON.stringify({
          message: 'Internal server error',
          connectionId: connection.connectionId,
          requestId,
        }),
      );
      return;
    }
    // Two-way routes: the integration response's body goes back to the caller as one frame.
    if (route.returnResponse && typeof result === 'object' && result !== null) {
      const responseBody = (result as { body?: unknown }).body;
      if (typeof responseBody === 'string' && responseBody !== '') send(responseBody);
    }
  }

  #runDisconnect(
    connection: Pick<
      LiveConnection,
      | 'connectionId'
      | 'connectedAt'
      | 'sourceIp'
      | 'userAgent'
      | 'authorizer'
      | 'domainName'
      | 'headers'
      | 'multiValueHeaders'
    >,
    code: number,
    reason: string,
  ): Promise<void> {
    const route = this.#route('$disconnect');
    if (route === undefined) return Promise.resolve();
    const now = new Date();
    const event = {
      headers: { Host: connection.domainName },
      multiValueHeaders: { Host: [connection.domainName] },
      requestContext: {
        routeKey: '$disconnect',
        disconnectStatusCode: code,
        eventType: 'DISCONNECT',
        extendedRequestId: shortRequestId(),
        requestTime: requestTime(now),
        messageDirection: 'IN',
        disconnectReason: reason,
        stage: this.#options.stage,
        connectedAt: connection.connectedAt,
        requestTimeEpoch: now.getTime(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        requestId: shortRequestId(),
        domainName: connection.domainName,
        connectionId: connection.connectionId,
        apiId: WS_API_ID,
        authorizer: connection.authorizer,
      },
      isBase64Encoded: false,
    };
    const run = invoke(this.#options.resolve, route, event, this.#options.timeoutMs)
      .then(() => undefined)
      .catch((error: unknown) => this.#options.log.error(`${route.functionId} failed`, error));
    this.#pendingDisconnects.add(run);
    return run.finally(() => this.#pendingDisconnects.delete(run));
  }

  /** Serves `/<stage>/@connections/{id}` (POST, GET, DELETE) as the management API does. */
  async handleManagement(req: IncomingMessage, res: ServerResponse, encodedId: string): Promise<void> {
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(encodedId);
    } catch {
      connectionId = encodedId;
    }
    const reply = (status: number, body?: unknown, errorType?: string) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': shortRequestId(),
        ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(text);
    };
    const gone = () => reply(410, { message: null }, 'GoneException');

    if (req.method === 'POST') {
      let data: Buffer;
      try {
        data = await readBody(req, MAX_POST_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          reply(413, { message: 'Request entity too large' }, 'PayloadTooLargeException');
        } else {
          res.destroy();
        }
        return;
      }
      if (this.#takeThrottle(connectionId)) {
        reply(429, { message: 'Rate exceeded' }, 'LimitExceededException');
        return;
      }
      const connection = this.#connections.get(connectionId);
      if (connection === undefined || connection.socket.readyState !== WebSocket.OPEN) {
        gone();
        return;
      }
      const sent = await new Promise<boolean>((resolve) =>
        connection.socket.send(data, { binary: !isUtf8(data) }, (error) =>
          resolve(error === undefined || error === null),
        ),
      );
      if (sent) reply(200);
      else gone();
      return;
    }

    const connection = this.#connections.get(connectionId);
    if (connection === undefined) {
      gone();
      return;
    }
    if (req.method === 'GET') {
      // The wire names are camelCase; the SDK maps them to ConnectedAt, Identity.SourceIp, ...
      reply(200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    if (req.method === 'DELETE') {
      this.#serverClose(connection, 1000, '');
      res.writeHead(204, { 'x-amzn-requestid': shortRequestId() });
      res.end();
      return;
    }
    reply(403, { message: 'Missing Authentication Token' }, 'ForbiddenException');
  }

  #takeThrottle(connectionId: string): boolean {
    const throttle = this.#throttles.find(
      (entry) =>
        entry.remaining > 0 && (entry.connectionId === undefined || entry.connectionId === connectionId),
    );
    if (throttle === undefined) return false;
    throttle.remaining--;
    this.#throttles = this.#throttles.filter((entry) => entry.remaining > 0);
    return true;
  }

  /** Refuses new connections, closes the open ones with 1001 and waits for their `$disconnect`. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const connection of this.#connections.values()) this.#serverClose(connection, 1001, 'Going away');
    // `close` events fire once the close handshake ends (or the 2 s cut-off): wait for them, then for
    // every $disconnect handler still running.
    const deadline = Date.now() + 5000;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.allSettled([...this.#pendingDisconnects]);
    this.#server.close();
  }
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
