/**
 * `npm run fuzz`: starts the local stack in memory, runs the generated bad frames and requests of every
 * route against it (at least 10,000 cases by default), prints the count per route and every failure
 * with the seed and path that replay it, and exits non-zero on any failure.
 *
 *   npx tsx fuzz/run.ts [--runs N (per route)] [--seed S] [--route "ws sendMessage"] [--path P]
 *                       [--minutes M (time bound, default 15)] [--no-shrink]
 */
import { parseArgs } from 'node:util';
import { ROUTES, type Route } from './cases.js';
import { closeHttp } from './http.js';
import { fuzzRoute, type RouteRun } from './runner.js';
import type { Target } from './target.js';

const MIN_TOTAL = 10_000;
const MAX_FRAME_BYTES = 32 * 1024;

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    route: { type: 'string', multiple: true },
    path: { type: 'string' },
    minutes: { type: 'string', default: '15' },
    'no-shrink': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npx tsx fuzz/run.ts [options]     (npm run fuzz -- [options])

  --runs N         generated cases per route, on top of its examples (default: 10,000 in all)
  --seed S         the run's seed (default: from the clock, printed)
  --route R        only this route (repeatable); routes: ${ROUTES.map((r) => JSON.stringify(r)).join(', ')}
  --path P         replay one case (with --seed and --route as a failure printed them)
  --minutes M      time bound (default 15)
  --no-shrink      report each kind's first case as it failed, without shrinking it
  -h, --help       this text`);
  process.exit(0);
}

const routes: Route[] =
  values.route === undefined ? [...ROUTES] : ROUTES.filter((route) => values.route?.includes(route));
if (routes.length === 0) {
  console.error(`No such route. Routes: ${ROUTES.map((r) => JSON.stringify(r)).join(', ')}`);
  process.exit(2);
}
const runs = values.runs === undefined ? Math.ceil(MIN_TOTAL / ROUTES.length / 10) * 10 : Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2_147_483_647 : Number(values.seed);
const minutes = Number(values.minutes);
if (![runs, seed, minutes].every(Number.isFinite)) {
  console.error('--runs, --seed and --minutes take numbers');
  process.exit(2);
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handler failures are part of what is looked for; their logs would drown the report.
process.env.LOG_LEVEL ??= 'SILENT';

const startedAt = Date.now();
const deadline = startedAt + minutes * 60_000;
// The run stops itself at the deadline; this is the backstop should something hang past it.
setTimeout(
  () => {
    console.error(`fuzz: still running ${minutes} min + 2 min after the start: giving up`);
    process.exit(1);
  },
  (minutes + 2) * 60_000,
).unref();
console.log(
  `fuzz: seed ${seed}, ${runs} cases per route, ${routes.length} route(s), time bound ${minutes} min`,
);

const { startLocalStack } = await import('../local/stack.js');
const stack = await startLocalStack({ port: 0, inMemory: true, quiet: true, maxFrameBytes: MAX_FRAME_BYTES });
const target: Target = {
  restUrl: stack.restUrl.replace(/\/+$/, ''),
  wsUrl: stack.wsUrl,
  dynamoEndpoint: stack.dynamoEndpoint,
  env: stack.env,
  maxFrameBytes: MAX_FRAME_BYTES,
};
console.log(`fuzz: local stack up in ${Date.now() - startedAt} ms at ${target.restUrl}`);

let results: RouteRun[] = [];
let crashed: unknown;
try {
  // Routes run side by side, each in its own world; the stack (DynamoDB Local's JVM) does the waiting.
  results = await Promise.all(
    routes
      .map((route) => [route, ROUTES.indexOf(route)] as const)
      .map(([route, index]) =>
        fuzzRoute(target, route, {
          runs,
          // A replay (--path) takes the printed seed as it is; otherwise each route gets its own.
          seed: values.path === undefined ? (seed + index * 1_000_003) | 0 : seed,
          deadline,
          shrink: !values['no-shrink'],
          ...(values.path === undefined ? {} : { path: values.path }),
        }).then((run) => {
          const failedCases = run.failures.reduce((sum, failure) => sum + failure.count, 0);
          console.log(
            `  ${route}: ${run.cases} cases, ${failedCases} failed, ${(run.ms / 1000).toFixed(1)} s`,
          );
          return run;
        }),
      ),
  );
} catch (error) {
  crashed = error;
} finally {
  closeHttp();
  await stack.stop();
}

if (crashed !== undefined) {
  console.error('fuzz: the run itself failed:', crashed);
  process.exit(1);
}

const total = results.reduce((sum, run) => sum + run.cases, 0);
const width = Math.max(...results.map((run) => run.route.length));
console.log(`\n${'route'.padEnd(width)}  cases  failed  kinds  seconds`);
for (const run of results) {
  const failedCases = run.failures.reduce((sum, failure) => sum + failure.count, 0);
  console.log(
    `${run.route.padEnd(width)}  ${String(run.cases).padStart(5)}  ${String(failedCases).padStart(6)}  ${String(run.failures.length).padStart(5)}  ${(run.ms / 1000).toFixed(1).padStart(7)}`,
  );
}
console.log(
  `${'total'.padEnd(width)}  ${String(total).padStart(5)}   in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
);

const failed = results.filter((run) => run.failures.length > 0);
for (const run of failed) {
  for (const failure of run.failures) {
    console.log(
      `\nFAILURE ${run.route}: ${failure.count} case(s) of this kind; the first (seed ${failure.seed}, path ${failure.path}):`,
    );
    console.log(failure.report);
    console.log(
      `replay: npx tsx fuzz/run.ts --route ${JSON.stringify(run.route)} --seed ${failure.seed} --path ${JSON.stringify(failure.path)}`,
    );
  }
}
const fullRun = values.runs === undefined && values.route === undefined && values.path === undefined;
if (fullRun && total < MIN_TOTAL)
  console.log(`\nfuzz: only ${total} cases ran (at least ${MIN_TOTAL} expected)`);
process.exit(failed.length > 0 || (fullRun && total < MIN_TOTAL) ? 1 : 0);
