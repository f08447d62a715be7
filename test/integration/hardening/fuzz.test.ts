/**
 * The fuzzer's in-suite run (the full one is `npm run fuzz`, fuzz/run.ts): every route's hand-picked
 * examples plus generated bad frames and requests, from a fixed seed, against the suite's local stack.
 * Each case must get the exact refusal (a 4xx or an error frame with the contract's code), leave the
 * connection open (ping → pong), store and change nothing, show no internal detail, and a valid request
 * of the same route must still work afterwards. A failure prints the seed and path that replay it:
 * `npx tsx fuzz/run.ts --route "<route>" --seed <seed> --path "<path>"`.
 */
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../fuzz/cases.js';
import { fuzzRoute } from '../../../fuzz/runner.js';
import type { Target } from '../../../fuzz/target.js';
import { localStack, stack } from '../support/stack-info.js';

/** Generated cases per route, on top of its examples: about 300 cases in all. */
const RUNS = 16;
const SEED = 20_261_124;

function target(): Target {
  const { restUrl, wsUrl } = stack();
  const local = localStack();
  return {
    restUrl,
    wsUrl,
    dynamoEndpoint: local.dynamoEndpoint,
    env: local.env,
    maxFrameBytes: local.maxFrameBytes,
    maxConnectionMs: local.maxConnectionMs,
  };
}

describe.concurrent('fuzzed bad input, fixed seed', () => {
  it.each(ROUTES.map((route, index) => [route, SEED + index] as const))(
    '%s: every case refused exactly, nothing stored, connection kept (seed %i)',
    async (route, seed) => {
      const run = await fuzzRoute(target(), route, { runs: RUNS, seed, replay: false });

      const reports = run.failures.map(
        (failure) =>
          `${failure.count} case(s) like this one:\n${failure.report}\n` +
          `replay: npx tsx fuzz/run.ts --route ${JSON.stringify(route)} --seed ${failure.seed} --path ${JSON.stringify(failure.path)}`,
      );
      expect(reports, `${route}: ${run.cases} cases`).toEqual([]);
      expect(run.cases).toBeGreaterThan(RUNS);
    },
    // A route's run takes a few seconds; this only keeps a loaded machine from turning a report into a timeout.
    90_000,
  );
});
