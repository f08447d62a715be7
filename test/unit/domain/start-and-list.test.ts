import { describe, expect, it } from 'vitest';
import type { RoomView } from '../../../lambdas/domain/model.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { T0 } from '../../fakes/clock.js';

const chatError = (code: string) => expect.objectContaining({ name: 'ChatError', code });

describe('ChatService.startChat', () => {
  it('creates the room of two users with the sorted room name and an empty summary', async () => {
    const world = makeWorld();
    world.users('bob', 'ann');

    const result = await world.service.rooms.startChat('bob', 'ann');

    expect(result.created).toBe(true);
    expect(result.room).toEqual<RoomView>({
      roomId: 'chat_ann_bob',
      participants: [
        { userId: 'ann', displayName: 'Ann', avatarUrl: null, online: false, lastSeenAt: null },
        { userId: 'bob', displayName: 'Bob', avatarUrl: null, online: false, lastSeenAt: null },
      ],
      lastMessage: null,
      unreadCount: 0,
      lastReadMessageId: null,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(await world.store.getRoom('chat_ann_bob')).toMatchObject({ participants: ['ann', 'bob'] });
    expect(await world.store.listMemberships('ann')).toEqual([{ roomId: 'chat_ann_bob', peers: ['bob'] }]);
  });

  it('returns the existing room (created false) when started again, from either side', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');
    const first = await world.service.rooms.startChat('ann', 'bob');
    world.clock.advance(60_000);

    const again = await world.service.rooms.startChat('ann', 'bob');
    const reverse = await world.service.rooms.startChat('bob', 'ann');

    expect(again.created).toBe(false);
    expect(reverse.created).toBe(false);
    expect(again.room.roomId).toBe(first.room.roomId);
    expect(reverse.room.roomId).toBe(first.room.roomId);
    expect(reverse.room.createdAt).toBe(T0);
  });

  it('gives one room when both participants start it at the same moment: one created, one existing', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');

    const [fromAnn, fromBob] = await Promise.all([
      world.service.rooms.startChat('ann', 'bob'),
      world.service.rooms.startChat('bob', 'ann'),
    ]);

    expect([fromAnn.created, fromBob.created].sort()).toEqual([false, true]);
    expect(fromAnn.room.roomId).toBe('chat_ann_bob');
    expect(fromBob.room.roomId).toBe('chat_ann_bob');
  });

  it('refuses a chat with oneself as bad_request', async () => {
    const world = makeWorld();
    world.users('ann');

    await expect(world.service.rooms.startChat('ann', 'ann')).rejects.toEqual(chatError('bad_request'));
  });

  it('answers not_found for a user without a profile and creates nothing', async () => {
    const world = makeWorld();
    world.users('ann');

    await expect(world.service.rooms.startChat('ann', 'ghost')).rejects.toEqual(chatError('not_found'));
    expect(await world.store.getRoom('chat_ann_ghost')).toBeUndefined();
    expect(await world.store.listMemberships('ann')).toEqual([]);
  });

  it('answers conflict when the room name is already held by two other participants', async () => {
    // chat_a_b_c is the name of both (a, b_c) and (a_b, c).
    const world = makeWorld();
    world.users('a', 'b_c', 'a_b', 'c');
    await world.service.rooms.startChat('a', 'b_c');

    await expect(world.service.rooms.startChat('a_b', 'c')).rejects.toEqual(chatError('conflict'));
    expect(await world.store.listMemberships('c')).toEqual([]);
  });

  it('shows a participant with a live connection as online', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');
    await world.connect('bob', 'b1');

    const { room } = await world.service.rooms.startChat('ann', 'bob');

    expect(room.participants.find((p) => p.userId === 'bob')?.online).toBe(true);
    expect(room.participants.find((p) => p.userId === 'ann')?.online).toBe(false);
  });
});

