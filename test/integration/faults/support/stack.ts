/**
 * What the fault tests need from a local stack beyond the API: direct reads and writes of DynamoDB
 * Local, the gateway's dev endpoints (connections, throttles), and the send handler run in this
 * process on a store or a DynamoDB client the test controls. Everything takes a `FaultStack`, so the
 * same helpers serve the run's shared stack and a stack a test file starts for itself.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { envVars } from '../../../../definitions/env.js';
import type { TableNames } from '../../../../lambdas/adapters/dynamo/items.js';
import type { ChatStore } from '../../../../lambdas/domain/ports.js';
import type { WebSocketResult } from '../../../../lambdas/ws/respond.js';
import type { LocalStack } from '../../../../local/stack.js';
import { frameOf, wsEvent } from '../../../fakes/events.js';
import { makeFiles } from '../../../fakes/files.js';
import { RecordingLogger } from '../../../fakes/logger.js';
import type { Message, RoomEntry, ServerFrame } from '../../support/api-types.js';
import { localDynamoClient, localTables } from '../../support/dynamo.js';
import { localStack, stack } from '../../support/stack-info.js';
import { openWs, type WsClient } from '../../support/ws.js';

export interface FaultStack {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly signInUrl: string;
  readonly dynamoEndpoint: string;
  /** The handlers' environment: table names, region, credentials, callback URL. */
  readonly env: Readonly<Record<string, string>>;
}

/** A stack a test file started for itself (in its own worker). */
export function faultStackOf(local: LocalStack): FaultStack {
  const { restUrl, wsUrl, signInUrl, dynamoEndpoint, env } = local;
  return { restUrl, wsUrl, signInUrl, dynamoEndpoint, env };
}

/** The stack the integration run's global setup started. */
export function sharedStack(): FaultStack {
  const { restUrl, wsUrl } = stack();
  const { signInUrl, dynamoEndpoint, env } = localStack();
  return { restUrl, wsUrl, signInUrl, dynamoEndpoint, env };
}

function required(env: Readonly<Record<string, string>>, name: string): string {
  const value = env[name];
  if (value === undefined) throw new Error(`the stack's handler environment has no ${name}`);
  return value;
}

export function tableNames(target: FaultStack): TableNames {
  return localTables(target.env);
}

/** A DynamoDB client for the stack's DynamoDB Local, with the handlers' region and credentials. */
export function dynamoClient(target: FaultStack): DynamoDBClient {
  return localDynamoClient(target.dynamoEndpoint, target.env);
}

const documentClients = new WeakMap<FaultStack, DynamoDBDocumentClient>();

function doc(target: FaultStack): DynamoDBDocumentClient {
  let client = documentClients.get(target);
  if (client === undefined) {
    client = DynamoDBDocumentClient.from(dynamoClient(target));
    documentClients.set(target, client);
  }
  return client;
}

// ---------------------------------------------------------------- what DynamoDB holds

