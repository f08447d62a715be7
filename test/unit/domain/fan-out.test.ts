import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  connectionsOf,
  countLiveConnections,
  type DeliveryTarget,
  type FanOutOptions,
  fanOut,
  jitteredBackoff,
} from '../../../lambdas/domain/fan-out.js';
import type { UserProfile } from '../../../lambdas/domain/model.js';
import { ThrottledError, TransientPostError } from '../../../lambdas/domain/ports.js';
import { RecordingNotifier } from '../../fakes/notifier.js';

const PAYLOAD = '{"type":"pong"}';
const NOW = new Date('2026-11-24T10:00:00.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;

const targetsFor = (...connectionIds: string[]): DeliveryTarget[] =>
  connectionIds.map((connectionId) => ({
    userId: `user-of-${connectionId}`,
    connectionId,
    expiresAt: NOW_SECONDS + 3600,
  }));

/** Options whose callbacks are spies; sleeping costs no time. */
function options(overrides: Partial<FanOutOptions> = {}) {
  const onGone = vi.fn((_target: DeliveryTarget) => Promise.resolve());
  const onError = vi.fn((_target: DeliveryTarget, _error: unknown) => undefined);
  const sleep = vi.fn((_ms: number) => Promise.resolve());
  const backoffMs = vi.fn((attempt: number) => 100 * (attempt + 1));
  return {
    onGone,
    onError,
    sleep,
    backoffMs,
    options: { concurrency: 10, maxThrottleRetries: 3, onGone, onError, sleep, backoffMs, ...overrides },
  };
}

/** A few macrotask turns, so that posts overlap the way network calls do. */
const someLatency = (turns: number) => async () => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('fanOut', () => {
  it('posts the payload once to every target and reports them delivered', async () => {
    const notifier = new RecordingNotifier();
    const { options: opts } = options();

    const report = await fanOut(notifier, targetsFor('c1', 'c2', 'c3'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 3, gone: 0, failed: 0, throttled: 0 });
    expect(notifier.delivered).toEqual([
      { connectionId: 'c1', payload: PAYLOAD },
      { connectionId: 'c2', payload: PAYLOAD },
      { connectionId: 'c3', payload: PAYLOAD },
    ]);
  });

  it('does nothing for no targets', async () => {
    const notifier = new RecordingNotifier();
    const { options: opts } = options();

    expect(await fanOut(notifier, [], PAYLOAD, opts)).toEqual({
      delivered: 0,
      gone: 0,
      failed: 0,
      throttled: 0,
    });
    expect(notifier.attempts).toEqual([]);
  });

  it('never has more than `concurrency` posts in flight, and uses that many when there is enough work', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 3 }),
        async (concurrency, count, turns) => {
          const notifier = new RecordingNotifier(someLatency(turns));
          const ids = Array.from({ length: count }, (_, i) => `c${i}`);
          const { options: opts } = options({ concurrency });

          const report = await fanOut(notifier, targetsFor(...ids), PAYLOAD, opts);

          expect(notifier.maxInFlight).toBe(Math.min(concurrency, count));
          expect(report.delivered).toBe(count);
          expect(notifier.deliveredTo()).toEqual([...ids].sort());
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports a gone connection, hands it to onGone, and still delivers to the others', async () => {
    const notifier = new RecordingNotifier();
    notifier.markGone('c2');
    const { options: opts, onGone, onError } = options();

    const report = await fanOut(notifier, targetsFor('c1', 'c2', 'c3'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 2, gone: 1, failed: 0, throttled: 0 });
    expect(onGone).toHaveBeenCalledExactlyOnceWith({
      userId: 'user-of-c2',
      connectionId: 'c2',
      expiresAt: NOW_SECONDS + 3600,
    });
    expect(onError).not.toHaveBeenCalled();
    expect(notifier.deliveredTo()).toEqual(['c1', 'c3']);
  });

  it('still counts a gone connection as gone when forgetting it fails, and reports the failure', async () => {
    const notifier = new RecordingNotifier();
    notifier.markGone('c1');
    const failure = new Error('delete failed');
    const { options: opts, onError } = options({ onGone: () => Promise.reject(failure) });

    const report = await fanOut(notifier, targetsFor('c1', 'c2'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 1, gone: 1, failed: 0, throttled: 0 });
    expect(onError).toHaveBeenCalledExactlyOnceWith(
      { userId: 'user-of-c1', connectionId: 'c1', expiresAt: NOW_SECONDS + 3600 },
      failure,
    );
  });

  it('retries a throttled post after backing off, then delivers it', async () => {
    const notifier = new RecordingNotifier();
    notifier.throttle('c1', 2);
    const { options: opts, sleep, backoffMs } = options({ maxThrottleRetries: 3 });

    const report = await fanOut(notifier, targetsFor('c1'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 1, gone: 0, failed: 0, throttled: 2 });
    expect(notifier.attemptsTo('c1')).toBe(3);
    expect(backoffMs.mock.calls).toEqual([[0], [1]]);
    expect(sleep.mock.calls).toEqual([[100], [200]]);
  });

  it('gives up on a post throttled beyond the retries, reports it failed and delivers to the others', async () => {
    const notifier = new RecordingNotifier();
    notifier.throttle('c1', 10);
    const { options: opts, onError } = options({ maxThrottleRetries: 3 });

    const report = await fanOut(notifier, targetsFor('c1', 'c2'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 1, gone: 0, failed: 1, throttled: 4 });
    expect(notifier.attemptsTo('c1')).toBe(4);
    expect(onError).toHaveBeenCalledExactlyOnceWith(
      { userId: 'user-of-c1', connectionId: 'c1', expiresAt: NOW_SECONDS + 3600 },
      expect.any(ThrottledError),
    );
    expect(notifier.deliveredTo()).toEqual(['c2']);
  });

  it('makes exactly 1 + maxThrottleRetries attempts at a post throttled for longer, backing off between them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 20 }),
        async (retries, extra) => {
          const notifier = new RecordingNotifier();
          notifier.throttle('c1', retries + extra);
          const { options: opts, sleep, onError } = options({ maxThrottleRetries: retries });

          const report = await fanOut(notifier, targetsFor('c1'), PAYLOAD, opts);

          expect(report).toEqual({ delivered: 0, gone: 0, failed: 1, throttled: 1 + retries });
          expect(notifier.attemptsTo('c1')).toBe(1 + retries);
          expect(sleep).toHaveBeenCalledTimes(retries);
          expect(onError).toHaveBeenCalledOnce();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('retries a transient failure (5xx, dropped request) like a throttle, then delivers', async () => {
    const notifier = new RecordingNotifier();
    const post = notifier.post.bind(notifier);
    let failures = 2;
    notifier.post = async (connectionId, payload) => {
      if (connectionId === 'c1' && failures-- > 0) throw new TransientPostError('socket hang up');
      return post(connectionId, payload);
    };
    const { options: opts, sleep } = options({ maxThrottleRetries: 3 });

    const report = await fanOut(notifier, targetsFor('c1'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 1, gone: 0, failed: 0, throttled: 0 });
    expect(sleep).toHaveBeenCalledTimes(2);
    expect(notifier.deliveredTo()).toEqual(['c1']);
  });

  it('does not retry an unexpected error: reports it failed and delivers to the others', async () => {
    const notifier = new RecordingNotifier();
    const boom = new Error('socket hang up');
    notifier.failWith('c2', boom);
    const { options: opts, onError, sleep } = options();

    const report = await fanOut(notifier, targetsFor('c1', 'c2', 'c3'), PAYLOAD, opts);

    expect(report).toEqual({ delivered: 2, gone: 0, failed: 1, throttled: 0 });
    expect(notifier.attemptsTo('c2')).toBe(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledExactlyOnceWith(
      { userId: 'user-of-c2', connectionId: 'c2', expiresAt: NOW_SECONDS + 3600 },
      boom,
    );
    expect(notifier.deliveredTo()).toEqual(['c1', 'c3']);
  });
});

describe('connectionsOf', () => {
  const user = (userId: string, connections: UserProfile['connections']): UserProfile => ({
    userId,
    displayName: userId,
    avatarUrl: null,
    avatarKey: null,
    lastSeenAt: null,
    connections,
  });
  const live = NOW_SECONDS + 3600;

  it("lists each user's live connections with the user they belong to", () => {
    const users = [
      user('ann', [{ connectionId: 'a1', expiresAt: live }]),
      user('bob', [
        { connectionId: 'b1', expiresAt: live },
        { connectionId: 'b2', expiresAt: live },
      ]),
    ];

    expect(connectionsOf(users, 'chat_ann_bob', NOW)).toEqual([
      { userId: 'ann', connectionId: 'a1', expiresAt: live },
      { userId: 'bob', connectionId: 'b1', expiresAt: live },
      { userId: 'bob', connectionId: 'b2', expiresAt: live },
    ]);
  });

  it('leaves out connections whose expiry has come', () => {
    const users = [
      user('ann', [
        { connectionId: 'expired', expiresAt: NOW_SECONDS - 1 },
        { connectionId: 'expiring-now', expiresAt: NOW_SECONDS },
        { connectionId: 'live', expiresAt: NOW_SECONDS + 1 },
      ]),
    ];

    expect(connectionsOf(users, undefined, NOW).map((t) => t.connectionId)).toEqual(['live']);
    expect(countLiveConnections(users[0] ?? user('x', []), NOW)).toBe(1);
  });

  it('keeps connections scoped to the event room and leaves out those scoped elsewhere', () => {
    const users = [
      user('ann', [
        { connectionId: 'unscoped', expiresAt: live },
        { connectionId: 'here', roomId: 'chat_ann_bob', expiresAt: live },
        { connectionId: 'elsewhere', roomId: 'chat_ann_cat', expiresAt: live },
      ]),
    ];

    expect(connectionsOf(users, 'chat_ann_bob', NOW).map((t) => t.connectionId)).toEqual([
      'unscoped',
      'here',
    ]);
  });

  it('sends an event of no particular room to unscoped connections only', () => {
    const users = [
      user('ann', [
        { connectionId: 'unscoped', expiresAt: live },
        { connectionId: 'scoped', roomId: 'chat_ann_bob', expiresAt: live },
      ]),
    ];

    expect(connectionsOf(users, undefined, NOW).map((t) => t.connectionId)).toEqual(['unscoped']);
  });

  it('leaves out the excepted connection only', () => {
    const users = [
      user('ann', [
        { connectionId: 'a1', expiresAt: live },
        { connectionId: 'a2', expiresAt: live },
      ]),
    ];

    expect(connectionsOf(users, 'chat_ann_bob', NOW, 'a1').map((t) => t.connectionId)).toEqual(['a2']);
  });
});

describe('jitteredBackoff', () => {
  it('grows exponentially from the base up to the cap at full jitter', () => {
    const backoff = jitteredBackoff(50, 1000, () => 1);

    expect([0, 1, 2, 3, 4, 5, 10].map(backoff)).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
  });

  it('stays between 0 and the cap for any random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (attempt, draw) => {
          const ms = jitteredBackoff(50, 1000, () => draw)(attempt);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(1000);
        },
      ),
    );
  });
});
