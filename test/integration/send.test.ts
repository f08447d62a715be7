/** API.md: WebSocket `sendMessage`: ack, fan-out to every other connection, idempotent retries. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from './support/api-types.js';
import { history } from './support/chat.js';
import { storedMessageItems } from './support/dynamo.js';
import { expectOk } from './support/rest.js';
import { at, expectMessage, expectTimeBetween, ULID, ulidTime, withoutRead } from './support/shapes.js';
import { stack } from './support/stack-info.js';
import { freshUsers, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets } from './support/ws.js';

afterEach(closeAllSockets);

async function trio(): Promise<[TestUser, TestUser, TestUser]> {
  return (await freshUsers(3)) as [TestUser, TestUser, TestUser];
}

describe('sendMessage', () => {
  it('acks the sending connection with the stored message, stored before anyone is told', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();

    const before = Date.now();
    annWs.send({
      action: 'sendMessage',
      roomId: room,
      content: '  \n hello Bob \t ',
      clientMessageId: 'c-1',
    });
    const ack = await annWs.next('ack');
    const after = Date.now();
    // An ack means persisted: the history has it at once.
    const stored = await history(bob, room);

    expect(ack).toMatchObject({ type: 'ack', clientMessageId: 'c-1' });
    expectMessage(ack.message);
    expect(ack.message).toMatchObject({
      roomId: room,
      senderId: ann.userId,
      content: 'hello Bob',
      clientMessageId: 'c-1',
    });
    expect(ack.message.messageId).toMatch(ULID);
    expectTimeBetween(ack.message.sentAt, before, after, 'sentAt');
    // The ULID is time-ordered: its timestamp is the sending time.
    expect(Math.abs(ulidTime(ack.message.messageId) - Date.parse(ack.message.sentAt))).toBeLessThanOrEqual(
      1_000,
    );

    expect(stored.map(withoutRead)).toEqual([ack.message]);
  });

  it("delivers chat_message to the other participant's connections and the sender's other ones, not the sending one", async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annPhone = await ann.connect();
    const annLaptop = await ann.connect();
    const bobPhone = await bob.connect();
    const bobLaptop = await bob.connect();

    const message = await annPhone.sendMessage(room, 'to every device', 'c-2');
    for (const ws of [annLaptop, bobPhone, bobLaptop]) {
      const frame = await ws.next('chat_message', (f) => f.message.messageId === message.messageId);
      expect(frame).toEqual({ type: 'chat_message', message });
    }
    // Exactly once each, and the sending connection got the ack only.
    await Promise.all([
      annPhone.expectNoFrame('chat_message'),
      annLaptop.expectNoFrame('chat_message'),
      bobPhone.expectNoFrame('chat_message'),
      bobLaptop.expectNoFrame('chat_message'),
      annLaptop.expectNoFrame('ack'),
      bobPhone.expectNoFrame('ack'),
    ]);
  });

  it('gives messages increasing ids in sending order, and history keeps that order', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    const sent: Message[] = [];
    for (let i = 0; i < 6; i++) {
      const ws = i % 2 === 0 ? annWs : bobWs;
      sent.push(await ws.sendMessage(room, `turn ${i}`, `t-${i}`));
    }
    const messageIds = sent.map((m) => m.messageId);
    expect([...messageIds].sort()).toEqual(messageIds);
    expect(new Set(messageIds).size).toBe(6);
    expect((await history(ann, room)).map(withoutRead)).toEqual(sent);
  });

  it('accepts a message without clientMessageId', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    annWs.send({ action: 'sendMessage', roomId: room, content: 'no id' });
    const ack = await annWs.next('ack');
    expect(ack.message).toMatchObject({ roomId: room, senderId: ann.userId, content: 'no id' });
    expect(ack.message.clientMessageId).toBeUndefined();
    await bobWs.next('chat_message', (f) => f.message.messageId === ack.message.messageId);
  });

  it('keeps Unicode intact and counts code points: 4,000 emoji are accepted', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    const content = '😀'.repeat(4_000);
    const message = await annWs.sendMessage(room, ` ${content}\n`, 'emoji');
    expect(message.content).toBe(content);
    expect((await bobWs.next('chat_message')).message.content).toBe(content);
    const mixed = await annWs.sendMessage(room, 'Ünïcödé 👩‍👩‍👧 中文 \u05e9\u05dc\u05d5\u05dd', 'mixed');
    expect(mixed.content).toBe('Ünïcödé 👩‍👩‍👧 中文 \u05e9\u05dc\u05d5\u05dd');
    expect((await history(bob, room)).map((m) => m.content)).toEqual([content, mixed.content]);
  });
});

describe('concurrent sending', () => {
  it('keeps every message, in messageId order, with the right unread counts and last message', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    for (let i = 0; i < 4; i++) {
      annWs.send({ action: 'sendMessage', roomId: room, content: `ann ${i}`, clientMessageId: `ann-${i}` });
      bobWs.send({ action: 'sendMessage', roomId: room, content: `bob ${i}`, clientMessageId: `bob-${i}` });
    }
    const acks = await Promise.all(
      [0, 1, 2, 3].flatMap((i) => [
        annWs.next('ack', (f) => f.clientMessageId === `ann-${i}`),
        bobWs.next('ack', (f) => f.clientMessageId === `bob-${i}`),
      ]),
    );
    const sent = acks.map((ack) => ack.message).sort((x, y) => (x.messageId < y.messageId ? -1 : 1));
    expect(new Set(sent.map((m) => m.messageId)).size).toBe(8);
    expect((await history(ann, room)).map(withoutRead)).toEqual(sent);

    const newest = at(sent, -1);
    const bobsView = expectOk(await bob.api.listRooms()).rooms[0];
    expect(bobsView).toMatchObject({ unreadCount: 4, lastMessage: { messageId: newest.messageId } });
  });
});

describe('idempotent sending (clientMessageId)', () => {
  it('answers a retry with the same ack and stores nothing new, also from another connection', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const local = stack().local !== null;
    const itemsBefore = local ? await storedMessageItems(room) : 0;

    const first = await annWs.sendMessage(room, 'only once', 'retry-me');
    const itemsAfterFirst = local ? await storedMessageItems(room) : 0;
    const retry = await annWs.sendMessage(room, 'only once', 'retry-me');
    expect(retry).toEqual(first);

    // After a reconnect, the same retry still finds the stored message.
    const reconnected = await ann.connect();
    expect(await reconnected.sendMessage(room, 'only once', 'retry-me')).toEqual(first);

    const stored = await history(bob, room);
    expect(stored.map(withoutRead)).toEqual([first]);
    if (local) {
      expect(itemsAfterFirst).toBeGreaterThan(itemsBefore);
      expect(await storedMessageItems(room)).toBe(itemsAfterFirst);
    }
  });

  it('stores a message once when the retry races the first attempt', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const connections = await Promise.all([ann.connect(), ann.connect(), ann.connect(), ann.connect()]);
    const frame = { action: 'sendMessage', roomId: room, content: 'raced', clientMessageId: 'race-1' };
    // Three attempts from each of four connections, all in flight together.
    const attempts = [...connections, ...connections, ...connections];
    for (const ws of attempts) ws.send(frame);
    const acks = await Promise.all(attempts.map((ws) => ws.next('ack')));
    const first = at(acks, 0).message;
    for (const ack of acks) expect(ack).toEqual({ type: 'ack', clientMessageId: 'race-1', message: first });
    // Counted once as unread (checked before Bob's history read marks it read).
    expect(expectOk(await bob.api.listRooms()).rooms[0]).toMatchObject({
      unreadCount: 1,
      lastMessage: { messageId: first.messageId },
    });
    expect((await history(bob, room)).map(withoutRead)).toEqual([first]);
  });

  it('treats the same clientMessageId from the other participant, or in another room, as a new message', async () => {
    const [ann, bob, cid] = await trio();
    const roomAB = await startRoom(ann, bob);
    const roomAC = await startRoom(ann, cid);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();

    const fromAnn = await annWs.sendMessage(roomAB, 'same id', 'shared-id');
    const fromBob = await bobWs.sendMessage(roomAB, 'same id', 'shared-id');
    expect(fromBob.messageId).not.toBe(fromAnn.messageId);
    expect(fromBob).toMatchObject({ senderId: bob.userId, clientMessageId: 'shared-id' });

    const elsewhere = await annWs.sendMessage(roomAC, 'same id', 'shared-id');
    expect(elsewhere.messageId).not.toBe(fromAnn.messageId);
    expect(elsewhere.roomId).toBe(roomAC);

    expect((await history(ann, roomAB)).map(withoutRead)).toEqual([fromAnn, fromBob]);
    expect((await history(ann, roomAC)).map(withoutRead)).toEqual([elsewhere]);
    expect(at(expectOk(await cid.api.listRooms()).rooms, 0).lastMessage?.messageId).toBe(elsewhere.messageId);
  });
});
