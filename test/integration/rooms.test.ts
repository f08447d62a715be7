/** API.md: `POST /chat/start/{userId}/` and `GET /chat/list/`. */
import { afterEach, describe, expect, it } from 'vitest';
import { roomEntry } from './support/chat.js';
import { expectError, expectOk } from './support/rest.js';
import { at, expectIsoMs, expectRoomEntry, expectTimeBetween, participantOf } from './support/shapes.js';
import { freshUsers, roomOf, startRoom, type TestUser, uniqueUserId, userWithId } from './support/users.js';
import { closeAllSockets } from './support/ws.js';

afterEach(closeAllSockets);

async function trio(): Promise<[TestUser, TestUser, TestUser]> {
  return (await freshUsers(3)) as [TestUser, TestUser, TestUser];
}

describe('POST /chat/start/{userId}/', () => {
  it('creates the room (201) the first time and returns the same room (200) after, from either side', async () => {
    const [ann, bob] = await trio();
    const before = Date.now();
    const created = await ann.api.startRoom(bob.userId);
    const after = Date.now();
    const { room } = expectOk(created, 201);
    expectRoomEntry(room);
    expect(room).toMatchObject({
      roomId: roomOf(ann.userId, bob.userId),
      lastMessage: null,
      unreadCount: 0,
      lastReadMessageId: null,
    });
    expectTimeBetween(room.createdAt, before, after, 'createdAt');
    expect(participantOf(room, ann.userId)).toMatchObject({
      displayName: 'Ann',
      online: false,
      lastSeenAt: null,
    });
    expect(participantOf(room, bob.userId)).toMatchObject({
      displayName: 'Bob',
      online: false,
      lastSeenAt: null,
    });

    const again = expectOk(await ann.api.startRoom(bob.userId), 200);
    expect(again.room).toMatchObject({ roomId: room.roomId, createdAt: room.createdAt, lastMessage: null });
    expectRoomEntry(again.room);

    const fromBob = expectOk(await bob.api.startRoom(ann.userId, false), 200);
    expect(fromBob.room).toMatchObject({ roomId: room.roomId, createdAt: room.createdAt });

    // Both see exactly this one room.
    expect(expectOk(await ann.api.listRooms()).rooms.map((r) => r.roomId)).toEqual([room.roomId]);
    expect(expectOk(await bob.api.listRooms()).rooms.map((r) => r.roomId)).toEqual([room.roomId]);
  });

  it('answers an existing room as the caller sees it in the chat list (last message, unread count)', async () => {
    const [ann, bob] = await trio();
    const roomId = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const sent = await annWs.sendMessage(roomId, 'hi Bob', 'h-1');

    const { room } = expectOk(await bob.api.startRoom(ann.userId), 200);
    expectRoomEntry(room);
    expect(room).toMatchObject({
      roomId,
      lastMessage: {
        messageId: sent.messageId,
        senderId: ann.userId,
        content: 'hi Bob',
        sentAt: sent.sentAt,
      },
      unreadCount: 1,
      lastReadMessageId: null,
    });
    expect(participantOf(room, ann.userId)).toMatchObject({ online: true });
    const listed = await roomEntry(bob, roomId);
    expect(room).toMatchObject({ lastMessage: listed.lastMessage, unreadCount: listed.unreadCount });
  });

  it('creates the room once when both participants start it at the same time', async () => {
    const [ann, bob] = await trio();
    const results = await Promise.all([ann.api.startRoom(bob.userId), bob.api.startRoom(ann.userId)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
    const [x, y] = results.map((r) => r.body.room);
    expect(y).toMatchObject({ roomId: x?.roomId, createdAt: x?.createdAt });
    expect(expectOk(await ann.api.listRooms()).rooms.map((r) => r.roomId)).toEqual([
      roomOf(ann.userId, bob.userId),
    ]);
  });

  it('names the room chat_{a}_{b} with the ids sorted, whoever starts it (no trailing slash)', async () => {
    const [ann, bob] = await trio();
    // The starter's id sorts after the other's, so the name is not just `chat_{caller}_{other}`.
    const [high, low] = ann.userId > bob.userId ? [ann, bob] : [bob, ann];
    const { room } = expectOk(await high.api.startRoom(low.userId, false), 201);
    expect(room.roomId).toBe(`chat_${low.userId}_${high.userId}`);
  });

  it('works for user ids with the other allowed characters (. @ + -)', async () => {
    const odd = await userWithId(uniqueUserId('x', '.a@b+c-d'), 'Odd');
    const [ann] = await trio();
    const { room } = expectOk(await ann.api.startRoom(odd.userId), 201);
    expect(room.roomId).toBe(roomOf(ann.userId, odd.userId));
    const ws = await odd.connect({ room: room.roomId });
    const sent = await ws.sendMessage(room.roomId, 'hi from an odd id', 'odd-1');
    const page = expectOk(await ann.api.messages(room.roomId));
    expect(page.messages.map((m) => m.messageId)).toEqual([sent.messageId]);
    expect((await roomEntry(odd, room.roomId)).lastMessage?.senderId).toBe(odd.userId);
  });

  it('answers 400 for a chat with yourself and 404 for a user that does not exist', async () => {
    const [ann] = await trio();
    expectError(await ann.api.startRoom(ann.userId), 400, 'bad_request');
    expectError(await ann.api.startRoom(uniqueUserId('ghost')), 404, 'not_found');
    expect(expectOk(await ann.api.listRooms()).rooms).toEqual([]);
  });
});

describe('GET /chat/list/', () => {
  it('lists rooms by activity, most recent first, with the last message and lastMessage null before any', async () => {
    const [ann, bob, cid] = await trio();
    const roomAB = await startRoom(ann, bob);
    const roomAC = await startRoom(ann, cid);

    const initial = expectOk(await ann.api.listRooms());
    expect(initial.nextCursor).toBeNull();
    expect(initial.rooms.map((r) => r.roomId)).toEqual([roomAC, roomAB]);
    for (const room of initial.rooms) {
      expectRoomEntry(room);
      expect(room).toMatchObject({ lastMessage: null, unreadCount: 0, lastReadMessageId: null });
    }

    const bobWs = await bob.connect();
    const sent = await bobWs.sendMessage(roomAB, 'hello Ann', 'b-1');

    const afterSend = expectOk(await ann.api.listRooms({}, false));
    expect(afterSend.rooms.map((r) => r.roomId)).toEqual([roomAB, roomAC]);
    const entry = at(afterSend.rooms, 0);
    expectRoomEntry(entry);
    expect(entry.lastMessage).toMatchObject({
      messageId: sent.messageId,
      senderId: bob.userId,
      content: 'hello Ann',
      sentAt: sent.sentAt,
    });
    expect(entry.unreadCount).toBe(1);
    expect(Date.parse(entry.updatedAt)).toBeGreaterThanOrEqual(Date.parse(entry.createdAt));
    expect(Date.parse(entry.updatedAt)).toBeGreaterThanOrEqual(Date.parse(at(afterSend.rooms, 1).updatedAt));

    // Cid sees only his own room, and a message there brings it back to the top of Ann's list.
    expect(expectOk(await cid.api.listRooms()).rooms.map((r) => r.roomId)).toEqual([roomAC]);
    const cidWs = await cid.connect();
    await cidWs.sendMessage(roomAC, 'me too', 'c-1');
    expect(expectOk(await ann.api.listRooms()).rooms.map((r) => r.roomId)).toEqual([roomAC, roomAB]);
  });

  it("counts as unread only the other participant's messages after the caller's read pointer", async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    const a1 = await annWs.sendMessage(room, 'a1', 'a1');
    const b1 = await bobWs.sendMessage(room, 'b1', 'b1');
    await annWs.sendMessage(room, 'a2', 'a2');
    await bobWs.sendMessage(room, 'b2', 'b2');
    const b3 = await bobWs.sendMessage(room, 'b3', 'b3');

    expect(await roomEntry(ann, room)).toMatchObject({ unreadCount: 3, lastReadMessageId: null });
    expect(await roomEntry(bob, room)).toMatchObject({ unreadCount: 2, lastReadMessageId: null });

    // Ann reads up to b1: b2 and b3 are left (a2, her own, never counts).
    expect(expectOk(await ann.api.markRead(room, { messageId: b1.messageId }))).toMatchObject({
      lastReadMessageId: b1.messageId,
      unreadCount: 2,
    });
    expect(await roomEntry(ann, room)).toMatchObject({ unreadCount: 2, lastReadMessageId: b1.messageId });

    // Bob opens the room (newest page): all read for him; Ann's count is untouched.
    expectOk(await bob.api.messages(room));
    expect(await roomEntry(bob, room)).toMatchObject({ unreadCount: 0, lastReadMessageId: b3.messageId });
    expect(await roomEntry(ann, room)).toMatchObject({ unreadCount: 2, lastReadMessageId: b1.messageId });
    expect(a1.senderId).toBe(ann.userId);
  });

  it('shows participants with their profile and presence: online while connected, lastSeenAt after', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bobWs = await bob.connect();
    await annWs.next('presence', (f) => f.userId === bob.userId && f.online);

    const online = participantOf(await roomEntry(ann, room), bob.userId);
    expect(online).toMatchObject({ userId: bob.userId, displayName: 'Bob', online: true });
    expect(participantOf(await roomEntry(ann, room), ann.userId)).toMatchObject({ online: true });

    const closedAt = Date.now();
    await bobWs.close();
    const offline = await annWs.next('presence', (f) => f.userId === bob.userId && !f.online);
    expectTimeBetween(offline.lastSeenAt, closedAt, Date.now(), 'presence lastSeenAt');

    const listed = participantOf(await roomEntry(ann, room), bob.userId);
    expect(listed).toMatchObject({ userId: bob.userId, displayName: 'Bob', online: false });
    expectIsoMs(listed.lastSeenAt, 'lastSeenAt');
    expectTimeBetween(listed.lastSeenAt, closedAt, Date.now(), 'listed lastSeenAt');
  });

  it('pages with limit and nextCursor', async () => {
    const [ann, bob, cid] = await trio();
    const roomAB = await startRoom(ann, bob);
    const roomAC = await startRoom(ann, cid);

    const first = expectOk(await ann.api.listRooms({ limit: 1 }));
    expect(first.rooms.map((r) => r.roomId)).toEqual([roomAC]);
    expect(typeof first.nextCursor).toBe('string');
    expectRoomEntry(at(first.rooms, 0));

    const second = expectOk(await ann.api.listRooms({ limit: 1, cursor: first.nextCursor ?? '' }));
    expect(second.rooms.map((r) => r.roomId)).toEqual([roomAB]);
    expect(second.nextCursor).toBeNull();

    const whole = expectOk(await ann.api.listRooms({ limit: 100 }));
    expect(whole.rooms.map((r) => r.roomId)).toEqual([roomAC, roomAB]);
    expect(whole.nextCursor).toBeNull();
  });

  it('answers 400 for a bad limit or cursor', async () => {
    const [ann, bob] = await trio();
    await startRoom(ann, bob);
    for (const limit of ['0', '101', '-1', 'abc', '2.5']) {
      expectError(await ann.api.listRooms({ limit }), 400, 'bad_request');
    }
    expectError(await ann.api.listRooms({ cursor: 'not-a-cursor' }), 400, 'bad_request');
  });
});
