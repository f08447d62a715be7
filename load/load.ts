/**
 * A load run against a chat stack: users in pairs, one room per pair, one connection per user; a
 * bounded number of messages at a bounded rate, some sent twice on purpose (before and after their
 * ack), connections dropped at random (with and without a close frame) and caught up after the
 * reconnect. Then every room's history is read and checked against what every client was acked and
 * received (verify.ts). Used by `npm run load` (load/run.ts) and the integration suite.
 */
import { type ClientCounters, type DeliberateRetry, emptyCounters, LoadClient } from './client.js';
import { between, pick, type Random, seededRandom } from './random.js';
import { fullHistory, signIn, startRoom } from './rest.js';
import { type Figures, passed, type RoomHistory, verify } from './verify.js';
import type { LoadTarget } from './wire.js';

export interface LoadOptions {
  /** Simulated users, an even number: two per room, one connection each. */
  readonly clients: number;
  /** Messages in total (distinct clientMessageIds). */
  readonly messages: number;
  /** At most this many new messages per second. */
  readonly rate: number;
  /** Share of messages sent a second time with the same clientMessageId (half before, half after the ack). */
  readonly retryShare: number;
  /** Connections dropped per second on average, during the sends. */
  readonly disconnectsPerSecond: number;
  readonly seed: number;
  /** No new message is sent after this long of sending: a slow stack gets fewer messages, not a longer run. */
  readonly sendWindowMs: number;
  /** The whole run must end within this; past it the run stops, and fails if anything is left unanswered. */
  readonly timeLimitMs: number;
  /** A send without an answer for this long goes out again (then twice as long each time, up to 30 s). */
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  /** Once everything is acked: how long recipients may take to hold every stored message. */
  readonly settleTimeoutMs: number;
  /** 0: catch up after the newest message held (API.md); more: from that message's time minus this. */
  readonly catchUpMarginMs: number;
  /** Connections opened at once at the start (users coming online together). */
  readonly connectConcurrency: number;
  readonly log: (line: string) => void;
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = {
  clients: 200,
  messages: 10_000,
  rate: 150,
  retryShare: 0.05,
  disconnectsPerSecond: 3,
  seed: 1,
  sendWindowMs: 300_000,
  timeLimitMs: 400_000,
  ackTimeoutMs: 5_000,
  maxAttempts: 10,
  settleTimeoutMs: 5_000,
  catchUpMarginMs: 30_000,
  connectConcurrency: 16,
  log: () => undefined,
};

export interface LoadReport {
  readonly options: Omit<LoadOptions, 'log'>;
  readonly figures: Figures;
  readonly passed: boolean;
  /** False when the time limit cut the run short (sends unanswered, clients not reconnected). */
  readonly finishedInTime: boolean;
  /** Messages the send window left unsent (a stack slower than the rate): reported, not a failure. */
  readonly unsentInWindow: number;
  /** Acked messages per second of the send phase (first send to last ack). */
  readonly throughput: number;
  readonly timings: {
    readonly setupMs: number;
    readonly sendMs: number;
    readonly settleMs: number;
    readonly totalMs: number;
  };
  readonly counters: ClientCounters;
  /** Milliseconds from a message's first send to its ack. */
  readonly ackLatency: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly disconnects: { readonly close: number; readonly vanish: number };
}

const SET_UP_CONCURRENCY = 16;

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sumCounters(clients: readonly LoadClient[]): ClientCounters {
  const total = emptyCounters();
  for (const { counters } of clients) {
    for (const [code, count] of Object.entries(counters.errorFrames)) {
      total.errorFrames[code] = (total.errorFrames[code] ?? 0) + count;
    }
    for (const key of Object.keys(total) as (keyof ClientCounters)[]) {
      if (key !== 'errorFrames') total[key] += counters[key];
    }
  }
  return total;
}

/** Drops a random open connection every so often until stopped. */
function startChaos(clients: readonly LoadClient[], random: Random, perSecond: number) {
  const counts = { close: 0, vanish: 0 };
  let timer: NodeJS.Timeout | undefined;
  let stopped = perSecond <= 0;
  const meanGapMs = perSecond > 0 ? 1000 / perSecond : 0;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        const client = pick(
          random,
          clients.filter((c) => c.isOpen),
        );
        if (client !== undefined) {
          const how = random() < 0.5 ? 'close' : 'vanish';
          counts[how]++;
          client.disconnect(how);
        }
        schedule();
      },
      between(random, Math.round(meanGapMs / 2), Math.round(meanGapMs * 1.5)),
    );
  };
  schedule();
  return {
    counts,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Every stored message is held by its recipients. */
function allReceived(histories: readonly RoomHistory[], clients: readonly LoadClient[]): boolean {
  const byRoom = new Map<string, LoadClient[]>();
  for (const client of clients) byRoom.set(client.roomId, [...(byRoom.get(client.roomId) ?? []), client]);
  return histories.every(({ roomId, messages }) =>
    messages.every((message) =>
      (byRoom.get(roomId) ?? []).every(
        (client) => client.userId === message.senderId || client.held.has(message.messageId),
      ),
    ),
  );
}

export async function runLoad(target: LoadTarget, overrides: Partial<LoadOptions> = {}): Promise<LoadReport> {
  const options: LoadOptions = { ...DEFAULT_LOAD_OPTIONS, ...overrides };
  const { log } = options;
  if (!Number.isInteger(options.clients) || options.clients < 2 || options.clients % 2 !== 0) {
    throw new Error(`clients must be an even number of at least 2, not ${options.clients}`);
  }
  if (!Number.isInteger(options.messages) || options.messages < 1) {
    throw new Error(`messages must be a positive integer, not ${options.messages}`);
  }
  const startedAt = performance.now();
  const deadline = Date.now() + options.timeLimitMs;
  const random = seededRandom(options.seed);
  // Fresh user ids per run, so runs against one stack never meet each other's rooms.
  const tag = `${Date.now().toString(36)}${Math.floor(random() * 36 ** 4).toString(36)}`;
  const userIds = Array.from({ length: options.clients }, (_, i) => `ld${tag}n${i}`);

  log(`Signing in ${options.clients} users...`);
  const tokens = await mapLimit(userIds, SET_UP_CONCURRENCY, (userId, i) =>
    signIn(target, userId, `Load ${i}`),
  );
  const pairs = Array.from({ length: options.clients / 2 }, (_, k) => k);
  const roomIds = await mapLimit(pairs, SET_UP_CONCURRENCY, (k) =>
    startRoom(target, tokens[2 * k] as string, userIds[2 * k + 1] as string),
  );
  const clients = userIds.map(
    (userId, i) =>
      new LoadClient({
        target,
        userId,
        peerId: userIds[i ^ 1] as string,
        roomId: roomIds[i >> 1] as string,
        token: tokens[i] as string,
        random: seededRandom(options.seed * 7919 + i + 1),
        ackTimeoutMs: options.ackTimeoutMs,
        maxAttempts: options.maxAttempts,
        reconnectDelayMs: [20, 300],
        catchUpMarginMs: options.catchUpMarginMs,
      }),
  );
  log(`Opening ${clients.length} connections in ${roomIds.length} rooms...`);
  await mapLimit(clients, Math.max(1, options.connectConcurrency), (client) => client.connect());
  const setupMs = performance.now() - startedAt;

  // ---------------------------------------------------------------- sends
  log(`Sending ${options.messages} messages at up to ${options.rate}/s...`);
  const chaos = startChaos(clients, random, options.disconnectsPerSecond);
  const idle: LoadClient[] = [...clients];
  let wake: (() => void) | undefined;
  const sendStart = performance.now();
  const interval = 1000 / options.rate;
  let scheduled = 0;
  let nextProgress = sendStart + 5000;
  const sendUntil = Math.min(deadline, Date.now() + options.sendWindowMs);
  for (let i = 0; i < options.messages && Date.now() < sendUntil; i++) {
    const wait = sendStart + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    // One message in flight per client: a client sends again once its last message is acked.
    while (idle.length === 0 && Date.now() < sendUntil) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000);
      });
    }
    const index = Math.floor(random() * idle.length);
    const [client] = idle.splice(index, 1);
    if (client === undefined) break;
    const roll = random();
    const retry: DeliberateRetry =
      roll < options.retryShare / 2 ? 'before-ack' : roll < options.retryShare ? 'after-ack' : 'none';
    const content = `message ${i} of run ${tag} ${'.'.repeat(between(random, 0, 120))}`;
    void client.send(`${tag}-${i}`, content, retry).then(() => {
      idle.push(client);
      wake?.();
    });
    scheduled++;
    if (performance.now() > nextProgress) {
      nextProgress += 5000;
      log(`  ${scheduled} sent after ${((performance.now() - sendStart) / 1000).toFixed(1)} s`);
    }
  }
  const drained = (await Promise.all(clients.map((client) => client.drained(deadline)))).every(Boolean);
  const sendMs = performance.now() - sendStart;
  chaos.stop();

  // ---------------------------------------------------------------- settle and check
  log('Every send answered; reconnecting, catching up and reading the histories...');
  const settleStart = performance.now();
  const settled = (await Promise.all(clients.map((client) => client.settled(deadline)))).every(Boolean);
  const histories: RoomHistory[] = await mapLimit(pairs, SET_UP_CONCURRENCY, async (k) => {
    const roomId = roomIds[k] as string;
    return { roomId, messages: await fullHistory(target, tokens[2 * k] as string, roomId) };
  });
  // Frames still on their way get a bounded time to land; nothing is fetched for a client here.
  const settleDeadline = Math.min(deadline, Date.now() + options.settleTimeoutMs);
  while (!allReceived(histories, clients) && Date.now() < settleDeadline) await sleep(50);
  const settleMs = performance.now() - settleStart;
  await Promise.all(clients.map((client) => client.stop()));

  const figures = verify(histories, clients);
  const finishedInTime = drained && settled && Date.now() <= deadline;
  const { log: _log, ...shown } = options;
  return {
    options: shown,
    figures,
    passed: passed(figures) && finishedInTime,
    finishedInTime,
    unsentInWindow: options.messages - scheduled,
    throughput: figures.acked / (sendMs / 1000),
    timings: { setupMs, sendMs, settleMs, totalMs: performance.now() - startedAt },
    counters: sumCounters(clients),
    ackLatency: percentiles(clients.flatMap((client) => client.ackLatencies)),
    disconnects: chaos.counts,
  };
}

