/**
 * End to end through the local stack: 100 WebSocket clients (a child process, e2e-clients.ts) in 50
 * rooms send `sendMessage` frames; latency is send → `chat_message` at the other participant's
 * connection. A closed loop (each client sends its next message on the ack) gives the throughput;
 * open loops at fractions of that rate give the latency of a stack that is busy but not saturated.
 * The DynamoDB floor (floor.ts) is timed idle, then during each open-loop phase, in this process, on
 * the same DynamoDB Local; CPU time per message is read for each process of the closed-loop phase.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LocalStack } from '../../local/stack.js';
import type { BenchConfig } from '../config.js';
import type { ClientPlan, ClientSpec, ClientsResult, PhaseResult } from '../e2e-clients.js';
import { type CpuSnapshot, cpuPer, cpuSnapshot, dynamoLocalPid } from '../lib/cpu.js';
import type { Deadline } from '../lib/deadline.js';
import { benchDb, benchStore, inPool, signIn, startChat } from '../lib/local.js';
import { type LoopHealth, LoopMonitor } from '../lib/loop-health.js';
import { round, roundSummary, type Summary, summarize } from '../lib/stats.js';
import { FloorProbe } from './floor.js';

/** The floor probe during a phase: one sample (three requests) every 50 ms, a light observer. */
const FLOOR_PERIOD_MS = 50;

export interface PhaseReport {
  readonly name: string;
  readonly sent: number;
  readonly acked: number;
  readonly received: number;
  readonly errors: number;
  readonly skipped: number;
  readonly durationMs: number;
  readonly messagesPerSecond: number;
  readonly load?: number;
  readonly offeredPerSecond?: number;
  readonly receipt: Summary;
  readonly ack: Summary;
  /** The floor timed back to back during this phase (open-loop phases). */
  readonly floor?: Summary;
  readonly p99OverFloorP99?: number;
  readonly p50OverFloorP50?: number;
  /** This process's event loop (gateway emulator + handlers) during the phase. */
  readonly stackLoop?: LoopHealth;
  /** The machine's 1-minute load average at the end of the phase. */
  readonly loadAverage?: number;
}

export interface E2eResult {
  readonly clients: number;
  readonly rooms: number;
  readonly connected: number;
  readonly connectMs: number;
  /** The phase the headline figures come from (the lightest open-loop load). */
  readonly headlinePhase: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Throughput of the closed-loop phase (messages received per second). */
  readonly messagesPerSecond: number;
  /** p99 of the floor timed during the headline phase. */
  readonly floorMs: number;
  /** Headline p99 / floorMs (p99 over p99, both under the same load). */
  readonly p99OverFloor: number;
  readonly p50OverFloorP50: number;
  /** Headline p99 / the idle floor's p99. */
  readonly p99OverIdleFloorP99: number;
  readonly floorIdle: Summary;
  /** CPU ms of this process per idle floor sample (three DynamoDB requests through the SDK). */
  readonly floorCpuMsPerSample: number;
  readonly saturation: PhaseReport;
  readonly paced: readonly PhaseReport[];
  readonly errorSamples: readonly string[];
  /**
   * CPU ms per message received during the closed-loop phase, by process: `stack` is this process
   * (gateway emulator + handlers + their SDK clients), `dynamoDbLocal` the JVM, `clients` the load
   * generator. Says whether the throughput is bound by our code or by the emulator.
   */
  readonly cpuMsPerMessage: Readonly<Record<string, number>>;
}

function phaseReport(
  phase: PhaseResult,
  floor?: readonly number[],
  stackLoop?: LoopHealth,
  loadAverage?: number,
): PhaseReport {
  const receipt = roundSummary(summarize(phase.receiptMs));
  const floorSummary = floor === undefined ? undefined : roundSummary(summarize(floor));
  return {
    name: phase.name,
    sent: phase.sent,
    acked: phase.acked,
    received: phase.received,
    errors: phase.errors,
    skipped: phase.skipped,
    durationMs: round(phase.durationMs),
    messagesPerSecond: round(phase.messagesPerSecond, 1),
    ...(phase.load === undefined ? {} : { load: phase.load }),
    ...(phase.offeredPerSecond === undefined ? {} : { offeredPerSecond: round(phase.offeredPerSecond, 1) }),
    receipt,
    ack: roundSummary(summarize(phase.ackMs)),
    ...(floorSummary === undefined
      ? {}
      : {
          floor: floorSummary,
          p99OverFloorP99: round(receipt.p99 / floorSummary.p99),
          p50OverFloorP50: round(receipt.p50 / floorSummary.p50),
        }),
    ...(stackLoop === undefined ? {} : { stackLoop }),
    ...(loadAverage === undefined ? {} : { loadAverage }),
  };
}

/** Users e2e-u000 … and rooms of (2k, 2k+1), through the sign-in and the REST API. */
async function setUpClients(stack: LocalStack, count: number): Promise<ClientSpec[]> {
  const userIds = Array.from({ length: count }, (_, i) => `e2e-u${String(i).padStart(3, '0')}`);
  const tokens = await inPool(userIds, 8, (userId) => signIn(stack, userId));
  const pairs = Array.from({ length: Math.floor(count / 2) }, (_, k) => 2 * k);
  const roomIds = await inPool(pairs, 8, (i) => startChat(stack, tokens[i] ?? '', userIds[i + 1] ?? ''));
  return userIds.map((userId, i) => ({
    userId,
    token: tokens[i] ?? '',
    roomId: roomIds[Math.floor(i / 2)] ?? '',
  }));
}

