import { describe, expect, it } from 'vitest';
import { ChatService } from '../../../lambdas/domain/chat-service.js';
import { noFileAccess } from '../../../lambdas/domain/files.js';
import type { Metrics, MetricValues } from '../../../lambdas/domain/ports.js';
import { FixedClock, sequentialUlids } from '../../fakes/clock.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';
import { RecordingNotifier } from '../../fakes/notifier.js';

class RecordingMetrics implements Metrics {
  readonly records: MetricValues[] = [];
  record(values: MetricValues): void {
    this.records.push(values);
  }
}

/** ann sends from a1; bob has b1 (gone, connected long ago), b2 (throttled once) and b3. */
async function world() {
  const clock = new FixedClock();
  const store = new MemoryChatStore(clock);
  // Each post takes 20 ms of the fixed clock, so the send's latency is known.
  const notifier = new RecordingNotifier(async () => clock.advance(20));
  const metrics = new RecordingMetrics();
  const chat = new ChatService({
    files: noFileAccess,
    store,
    notifier,
    clock,
    newMessageId: sequentialUlids(),
    logger: new RecordingLogger(),
    fanOut: { concurrency: 1, backoffMs: () => 0, sleep: () => Promise.resolve() },
    metrics,
  });
  store.seedUser('ann');
  store.seedUser('bob');
  const { room } = await chat.rooms.startChat('ann', 'bob');
  for (const [userId, connectionId] of [
    ['ann', 'a1'],
    ['bob', 'b1'],
    ['bob', 'b2'],
    ['bob', 'b3'],
  ] as const) {
    await chat.presence.connect({ userId, connectionId }, undefined);
  }
  clock.advance(60_000);
  notifier.markGone('b1');
  notifier.throttle('b2', 1);
  metrics.records.length = 0;
  const send = () =>
    chat.messaging.sendMessage(
      { userId: 'ann', connectionId: 'a1' },
      { roomId: room.roomId, content: 'hi', clientMessageId: 'c-1' },
    );
  return { metrics, send };
}

describe('send metrics', () => {
  it('records the fan-out’s posts, gone connections and throttles, then one message sent with its latency', async () => {
    const { metrics, send } = await world();

    await send();

    expect(metrics.records).toEqual([
      { FanOutPosts: 3, GoneConnections: 1, ThrottledPosts: 1, FailedPosts: 0 },
      // b1, b2 twice (throttled, then delivered), b3: four posts of 20 ms.
      { MessagesSent: 1, SendLatency: 80 },
    ]);
  });

  it('records a retry answered from the stored copy as a duplicate send, with no fan-out', async () => {
    const { metrics, send } = await world();
    await send();
    metrics.records.length = 0;

    await send();

    expect(metrics.records).toEqual([{ DuplicateSends: 1, SendLatency: 0 }]);
  });
});
