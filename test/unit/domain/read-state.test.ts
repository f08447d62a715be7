import { describe, expect, it } from 'vitest';
import type { MessageOut, ServerFrame } from '../../../lambdas/domain/model.js';
import { unreadCountOf } from '../../../lambdas/domain/room-commit.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { ulidAt } from '../../fakes/clock.js';

const chatError = (code: string) => expect.objectContaining({ name: 'ChatError', code });
const contents = (messages: readonly MessageOut[]) => messages.map((m) => m.content);

/** ann and bob's room holding `count` messages m1..mN, sent alternately by bob and ann, one second apart. */
async function roomWithHistory(count: number) {
  const world = makeWorld();
  const roomId = await world.room('ann', 'bob');
  const messages: MessageOut[] = [];
  for (let i = 1; i <= count; i++) {
    messages.push(await world.send(i % 2 === 1 ? 'bob' : 'ann', roomId, `m${i}`));
  }
  return { world, roomId, messages };
}

describe('ChatService.getMessages', () => {
  it('answers the newest page, oldest first, with hasMore when older messages exist', async () => {
    const { world, roomId } = await roomWithHistory(5);

    const page = await world.service.messaging.getMessages('ann', roomId, { limit: 3 });

    expect(contents(page.messages)).toEqual(['m3', 'm4', 'm5']);
    expect(page.hasMore).toBe(true);
  });

  it('answers every message and hasMore false when they fit in one page', async () => {
    const { world, roomId } = await roomWithHistory(3);

    const page = await world.service.messaging.getMessages('ann', roomId, { limit: 3 });

    expect(contents(page.messages)).toEqual(['m1', 'm2', 'm3']);
    expect(page.hasMore).toBe(false);
  });

  it('pages back with before, oldest first', async () => {
    const { world, roomId, messages } = await roomWithHistory(5);
    const m4 = messages[3]?.messageId ?? '';

    const older = await world.service.messaging.getMessages('ann', roomId, { limit: 2, before: m4 });
    const oldest = await world.service.messaging.getMessages('ann', roomId, { limit: 5, before: m4 });

    expect(contents(older.messages)).toEqual(['m2', 'm3']);
    expect(older.hasMore).toBe(true);
    expect(contents(oldest.messages)).toEqual(['m1', 'm2', 'm3']);
    expect(oldest.hasMore).toBe(false);
  });

  it('catches up with after, oldest first, with hasMore when newer messages remain', async () => {
    const { world, roomId, messages } = await roomWithHistory(5);
    const m2 = messages[1]?.messageId ?? '';

    const next = await world.service.messaging.getMessages('ann', roomId, { limit: 2, after: m2 });
    const rest = await world.service.messaging.getMessages('ann', roomId, { limit: 10, after: m2 });

    expect(contents(next.messages)).toEqual(['m3', 'm4']);
    expect(next.hasMore).toBe(true);
    expect(contents(rest.messages)).toEqual(['m3', 'm4', 'm5']);
    expect(rest.hasMore).toBe(false);
  });

  it('refuses before and after together as bad_request', async () => {
    const { world, roomId, messages } = await roomWithHistory(3);
    const [first, , last] = messages;

    const attempt = world.service.messaging.getMessages('ann', roomId, {
      limit: 10,
      after: first?.messageId ?? '',
      before: last?.messageId ?? '',
    });

    await expect(attempt).rejects.toEqual(chatError('bad_request'));
  });

  it('moves the read pointer to the newest message and tells the participants', async () => {
    const { world, roomId, messages } = await roomWithHistory(3);
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a2');
    world.notifier.clear();
    const newest = messages[2]?.messageId ?? '';

    await world.service.messaging.getMessages('ann', roomId, { limit: 50 });

    const room = await world.store.getRoom(roomId);
    expect(room?.members.ann?.lastReadMessageId).toBe(newest);
    expect(room && unreadCountOf(room, 'ann')).toBe(0);
    const readEvent: ServerFrame = {
      type: 'read',
      roomId,
      userId: 'ann',
      messageId: newest,
      readAt: world.clock.now().toISOString(),
    };
    expect(world.notifier.framesFor('b1')).toEqual([readEvent]);
    const listed = await world.service.rooms.listRooms('ann', 50, undefined);
    expect(listed.rooms[0]).toMatchObject({ unreadCount: 0, lastReadMessageId: newest });
  });

  it('sends no second read event when the newest page is read again', async () => {
    const { world, roomId } = await roomWithHistory(2);
    await world.connect('bob', 'b1');
    await world.service.messaging.getMessages('ann', roomId, { limit: 50 });
    world.notifier.clear();

    await world.service.messaging.getMessages('ann', roomId, { limit: 50 });

    expect(world.notifier.attempts).toEqual([]);
  });

  it('does not move the read pointer for a before or after page', async () => {
    const { world, roomId, messages } = await roomWithHistory(4);
    await world.connect('bob', 'b1');
    world.notifier.clear();

    await world.service.messaging.getMessages('ann', roomId, {
      limit: 50,
      before: messages[3]?.messageId ?? '',
    });
    await world.service.messaging.getMessages('ann', roomId, {
      limit: 50,
      after: messages[0]?.messageId ?? '',
    });

    expect((await world.store.getRoom(roomId))?.members.ann?.lastReadMessageId).toBeNull();
    expect(world.notifier.attempts).toEqual([]);
  });

  it("flags a message read when the other participant's pointer is at or past it", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const a1 = await world.send('ann', roomId, 'a1');
    await world.send('ann', roomId, 'a2');
    await world.service.messaging.markRead({ userId: 'bob' }, roomId, a1.messageId);

    const page = await world.service.messaging.getMessages('ann', roomId, { limit: 50 });

    expect(page.messages.map((m) => [m.content, m.read])).toEqual([
      ['a1', true],
      ['a2', false],
    ]);
  });

  it("flags the other participant's messages read once this newest-page read has moved the caller's pointer", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.send('bob', roomId, 'b1');
    await world.send('bob', roomId, 'b2');

    const page = await world.service.messaging.getMessages('ann', roomId, { limit: 50 });

    expect(page.messages.map((m) => m.read)).toEqual([true, true]);
  });

  it('answers an empty page for a room without messages and tells no one', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const page = await world.service.messaging.getMessages('ann', roomId, { limit: 50 });

    expect(page).toEqual({ messages: [], hasMore: false });
    expect(world.notifier.attempts).toEqual([]);
  });

  it('refuses a caller who is not a participant as forbidden', async () => {
    const { world, roomId } = await roomWithHistory(1);
    world.users('cat');

    await expect(world.service.messaging.getMessages('cat', roomId, { limit: 50 })).rejects.toEqual(
      chatError('forbidden'),
    );
  });

  it('answers not_found for a room that was never started', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');

    await expect(world.service.messaging.getMessages('ann', 'chat_ann_bob', { limit: 50 })).rejects.toEqual(
      chatError('not_found'),
    );
  });
});

