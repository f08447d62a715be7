/**
 * `npm run load`: starts the local stack (in memory), runs the load (load.ts) against it, prints the
 * figures, stops the stack and checks that its DynamoDB Local is gone. Exits 1 when anything was
 * lost, duplicated, out of order or left unacked, or the run did not finish in time.
 *
 *   npx tsx load/run.ts [--messages 10000] [--clients 200] [--rate 150] [--disconnects 3]
 *                       [--retry-share 0.05] [--seed 1] [--send-window 300] [--time-limit 400]
 *                       [--catch-up-margin 0 (seconds before the newest held)] [--connect-concurrency 16]
 */
import { parseArgs } from 'node:util';
import { formatReport, type LoadOptions, runLoad } from './load.js';
import { onLocalStack } from './local-run.js';

const USAGE =
  'Usage: npx tsx load/run.ts [--messages N] [--clients N (even)] [--rate N per s] ' +
  '[--disconnects N per s] [--retry-share 0..1] [--seed N] [--send-window seconds] [--time-limit seconds] ' +
  '[--catch-up-margin seconds] [--connect-concurrency N]';

function numberOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${name} must be a non-negative number, not ${raw}`);
  return value;
}

function parseOptions(argv: string[]): Partial<LoadOptions> {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string' },
      clients: { type: 'string' },
      rate: { type: 'string' },
      disconnects: { type: 'string' },
      'retry-share': { type: 'string' },
      seed: { type: 'string' },
      'time-limit': { type: 'string' },
      'send-window': { type: 'string' },
      'catch-up-margin': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const timeLimit = numberOption(values, 'time-limit');
  const margin = numberOption(values, 'catch-up-margin');
  const sendWindow = numberOption(values, 'send-window');
  const options: Partial<LoadOptions> = {
    messages: numberOption(values, 'messages'),
    clients: numberOption(values, 'clients'),
    rate: numberOption(values, 'rate'),
    disconnectsPerSecond: numberOption(values, 'disconnects'),
    retryShare: numberOption(values, 'retry-share'),
    seed: numberOption(values, 'seed'),
    timeLimitMs: timeLimit === undefined ? undefined : timeLimit * 1000,
    catchUpMarginMs: margin === undefined ? undefined : margin * 1000,
    sendWindowMs: sendWindow === undefined ? undefined : sendWindow * 1000,
    connectConcurrency: numberOption(values, 'connect-concurrency'),
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

async function main(): Promise<number> {
  let options: Partial<LoadOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const report = await onLocalStack(
    () => 'Interrupted',
    (target) => runLoad(target, { ...options, log: (line) => console.log(line) }),
  );
  if (report === undefined) return 1;
  console.log(formatReport(report));
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
