import { describe, expect, it } from 'vitest';
import type { Message, ServerFrame } from '../../../lambdas/domain/model.js';
import { RECENT_SEND_LIMIT, unreadCountOf } from '../../../lambdas/domain/room-commit.js';
import { isUlid } from '../../../lambdas/domain/validation.js';
import type { ChatWorld } from '../../fakes/chat-world.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { T0 } from '../../fakes/clock.js';

const chatError = (code: string) => expect.objectContaining({ name: 'ChatError', code });

async function unread(world: ChatWorld, roomId: string, userId: string): Promise<number | undefined> {
  const room = await world.store.getRoom(roomId);
  return room && unreadCountOf(room, userId);
}

/** ann (a1 sending, a2, a3 scoped here) and bob (b1, b2, b3 scoped to his room with cat). */
async function busyRoom() {
  const world = makeWorld();
  const roomId = await world.room('ann', 'bob');
  const otherRoom = await world.room('bob', 'cat');
  await world.connect('ann', 'a1');
  await world.connect('ann', 'a2');
  await world.connect('ann', 'a3', roomId);
  await world.connect('bob', 'b1');
  await world.connect('bob', 'b2');
  await world.connect('bob', 'b3', otherRoom);
  world.notifier.clear();
  return { world, roomId, otherRoom };
}

