/**
 * API.md "Errors" (WebSocket): a bad request gets an error frame on the sending connection, with
 * `action` and `clientMessageId` echoed when the request had them; the connection stays open and
 * nothing is stored.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode, FrameOf } from './support/api-types.js';
import { history } from './support/chat.js';
import { storedMessageItems } from './support/dynamo.js';
import { stack } from './support/stack-info.js';
import { freshUsers, roomOf, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets, type WsClient } from './support/ws.js';

afterEach(closeAllSockets);

let ann: TestUser;
let bob: TestUser;
let cid: TestUser;
let roomAB: string;

beforeAll(async () => {
  [ann, bob, cid] = (await freshUsers(3)) as [TestUser, TestUser, TestUser];
  roomAB = await startRoom(ann, bob);
});

/** Sends a raw frame, takes the error it earns, and proves with a ping that the connection stayed open. */
async function errorFor(ws: WsClient, frame: string | object): Promise<FrameOf<'error'>> {
  ws.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const error = await ws.next('error');
  expect(error.message, 'error message').toEqual(expect.any(String));
  expect(error.message.length).toBeGreaterThan(0);
  // No stack trace or internal detail (API.md "Errors").
  expect(JSON.stringify(error)).not.toMatch(/\\n\s+at |\.(?:ts|js):\d+|node_modules|"stack"\s*:/);
  await ws.ping();
  expect(ws.isOpen).toBe(true);
  return error;
}

describe('frames that are not requests', () => {
  it.each([
    ['not JSON', 'hello {'],
    ['a JSON array', '[1, 2]'],
    ['a JSON string', '"sendMessage"'],
    ['an object without action', '{"roomId":"x"}'],
  ])('answers %s with a bad_request error', async (_label, frame) => {
    const ws = await ann.connect();
    expect(await errorFor(ws, frame)).toMatchObject({ type: 'error', code: 'bad_request' });
  });

  it('answers an unknown action with an error that echoes action and clientMessageId', async () => {
    const ws = await ann.connect();
    expect(await errorFor(ws, { action: 'dance', clientMessageId: 'k-1' })).toMatchObject({
      type: 'error',
      code: 'bad_request',
      action: 'dance',
      clientMessageId: 'k-1',
    });
  });
});

describe('rejected sendMessage', () => {
  const id65 = 'x'.repeat(65);
  const cases: [string, Record<string, unknown>, ErrorCode, string | undefined][] = [
    ['empty content', { content: '', clientMessageId: 'e-1' }, 'bad_request', 'e-1'],
    ['whitespace-only content', { content: ' \n\t \u00a0 ', clientMessageId: 'e-2' }, 'bad_request', 'e-2'],
    ['4,001 characters', { content: 'a'.repeat(4_001), clientMessageId: 'e-3' }, 'bad_request', 'e-3'],
    [
      '4,001 emoji code points',
      { content: '😀'.repeat(4_001), clientMessageId: 'e-4' },
      'bad_request',
      'e-4',
    ],
    ['non-string content', { content: 42, clientMessageId: 'e-5' }, 'bad_request', 'e-5'],
    ['null content', { content: null, clientMessageId: 'e-6' }, 'bad_request', 'e-6'],
    ['missing content', { clientMessageId: 'e-7' }, 'bad_request', 'e-7'],
    ['a 65-character clientMessageId', { content: 'hi', clientMessageId: id65 }, 'bad_request', id65],
    ['an empty clientMessageId', { content: 'hi', clientMessageId: '' }, 'bad_request', undefined],
    ['a non-string clientMessageId', { content: 'hi', clientMessageId: 7 }, 'bad_request', undefined],
  ];

  it.each(cases)('rejects %s and stores nothing', async (_label, fields, code, echoed) => {
    const ws = await ann.connect();
    const itemsBefore = stack().local ? await storedMessageItems(roomAB) : 0;
    const error = await errorFor(ws, { action: 'sendMessage', roomId: roomAB, ...fields });
    expect(error).toMatchObject({ type: 'error', code, action: 'sendMessage' });
    if (echoed !== undefined) expect(error.clientMessageId).toBe(echoed);
    await ws.expectNoFrame('ack', () => true, 0);
    expect(await history(ann, roomAB)).toEqual([]);
    if (stack().local) expect(await storedMessageItems(roomAB)).toBe(itemsBefore);
  });

  it('rejects a missing or malformed roomId', async () => {
    const ws = await ann.connect();
    expect(
      await errorFor(ws, { action: 'sendMessage', content: 'hi', clientMessageId: 'r-1' }),
    ).toMatchObject({
      code: 'bad_request',
      action: 'sendMessage',
      clientMessageId: 'r-1',
    });
    expect(
      await errorFor(ws, {
        action: 'sendMessage',
        roomId: 'not a room',
        content: 'hi',
        clientMessageId: 'r-2',
      }),
    ).toMatchObject({ code: 'bad_request', action: 'sendMessage', clientMessageId: 'r-2' });
    expect(await history(ann, roomAB)).toEqual([]);
  });

  it('answers forbidden for a room of others and not_found for a room never started', async () => {
    const bobWs = await bob.connect();
    const cidWs = await cid.connect();
    expect(
      await errorFor(cidWs, {
        action: 'sendMessage',
        roomId: roomAB,
        content: 'let me in',
        clientMessageId: 'f-1',
      }),
    ).toMatchObject({ type: 'error', code: 'forbidden', action: 'sendMessage', clientMessageId: 'f-1' });
    await bobWs.expectNoFrame('chat_message');

    const annWs = await ann.connect();
    const neverStarted = roomOf(ann.userId, cid.userId);
    expect(
      await errorFor(annWs, {
        action: 'sendMessage',
        roomId: neverStarted,
        content: 'hi',
        clientMessageId: 'n-1',
      }),
    ).toMatchObject({ code: 'not_found', action: 'sendMessage', clientMessageId: 'n-1' });
    expect(await history(ann, roomAB)).toEqual([]);
  });

  it('sends the error to the sending connection only', async () => {
    const annWs = await ann.connect();
    const annOther = await ann.connect();
    const bobWs = await bob.connect();
    await errorFor(annWs, { action: 'sendMessage', roomId: roomAB, content: '', clientMessageId: 'o-1' });
    await Promise.all([annOther.expectNoFrame('error'), bobWs.expectNoFrame('error')]);
  });

  it('accepts a valid message on the same connection after errors', async () => {
    const ws = await ann.connect();
    await errorFor(ws, { action: 'sendMessage', roomId: roomAB, content: '   ', clientMessageId: 'v-1' });
    const message = await ws.sendMessage(roomAB, 'finally', 'v-2');
    expect((await history(ann, roomAB)).map((m) => m.messageId)).toEqual([message.messageId]);
  });
});

describe('rejected typing and markRead', () => {
  it('answers bad_request for a non-boolean isTyping and forbidden for a room of others', async () => {
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    expect(await errorFor(annWs, { action: 'typing', roomId: roomAB, isTyping: 'yes' })).toMatchObject({
      code: 'bad_request',
      action: 'typing',
    });
    const cidWs = await cid.connect();
    expect(await errorFor(cidWs, { action: 'typing', roomId: roomAB, isTyping: true })).toMatchObject({
      code: 'forbidden',
      action: 'typing',
    });
    await bobWs.expectNoFrame('typing');
  });
});
