/**
 * The counting scheme under any interleaving. Random sends (fresh and duplicate clientMessageIds,
 * from two devices of each participant), reads to random messages and newest-page reads all run at
 * once; fast-check's scheduler decides the order in which every store call takes effect and in
 * which its answer comes back. Afterwards every figure is checked against a model built only from
 * what the calls answered and what the store holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatService } from '../../../lambdas/domain/chat-service.js';
import { noFileAccess } from '../../../lambdas/domain/files.js';
import type { Message, MessageOut, RoomId, UserId } from '../../../lambdas/domain/model.js';
import { activityBucket, unreadCountOf } from '../../../lambdas/domain/room-commit.js';
import { FixedClock, sequentialUlids } from '../../fakes/clock.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';
import { RecordingNotifier } from '../../fakes/notifier.js';
import { scheduled } from './scheduled.js';

const USERS = ['ann', 'bob'] as const;
const DEVICES: Record<UserId, readonly string[]> = { ann: ['a1', 'a2'], bob: ['b1', 'b2'] };
const ALL_CONNECTIONS = ['a1', 'a2', 'b1', 'b2'];

type Operation =
  | { kind: 'send'; user: UserId; device: number; clientMessageId: string }
  | { kind: 'markRead'; user: UserId; pick: number }
  | { kind: 'readNewest'; user: UserId }
  | { kind: 'tick'; ms: number };

const user = fc.constantFrom(...USERS);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      user,
      device: fc.nat(1),
      clientMessageId: fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5', 'c6'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('markRead' as const), user, pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readNewest' as const), user }) },
  {
    weight: 1,
    // Up to 10 minutes, so that sends carry the room into new hours of the chat list (a wave of 10
    // stays under the connections' 2-hour life).
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 600_000 }) }),
  },
);

async function run(s: fc.Scheduler, waves: Operation[][]) {
  // Seconds before an hour ends: sends after a tick carry the room into the next hour of the chat list.
  const clock = new FixedClock('2026-11-24T10:59:50.000Z');
  const store = new MemoryChatStore(clock);
  store.seedUser('ann');
  store.seedUser('bob');
  const notifier = new RecordingNotifier();
  const chat = new ChatService({
    store: scheduled(store, s),
    notifier,
    clock,
    newMessageId: sequentialUlids(),
    logger: new RecordingLogger(),
    files: noFileAccess,
    fanOut: { backoffMs: () => 0, sleep: () => Promise.resolve() },
  });
  const plain = new ChatService({
    store,
    notifier: new RecordingNotifier(),
    clock,
    newMessageId: sequentialUlids(),
    logger: new RecordingLogger(),
    files: noFileAccess,
  });
  const roomId: RoomId = (await plain.rooms.startChat('ann', 'bob')).room.roomId;
  for (const id of USERS)
    for (const connectionId of DEVICES[id] ?? [])
      await plain.presence.connect({ userId: id, connectionId }, undefined);

  /** What the calls answered: the model is built from these alone. */
  const acked = new Map<string, MessageOut>();
  const sendingConnections = new Map<string, Set<string>>();
  const readTargets = new Map<UserId, string>();
  const noteRead = (id: UserId, messageId: string) => {
    const current = readTargets.get(id);
    if (current === undefined || messageId > current) readTargets.set(id, messageId);
  };

  for (const wave of waves) {
    // Connections live two hours on API Gateway: each wave reconnects them, as the SDK rotates its own.
    for (const id of USERS) {
      for (const connectionId of DEVICES[id] ?? [])
        await plain.presence.connect({ userId: id, connectionId }, undefined);
    }
    const known = store.storedMessages(roomId);
    const calls = wave.map(async (op) => {
      switch (op.kind) {
        case 'send': {
          const connectionId = DEVICES[op.user]?.[op.device] ?? 'a1';
          const key = `${op.user}/${op.clientMessageId}`;
          sendingConnections.set(key, new Set([...(sendingConnections.get(key) ?? []), connectionId]));
          const message = await chat.messaging.sendMessage(
            { userId: op.user, connectionId },
            { roomId, content: key, clientMessageId: op.clientMessageId },
          );
          const earlier = acked.get(key);
          if (earlier !== undefined) expect(message).toEqual(earlier);
          acked.set(key, message);
          return;
        }
        case 'markRead': {
          const target = known[op.pick % Math.max(1, known.length)];
          if (target === undefined) return;
          const state = await chat.messaging.markRead({ userId: op.user }, roomId, target.messageId);
          expect(state.lastReadMessageId >= target.messageId).toBe(true);
          noteRead(op.user, target.messageId);
          return;
        }
        case 'readNewest': {
          const page = await chat.messaging.getMessages(op.user, roomId, { limit: 50 });
          const newest = page.messages.at(-1);
          if (newest !== undefined) noteRead(op.user, newest.messageId);
          return;
        }
        case 'tick':
          clock.advance(op.ms);
          return;
      }
    });
    await s.waitFor(Promise.all(calls));
  }

  // ------------------------------------------------------------------ the model
  const stored = store.storedMessages(roomId);
  const room = await store.getRoom(roomId);
  if (!room) throw new Error('room missing');

  // Every clientMessageId stored once, with the message every attempt answered.
  expect(stored.map((m) => `${m.senderId}/${m.clientMessageId}`).sort()).toEqual([...acked.keys()].sort());
  for (const message of stored)
    expect(acked.get(`${message.senderId}/${message.clientMessageId}`)).toEqual(message);

  // The last message is the newest by id; ids and sentAt agree.
  expect(room.lastMessage).toEqual(stored.at(-1) ?? null);
  for (const message of stored)
    expect(Date.parse(message.sentAt)).toBeLessThanOrEqual(Date.parse(room.lastMessage?.sentAt ?? ''));

  for (const id of USERS) {
    const pointer = readTargets.get(id) ?? null;
    expect(room.members[id]?.lastReadMessageId ?? null).toBe(pointer);
    const peerMessages = stored.filter((m) => m.senderId !== id);
    const unread = peerMessages.filter((m) => pointer === null || m.messageId > pointer).length;
    expect(unreadCountOf(room, id)).toBe(unread);
    expect(room.members[id]?.sent).toBe(stored.filter((m) => m.senderId === id).length);
  }

  // Each stored message reached every connection once, except the one that stored it.
  for (const message of stored) {
    const receivers = notifier.delivered
      .filter((post) => {
        const frame = JSON.parse(post.payload) as { type: string; message?: Message };
        return frame.type === 'chat_message' && frame.message?.messageId === message.messageId;
      })
      .map((post) => post.connectionId)
      .sort();
    expect(new Set(receivers).size).toBe(receivers.length);
    const missing = ALL_CONNECTIONS.filter((c) => !receivers.includes(c));
    expect(missing).toHaveLength(1);
    const senders = sendingConnections.get(`${message.senderId}/${message.clientMessageId}`) ?? new Set();
    expect(senders.has(missing[0] ?? '')).toBe(true);
  }

  // Both chat lists file the room under the hour of its last activity.
  for (const id of USERS) {
    expect(store.activityEntries(id)).toContain(`${activityBucket(room.updatedAt)}#${roomId}`);
  }

  // History's read flags follow the pointers.
  const history = await plain.messaging.getMessages('ann', roomId, { after: '0', limit: 100 });
  for (const message of history.messages) {
    const reader = message.senderId === 'ann' ? 'bob' : 'ann';
    const pointer = room.members[reader]?.lastReadMessageId;
    expect(message.read).toBe(pointer !== null && pointer !== undefined && pointer >= message.messageId);
  }
}

describe('the counting scheme under any interleaving of store calls', () => {
  it('keeps unread counts, last message, pointers, dedup and deliveries exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 3 }),
        async (s, waves) => {
          await run(s, waves);
        },
      ),
      { numRuns: 300 },
    );
  });
});