describe('ChatService.markRead', () => {
  it('moves the pointer to the latest message with nothing left unread, and answers the new state', async () => {
    const { world, roomId, messages } = await roomWithHistory(3);
    const latest = messages[2]?.messageId ?? '';

    const state = await world.service.messaging.markRead({ userId: 'ann' }, roomId, latest);

    expect(state).toEqual({
      roomId,
      userId: 'ann',
      messageId: latest,
      lastReadMessageId: latest,
      unreadCount: 0,
      readAt: world.clock.now().toISOString(),
    });
    const room = await world.store.getRoom(roomId);
    expect(room?.members.ann?.lastReadMessageId).toBe(latest);
    expect(room && unreadCountOf(room, 'ann')).toBe(0);
  });

  it("sends a read event to every participant's connections", async () => {
    const { world, roomId, messages } = await roomWithHistory(2);
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a1');
    await world.connect('ann', 'a2');
    world.notifier.clear();
    const latest = messages[1]?.messageId ?? '';

    await world.service.messaging.markRead({ userId: 'ann', connectionId: 'a1' }, roomId, latest);

    const expected: ServerFrame = {
      type: 'read',
      roomId,
      userId: 'ann',
      messageId: latest,
      readAt: world.clock.now().toISOString(),
    };
    expect(world.notifier.framesFor('b1')).toEqual([expected]);
    expect(world.notifier.framesFor('a2')).toEqual([expected]);
  });

  it('never moves the pointer backward and tells no one when asked to', async () => {
    const { world, roomId, messages } = await roomWithHistory(3);
    const [m1, , m3] = messages;
    await world.service.messaging.markRead({ userId: 'ann' }, roomId, m3?.messageId ?? '');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const state = await world.service.messaging.markRead({ userId: 'ann' }, roomId, m1?.messageId ?? '');

    expect(state.lastReadMessageId).toBe(m3?.messageId);
    expect(state.unreadCount).toBe(0);
    expect((await world.store.getRoom(roomId))?.members.ann?.lastReadMessageId).toBe(m3?.messageId);
    expect(world.notifier.attempts).toEqual([]);
  });

  it("counts as unread only the other participant's messages after a middle message", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const b1 = await world.send('bob', roomId, 'b1');
    await world.send('ann', roomId, 'a1');
    await world.send('bob', roomId, 'b2');
    await world.send('ann', roomId, 'a2');
    await world.send('bob', roomId, 'b3');

    const state = await world.service.messaging.markRead({ userId: 'ann' }, roomId, b1.messageId);

    expect(state.unreadCount).toBe(2);
    const listed = await world.service.rooms.listRooms('ann', 50, undefined);
    expect(listed.rooms[0]).toMatchObject({ unreadCount: 2, lastReadMessageId: b1.messageId });
  });

  it('answers not_found for a message that is not in the room', async () => {
    const { world, roomId } = await roomWithHistory(1);
    const neverSent = ulidAt('2026-11-24T09:00:00.000Z', 7);

    await expect(world.service.messaging.markRead({ userId: 'ann' }, roomId, neverSent)).rejects.toEqual(
      chatError('not_found'),
    );
  });

  it('answers not_found for a message of another room', async () => {
    const world = makeWorld();
    const withBob = await world.room('ann', 'bob');
    const withCat = await world.room('ann', 'cat');
    const elsewhere = await world.send('cat', withCat, 'hi');

    await expect(
      world.service.messaging.markRead({ userId: 'ann' }, withBob, elsewhere.messageId),
    ).rejects.toEqual(chatError('not_found'));
  });

  it('refuses a connection scoped to another room as forbidden', async () => {
    const world = makeWorld();
    const withBob = await world.room('ann', 'bob');
    const withCat = await world.room('ann', 'cat');
    const message = await world.send('bob', withBob, 'hi');

    const attempt = world.service.messaging.markRead(
      { userId: 'ann', connectionId: 'a1', scopeRoomId: withCat },
      withBob,
      message.messageId,
    );

    await expect(attempt).rejects.toEqual(chatError('forbidden'));
    expect((await world.store.getRoom(withBob))?.members.ann?.lastReadMessageId).toBeNull();
  });

  it('refuses a caller who is not a participant as forbidden', async () => {
    const { world, roomId, messages } = await roomWithHistory(1);
    world.users('cat');

    await expect(
      world.service.messaging.markRead({ userId: 'cat' }, roomId, messages[0]?.messageId ?? ''),
    ).rejects.toEqual(chatError('forbidden'));
  });
});
