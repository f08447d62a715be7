/**
 * The in-memory store stands in for the DynamoDB stores in every domain and handler test: it passes
 * the same contract (test/integration/store-contract.test.ts runs it on DynamoDB Local), and its own
 * test controls do what the tests using them rely on.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../lambdas/domain/model.js';
import { describeChatStoreContract, uniqueIds } from '../../contract/chat-store-contract.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';

describeChatStoreContract('MemoryChatStore', () => {
  const clock = new FixedClock();
  return { store: new MemoryChatStore(clock), clock, ids: uniqueIds() };
});

describe('MemoryChatStore test controls', () => {
  const message = (sequence: number): Message => ({
    messageId: ulidAt(T0, sequence),
    roomId: 'chat_ann_bob',
    senderId: 'ann',
    content: `m${sequence}`,
    sentAt: T0,
  });
  let clock: FixedClock;
  let store: MemoryChatStore;
  beforeEach(() => {
    clock = new FixedClock();
    store = new MemoryChatStore(clock);
  });

  it('fails the next calls of a method with the queued errors, in order, then answers again', async () => {
    store.failNext('getUser', new Error('first'));
    store.failNext('getUser');

    await expect(store.getUser('ann')).rejects.toThrow('first');
    await expect(store.getUser('ann')).rejects.toThrow('getUser failed');
    await expect(store.getUser('ann')).resolves.toBeUndefined();
  });

  it('stores the message and then rejects once after crashAfterNextPut', async () => {
    store.crashAfterNextPut();

    await expect(store.putMessage(message(1), { ann: 1 }, 'attempt-1')).rejects.toThrow('crashed');
    expect(await store.putMessage(message(2), { ann: 2 }, 'attempt-1')).toEqual({ status: 'stored' });
    expect(store.storedMessages('chat_ann_bob')).toEqual([message(1), message(2)]);
  });

  it('records every call by method name, failed ones included', async () => {
    store.failNext('getRoom');
    await store.getRoom('chat_ann_bob').catch(() => undefined);
    await store.getUsers(['ann']);

    expect(store.calls).toEqual(['getRoom', 'getUsers']);
  });

  it('seeds profiles and connections, expired ones included', async () => {
    store.seedUser('ann', 'Ann', 'https://example.com/ann.png');
    store.seedConnection('ann', { connectionId: 'old', expiresAt: clock.nowSeconds() });

    expect(await store.getUser('ann')).toEqual({
      userId: 'ann',
      displayName: 'Ann',
      avatarUrl: 'https://example.com/ann.png',
      avatarKey: null,
      lastSeenAt: null,
      connections: [{ connectionId: 'old', expiresAt: clock.nowSeconds() }],
    });
    expect(
      await store.addConnection('ann', { connectionId: 'new', expiresAt: clock.nowSeconds() + 1 }, T0, 'A'),
    ).toBe(1);
    expect(() => store.seedConnection('bob', { connectionId: 'x', expiresAt: 0 })).toThrow(
      'seed user bob first',
    );
  });

  it("lists a room's messages by messageId and a user's activity entries newest first", async () => {
    for (const n of [2, 1]) await store.putMessage(message(n), { ann: n }, 'attempt-1');
    await store.createRoom({
      roomId: 'chat_ann_bob',
      participants: ['ann', 'bob'],
      createdAt: T0,
      updatedAt: T0,
      lastMessage: null,
      members: {},
      recentSends: {},
    });
    await store.moveActivity('chat_ann_bob', ['ann'], '2026-11-24T09', '2026-11-24T11');

    expect(store.storedMessages('chat_ann_bob').map((m) => m.content)).toEqual(['m1', 'm2']);
    expect(store.activityEntries('ann')).toEqual([
      '2026-11-24T11#chat_ann_bob',
      '2026-11-24T10#chat_ann_bob',
    ]);
  });

  it('keeps the connection record of the connections table until the connection is removed', async () => {
    await store.addConnection(
      'ann',
      { connectionId: 'k1', expiresAt: 99, roomId: 'chat_ann_bob' },
      T0,
      'Ann',
    );

    expect(store.connectionRecord('k1')).toEqual({
      connectionId: 'k1',
      userId: 'ann',
      roomId: 'chat_ann_bob',
      connectedAt: T0,
      expiresAt: 99,
    });
    await store.removeConnection('ann', 'k1', T0);
    expect(store.connectionRecord('k1')).toBeUndefined();
  });
});