/** Every item of the room in the messages table (a consistent read). */
export async function storedMessages(target: FaultStack, roomId: string): Promise<Message[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc(target).send(
      new QueryCommand({
        TableName: tableNames(target).messages,
        KeyConditionExpression: 'roomId = :roomId',
        ExpressionAttributeValues: { ':roomId': roomId },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items.map(
    ({ dedupKey: _key, counts: _counts, attempt: _attempt, ...message }) => message as unknown as Message,
  );
}

/** The row of the connections table, if any. */
export async function connectionRow(target: FaultStack, connectionId: string) {
  const { Item } = await doc(target).send(
    new GetCommand({
      TableName: tableNames(target).connections,
      Key: { connectionId },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** The `conn#<id>` attributes on the user's item: the connections fan-out will post to. */
export async function connectionAttributes(target: FaultStack, userId: string): Promise<string[]> {
  const { Item } = await doc(target).send(
    new GetCommand({ TableName: tableNames(target).users, Key: { userId }, ConsistentRead: true }),
  );
  return Object.keys(Item ?? {})
    .filter((name) => name.startsWith('conn#'))
    .map((name) => name.slice('conn#'.length))
    .sort();
}

/**
 * Records a connection the way `$connect` does (a connections row and a `conn#<id>` attribute on the
 * user), for an id the gateway never had: a connection that went away without its `$disconnect`
 * running, which AWS does not promise. It connected ten minutes ago and has not expired.
 */
export async function recordVanishedConnection(
  target: FaultStack,
  userId: string,
  connectionId: string,
): Promise<void> {
  const connectedAt = Date.now() - 10 * 60 * 1000;
  const expiresAt = Math.floor(connectedAt / 1000) + 2 * 60 * 60 + 5 * 60;
  await doc(target).send(
    new PutCommand({
      TableName: tableNames(target).connections,
      Item: { connectionId, userId, connectedAt: new Date(connectedAt).toISOString(), expiresAt },
    }),
  );
  await doc(target).send(
    new UpdateCommand({
      TableName: tableNames(target).users,
      Key: { userId },
      UpdateExpression: 'SET #connection = :connection',
      ConditionExpression: 'attribute_exists(userId)',
      ExpressionAttributeNames: { '#connection': `conn#${connectionId}` },
      ExpressionAttributeValues: { ':connection': { expiresAt } },
    }),
  );
}

// ---------------------------------------------------------------- the gateway's dev endpoints

interface ConnectionInfo {
  readonly connectionId: string;
  readonly authorizer: { readonly userId?: string };
}

/** The ids of the user's open connections, as the gateway knows them. */
export async function openConnectionIds(target: FaultStack, userId: string): Promise<string[]> {
  const response = await fetch(`${target.restUrl}/dev/connections`, { signal: AbortSignal.timeout(10_000) });
  const { connections } = (await response.json()) as { connections: ConnectionInfo[] };
  return connections.filter((c) => c.authorizer.userId === userId).map((c) => c.connectionId);
}

export async function onlyConnectionOf(target: FaultStack, userId: string): Promise<string> {
  const ids = await openConnectionIds(target, userId);
  const [id] = ids;
  if (ids.length !== 1 || id === undefined) throw new Error(`${userId} has ${ids.length} open connections`);
  return id;
}

/** The next `count` posts to the connection answer 429 LimitExceededException. */
export async function throttlePosts(target: FaultStack, count: number, connectionId: string): Promise<void> {
  const response = await fetch(`${target.restUrl}/dev/throttle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count, connectionId }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 204) throw new Error(`POST /dev/throttle answered ${response.status}`);
}

/** Throttles not used up yet for the connection. */
export async function throttlesLeft(target: FaultStack, connectionId: string): Promise<number> {
  const response = await fetch(`${target.restUrl}/dev/throttle`, { signal: AbortSignal.timeout(10_000) });
  const { pending } = (await response.json()) as { pending: { connectionId?: string; remaining: number }[] };
  return pending.filter((p) => p.connectionId === connectionId).reduce((sum, p) => sum + p.remaining, 0);
}

// ---------------------------------------------------------------- users, REST, WebSocket

export interface FaultUser {
  readonly userId: string;
  readonly token: string;
}

/** `withEmail`: the account has a verified address (`<userId>@example.com`), so it gets offline e-mails. */
export async function signInAs(target: FaultStack, label: string, withEmail = false): Promise<FaultUser> {
  const userId = `${label}${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const response = await fetch(target.signInUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      userId,
      displayName: label,
      ...(withEmail ? { email: `${userId}@example.com` } : {}),
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const { token } = (await response.json()) as { token?: string };
  if (response.status !== 200 || token === undefined)
    throw new Error(`sign-in of ${userId}: ${response.status}`);
  return { userId, token };
}

export async function rest<T>(
  target: FaultStack,
  user: FaultUser,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}` },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export async function startRoomOf(target: FaultStack, a: FaultUser, b: FaultUser): Promise<string> {
  const { status, body } = await rest<{ room: RoomEntry }>(target, a, 'POST', `/chat/start/${b.userId}/`);
  if (status !== 201 && status !== 200) throw new Error(`start ${a.userId} -> ${b.userId}: ${status}`);
  return body.room.roomId;
}

/** The caller's chat-list entry of the room (does not move any read pointer). */
export async function roomEntryOf(target: FaultStack, user: FaultUser, roomId: string): Promise<RoomEntry> {
  const { body } = await rest<{ rooms: RoomEntry[] }>(target, user, 'GET', '/chat/list/?limit=100');
  const room = body.rooms.find((r) => r.roomId === roomId);
  if (room === undefined) throw new Error(`${roomId} is not in ${user.userId}'s chat list`);
  return room;
}

/** The room's whole history through `?after=`, oldest first (moves no read pointer). */
export async function historyOf(target: FaultStack, user: FaultUser, roomId: string): Promise<Message[]> {
  const messages: Message[] = [];
  let after = '0'.repeat(26);
  for (;;) {
    const { status, body } = await rest<{ messages: (Message & { read?: boolean })[]; hasMore: boolean }>(
      target,
      user,
      'GET',
      `/chat/messages/${roomId}/?after=${after}&limit=100`,
    );
    if (status !== 200) throw new Error(`history of ${roomId}: ${status}`);
    messages.push(...body.messages.map(({ read: _read, ...message }) => message));
    const last = body.messages.at(-1);
    if (!body.hasMore || last === undefined) return messages;
    after = last.messageId;
  }
}

/**
 * A WebSocket connection to `target` that buffers frames (support/ws.ts's WsClient), scoped to one
 * room when `room` is given.
 */
export function connectTo(
  target: FaultStack,
  user: FaultUser,
  label = user.userId,
  room?: string,
): Promise<WsClient> {
  return openWs({ token: user.token, room, wsUrl: target.wsUrl }, label);
}

export async function pairInRoom(
  target: FaultStack,
): Promise<{ ann: FaultUser; bob: FaultUser; roomId: string }> {
  const ann = await signInAs(target, 'ann');
  const bob = await signInAs(target, 'bob');
  const roomId = await startRoomOf(target, ann, bob);
  return { ann, bob, roomId };
}

/**
 * Bob connects first, so that Ann's coming online is posted to him: once that presence frame is
 * delivered no post to him is pending, and whatever a test then throttles or counts is its own.
 */
export async function onlinePair(target: FaultStack): Promise<{
  ann: FaultUser;
  bob: FaultUser;
  roomId: string;
  annWs: WsClient;
  bobWs: WsClient;
}> {
  const { ann, bob, roomId } = await pairInRoom(target);
  const bobWs = await connectTo(target, bob);
  const annWs = await connectTo(target, ann);
  await bobWs.next('presence', (f) => f.userId === ann.userId && f.online);
  return { ann, bob, roomId, annWs, bobWs };
}

// ---------------------------------------------------------------- the send handler in this process

export interface InProcessSend {
  /** Runs the `sendMessage` route's handler for the caller's connection; answers its frame. */
  send(
    caller: { userId: string; connectionId: string },
    frame: Record<string, unknown>,
  ): Promise<ServerFrame>;
  readonly logger: RecordingLogger;
}

/**
 * The real `sendMessage` handler (lambdas/ws/send-message.ts `makeHandler`) on the real adapters,
 * built here so that a test can hand it its own DynamoDB client (throttles injected) or wrap its
 * store (a crash in the middle of a send). It posts to the stack's connections through the stack's
 * management API, as the deployed function would.
 */
export async function inProcessSend(
  target: FaultStack,
  options: { client?: DynamoDBClient; wrapStore?: (store: ChatStore) => ChatStore } = {},
): Promise<InProcessSend> {
  // Handler modules read their configuration when imported: the stack's, in this process too.
  Object.assign(process.env, target.env);
  const [
    { makeHandler },
    { ChatService },
    { dynamoChatStore },
    clients,
    { ApiGatewayNotifier, makeManagementClient },
    ids,
  ] = await Promise.all([
    import('../../../../lambdas/ws/send-message.js'),
    import('../../../../lambdas/domain/chat-service.js'),
    import('../../../../lambdas/adapters/dynamo/chat-store.js'),
    import('../../../../lambdas/adapters/clients.js'),
    import('../../../../lambdas/adapters/notifier.js'),
    import('../../../../lambdas/domain/message-id.js'),
  ]);
  const store = dynamoChatStore(
    clients.makeDocumentClient(options.client ?? dynamoClient(target)),
    tableNames(target),
    { now: () => new Date() },
  );
  const logger = new RecordingLogger();
  const nextId = ids.monotonicUlidFactory();
  const chat = new ChatService({
    store: options.wrapStore?.(store) ?? store,
    notifier: new ApiGatewayNotifier(makeManagementClient(required(target.env, envVars.callbackUrl))),
    clock: { now: () => new Date() },
    newMessageId: (now) => nextId(now.getTime()),
    logger,
    files: makeFiles(),
  });
  const handler = makeHandler(chat.messaging, logger);
  return {
    logger,
    async send(caller, frame) {
      const result: WebSocketResult = await handler(
        wsEvent({
          routeKey: 'sendMessage',
          connectionId: caller.connectionId,
          userId: caller.userId,
          body: JSON.stringify(frame),
        }),
      );
      return frameOf(result) as ServerFrame;
    },
  };
}
