/** API.md "WebSocket": typing, presence, ping, room-scoped connections and stale connections. */
import { afterEach, describe, expect, it } from 'vitest';
import { history, roomEntry } from './support/chat.js';
import { connectionRecords } from './support/dynamo.js';
import { expectOk } from './support/rest.js';
import { expectTimeBetween, withoutRead } from './support/shapes.js';
import { stack } from './support/stack-info.js';
import { freshUsers, startRoom, type TestUser } from './support/users.js';
import { eventually } from './support/wait.js';
import { closeAllSockets } from './support/ws.js';

afterEach(closeAllSockets);

async function trio(): Promise<[TestUser, TestUser, TestUser]> {
  return (await freshUsers(3)) as [TestUser, TestUser, TestUser];
}

describe('typing', () => {
  it('is relayed to the other participant and not stored', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    const message = await bobWs.sendMessage(room, 'before typing', 'b-0');
    const listedBefore = await roomEntry(ann, room);

    annWs.send({ action: 'typing', roomId: room, isTyping: true });
    expect(await bobWs.next('typing')).toEqual({
      type: 'typing',
      roomId: room,
      userId: ann.userId,
      isTyping: true,
    });
    annWs.send({ action: 'typing', roomId: room, isTyping: false });
    expect(await bobWs.next('typing')).toEqual({
      type: 'typing',
      roomId: room,
      userId: ann.userId,
      isTyping: false,
    });

    expect((await history(bob, room)).map(withoutRead)).toEqual([message]);
    const listedAfter = await roomEntry(ann, room);
    expect(listedAfter.lastMessage).toEqual(listedBefore.lastMessage);
    expect(listedAfter.updatedAt).toBe(listedBefore.updatedAt);
    expect(listedAfter.unreadCount).toBe(listedBefore.unreadCount);
  });
});

describe('presence', () => {
  it("tells users who share a room when someone's first connection opens and last one closes", async () => {
    const [ann, bob, cid] = await trio();
    await startRoom(ann, bob);
    const bobWs = await bob.connect();
    const cidWs = await cid.connect(); // no room with Ann

    const annFirst = await ann.connect();
    expect(await bobWs.next('presence', (f) => f.userId === ann.userId)).toMatchObject({
      type: 'presence',
      userId: ann.userId,
      online: true,
    });

    const annSecond = await ann.connect();
    await annSecond.ping();
    await annSecond.close();
    await annFirst.ping();
    // The second connection's open and close change nothing: Ann stayed online throughout.
    await bobWs.expectNoFrame('presence', (f) => f.userId === ann.userId);

    const closedAt = Date.now();
    await annFirst.close();
    const offline = await bobWs.next('presence', (f) => f.userId === ann.userId);
    expect(offline).toMatchObject({ type: 'presence', userId: ann.userId, online: false });
    expectTimeBetween(offline.lastSeenAt, closedAt, Date.now(), 'lastSeenAt');

    await cidWs.expectNoFrame('presence', (f) => f.userId === ann.userId, 0);
    expect(cidWs.received.filter((f) => f.type === 'presence')).toEqual([]);
  });
});

describe('ping', () => {
  it('answers pong', async () => {
    const [ann] = await trio();
    const ws = await ann.connect();
    ws.send({ action: 'ping' });
    expect(await ws.next('pong')).toEqual({ type: 'pong' });
  });
});

describe('room-scoped connections (&room=)', () => {
  it("get only that room's events", async () => {
    const [ann, bob, cid] = await trio();
    const roomAB = await startRoom(ann, bob);
    const roomAC = await startRoom(ann, cid);
    const annAll = await ann.connect();
    const annAB = await ann.connect({ room: roomAB });
    const bobWs = await bob.connect();
    const cidWs = await cid.connect();

    // A message in the scoped room reaches both of Ann's connections.
    const inAB = await bobWs.sendMessage(roomAB, 'in AB', 'ab-1');
    await annAll.next('chat_message', (f) => f.message.messageId === inAB.messageId);
    await annAB.next('chat_message', (f) => f.message.messageId === inAB.messageId);

    // Events of Ann's other room reach only her unscoped connection.
    const inAC = await cidWs.sendMessage(roomAC, 'in AC', 'ac-1');
    await annAll.next('chat_message', (f) => f.message.messageId === inAC.messageId);
    cidWs.send({ action: 'typing', roomId: roomAC, isTyping: true });
    await annAll.next('typing', (f) => f.roomId === roomAC);
    const mine = await annAll.sendMessage(roomAC, 'reply in AC', 'ac-2');
    expectOk(await cid.api.messages(roomAC));
    await annAll.next('read', (f) => f.roomId === roomAC && f.messageId === mine.messageId);

    await Promise.all([
      annAB.expectNoFrame('chat_message', (f) => f.message.roomId === roomAC),
      annAB.expectNoFrame('typing'),
      annAB.expectNoFrame('read'),
    ]);

    // The scoped connection works for its own room.
    const fromScoped = await annAB.sendMessage(roomAB, 'from the scoped connection', 'ab-2');
    await bobWs.next('chat_message', (f) => f.message.messageId === fromScoped.messageId);
    await annAll.next('chat_message', (f) => f.message.messageId === fromScoped.messageId);
  });
});

describe('stale connections', () => {
  it("still delivers to the user's live connection when another one vanished without a close frame", async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annGone = await ann.connect();
    const annLive = await ann.connect();
    const bobWs = await bob.connect();

    annGone.vanish();
    const message = await bobWs.sendMessage(room, 'are you there?', 'stale-1');
    await annLive.next('chat_message', (f) => f.message.messageId === message.messageId);

    const second = await bobWs.sendMessage(room, 'still there?', 'stale-2');
    await annLive.next('chat_message', (f) => f.message.messageId === second.messageId);

    await Promise.all([
      bobWs.expectNoFrame('error'),
      // Ann kept a live connection: she never went offline.
      bobWs.expectNoFrame('presence', (f) => f.userId === ann.userId && !f.online),
    ]);
    if (stack().local) {
      await eventually(
        () => connectionRecords(ann.userId),
        (n) => n === 1,
        { what: "Ann's connection records down to the live one" },
      );
    }
    expect(participantOnline(await roomEntry(bob, room), ann.userId)).toBe(true);
  });
});

function participantOnline(
  room: { participants: readonly { userId: string; online: boolean }[] },
  userId: string,
) {
  return room.participants.find((p) => p.userId === userId)?.online;
}
