/**
 * Issue 6, least privilege: each function's IAM grant (definitions/routes.ts) is exactly the
 * DynamoDB actions it performs. This file starts a stack of its own in this worker, so that the
 * handlers run in this process where every DynamoDB request they make is recorded with the
 * function that made it. A scenario walks every route through its paths (first, repeated and
 * racing room starts, sends, a retried send, a retry after a newer message, a send into a new hour,
 * pages, reads, typing, presence on
 * connect and disconnect, stale connections found by every posting function, profiles, e-mail
 * preferences, an offline e-mail (the stream consumer and the notify check), the Cognito trigger). A request the grant does not cover would be AccessDenied on AWS; a granted action the
 * scenario never needs is a privilege too many.
 */
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHandlers, postConfirmationTrigger } from '../../../definitions/routes.js';
import { runningFunction } from '../../../local/lambda.js';
import type { LocalStack } from '../../../local/stack.js';
import {
  connectionRow,
  connectTo,
  dynamoClient,
  type FaultStack,
  type FaultUser,
  faultStackOf,
  recordVanishedConnection,
  rest,
  signInAs,
  startRoomOf,
  tableNames,
} from '../faults/support/stack.js';
import type { MessagePage } from '../support/api-types.js';
import { DynamoCallRecorder, grantedCalls } from '../support/dynamo-calls.js';
import { eventually } from '../support/wait.js';
import { closeAllSockets } from '../support/ws.js';

/**
 * Granted for a defensive path that neither DynamoDB nor DynamoDB Local takes: a duplicate send whose
 * failed condition comes back without the stored item (ReturnValuesOnConditionCheckFailure) is read
 * back with GetItem (unit-tested with a mocked client in test/unit/adapters/).
 */
const UNREACHABLE_HERE = new Set(['SendMessageFunction messages GetItem']);

let local: LocalStack | undefined;
let target: FaultStack;
let recorder: DynamoCallRecorder;

beforeAll(async () => {
  const { startLocalStack } = await import('../../../local/stack.js');
  // Checks a second after their message, so that the walk sees an e-mail sent.
  local = await startLocalStack({ port: 0, inMemory: true, quiet: true, notifyDelaySeconds: 1 });
  target = faultStackOf(local);
  recorder = new DynamoCallRecorder(tableNames(target));
}, 120_000);

afterAll(async () => {
  recorder?.uninstall();
  await closeAllSockets();
  await local?.stop();
}, 60_000);

let vanished = 0;
/** A connection of `user` the gateway no longer has: the next post to it answers 410. */
async function plantStaleConnection(user: FaultUser): Promise<string> {
  const connectionId = `stale${vanished++}${Date.now().toString(36)}=`;
  await recordVanishedConnection(target, user.userId, connectionId);
  return connectionId;
}

async function expectCleanedUp(connectionId: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await connectionRow(target, connectionId)) === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`stale connection ${connectionId} was not cleaned up`);
}

/** A REST call with a JSON body; answers the status. */
async function withBody(user: FaultUser, method: 'POST' | 'PUT', path: string, body: unknown) {
  const response = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  await response.body?.cancel();
  return response.status;
}

/** Removes the user's profile item, as if the Cognito trigger had never written it. */
async function deleteProfile(user: FaultUser): Promise<void> {
  const client = DynamoDBDocumentClient.from(dynamoClient(target));
  await client.send(new DeleteCommand({ TableName: tableNames(target).users, Key: { userId: user.userId } }));
  client.destroy();
}

/** Moves the room's last activity back by `ms`, as if its last message were that old. */
async function backdateRoom(roomId: string, ms: number): Promise<void> {
  const client = DynamoDBDocumentClient.from(dynamoClient(target));
  await client.send(
    new UpdateCommand({
      TableName: tableNames(target).rooms,
      Key: { pk: roomId, sk: 'room' },
      UpdateExpression: 'SET updatedAt = :earlier',
      ExpressionAttributeValues: { ':earlier': new Date(Date.now() - ms).toISOString() },
    }),
  );
  client.destroy();
}

