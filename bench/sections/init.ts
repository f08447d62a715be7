/**
 * Module load ("init") time of each handler bundle in a fresh Node process, against a baseline module
 * that requires the same external SDK packages and nothing else. Each repetition is one fresh process
 * that first requires the baseline (timed: what any handler using these SDK clients pays), then the
 * bundle (timed: with the SDK already loaded, what is left is ours: module evaluation, config reading,
 * client construction). Measured in one process, the difference is not buried under the noise of two
 * separate processes on a busy machine. Node here is this machine's (20); Lambda runs the bundle on
 * its own runtime (nodejs22.x in lib/), so only the ratio and the difference travel.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envVars } from '../../definitions/routes.js';
import { tables } from '../../definitions/tables.js';
import type { Deadline } from '../lib/deadline.js';
import { median, round } from '../lib/stats.js';
import type { HandlerBundle } from './bundle.js';

export interface HandlerInit {
  readonly functionId: string;
  /** Median total: baseline + ours in the same process, ms (the handler's whole module load). */
  readonly handlerMs: number;
  /** Median require() time of a module requiring the same SDK packages, ms. */
  readonly baselineMs: number;
  /** Median require() time of the bundle once the SDK packages are loaded, ms: ours. */
  readonly oursMs: number;
  /**
   * The same in CPU time (user + system of the process): less sensitive than wall time to the other
   * processes of a shared machine, which only delay us.
   */
  readonly baselineCpuMs: number;
  readonly oursCpuMs: number;
  readonly samples: number;
  readonly error?: string;
}

interface InitSample {
  readonly baselineMs: number;
  readonly oursMs: number;
  readonly baselineCpuMs: number;
  readonly oursCpuMs: number;
}

const RUNNER = `'use strict';
const { performance } = require('node:perf_hooks');
const [baseline, bundle] = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
const t0 = performance.now();
require(baseline);
const t1 = performance.now();
const c1 = cpu();
require(bundle);
const t2 = performance.now();
const c2 = cpu();
process.stdout.write(JSON.stringify({
  baselineMs: t1 - t0, oursMs: t2 - t1, baselineCpuMs: c1 - c0, oursCpuMs: c2 - c1,
}) + '\\n');
`;

/** Dummy configuration: every handler reads its env at import and fails fast on a missing one. */
export function dummyHandlerEnv(): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    [envVars.callbackUrl]: 'https://bench.execute-api.us-east-1.amazonaws.com/bench',
    [envVars.userPoolId]: 'us-east-1_Bench0000',
    [envVars.userPoolClientId]: 'benchclientid',
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'chat',
  };
  for (const definition of Object.values(tables)) env[definition.envVar] = `${definition.constructId}-bench`;
  return env;
}

function timeRequires(runner: string, baseline: string, bundle: string, env: NodeJS.ProcessEnv): InitSample {
  // --enable-source-maps as NodejsFunction's NODE_OPTIONS in lib/chat-function.ts sets it.
  const result = spawnSync(process.execPath, ['--enable-source-maps', runner, baseline, bundle], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.status !== 0) {
    const why = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n');
    throw new Error(why.find((line) => /Error/.test(line)) ?? why[0] ?? 'failed');
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as InitSample;
}

export function measureInit(
  bundles: readonly HandlerBundle[],
  outDir: string,
  repoRoot: string,
  repetitions: number,
  deadline: Deadline,
): HandlerInit[] {
  const runner = join(outDir, 'require-timer.cjs');
  writeFileSync(runner, RUNNER);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The bundles live outside the repository; Lambda provides @aws-sdk/*, here node_modules does.
    NODE_PATH: join(repoRoot, 'node_modules'),
    ...dummyHandlerEnv(),
  };
  const results: HandlerInit[] = [];
  for (const bundle of bundles) {
    if (bundle.error !== undefined) {
      results.push({ ...emptyInit(bundle.functionId), error: `not built: ${bundle.error}` });
      continue;
    }
    const baseline = join(outDir, bundle.functionId, 'sdk-baseline.js');
    writeFileSync(
      baseline,
      `'use strict';\n${bundle.externals.map((name) => `require(${JSON.stringify(name)});`).join('\n')}\n`,
    );
    const totalMs: number[] = [];
    const baselineMs: number[] = [];
    const oursMs: number[] = [];
    const baselineCpuMs: number[] = [];
    const oursCpuMs: number[] = [];
    try {
      for (let rep = 0; rep < repetitions && !deadline.expired; rep++) {
        const sample = timeRequires(runner, baseline, bundle.outfile, env);
        totalMs.push(sample.baselineMs + sample.oursMs);
        baselineMs.push(sample.baselineMs);
        oursMs.push(sample.oursMs);
        baselineCpuMs.push(sample.baselineCpuMs);
        oursCpuMs.push(sample.oursCpuMs);
      }
      if (oursMs.length === 0) throw new Error('skipped: out of time');
      results.push({
        functionId: bundle.functionId,
        handlerMs: round(median(totalMs)),
        baselineMs: round(median(baselineMs)),
        oursMs: round(median(oursMs)),
        baselineCpuMs: round(median(baselineCpuMs)),
        oursCpuMs: round(median(oursCpuMs)),
        samples: oursMs.length,
      });
    } catch (error) {
      results.push({
        ...emptyInit(bundle.functionId),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}

function emptyInit(functionId: string): HandlerInit {
  return {
    functionId,
    handlerMs: Number.NaN,
    baselineMs: Number.NaN,
    oursMs: Number.NaN,
    baselineCpuMs: Number.NaN,
    oursCpuMs: Number.NaN,
    samples: 0,
  };
}
