/**
 * The benchmark: `npx tsx bench/run.ts` (full, ~10 minutes on 2 cores) or `-- --quick` (CI smoke,
 * under 2 minutes). Runs on DynamoDB Local and the local stack only (never AWS), prints the goals
 * table and the details, and writes bench/results/latest.json (`--out PATH` to write elsewhere).
 * Every section is bounded in count and time; a section that fails is reported and the run goes on.
 * See bench/README.md for what each figure means and how it is measured.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dynamoLocalPids } from '../local/dynamo-local.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { buildWeb } from '../web/build.js';
import { type BenchConfig, fullConfig, quickConfig } from './config.js';
import { Deadline, withTimeout } from './lib/deadline.js';
import { round } from './lib/stats.js';
import { goals, type Results, render } from './report.js';
import { CHECK_FUNCTION, measureAttachments, SEND_FUNCTION } from './sections/attachments.js';
import { bundleHandlers, readCdkBundlingOptions } from './sections/bundle.js';
import { measureChatList } from './sections/chat-list.js';
import { computeAttachmentCost, computeCost, computeNotifyCost } from './sections/cost.js';
import { measureDdb } from './sections/ddb.js';
import { measureE2e } from './sections/e2e.js';
import { measureFanout } from './sections/fanout.js';
import { measureInit } from './sections/init.js';
import { measureNotify, NOTIFY_DELAY_SECONDS } from './sections/notify.js';
import { measureTransfer } from './sections/transfer.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(benchDir, '..');

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const SECTIONS = [
  'bundle',
  'init',
  'ddb',
  'fanout',
  'e2e',
  'chatList',
  'attach',
  'transfer',
  'notify',
] as const;
type SectionName = (typeof SECTIONS)[number];
const isSection = (name: string): name is SectionName => (SECTIONS as readonly string[]).includes(name);

/**
 * `--quick`, `--out PATH`, `--only bundle,init,ddb,fanout,e2e,chatList,attach,transfer,notify` (a subset,
 * for working on one section), `--offline-ratio 0.05` (the notify cost's usage; default the config's).
 */
function parseArgs(argv: readonly string[]): { config: BenchConfig; out: string; only: Set<SectionName> } {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const only = value('--only')?.split(',') ?? [...SECTIONS];
  const unknown = only.filter((name) => !isSection(name));
  if (unknown.length > 0) {
    throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  }
  const base = argv.includes('--quick') ? quickConfig : fullConfig;
  const ratio = value('--offline-ratio');
  if (ratio !== undefined && !(Number(ratio) >= 0 && Number(ratio) <= 1)) {
    throw new Error(`--offline-ratio must be a share from 0 to 1, not ${ratio}`);
  }
  return {
    config: ratio === undefined ? base : { ...base, notify: { ...base.notify, offlineRatio: Number(ratio) } },
    out: value('--out') ?? join(benchDir, 'results', 'latest.json'),
    only: new Set(only.filter(isSection)),
  };
}

function git(args: readonly string[]): string {
  const result = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : '';
}

/** DynamoDB Local processes of this run's port still alive (must be none after stop()). */
function orphanJava(endpoint: string | undefined): number[] {
  return endpoint === undefined ? [] : dynamoLocalPids(Number(new URL(endpoint).port));
}

