/**
 * `npm run load:interleave`: starts the local stack (in memory), runs randomized interleavings of
 * sends, duplicate sends and reads against it (interleave.ts), prints the operations, mismatches and
 * duplicates, stops the stack. Exits 1 on any mismatch.
 *
 *   npx tsx load/interleave-run.ts [--operations 10000] [--pairs 8] [--seed N (default: random)]
 *                                  [--ops-per-round 2-6 (per pair)] [--time-limit 1200 (seconds)]
 *                                  [--list 60 (mismatches spelled out)]
 *                                  [--only send,sequential,restRead,... (operation kinds; default all)]
 */
import { parseArgs } from 'node:util';
import {
  formatInterleaveReport,
  type InterleaveOptions,
  OPERATION_KINDS,
  type OperationKind,
  runInterleave,
} from './interleave.js';
import { onLocalStack } from './local-run.js';

const USAGE =
  'Usage: npx tsx load/interleave-run.ts [--operations N] [--pairs N] [--seed N] ' +
  `[--ops-per-round MIN-MAX] [--time-limit seconds] [--list N] [--only KIND,...] (kinds: ${OPERATION_KINDS.join(', ')})`;

function positive(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, not ${raw}`);
  return value;
}

function kindsOf(raw: string): OperationKind[] {
  const kinds = raw.split(',').filter((kind) => kind !== '');
  const unknown = kinds.filter((kind) => !(OPERATION_KINDS as readonly string[]).includes(kind));
  if (kinds.length === 0 || unknown.length > 0) throw new Error(`--only: unknown kind ${unknown.join(', ')}`);
  return kinds as OperationKind[];
}

function parseOptions(argv: string[]): { options: Partial<InterleaveOptions>; list: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      operations: { type: 'string' },
      pairs: { type: 'string' },
      seed: { type: 'string' },
      'ops-per-round': { type: 'string' },
      'time-limit': { type: 'string' },
      list: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const range = values['ops-per-round']?.split('-').map((part) => positive(part, 'ops-per-round'));
  const [min, max] = range ?? [];
  const timeLimit = positive(values['time-limit'], 'time-limit');
  const options: Partial<InterleaveOptions> = {
    operations: positive(values.operations, 'operations') ?? 10_000,
    pairs: positive(values.pairs, 'pairs') ?? 8,
    // A random seed unless one is given: every run explores other interleavings, and prints its seed.
    seed: positive(values.seed, 'seed') ?? Math.floor(Math.random() * 2 ** 31),
    ...(min === undefined ? {} : { opsPerPairPerRound: [min, max ?? min] as const }),
    ...(timeLimit === undefined ? {} : { timeLimitMs: timeLimit * 1000 }),
    ...(values.only === undefined ? {} : { operationKinds: kindsOf(values.only) }),
  };
  return { options, list: positive(values.list, 'list') ?? 60 };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const report = await onLocalStack(
    () => `Interrupted (seed ${parsed.options.seed})`,
    (target) => runInterleave(target, { ...parsed.options, log: (line) => console.log(line) }),
  );
  if (report === undefined) return 1;
  console.log(formatInterleaveReport(report, parsed.list));
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