describe('ChatService.sendMessage', () => {
  it('answers the stored message with a ULID, the sender, the trimmed content and the send time', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    const message = await world.service.messaging.sendMessage(
      { userId: 'ann', connectionId: 'a1' },
      { roomId, content: 'hello', clientMessageId: 'c-1' },
    );

    expect(message).toEqual<Message>({
      messageId: expect.any(String),
      roomId,
      senderId: 'ann',
      content: 'hello',
      sentAt: T0,
      clientMessageId: 'c-1',
    });
    expect(isUlid(message.messageId)).toBe(true);
    expect(world.store.storedMessages(roomId)).toEqual([message]);
  });

  it('makes the message the last message, bumps the activity time and counts it unread for the recipient only', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    world.clock.advance(30_000);

    const message = await world.send('ann', roomId, 'hello');

    const room = await world.store.getRoom(roomId);
    expect(room?.lastMessage).toEqual(message);
    expect(room?.updatedAt).toBe(message.sentAt);
    expect(room?.members).toEqual({
      ann: { lastReadMessageId: null, sent: 1, read: 0 },
      bob: { lastReadMessageId: null, sent: 0, read: 0 },
    });
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(await unread(world, roomId, 'ann')).toBe(0);
  });

  it("sends chat_message to every other connection of every participant, the sender's own included, but not the sending one", async () => {
    const { world, roomId } = await busyRoom();

    const message = await world.send('ann', roomId, 'hello', { connectionId: 'a1' });

    expect(world.notifier.deliveredTo()).toEqual(['a2', 'a3', 'b1', 'b2']);
    for (const connectionId of ['a2', 'a3', 'b1', 'b2']) {
      expect(world.notifier.framesFor(connectionId)).toEqual<ServerFrame[]>([
        { type: 'chat_message', message },
      ]);
    }
  });

  it("does not send the message to a participant's connection scoped to another room", async () => {
    const { world, roomId } = await busyRoom();

    await world.send('ann', roomId, 'hello', { connectionId: 'a1' });

    expect(world.notifier.attemptsTo('b3')).toBe(0);
  });

  it('sends to every connection when the message does not come through a WebSocket connection', async () => {
    const { world, roomId } = await busyRoom();

    await world.send('ann', roomId, 'hello');

    expect(world.notifier.deliveredTo()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
  });

  it("skips a participant's expired connection", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    world.store.seedConnection('bob', { connectionId: 'stale', expiresAt: world.clock.nowSeconds() - 1 });
    await world.connect('bob', 'b1');
    world.notifier.clear();

    await world.send('ann', roomId, 'hello');

    expect(world.notifier.attempts.map((p) => p.connectionId)).toEqual(['b1']);
  });

  it('refuses a sender who is not a participant as forbidden, stores nothing and tells no one', async () => {
    const { world, roomId } = await busyRoom();
    await world.connect('cat', 'c1');
    world.notifier.clear();

    const attempt = world.service.messaging.sendMessage(
      { userId: 'cat', connectionId: 'c1' },
      { roomId, content: 'hi' },
    );

    await expect(attempt).rejects.toEqual(chatError('forbidden'));
    expect(world.store.storedMessages(roomId)).toEqual([]);
    expect(world.notifier.attempts).toEqual([]);
  });

  it('refuses a user named in an ambiguous room name who is not one of its participants', async () => {
    // chat_a_b_c was started by a and b_c; a_b is a candidate reading of the name, not a participant.
    const world = makeWorld();
    const roomId = await world.room('a', 'b_c');
    world.users('a_b');

    const attempt = world.service.messaging.sendMessage({ userId: 'a_b' }, { roomId, content: 'hi' });

    await expect(attempt).rejects.toEqual(chatError('forbidden'));
    expect(world.store.storedMessages(roomId)).toEqual([]);
  });

  it('answers not_found for a room that was never started, storing nothing', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');

    const attempt = world.service.messaging.sendMessage(
      { userId: 'ann' },
      { roomId: 'chat_ann_bob', content: 'hi' },
    );

    await expect(attempt).rejects.toEqual(chatError('not_found'));
    expect(world.store.storedMessages('chat_ann_bob')).toEqual([]);
  });

  it('refuses a connection scoped to one room sending to another as forbidden', async () => {
    const world = makeWorld();
    const withBob = await world.room('ann', 'bob');
    const withCat = await world.room('ann', 'cat');

    const attempt = world.service.messaging.sendMessage(
      { userId: 'ann', connectionId: 'a1', scopeRoomId: withCat },
      { roomId: withBob, content: 'hi' },
    );

    await expect(attempt).rejects.toEqual(chatError('forbidden'));
    expect(world.store.storedMessages(withBob)).toEqual([]);
  });

  it('lets a scoped connection send to its own room', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    const message = await world.service.messaging.sendMessage(
      { userId: 'ann', connectionId: 'a1', scopeRoomId: roomId },
      { roomId, content: 'hi' },
    );

    expect(world.store.storedMessages(roomId)).toEqual([message]);
  });

  it('answers a retried clientMessageId with the first message, stores and counts it once, and does not deliver it again', async () => {
    const { world, roomId } = await busyRoom();
    const first = await world.send('ann', roomId, 'hello', { connectionId: 'a1', clientMessageId: 'c-1' });
    world.notifier.clear();

    const retry = await world.send('ann', roomId, 'hello', { connectionId: 'a1', clientMessageId: 'c-1' });

    expect(retry).toEqual(first);
    expect(world.store.storedMessages(roomId)).toEqual([first]);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.attempts).toEqual([]);
  });

  it('answers a retry from a new connection after a reconnect with the same message', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const first = await world.send('ann', roomId, 'hello', { connectionId: 'old', clientMessageId: 'c-1' });

    const retry = await world.send('ann', roomId, 'hello', { connectionId: 'new', clientMessageId: 'c-1' });

    expect(retry.messageId).toBe(first.messageId);
    expect(world.store.storedMessages(roomId)).toHaveLength(1);
  });

  it('keeps the room summary when an old message is retried after newer ones, and counts it once', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    const first = await world.send('ann', roomId, 'first', { clientMessageId: 'c-1' });
    const later = await world.send('bob', roomId, 'later');
    world.clock.advance(60_000);
    world.notifier.clear();

    const retry = await world.send('ann', roomId, 'first', { clientMessageId: 'c-1' });

    expect(retry).toEqual(first);
    expect(world.notifier.attempts).toEqual([]);
    const room = await world.store.getRoom(roomId);
    expect(room?.lastMessage).toEqual(later);
    expect(await unread(world, roomId, 'bob')).toBe(1);
  });

  it('keeps the same clientMessageId from two senders, or in two rooms, as different messages', async () => {
    const world = makeWorld();
    const withBob = await world.room('ann', 'bob');
    const withCat = await world.room('ann', 'cat');

    const fromAnn = await world.send('ann', withBob, 'x', { clientMessageId: 'same' });
    const fromBob = await world.send('bob', withBob, 'y', { clientMessageId: 'same' });
    const elsewhere = await world.send('ann', withCat, 'z', { clientMessageId: 'same' });

    expect(new Set([fromAnn.messageId, fromBob.messageId, elsewhere.messageId]).size).toBe(3);
    expect(world.store.storedMessages(withBob)).toHaveLength(2);
    expect(world.store.storedMessages(withCat)).toHaveLength(1);
  });

  it('stores every message without a clientMessageId, even with the same content', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    await world.send('ann', roomId, 'same');
    await world.send('ann', roomId, 'same');

    expect(world.store.storedMessages(roomId)).toHaveLength(2);
  });

  it('stores and delivers on the retry a send whose commit failed', async () => {
    const { world, roomId } = await busyRoom();
    world.store.failNext('commitMessage');
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    await expect(
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input),
    ).rejects.toThrow('commitMessage failed');
    expect(world.store.storedMessages(roomId)).toEqual([]);

    const retry = await world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input);

    expect(world.store.storedMessages(roomId)).toEqual([retry]);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.deliveredTo()).toEqual(['a2', 'a3', 'b1', 'b2']);
  });

  it('completes on the retry a send committed but not stored, with the id and counts of its commit, and delivers it once', async () => {
    const { world, roomId } = await busyRoom();
    world.store.failNext('putMessage');
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    await expect(
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input),
    ).rejects.toThrow('putMessage failed');
    const committed = (await world.store.getRoom(roomId))?.lastMessage;
    expect(world.store.storedMessages(roomId)).toEqual([]);
    expect(world.notifier.attempts).toEqual([]);
    world.clock.advance(2000);

    const retry = await world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input);

    expect(retry).toEqual(committed);
    expect(world.store.storedMessages(roomId)).toEqual([retry]);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.framesFor('b1')).toEqual([{ type: 'chat_message', message: retry }]);
  });

  it('answers the stored message on the retry of a send that died after storing it, without delivering it again', async () => {
    const { world, roomId } = await busyRoom();
    world.store.crashAfterNextPut();
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    await expect(
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input),
    ).rejects.toThrow('crashed');
    const [stored] = world.store.storedMessages(roomId);

    const retry = await world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input);

    expect(retry).toEqual(stored);
    expect(world.store.storedMessages(roomId)).toHaveLength(1);
    expect((await world.store.getRoom(roomId))?.lastMessage).toEqual(stored);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    // The attempt that stored it was to deliver it; recipients catch up from history (?after=).
    expect(world.notifier.attempts).toEqual([]);
  });

  it('counts and delivers a message exactly once when a retry races the first attempt in flight', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.notifier.clear();
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };

    const [first, retry] = await Promise.all([
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input),
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a2' }, input),
    ]);

    expect(retry).toEqual(first);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.framesFor('b1')).toEqual([{ type: 'chat_message', message: first }]);
  });

  it('completes a committed send on retry even when the other participant wrote in between', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.store.failNext('putMessage');
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    await expect(
      world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input),
    ).rejects.toThrow('putMessage failed');
    world.clock.advance(1000);
    const meanwhile = await world.send('bob', roomId, 'meanwhile');
    world.notifier.clear();

    const retry = await world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input);

    expect(retry.messageId < meanwhile.messageId).toBe(true);
    expect(world.store.storedMessages(roomId)).toEqual([retry, meanwhile]);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(await unread(world, roomId, 'ann')).toBe(1);
    expect(world.notifier.framesFor('b1')).toEqual([{ type: 'chat_message', message: retry }]);
  });

  it('undoes its own commit when a retry whose entry left the room finds its message stored after all', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    // The retry read the room before the first attempt committed, then stalled.
    const staleRead = await world.store.loadSend(roomId, ['ann', 'bob'], 'ann', 'c-1');
    const first = await world.send('ann', roomId, 'hello', { clientMessageId: 'c-1' });
    // Enough newer sends that the first attempt's recent-send entry has left the room.
    for (let i = 0; i < RECENT_SEND_LIMIT; i++)
      await world.send('bob', roomId, `reply ${i}`, { clientMessageId: `r-${i}` });
    const before = await world.store.getRoom(roomId);
    world.notifier.clear();
    const loadSend = world.store.loadSend.bind(world.store);
    world.store.loadSend = async () => staleRead;

    const retry = await world.service.messaging.sendMessage({ userId: 'ann', connectionId: 'a1' }, input);

    world.store.loadSend = loadSend;
    expect(retry).toEqual(first);
    expect(await world.store.getRoom(roomId)).toEqual(before);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.attempts).toEqual([]);
  });

  it('files the room under the new hour of the chat list when the attempt that committed died before moving it', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    world.clock.advance(60 * 60 * 1000);
    const commit = world.store.commitMessage.bind(world.store);
    world.store.commitMessage = async (...args) => {
      world.store.commitMessage = commit;
      await commit(...args);
      throw new Error('crashed after the commit');
    };
    const input = { roomId, content: 'hello', clientMessageId: 'c-1' };
    await expect(world.service.messaging.sendMessage({ userId: 'ann' }, input)).rejects.toThrow('crashed');
    expect(world.store.activityEntries('bob')).toEqual([`2026-11-24T10#${roomId}`]);

    const retry = await world.service.messaging.sendMessage({ userId: 'ann' }, input);

    expect(world.store.activityEntries('bob')[0]).toBe(`${retry.sentAt.slice(0, 13)}#${roomId}`);
    const listed = await world.service.rooms.listRooms('bob', 10, undefined);
    expect(listed.rooms.map((room) => room.lastMessage?.messageId)).toEqual([retry.messageId]);
  });

  it('counts, stores and delivers once when the SDK retries a commit whose answer was lost (no clientMessageId)', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    const commit = world.store.commitMessage.bind(world.store);
    world.store.commitMessage = async (...args) => {
      world.store.commitMessage = commit;
      await commit(...args);
      // The SDK sends the update again: its condition now fails on the send's own entry.
      return commit(...args);
    };

    const message = await world.send('ann', roomId, 'hello');

    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect((await world.store.getRoom(roomId))?.members.ann?.sent).toBe(1);
    expect(await unread(world, roomId, 'bob')).toBe(1);
    expect(world.notifier.framesFor('b1')).toEqual([{ type: 'chat_message', message }]);
  });

  it('delivers a message whose put was applied but answered late, when the SDK sends the put again', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    const put = world.store.putMessage.bind(world.store);
    world.store.putMessage = async (...args) => {
      world.store.putMessage = put;
      await put(...args);
      return put(...args);
    };

    const message = await world.send('ann', roomId, 'hello', { clientMessageId: 'c-1' });

    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect(world.notifier.framesFor('b1')).toEqual([{ type: 'chat_message', message }]);
  });

  it('gives a message an id after the room newest even when this clock is behind another writer', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const ahead = await world.send('bob', roomId, 'from a clock ahead');
    world.clock.advance(-60_000);

    const behind = await world.send('ann', roomId, 'from a clock behind');

    expect(behind.messageId > ahead.messageId).toBe(true);
    expect(behind.sentAt >= ahead.sentAt).toBe(true);
    expect((await world.store.getRoom(roomId))?.lastMessage).toEqual(behind);
  });

  it('persists the message before any connection is told of it', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    const storedWhenPosted: number[] = [];
    const post = world.notifier.post.bind(world.notifier);
    world.notifier.post = async (connectionId, payload) => {
      storedWhenPosted.push(world.store.storedMessages(roomId).length);
      return post(connectionId, payload);
    };

    await world.send('ann', roomId, 'hello');

    expect(storedWhenPosted).toEqual([1]);
  });

  it('forgets a connection that API Gateway reports gone and still delivers to the others', async () => {
    const { world, roomId } = await busyRoom();
    world.clock.advance(60_000);
    world.notifier.markGone('b1');

    const message = await world.send('ann', roomId, 'hello', { connectionId: 'a1' });

    expect(world.notifier.framesFor('b2')).toEqual([{ type: 'chat_message', message }]);
    const bob = await world.store.getUser('bob');
    expect(bob?.connections.map((c) => c.connectionId).sort()).toEqual(['b2', 'b3']);
    expect(world.store.connectionRecord('b1')).toBeUndefined();
  });

  it('keeps a connection opened moments ago that answers 410: its $connect has not returned yet', async () => {
    const { world, roomId } = await busyRoom();
    world.notifier.markGone('b1');

    await world.send('ann', roomId, 'hello', { connectionId: 'a1' });

    const bob = await world.store.getUser('bob');
    expect(bob?.connections.map((c) => c.connectionId).sort()).toEqual(['b1', 'b2', 'b3']);
    expect(world.store.connectionRecord('b1')).toBeDefined();
  });

  it('still answers the sender when a post fails unexpectedly, and logs the failure', async () => {
    const { world, roomId } = await busyRoom();
    world.notifier.failWith('b1', new Error('socket hang up'));

    const message = await world.send('ann', roomId, 'hello', { connectionId: 'a1' });

    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect(world.notifier.framesFor('b2')).toEqual([{ type: 'chat_message', message }]);
    expect(world.logger.entries).toContainEqual({
      level: 'warn',
      message: 'post to connection failed',
      details: { connectionId: 'b1', error: 'Error: socket hang up' },
    });
  });

  it('gives messages sent later larger ids, so history orders by id', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    const first = await world.send('ann', roomId, 'one');
    const second = await world.send('bob', roomId, 'two');

    expect(second.messageId > first.messageId).toBe(true);
  });
});