function percentiles(values: number[]): LoadReport['ackLatency'] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatReport(report: LoadReport): string {
  const { figures: f, counters: c, options: o, timings: t } = report;
  const errorFrames = Object.entries(c.errorFrames)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const row = (label: string, value: string | number, detail = '') =>
    `  ${label.padEnd(16)}${String(value).padStart(8)}${detail === '' ? '' : `   ${detail}`}`;
  return [
    `Load: ${o.clients} clients in ${o.clients / 2} rooms, ${o.messages} messages at up to ${o.rate}/s, ` +
      `${Math.round(o.retryShare * 100)}% sent twice, ~${o.disconnectsPerSecond} disconnects/s, seed ${o.seed}, ` +
      `catch-up ${o.catchUpMarginMs > 0 ? `from ${o.catchUpMarginMs} ms before the newest held` : 'after the newest held'}, ` +
      `${o.connectConcurrency} connecting at once`,
    row('sent', f.sent),
    row('acked', f.acked),
    row('stored', f.stored),
    row(
      'lost',
      f.lost,
      `(acked but not stored ${f.lostDetail.ackedNotStored}, stored but not received ${f.lostDetail.notReceived} ` +
        `[recipient connected from the send to its ack ${f.lostDetail.notReceivedWhileConnected}, ` +
        `behind the catch-up cursor ${f.lostDetail.notReceivedBehindCursor}], ` +
        `received but not stored ${f.lostDetail.deliveredNotStored})`,
    ),
    row(
      'duplicated',
      f.duplicated,
      `(stored twice for one clientMessageId ${f.duplicatedDetail.sameClientMessageId}, ` +
        `messageId twice in a room ${f.duplicatedDetail.sameMessageId}, two messageIds acked ${f.duplicatedDetail.ackedTwice})`,
    ),
    row(
      'out of order',
      f.outOfOrder,
      `(history ${f.outOfOrderDetail.history}, catch-up pages ${f.outOfOrderDetail.catchUp}, ` +
        `sending order ${f.outOfOrderDetail.sendingOrder})`,
    ),
    row('unacked', f.unacked, `(given up after ${o.maxAttempts} sends)`),
    row('throughput', `${report.throughput.toFixed(1)}`, 'messages/s acked during the send phase'),
    row(
      'ack latency',
      `${report.ackLatency.p50} ms`,
      `(median; p95 ${report.ackLatency.p95} ms, p99 ${report.ackLatency.p99} ms, max ${report.ackLatency.max} ms)`,
    ),
    row(
      'duration',
      seconds(t.totalMs),
      `(set-up ${seconds(t.setupMs)}, sends ${seconds(t.sendMs)}, settle and check ${seconds(t.settleMs)})`,
    ),
    row(
      'resends',
      c.retriesBeforeAck + c.retriesAfterAck + c.timeoutResends + c.errorResends,
      `(on purpose before the ack ${c.retriesBeforeAck}, after the ack ${c.retriesAfterAck}; ` +
        `after an ack timeout ${c.timeoutResends}, after an error frame ${c.errorResends})`,
    ),
    row(
      'disconnects',
      report.disconnects.close + report.disconnects.vanish + c.closedByServer,
      `(close frame ${report.disconnects.close}, vanished ${report.disconnects.vanish}, by the server ${c.closedByServer}; ` +
        `reconnects ${c.reconnects}, refused handshakes ${c.failedHandshakes})`,
    ),
    row('catch-ups', c.catchUps, `(messages recovered that were missed live: ${c.recoveredByCatchUp})`),
    row(
      'error frames',
      Object.values(c.errorFrames).reduce((a, b) => a + b, 0),
      errorFrames,
    ),
    row(
      'other',
      '',
      `redelivered chat_message ${c.redeliveries}, live frames out of sending order ${c.liveOutOfSendingOrder}, ` +
        `frames of other rooms ${f.foreignFrames}, failed catch-ups ${f.failedCatchUps}`,
    ),
    ...(report.unsentInWindow === 0
      ? []
      : [
          `  ${report.unsentInWindow} of ${o.messages} messages not sent: the ${seconds(o.sendWindowMs)} send window ran out`,
        ]),
    ...(report.finishedInTime ? [] : [`  NOT FINISHED within the time limit of ${seconds(o.timeLimitMs)}`]),
    ...(f.examples.length === 0 ? [] : ['  examples:', ...f.examples.map((example) => `    ${example}`)]),
    `RESULT: ${report.passed ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