async function main(): Promise<number> {
  const { config, out, only } = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const started = performance.now();
  const deadline = new Deadline('run', config.totalBudgetMs);
  const errors: { section: string; error: string }[] = [];
  const results: Results = {};
  const meta: Record<string, unknown> = {
    mode: config.mode,
    sections: [...only],
    startedAt: startedAt.toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    loadAverageAtStart: loadavg().map((v) => round(v)),
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedProductFiles: git(['status', '--porcelain', 'lambdas', 'lib', 'local', 'definitions'])
      .split('\n')
      .filter(Boolean).length,
  };
  log(
    `${config.mode} run, budget ${Math.round(config.totalBudgetMs / 1000)} s, load average ${loadavg()[0]?.toFixed(1)}`,
  );

  const section = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (isSection(name) && !only.has(name)) return undefined;
    if (deadline.expired) {
      errors.push({ section: name, error: 'skipped: the run is out of time' });
      return undefined;
    }
    const t0 = performance.now();
    log(`${name}…`);
    try {
      const value = await run();
      log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return value;
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${name} FAILED: ${text}`);
      errors.push({ section: name, error: text.split('\n').slice(0, 3).join(' | ') });
      return undefined;
    }
  };

  // ---- bundles and init first: no stack running yet, the machine is as quiet as it gets.
  const bundleOptions = readCdkBundlingOptions();
  const outDir = join(tmpdir(), `chat-bench-bundles-${process.pid}`);
  const handlers = await section('bundle', () => bundleHandlers(repoRoot, outDir, bundleOptions));
  if (handlers !== undefined) {
    results.bundle = {
      options: {
        ...bundleOptions,
        note: 'imported from lib/chat-bundling.ts, which the stack uses',
      },
      kbIs: 1024,
      goalBytes: 25 * 1024,
      handlers: handlers.map(({ outfile: _outfile, ...rest }) => rest),
    };
    const initResults = await section('init', async () =>
      measureInit(
        handlers,
        outDir,
        repoRoot,
        config.init.repetitions,
        deadline.child('init', config.init.budgetMs),
      ),
    );
    if (initResults !== undefined) {
      results.init = {
        node: process.version,
        lambdaRuntime: bundleOptions.runtime,
        note: `Node ${process.version} here; Lambda runs ${bundleOptions.runtime} on ${bundleOptions.architecture} with the SDK from the runtime: absolute times differ, compare ours with the SDK baseline.`,
        repetitions: config.init.repetitions,
        handlers: initResults,
      };
    }
  }
  rmSync(outDir, { recursive: true, force: true });

  // ---- the local stack
  let stack: LocalStack | undefined;
  const watchdog = setTimeout(() => {
    log('watchdog: the run overran its budget; stopping the stack and exiting');
    void withTimeout(stack?.stop() ?? Promise.resolve(), 10_000, 'stack stop')
      .catch(() => {})
      .finally(() => process.exit(1));
  }, Math.max(0, deadline.remainingMs()) + 20_000);
  const onSignal = () => {
    log('interrupted: stopping the stack');
    void withTimeout(stack?.stop() ?? Promise.resolve(), 10_000, 'stack stop')
      .catch(() => {})
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let dynamoEndpoint: string | undefined;
  let webBuild: string | undefined;
  try {
    const needsStack = ['ddb', 'fanout', 'e2e', 'chatList', 'attach', 'transfer', 'notify'].some((name) =>
      only.has(name as SectionName),
    );
    // The transfer drives the web client: built for this run, into a folder of its own.
    const webRoot = only.has('transfer')
      ? await section(
          'web build',
          async () => (await buildWeb(join(tmpdir(), `chat-bench-web-${process.pid}`))).outDir,
        )
      : undefined;
    if (webRoot !== undefined) webBuild = webRoot;
    stack = needsStack
      ? await section('local stack start', () =>
          startLocalStack({
            port: 0,
            inMemory: true,
            quiet: true,
            idleTimeoutMs: 30 * 60_000,
            // For the notify section. Only users with an address get checks: no other section's do.
            notifyDelaySeconds: NOTIFY_DELAY_SECONDS,
            ...(webRoot === undefined ? {} : { webRoot }),
          }),
        )
      : undefined;
    if (stack !== undefined) {
      const running = stack;
      dynamoEndpoint = running.dynamoEndpoint;
      // Fan-out first: its long warm-up also warms DynamoDB Local's JVM for the send timed in ddb.
      results.fanout = await section('fanout', () => measureFanout(running, config, deadline, log));
      results.ddb = await section('ddb', () => measureDdb(running, config, deadline));
      results.e2e = await section('e2e', () =>
        measureE2e(running, config, deadline.child('e2e', config.e2e.budgetMs)),
      );
      // Last: its 1,000 seeded rooms stay out of the way of the sections above.
      results.chatList = await section('chatList', () =>
        measureChatList(running, config, deadline.child('chatList', config.chatList.budgetMs), log),
      );
      const listProblems = results.chatList?.correctness.problems ?? [];
      if (listProblems.length > 0) {
        errors.push({ section: 'chatList', error: `wrong chat list: ${listProblems.join('; ')}` });
      }
      // Files: the send path with an attachment, then a file from one browser to the other.
      results.attach = await section('attach', () =>
        measureAttachments(running, config, deadline.child('attach', config.attach.budgetMs)),
      );
      if ((results.attach?.problems.length ?? 0) > 0) {
        errors.push({ section: 'attach', error: results.attach?.problems.join('; ') ?? '' });
      }
      results.transfer = await section('transfer', () =>
        measureTransfer(running, config, deadline.child('transfer', config.transfer.budgetMs)),
      );
      if (results.transfer?.skipped !== undefined) log(`transfer skipped: ${results.transfer.skipped}`);
      // Last: it waits for the streams of everything above to drain first.
      results.notify = await section('notify', () =>
        measureNotify(running, config, deadline.child('notify', config.notify.budgetMs)),
      );
      if ((results.notify?.problems.length ?? 0) > 0) {
        errors.push({ section: 'notify', error: results.notify?.problems.join('; ') ?? '' });
      }
    }
  } finally {
    if (stack !== undefined) {
      await withTimeout(stack.stop(), 30_000, 'stack stop').catch((error: unknown) =>
        errors.push({ section: 'stack stop', error: String(error) }),
      );
    }
    if (webBuild !== undefined) rmSync(webBuild, { recursive: true, force: true });
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const orphans = orphanJava(dynamoEndpoint);
  if (orphans.length > 0)
    errors.push({ section: 'stack stop', error: `DynamoDB Local still running: ${orphans}` });

  if (results.ddb !== undefined) {
    results.cost = computeCost({
      writeUnitsPerSend: results.ddb.writeUnitsPerSend,
      readUnitsPerSend: results.ddb.readUnitsPerSend,
      lambdaDurationMs: results.ddb.sendMs.p50,
      lambdaMemoryMb: bundleOptions.memorySizeMb,
      // The inbound frame, the ack (route response), and one post per other connection.
      apiGatewayMessagesPerSend: 2 + results.ddb.postsPerSend,
    });
  }

  if (results.attach !== undefined) {
    const { oneAttachment, added, upload } = results.attach;
    const check = oneAttachment.requests[CHECK_FUNCTION] ?? {};
    results.attachCost = computeAttachmentCost({
      checkInvocations: oneAttachment.requests[SEND_FUNCTION]?.['Lambda:Invoke'] ?? 0,
      checkDurationMs: oneAttachment.invokeMs?.p50 ?? 0,
      sendExtraMs: added.ackMs,
      lambdaMemoryMb: bundleOptions.memorySizeMb,
      s3GetClassRequests: (check['S3:HeadObject'] ?? 0) + (check['S3:GetObject (range)'] ?? 0),
      s3PutClassRequests: check['S3:CopyObject'] ?? 0,
      addedWriteUnits: added.dynamoDbWriteUnits,
      addedReadUnits: added.dynamoDbReadUnits,
      uploadFormMs: upload.formMs.p50,
      uploadReadUnits: upload.readUnits,
    });
  }

  if (results.notify !== undefined) {
    results.notifyCost = computeNotifyCost({
      offline: results.notify.perMessage.offline,
      online: results.notify.perMessage.online,
      offlineRatio: config.notify.offlineRatio,
      burst: results.notify.burst,
      lambdaMemoryMb: bundleOptions.memorySizeMb,
    });
  }

  const goalList = goals(results);
  const text = render(results, goalList);
  meta.durationMs = Math.round(performance.now() - started);
  meta.loadAverageAtEnd = loadavg().map((v) => round(v));
  meta.orphanDynamoDbLocal = orphans.length;
  const json = { meta, goals: goalList, ...results, errors };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  // The printed tables too, for bench/README.md.
  const textOut = `${out.replace(/\.json$/, '')}.txt`;
  writeFileSync(
    `${textOut}.tmp`,
    `${config.mode} run, ${startedAt.toISOString()}, Node ${process.version}\n\n${text}\n`,
  );
  renameSync(`${textOut}.tmp`, textOut);

  process.stdout.write(`\n${text}\n\n`);
  process.stdout.write(
    `${config.mode} run in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${out} and ${textOut}` +
      `${errors.length > 0 ? `; ${errors.length} error(s): ${errors.map((e) => e.section).join(', ')}` : ''}\n`,
  );
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