function spawnClients(): ChildProcess {
  const script = fileURLToPath(new URL('../e2e-clients.ts', import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
}

export async function measureE2e(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
): Promise<E2eResult> {
  const e2e = config.e2e;
  const clients = await setUpClients(stack, e2e.clients);

  // The floor: its own room, the product's store, a client of its own on the same DynamoDB Local.
  const [floorA, floorB] = ['bench-floor-a', 'bench-floor-b'];
  const floorToken = await signIn(stack, floorA);
  await signIn(stack, floorB);
  const floorRoomId = await startChat(stack, floorToken, floorB);
  const probe = new FloorProbe(
    benchStore(benchDb(stack, 'floor'), stack),
    { roomId: floorRoomId, sender: floorA, recipient: floorB },
    config.content,
  );
  await probe.run(10, performance.now() + 5000); // warm-up
  const floorCpu = process.cpuUsage();
  const floorIdle = await probe.run(e2e.idleFloorSamples, performance.now() + 20_000);
  const floorCpuUsed = process.cpuUsage(floorCpu);

  const plan: ClientPlan = {
    wsUrl: stack.wsUrl,
    clients,
    content: config.content,
    warmupMessagesPerClient: 2,
    saturationMessagesPerClient: e2e.saturationMessagesPerClient,
    pacedLoads: e2e.pacedLoads,
    pacedDurationMs: e2e.pacedDurationMs,
    connectConcurrency: 10,
    ackTimeoutMs: 10_000,
    drainMs: 10_000,
    deadlineMs: Math.max(10_000, deadline.remainingMs() - 5000),
  };
  const child = spawnClients();
  const pids = {
    stack: process.pid,
    dynamoDbLocal: dynamoLocalPid(stack.dynamoEndpoint),
    clients: child.pid,
  };
  let saturationCpu: CpuSnapshot | undefined;
  let cpuMs: Record<string, number> = {};
  let floorRun: { stop: () => Promise<number[]> } | undefined;
  const floors = new Map<string, number[]>();
  const loops = new Map<string, LoopHealth>();
  const loads = new Map<string, number>();
  const monitor = new LoopMonitor();
  let result: ClientsResult | undefined;
  const killTimer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline.remainingMs()));
  try {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin?.end(JSON.stringify(plan));
    if (child.stdout === null) throw new Error('the e2e clients have no stdout pipe');
    for await (const line of createInterface({ input: child.stdout })) {
      let event: { event?: string; phase?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        continue;
      }
      if (event.event === 'phase-start' && event.phase !== undefined) monitor.start();
      if (event.event === 'phase-end' && event.phase !== undefined) {
        loops.set(event.phase, monitor.stop());
        loads.set(event.phase, round(loadavg()[0] ?? Number.NaN));
      }
      if (event.event === 'phase-start' && event.phase === 'saturation') {
        saturationCpu = cpuSnapshot(pids);
      } else if (event.event === 'phase-end' && event.phase === 'saturation' && saturationCpu !== undefined) {
        cpuMs = cpuPer(saturationCpu, cpuSnapshot(pids), 1);
      } else if (event.event === 'phase-start' && event.phase !== undefined) {
        floorRun = probe.runUntilStopped(FLOOR_PERIOD_MS, performance.now() + e2e.pacedDurationMs + 15_000);
      } else if (event.event === 'phase-end' && event.phase !== undefined && floorRun !== undefined) {
        floors.set(event.phase, await floorRun.stop());
        floorRun = undefined;
      } else if (event.event === 'result') {
        result = event as unknown as ClientsResult;
      }
    }
    const code = await exited;
    if (result === undefined) throw new Error(`the e2e clients exited with ${code} and no result`);
  } finally {
    clearTimeout(killTimer);
    if (floorRun !== undefined) await floorRun.stop();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  const saturation = phaseReport(
    result.saturation,
    undefined,
    loops.get('saturation'),
    loads.get('saturation'),
  );
  const paced = result.paced.map((phase) =>
    phaseReport(phase, floors.get(phase.name) ?? [], loops.get(phase.name), loads.get(phase.name)),
  );
  const headline = paced[0];
  if (headline?.floor === undefined) throw new Error('no open-loop phase measured');
  const idle = roundSummary(summarize(floorIdle));
  return {
    clients: clients.length,
    rooms: Math.floor(clients.length / 2),
    connected: result.connected,
    connectMs: round(result.connectMs),
    headlinePhase: headline.name,
    p50Ms: headline.receipt.p50,
    p99Ms: headline.receipt.p99,
    messagesPerSecond: saturation.messagesPerSecond,
    floorMs: headline.floor.p99,
    p99OverFloor: round(headline.receipt.p99 / headline.floor.p99),
    p50OverFloorP50: round(headline.receipt.p50 / headline.floor.p50),
    p99OverIdleFloorP99: round(headline.receipt.p99 / idle.p99),
    floorIdle: idle,
    floorCpuMsPerSample: round(
      (floorCpuUsed.user + floorCpuUsed.system) / 1000 / Math.max(1, floorIdle.length),
    ),
    saturation,
    paced,
    errorSamples: result.errorSamples,
    cpuMsPerMessage: Object.fromEntries(
      Object.entries(cpuMs).map(([name, ms]) => [name, round(ms / Math.max(1, saturation.received))]),
    ),
  };
}