async function walkEveryRoute(): Promise<void> {
  const ann = await signInAs(target, 'ann');
  const bob = await signInAs(target, 'bob');

  // Profiles: read, created on first read when the Cognito trigger did not write it, and updated.
  expect((await rest(target, ann, 'GET', '/users/me/')).status).toBe(200);
  const dan = await signInAs(target, 'dan');
  await deleteProfile(dan);
  expect((await rest<{ displayName: string }>(target, dan, 'GET', '/users/me/')).body.displayName).toBe(
    'dan',
  );
  const update = { displayName: 'Ann A.', avatarUrl: 'https://example.com/ann.png' };
  expect(await withBody(ann, 'PUT', '/users/me/', update)).toBe(200);

  // Rooms: created, started again, refused for an unknown user; the chat list.
  const roomId = await startRoomOf(target, ann, bob);
  expect(await startRoomOf(target, bob, ann)).toBe(roomId);
  expect((await rest(target, ann, 'POST', '/chat/start/nobody-here/')).status).toBe(404);
  // Both start the same new room at once: each finds no room, one creates it, the other reads the
  // winner's. Their writes are held until both have got that far, so the race happens every run.
  const [erin, fred] = [await signInAs(target, 'erin'), await signInAs(target, 'fred')];
  let arrived = 0;
  let releaseBoth = () => {};
  const bothArrived = new Promise<void>((resolve) => {
    releaseBoth = resolve;
  });
  recorder.holdBefore = (calls) => {
    if (!calls.includes('StartChatFunction rooms PutItem')) return undefined;
    if (++arrived === 2) releaseBoth();
    return bothArrived;
  };
  const racing = await Promise.all([startRoomOf(target, erin, fred), startRoomOf(target, fred, erin)]);
  recorder.holdBefore = undefined;
  expect(racing[0]).toBe(racing[1]);

  // Presence: Bob's first connection tells Ann's stale one (cleaned up by $connect).
  const annWs = await connectTo(target, ann);
  let stale = await plantStaleConnection(ann);
  const bobWs = await connectTo(target, bob);
  await annWs.next('presence', (f) => f.userId === bob.userId && f.online);
  await expectCleanedUp(stale);
  const annInRoom = await connectTo(target, ann, 'ann in the room', roomId);

  // Sends: new, retried, and a retry of an older message after a newer one (recounts unread).
  stale = await plantStaleConnection(bob);
  const first = await annWs.sendMessage(roomId, 'first', 'grants-1');
  await expectCleanedUp(stale);
  await annWs.sendMessage(roomId, 'second', 'grants-2');
  expect((await annWs.sendMessage(roomId, 'first', 'grants-1')).messageId).toBe(first.messageId);
  await bobWs.next('chat_message', (f) => f.message.content === 'second');
  // A send that carries the room into a new hour moves both chat-list entries (BatchWriteItem).
  await backdateRoom(roomId, 3_600_000);
  await annWs.sendMessage(roomId, 'in a new hour', 'grants-hour');

  // Typing relay, with a stale connection on the other side.
  stale = await plantStaleConnection(bob);
  annWs.send({ action: 'typing', roomId, isTyping: true });
  await bobWs.next('typing', (f) => f.userId === ann.userId && f.isTyping);
  await expectCleanedUp(stale);

  // Reads: the list, pages (which mark read), POST /chat/read, and markRead over the socket.
  expect((await rest(target, ann, 'GET', '/chat/list/?limit=10')).status).toBe(200);
  stale = await plantStaleConnection(ann);
  const page = await rest<MessagePage>(target, bob, 'GET', `/chat/messages/${roomId}/?limit=1`);
  expect(page.status).toBe(200);
  await annWs.next('read', (f) => f.userId === bob.userId);
  await expectCleanedUp(stale);
  const older = await rest<MessagePage>(
    target,
    bob,
    'GET',
    `/chat/messages/${roomId}/?before=${page.body.messages[0]?.messageId}`,
  );
  expect(older.body.messages.map((m) => m.content)).toEqual(['first', 'second']);
  expect((await rest(target, bob, 'GET', `/chat/messages/${roomId}/?after=${first.messageId}`)).status).toBe(
    200,
  );
  const third = await annWs.sendMessage(roomId, 'third', 'grants-3');
  stale = await plantStaleConnection(ann);
  expect(await withBody(bob, 'POST', `/chat/read/${roomId}/`, { messageId: third.messageId })).toBe(200);
  await annWs.next('read', (f) => f.userId === bob.userId && f.messageId === third.messageId);
  await expectCleanedUp(stale);
  const fourth = await annWs.sendMessage(roomId, 'fourth', 'grants-4');
  stale = await plantStaleConnection(ann);
  bobWs.send({ action: 'markRead', roomId, messageId: fourth.messageId });
  await annWs.next('read', (f) => f.userId === bob.userId && f.messageId === fourth.messageId);
  await expectCleanedUp(stale);
  // Files: an upload form (the room's participants only), the file posted to storage, and a send
  // that attaches it (the attachment check claims it in the rooms table).
  const form = await fetch(`${target.restUrl}/chat/uploads/${roomId}/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ann.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ fileName: 'notes.txt', contentType: 'text/plain', size: 6 }),
  });
  expect(form.status).toBe(201);
  const offer = (await form.json()) as { uploadId: string; url: string; fields: Record<string, string> };
  const post = new FormData();
  for (const [name, value] of Object.entries(offer.fields)) post.append(name, value);
  post.append('file', new Blob(['notes\n'], { type: 'text/plain' }));
  expect((await fetch(offer.url, { method: 'POST', body: post })).status).toBe(204);
  annWs.send({
    action: 'sendMessage',
    roomId,
    content: '',
    clientMessageId: 'grants-file',
    attachments: [{ uploadId: offer.uploadId }],
  });
  await annWs.next('ack', (f) => f.clientMessageId === 'grants-file');

  // E-mail preferences, read and changed; an offline user's e-mail (the consumer schedules the check,
  // the notify function reads the rooms, messages and users, moves the notified marks and sends).
  expect((await rest(target, ann, 'GET', '/users/me/notifications')).status).toBe(200);
  expect(await withBody(ann, 'PUT', '/users/me/notifications', { delayMinutes: 10 })).toBe(200);
  const gil = await signInAs(target, 'gil', true);
  const gilRoom = await startRoomOf(target, ann, gil);
  await annWs.sendMessage(gilRoom, 'for the e-mail', 'grants-mail');
  await eventually(
    async () =>
      (await (local as LocalStack).emails()).filter((mail) => JSON.stringify(mail).includes(gil.userId)),
    (mails) => mails.length === 1,
    { timeoutMs: 10_000, what: 'the offline e-mail' },
  );
  annWs.send({ action: 'ping' });
  await annWs.next('pong');
  await annInRoom.close();

  // Presence: Bob's last connection closes; Ann's stale one is found by $disconnect.
  stale = await plantStaleConnection(ann);
  await bobWs.close();
  await annWs.next('presence', (f) => f.userId === bob.userId && !f.online);
  await expectCleanedUp(stale);

  // The Cognito trigger, run in this process as the function it is.
  const { handler } = await import('../../../lambdas/cognito/post-confirmation.js');
  const event = {
    userName: 'carol',
    request: { userAttributes: { sub: `carol${Date.now().toString(36)}`, name: 'Carol' } },
  } as unknown as PostConfirmationTriggerEvent;
  await runningFunction.run(postConfirmationTrigger.functionId, () => handler(event));
}

describe('each function is granted exactly the DynamoDB actions it performs', () => {
  beforeAll(walkEveryRoute, 90_000);

  it('attributes every request the handlers made to a function and a table of the stack', () => {
    expect([...recorder.calls].filter((call) => call.includes('unknown table'))).toEqual([]);
    const functions = new Set([...recorder.calls].map((call) => call.split(' ')[0]));
    const usingTables = allHandlers.filter((definition) => Object.keys(definition.tables).length > 0);
    expect([...functions].sort()).toEqual(usingTables.map((definition) => definition.functionId).sort());
  });

  it.each(
    allHandlers.flatMap((definition) =>
      Object.entries(definition.writesOnlyKeysStartingWith ?? {}).map(
        ([table, prefix]) => [definition.functionId, table, prefix] as const,
      ),
    ),
  )(
    '%s writes the %s table only under its key prefix %s (its IAM condition)',
    (functionId, table, prefix) => {
      const keys = [...(recorder.writes.get(`${functionId} ${table}`) ?? [])];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith(String(prefix)))).toEqual([]);
    },
  );

  it.each(allHandlers.map((definition) => [definition.functionId, definition]))(
    '%s',
    (functionId, definition) => {
      const reachable = grantedCalls(definition).filter((call) => !UNREACHABLE_HERE.has(call));
      expect(recorder.of(functionId)).toEqual(reachable);
    },
  );
});
