/** API.md: marking read by reading the newest page, by `POST /chat/read/{roomId}/` and by WS `markRead`. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from './support/api-types.js';
import { roomEntry } from './support/chat.js';
import { expectError, expectOk } from './support/rest.js';
import { at, expectTimeBetween } from './support/shapes.js';
import { freshUsers, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets, type WsClient } from './support/ws.js';

afterEach(closeAllSockets);

interface Scene {
  ann: TestUser;
  bob: TestUser;
  cid: TestUser;
  room: string;
  annWs: WsClient;
  /** Ann's messages to Bob, oldest first. */
  sent: Message[];
}

async function scene(count: number): Promise<Scene> {
  const [ann, bob, cid] = (await freshUsers(3)) as [TestUser, TestUser, TestUser];
  const room = await startRoom(ann, bob);
  const annWs = await ann.connect();
  const sent: Message[] = [];
  for (let i = 0; i < count; i++) sent.push(await annWs.sendMessage(room, `a${i}`, `a${i}`));
  return { ann, bob, cid, room, annWs, sent };
}

describe('reading the newest page', () => {
  it("moves the caller's read pointer to the newest message and sends the other participant a read event", async () => {
    const { bob, room, annWs, sent } = await scene(2);
    expect(await roomEntry(bob, room)).toMatchObject({ unreadCount: 2, lastReadMessageId: null });

    const before = Date.now();
    expectOk(await bob.api.messages(room));
    const event = await annWs.next('read', (f) => f.userId === bob.userId);
    expect(event).toMatchObject({
      type: 'read',
      roomId: room,
      userId: bob.userId,
      messageId: at(sent, 1).messageId,
    });
    expectTimeBetween(event.readAt, before, Date.now(), 'readAt');

    expect(await roomEntry(bob, room)).toMatchObject({
      unreadCount: 0,
      lastReadMessageId: at(sent, 1).messageId,
    });
  });
});

describe('POST /chat/read/{roomId}/', () => {
  it('moves the pointer forward, answers it with the unread count, and sends a read event', async () => {
    const { bob, room, annWs, sent } = await scene(4);

    const first = expectOk(await bob.api.markRead(room, { messageId: at(sent, 1).messageId }));
    expect(first).toMatchObject({ lastReadMessageId: at(sent, 1).messageId, unreadCount: 2 });
    const event = await annWs.next('read', (f) => f.messageId === at(sent, 1).messageId);
    expect(event).toMatchObject({ type: 'read', roomId: room, userId: bob.userId });
    expect(typeof event.readAt).toBe('string');

    const second = expectOk(await bob.api.markRead(room, { messageId: at(sent, 3).messageId }, false));
    expect(second).toMatchObject({ lastReadMessageId: at(sent, 3).messageId, unreadCount: 0 });
    await annWs.next('read', (f) => f.userId === bob.userId && f.messageId === at(sent, 3).messageId);
    expect(await roomEntry(bob, room)).toMatchObject({
      unreadCount: 0,
      lastReadMessageId: at(sent, 3).messageId,
    });
  });

  it('never moves the pointer backward', async () => {
    const { bob, room, annWs, sent } = await scene(3);
    expectOk(await bob.api.markRead(room, { messageId: at(sent, 2).messageId }));
    await annWs.next('read', (f) => f.messageId === at(sent, 2).messageId);

    const older = expectOk(await bob.api.markRead(room, { messageId: at(sent, 0).messageId }));
    expect(older).toMatchObject({ lastReadMessageId: at(sent, 2).messageId, unreadCount: 0 });
    expect(await roomEntry(bob, room)).toMatchObject({
      unreadCount: 0,
      lastReadMessageId: at(sent, 2).messageId,
    });
    // Nobody is told that Bob read an older message than the one he had read.
    await annWs.expectNoFrame('read', (f) => f.messageId === at(sent, 0).messageId);
    expect(
      expectOk(await bob.api.messages(room, { before: at(sent, 2).messageId })).messages.map((m) => m.read),
    ).toEqual([true, true]);
  });

  it('answers 404 for a message that is not in the room and 400 for a bad body', async () => {
    const { ann, bob, cid, room, sent } = await scene(1);
    // A real message, but of another room.
    const other = await startRoom(ann, cid);
    const annWs2 = await ann.connect();
    const elsewhere = await annWs2.sendMessage(other, 'for Cid', 'x-1');

    expectError(await bob.api.markRead(room, { messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }), 404, 'not_found');
    expectError(await bob.api.markRead(room, { messageId: elsewhere.messageId }), 404, 'not_found');
    expectError(await bob.api.markRead(room, {}), 400, 'bad_request');
    expectError(await bob.api.markRead(room, { messageId: 'not-a-ulid' }), 400, 'bad_request');
    expectError(await bob.api.markRead(room, { messageId: 42 }), 400, 'bad_request');
    expectError(await bob.api.markReadRaw(room, '{"messageId": '), 400, 'bad_request');
    expectError(await bob.api.markReadRaw(room, ''), 400, 'bad_request');

    expect(await roomEntry(bob, room)).toMatchObject({ unreadCount: 1, lastReadMessageId: null });
    expect(at(sent, 0).senderId).toBe(ann.userId);
  });
});

describe('WebSocket markRead', () => {
  it('moves the pointer and sends the other participant a read event', async () => {
    const { bob, room, annWs, sent } = await scene(3);
    const bobWs = await bob.connect();
    const before = Date.now();
    bobWs.send({ action: 'markRead', roomId: room, messageId: at(sent, 1).messageId });
    const event = await annWs.next('read', (f) => f.userId === bob.userId);
    expect(event).toMatchObject({
      type: 'read',
      roomId: room,
      userId: bob.userId,
      messageId: at(sent, 1).messageId,
    });
    expectTimeBetween(event.readAt, before, Date.now(), 'readAt');
    expect(await roomEntry(bob, room)).toMatchObject({
      unreadCount: 1,
      lastReadMessageId: at(sent, 1).messageId,
    });
    await bobWs.expectNoFrame('error', () => true, 0);
  });

  it('answers error frames for a bad or unknown message and for a room of others', async () => {
    const { bob, cid, room, sent } = await scene(1);
    const bobWs = await bob.connect();
    bobWs.send({ action: 'markRead', roomId: room, messageId: 'nope' });
    expect(await bobWs.next('error')).toMatchObject({ code: 'bad_request', action: 'markRead' });
    await bobWs.ping();

    bobWs.send({ action: 'markRead', roomId: room, messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(await bobWs.next('error')).toMatchObject({ code: 'not_found', action: 'markRead' });
    await bobWs.ping();

    const cidWs = await cid.connect();
    cidWs.send({ action: 'markRead', roomId: room, messageId: at(sent, 0).messageId });
    expect(await cidWs.next('error')).toMatchObject({ code: 'forbidden', action: 'markRead' });
    await cidWs.ping();

    expect(await roomEntry(bob, room)).toMatchObject({ unreadCount: 1, lastReadMessageId: null });
  });
});
