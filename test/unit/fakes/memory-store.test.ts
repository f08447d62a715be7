/**
 * The in-memory store stands in for DynamoChatStore in every domain and handler test, so it must keep
 * the adapter's rules; these tests pin the ones the service relies on.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Message, Room } from '../../../lambdas/domain/model.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';

const ROOM: Room = {
  roomId: 'chat_ann_bob',
  participants: ['ann', 'bob'],
  createdAt: T0,
  updatedAt: T0,
  lastMessage: null,
  members: {},
};
const message = (sequence: number, overrides: Partial<Message> = {}): Message => ({
  messageId: ulidAt(T0, sequence),
  roomId: ROOM.roomId,
  senderId: 'ann',
  content: `m${sequence}`,
  sentAt: T0,
  ...overrides,
});

let clock: FixedClock;
let store: MemoryChatStore;
beforeEach(() => {
  clock = new FixedClock();
  store = new MemoryChatStore(clock);
});

describe('MemoryChatStore', () => {
  it("creates a room once, with memberships listing each participant's peers", async () => {
    expect(await store.createRoom(ROOM)).toBe('created');
    expect(await store.createRoom(ROOM)).toBe('exists');
    expect(await store.listMemberships('bob')).toEqual([{ roomId: ROOM.roomId, peers: ['ann'] }]);
    expect((await store.getRoom(ROOM.roomId))?.members).toEqual({
      ann: { lastReadMessageId: null, unreadCount: 0 },
      bob: { lastReadMessageId: null, unreadCount: 0 },
    });
  });

  it('treats a second put with the same sender and clientMessageId as a duplicate, answering the stored copy', async () => {
    const first = message(1, { clientMessageId: 'c-1' });

    expect(await store.putMessage(first)).toEqual({ status: 'stored' });
    expect(await store.putMessage(message(2, { clientMessageId: 'c-1', content: 'other' }))).toEqual({
      status: 'duplicate',
      existing: first,
    });
    expect(await store.putMessage(message(3, { clientMessageId: 'c-1', senderId: 'bob' }))).toEqual({
      status: 'stored',
    });
    expect(store.storedMessages(ROOM.roomId)).toHaveLength(2);
  });

  it('counts each message once: newest as last, an older one only as unread, a repeat or a stale repair skipped', async () => {
    await store.createRoom(ROOM);

    expect(await store.recordMessage(ROOM.roomId, message(2), ['bob'], 'new')).toBe('recorded');
    expect(await store.recordMessage(ROOM.roomId, message(1), ['bob'], 'new')).toBe('recorded');
    expect(await store.recordMessage(ROOM.roomId, message(2), ['bob'], 'new')).toBe('skipped');
    expect(await store.recordMessage(ROOM.roomId, message(1), ['bob'], 'repair')).toBe('skipped');

    const room = await store.getRoom(ROOM.roomId);
    expect(room?.lastMessage?.messageId).toBe(message(2).messageId);
    expect(room?.members.bob?.unreadCount).toBe(2);
  });

  it('moves a read pointer forward only', async () => {
    await store.createRoom(ROOM);

    expect(await store.advanceReadPointer(ROOM.roomId, 'ann', message(2).messageId, 0)).toBe(true);
    expect(await store.advanceReadPointer(ROOM.roomId, 'ann', message(2).messageId, 0)).toBe(false);
    expect(await store.advanceReadPointer(ROOM.roomId, 'ann', message(1).messageId, 5)).toBe(false);
    expect(await store.advanceReadPointer(ROOM.roomId, 'cat', message(3).messageId, 0)).toBe(false);
    expect((await store.getRoom(ROOM.roomId))?.members.ann).toEqual({
      lastReadMessageId: message(2).messageId,
      unreadCount: 0,
    });
  });

  it('pages messages like the byMessageId index: newest page, before and after, oldest first', async () => {
    for (const n of [3, 1, 5, 2, 4]) await store.putMessage(message(n));
    const contents = (page: { messages: readonly Message[] }) => page.messages.map((m) => m.content);

    expect(contents(await store.listMessages(ROOM.roomId, { limit: 2 }))).toEqual(['m4', 'm5']);
    expect(
      contents(await store.listMessages(ROOM.roomId, { limit: 2, before: message(3).messageId })),
    ).toEqual(['m1', 'm2']);
    expect(await store.listMessages(ROOM.roomId, { limit: 2, after: message(3).messageId })).toMatchObject({
      hasMore: false,
    });
  });

  it('counts live connections only, and answers 0 for a user without a profile', async () => {
    const live = clock.nowSeconds() + 60;
    store.seedUser('ann');
    store.seedConnection('ann', { connectionId: 'old', expiresAt: clock.nowSeconds() });

    expect(await store.addConnection('ann', { connectionId: 'a1', expiresAt: live }, T0, 'Ann')).toBe(1);
    expect(await store.addConnection('ann', { connectionId: 'a2', expiresAt: live }, T0, 'Ann')).toBe(2);
    expect(await store.removeConnection('ann', 'a1', T0)).toBe(1);
    expect(await store.removeConnection('ghost', 'g1', T0)).toBe(0);
    expect(await store.getUser('ghost')).toBeUndefined();
  });

  it('answers copies, so later writes never show through an earlier answer', async () => {
    await store.createRoom(ROOM);
    const before = await store.getRoom(ROOM.roomId);

    await store.recordMessage(ROOM.roomId, message(1), ['bob'], 'new');

    expect(before?.lastMessage).toBeNull();
    expect(before?.members.bob?.unreadCount).toBe(0);
  });
});