describe('ChatService.listRooms', () => {
  it('answers an empty list for a user without rooms', async () => {
    const world = makeWorld();
    world.users('ann');

    expect(await world.service.rooms.listRooms('ann', 50, undefined)).toEqual({
      rooms: [],
      nextCursor: null,
    });
  });

  it('orders rooms by last activity, most recent first', async () => {
    const world = makeWorld();
    const withBob = await world.room('ann', 'bob');
    world.clock.advance(1000);
    const withCat = await world.room('ann', 'cat');
    world.clock.advance(1000);
    const withDan = await world.room('ann', 'dan');
    world.clock.advance(1000);
    await world.send('bob', withBob, 'latest activity');

    const { rooms } = await world.service.rooms.listRooms('ann', 50, undefined);

    expect(rooms.map((r) => r.roomId)).toEqual([withBob, withDan, withCat]);
  });

  it('breaks ties in activity by room id', async () => {
    const world = makeWorld();
    await world.room('ann', 'dan');
    await world.room('ann', 'bob');
    await world.room('ann', 'cat');

    const { rooms } = await world.service.rooms.listRooms('ann', 50, undefined);

    expect(rooms.map((r) => r.roomId)).toEqual(['chat_ann_bob', 'chat_ann_cat', 'chat_ann_dan']);
  });

  it("shows each caller its own unread count and read pointer, and the room's last message", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.send('bob', roomId, 'one');
    const second = await world.send('bob', roomId, 'two');

    const forAnn = (await world.service.rooms.listRooms('ann', 50, undefined)).rooms[0];
    const forBob = (await world.service.rooms.listRooms('bob', 50, undefined)).rooms[0];

    expect(forAnn).toMatchObject({ unreadCount: 2, lastReadMessageId: null, lastMessage: second });
    expect(forBob).toMatchObject({ unreadCount: 0, lastMessage: second });
    expect(forAnn?.updatedAt).toBe(second.sentAt);
  });

  it('shows participants online, or offline with the time they were last seen', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.room('ann', 'cat');
    await world.connect('bob', 'b1');
    world.clock.advance(5000);
    await world.service.presence.disconnect({ userId: 'bob', connectionId: 'b1' });
    await world.connect('cat', 'c1');

    const { rooms } = await world.service.rooms.listRooms('ann', 50, undefined);
    const participant = (userId: string) =>
      rooms.flatMap((r) => r.participants).find((p) => p.userId === userId);

    expect(participant('bob')).toMatchObject({ online: false, lastSeenAt: '2026-11-24T10:00:05.000Z' });
    expect(participant('cat')).toMatchObject({ online: true, lastSeenAt: null });
  });

  it('pages through the rooms with limit and cursor, each room exactly once, in activity order', async () => {
    const world = makeWorld();
    for (const peer of ['bob', 'cat', 'dan', 'eve', 'fay']) {
      await world.room('ann', peer);
      world.clock.advance(1000);
    }
    const everything = (await world.service.rooms.listRooms('ann', 50, undefined)).rooms.map((r) => r.roomId);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const result = await world.service.rooms.listRooms('ann', 2, cursor);
      seen.push(...result.rooms.map((r) => r.roomId));
      pageSizes.push(result.rooms.length);
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }

    expect(seen).toEqual(everything);
    expect(pageSizes).toEqual([2, 2, 1]);
  });

  it('pages correctly when rooms share the same activity time', async () => {
    const world = makeWorld();
    for (const peer of ['bob', 'cat', 'dan']) await world.room('ann', peer);

    const first = await world.service.rooms.listRooms('ann', 1, undefined);
    const second = await world.service.rooms.listRooms('ann', 1, first.nextCursor ?? undefined);

    expect(first.rooms.map((r) => r.roomId)).toEqual(['chat_ann_bob']);
    expect(second.rooms.map((r) => r.roomId)).toEqual(['chat_ann_cat']);
  });

  it('answers nextCursor null when the last page is full but nothing follows', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.room('ann', 'cat');

    expect((await world.service.rooms.listRooms('ann', 2, undefined)).nextCursor).toBeNull();
  });

  it.each([
    ['not base64 JSON', 'definitely-not-a-cursor'],
    ['JSON without the fields', Buffer.from('{"a":1}').toString('base64url')],
    ['fields of the wrong type', Buffer.from('{"updatedAt":1,"roomId":2}').toString('base64url')],
  ])('refuses a cursor that is %s as bad_request', async (_label, cursor) => {
    const world = makeWorld();
    await world.room('ann', 'bob');

    await expect(world.service.rooms.listRooms('ann', 10, cursor)).rejects.toEqual(chatError('bad_request'));
  });
});
