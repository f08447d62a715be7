/**
 * Issue 6 under load: a small `npm run load` (load/load.ts) against the run's shared stack, whose
 * short limits (4 s idle, 10 s per connection) add server-side disconnects to the random ones.
 * Every acked message must be stored exactly once, and every stored message held by its online
 * recipient after catch-up, in messageId order.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runLoad } from '../../../load/load.js';
import { sharedStack } from './support/stack.js';

describe('load: 20 clients in 10 rooms, up to 400 messages', () => {
  it('stores every acked message once and delivers every stored one, with retries and reconnects', async () => {
    const { restUrl, wsUrl, signInUrl } = sharedStack();

    // Bounded in count and in time: a slow machine sends fewer messages, and every one is checked.
    const report = await runLoad(
      { restUrl, wsUrl, signInUrl },
      {
        clients: 20,
        messages: 400,
        rate: 100,
        disconnectsPerSecond: 2,
        retryShare: 0.05,
        seed: 6,
        sendWindowMs: 12_000,
        timeLimitMs: 32_000,
        settleTimeoutMs: 3_000,
      },
    );

    const summary = formatReport(report);
    expect(report.finishedInTime, summary).toBe(true);
    expect(report.figures.sent, summary).toBeGreaterThan(0);
    expect(report.figures.acked, summary).toBe(report.figures.sent);
    expect(report.figures.stored, summary).toBe(report.figures.sent);
    expect(report.figures.lost, summary).toBe(0);
    expect(report.figures.duplicated, summary).toBe(0);
    expect(report.figures.outOfOrder, summary).toBe(0);
    expect(report.passed, summary).toBe(true);
  }, 45_000);
});
