/** Issue 6, fault: the management API throttles posts (429 LimitExceededException). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_THROTTLE_RETRIES } from '../../../lambdas/domain/deliveries.js';
import { makeFaultWorld } from './support.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The fan-out's own backoff (lambdas/domain/deliveries.ts), with its sleeps recorded instead of waited. */
async function throttledRoom() {
  const sleeps: number[] = [];
  const world = makeFaultWorld({
    fanOut: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
  const roomId = await world.room('ann', 'bob');
  await world.connect('ann', 'a1');
  await world.connect('bob', 'b1');
  await world.connect('bob', 'b2');
  world.notifier.clear();
  return { world, roomId, sleeps };
}

describe('429 from the management API', () => {
  it('retries the throttled post with growing backoff and delivers it; the message is stored once', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { world, roomId, sleeps } = await throttledRoom();
    world.notifier.throttle('b1', 4);

    const message = await world.send('ann', 'a1', roomId, 'through the throttle', 'thr-1');

    expect(world.notifier.attemptsTo('b1')).toBe(5);
    expect(world.deliveriesOf('b1', message)).toEqual([{ type: 'chat_message', message }]);
    expect(world.deliveriesOf('b2', message)).toHaveLength(1);
    expect(sleeps).toHaveLength(4);
    sleeps.forEach((ms, attempt) => {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(Math.min(1000, 50 * 2 ** attempt));
      if (attempt > 0) expect(ms).toBeGreaterThan(sleeps[attempt - 1] ?? Number.POSITIVE_INFINITY);
    });
    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
  });

  it('gives up a post throttled past the retries after 1 + MAX_THROTTLE_RETRIES attempts: stored, acked, logged, fetched by catch-up', async () => {
    const { world, roomId, sleeps } = await throttledRoom();
    const seen = await world.send('ann', 'a1', roomId, 'before the throttle', 'thr-0');
    world.notifier.clear();
    world.notifier.throttle('b1', 100);

    const lost = await world.send('ann', 'a1', roomId, 'throttled beyond the retries', 'thr-2');

    expect(world.store.storedMessages(roomId)).toEqual([seen, lost]);
    expect(world.notifier.attemptsTo('b1')).toBe(1 + MAX_THROTTLE_RETRIES);
    expect(sleeps).toHaveLength(MAX_THROTTLE_RETRIES);
    expect(world.deliveriesOf('b1', lost)).toEqual([]);
    expect(world.deliveriesOf('b2', lost)).toHaveLength(1);
    const failures = world.logger.entries.filter((entry) => entry.message === 'post to connection failed');
    expect(failures).toEqual([
      {
        level: 'warn',
        message: 'post to connection failed',
        details: { connectionId: 'b1', error: expect.stringContaining('ThrottledError') },
      },
    ]);
    expect(JSON.stringify(world.logger.entries)).not.toContain('throttled beyond the retries');
    // b1's client catches up from the last message it saw.
    const { messages } = await world.service.messaging.getMessages('bob', roomId, {
      after: seen.messageId,
      limit: 50,
    });
    expect(messages.map((m) => m.messageId)).toEqual([lost.messageId]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(2);
  });

  it('never forgets a throttled connection, even when the retries run out, and delivers the next message', async () => {
    const { world, roomId } = await throttledRoom();
    world.notifier.throttle('b1', 1 + MAX_THROTTLE_RETRIES);

    const first = await world.send('ann', 'a1', roomId, 'throttled beyond the retries', 'thr-2');
    const second = await world.send('ann', 'a1', roomId, 'after the throttle', 'thr-3');

    expect(world.store.storedMessages(roomId)).toEqual([first, second]);
    expect(await world.liveConnectionsOf('bob')).toEqual(['b1', 'b2']);
    expect(world.deliveriesOf('b1', first)).toEqual([]);
    expect(world.deliveriesOf('b1', second)).toHaveLength(1);
    expect(world.deliveriesOf('b2', first)).toHaveLength(1);
    // The failure is logged without the message's content.
    const logged = JSON.stringify(world.logger.entries);
    expect(logged).toContain('b1');
    expect(logged).not.toContain('throttled beyond the retries');
  });
});
