/** Talking to the local stack the way a client does (sign-in, REST, WebSocket), plus direct clients. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { tables } from '../../definitions/tables.js';
import { makeDocumentClient } from '../../lambdas/adapters/clients.js';
import { dynamoChatStore, type TableNames } from '../../lambdas/adapters/dynamo/chat-store.js';
import { ApiGatewayNotifier, makeManagementClient } from '../../lambdas/adapters/notifier.js';
import { Deliveries } from '../../lambdas/domain/deliveries.js';
import { noFileAccess } from '../../lambdas/domain/files.js';
import { monotonicUlidFactory } from '../../lambdas/domain/message-id.js';
import { MessagingService } from '../../lambdas/domain/messaging.js';
import type { ChatStore, Clock, Logger, Notifier } from '../../lambdas/domain/ports.js';
import type { LocalStack } from '../../local/stack.js';
import { attachMeter, type DdbMeter } from './ddb-meter.js';
import { withTimeout } from './deadline.js';

const HTTP_TIMEOUT_MS = 15_000;

export function tableNamesOf(stack: LocalStack): TableNames {
  const name = (envVar: string) => {
    const value = stack.env[envVar];
    if (value === undefined) throw new Error(`the local stack's env has no ${envVar}`);
    return value;
  };
  return {
    rooms: name(tables.rooms.envVar),
    messages: name(tables.messages.envVar),
    connections: name(tables.connections.envVar),
    users: name(tables.users.envVar),
  };
}

export interface BenchDb {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly meter: DdbMeter;
}

/** A DynamoDB client on DynamoDB Local only (explicit endpoint), metered, marshalled like the handlers'. */
export function benchDb(stack: LocalStack, name: string): BenchDb {
  const client = new DynamoDBClient({
    endpoint: stack.dynamoEndpoint,
    region: stack.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? 'local',
      secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    },
  });
  const meter = attachMeter(client, name);
  return { client, doc: makeDocumentClient(client), meter };
}

/** The product's notifier, posting to the local stack's `@connections` API (never AWS: explicit URL). */
export function localNotifier(stack: LocalStack): Notifier {
  const callbackUrl = stack.env.WS_CALLBACK_URL;
  if (callbackUrl === undefined || !callbackUrl.startsWith('http://127.0.0.1:')) {
    throw new Error(`refusing to post to a callback URL that is not local: ${callbackUrl}`);
  }
  return new ApiGatewayNotifier(makeManagementClient(callbackUrl));
}

export const quietLogger: Logger = {
  info: () => {},
  warn: (message, details) => console.warn(`[bench] ${message}`, details ?? ''),
  error: (message, details) => console.error(`[bench] ${message}`, details ?? ''),
};

/** The messaging service as lambdas/shared/posting-service.ts wires the send, on the given store and notifier. */
export function benchService(store: ChatStore, notifier: Notifier): MessagingService {
  const nextUlid = monotonicUlidFactory();
  const clock: Clock = { now: () => new Date() };
  return new MessagingService(
    store,
    new Deliveries(store, notifier, clock, quietLogger),
    noFileAccess,
    clock,
    (now) => nextUlid(now.getTime()),
    quietLogger,
  );
}

export function benchStore(db: BenchDb, stack: LocalStack): ChatStore {
  return dynamoChatStore(db.doc, tableNamesOf(stack), { now: () => new Date() });
}

async function fetchJson(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

/**
 * POST /dev/token; answers the token. With `email`, the account gets that address (as a Cognito
 * confirmation stores it), so messages to the user schedule e-mail checks; without, none are.
 */
export async function signIn(
  stack: LocalStack,
  userId: string,
  displayName = userId,
  email?: string,
): Promise<string> {
  const { status, body } = await fetchJson(stack.signInUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, displayName, ...(email === undefined ? {} : { email }) }),
  });
  const token = (body as { token?: unknown } | undefined)?.token;
  if (status !== 200 || typeof token !== 'string') {
    throw new Error(`sign-in of ${userId} answered ${status}: ${JSON.stringify(body)}`);
  }
  return token;
}

/** POST /chat/start/{other} as the token's user; answers the room id. */
export async function startChat(stack: LocalStack, token: string, otherUserId: string): Promise<string> {
  const { status, body } = await fetchJson(`${stack.restUrl}/chat/start/${encodeURIComponent(otherUserId)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const roomId = (body as { room?: { roomId?: unknown } } | undefined)?.room?.roomId;
  if ((status !== 200 && status !== 201) || typeof roomId !== 'string') {
    throw new Error(`start chat with ${otherUserId} answered ${status}: ${JSON.stringify(body)}`);
  }
  return roomId;
}

export interface OpenConnection {
  readonly connectionId: string;
  readonly userId: string;
}

/** The emulator's list of open connections (GET /dev/connections). */
export async function openConnections(stack: LocalStack): Promise<OpenConnection[]> {
  const { status, body } = await fetchJson(`${stack.restUrl}/dev/connections`, { method: 'GET' });
  if (status !== 200) throw new Error(`/dev/connections answered ${status}`);
  const list = (body as { connections?: unknown[] } | undefined)?.connections ?? [];
  return list.flatMap((entry) => {
    const { connectionId, authorizer } = entry as {
      connectionId?: unknown;
      authorizer?: { userId?: unknown };
    };
    return typeof connectionId === 'string' && typeof authorizer?.userId === 'string'
      ? [{ connectionId, userId: authorizer.userId }]
      : [];
  });
}

/** A WebSocket to the local stack, open (handshake and `$connect` done) or an error within the timeout. */
export async function connect(stack: LocalStack, token: string, timeoutMs = 15_000): Promise<WebSocket> {
  const url = new URL(stack.wsUrl);
  url.searchParams.set('token', token);
  const socket = new WebSocket(url);
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`handshake answered ${res.statusCode}`)),
    );
  });
  try {
    await withTimeout(opened, timeoutMs, 'WebSocket connect');
  } catch (error) {
    socket.terminate();
    throw error;
  }
  return socket;
}

/** Closes sockets and waits (bounded) for their close events. */
export async function closeAll(sockets: readonly WebSocket[], timeoutMs = 5000): Promise<void> {
  await Promise.allSettled(
    sockets.map((socket) =>
      withTimeout(
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close(1000, 'bench done');
        }),
        timeoutMs,
        'WebSocket close',
      ).catch(() => socket.terminate()),
    ),
  );
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function inPool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      results[index] = await task(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
