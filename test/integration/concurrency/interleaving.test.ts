/**
 * The contract's guarantees under concurrency, by randomized interleaving (load/interleave.ts): rooms of
 * two users on one or two devices each; rounds of concurrent sends (some pipelined), duplicate
 * sends (in parallel on one connection and from the other device, in flight, and late, alone and
 * among new messages), REST and WS reads to old and new messages, newest-page and `?after=` reads.
 * After each quiet point every unread count, read pointer, last message, the history and each
 * connection's deliveries must match what the clients observed.
 *
 * Seeded: INTERLEAVE_SEED=<n> repeats a failing run's choices (the timing still varies).
 */
import { describe, expect, it } from 'vitest';
import { formatInterleaveReport, runInterleave } from '../../../load/interleave.js';
import { localStack, stack } from '../support/stack-info.js';

const SEED = Number(process.env.INTERLEAVE_SEED ?? 20_260_611);

describe('randomized interleavings of sends, duplicates and reads', () => {
  it('keeps unread counts, pointers, last messages, history and deliveries exact', async () => {
    const { restUrl, wsUrl, maxConnectionMs } = { ...stack(), ...localStack() };
    const report = await runInterleave(
      { restUrl, wsUrl, signInUrl: localStack().signInUrl },
      {
        pairs: 3,
        operations: 350,
        opsPerPairPerRound: [2, 6],
        seed: SEED,
        // Renewed between rounds, well before the gateway's maximum connection time cuts one.
        connectionMaxAgeMs: maxConnectionMs / 2,
        // Generous: a loaded machine is slow, not wrong; a frame that never comes still fails.
        settleTimeoutMs: 15_000,
        fullHistoryEvery: 5,
        // A slow machine runs fewer rounds rather than a longer test.
        timeLimitMs: 40_000,
      },
    );
    const summary = formatInterleaveReport(report);
    // Not vacuous: the run did send, duplicate and read in every way.
    expect(report.operations, summary).toBeGreaterThan(100);
    expect(report.messages, summary).toBeGreaterThan(50);
    expect(Object.keys(report.operationsByKind).sort(), summary).toEqual([
      'GET ?after=',
      'GET newest page',
      'POST /chat/read',
      'markRead frame',
      'sendMessage frame',
    ]);
    expect(
      Object.values(report.duplicateSends).every((count) => count > 0),
      summary,
    ).toBe(true);
    expect(report.mismatches.length, summary).toBe(0);
  }, 90_000);
});
