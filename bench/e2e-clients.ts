/**
 * The e2e load generator, run as a child process of bench/run.ts so that 100 clients' frame handling
 * does not share the local stack's event loop (clients are not on the server in real life). Reads
 * its plan as JSON on stdin; writes JSON lines on stdout while it runs: `{"event": "phase-start",
 * "phase": …}` and `{"event": "phase-end", "phase": …}` around each measured phase (the parent reads
 * CPU times and times the DynamoDB floor under the same load meanwhile), then `{"event": "result"}`.
 * Every wait is bounded; the process exits by itself.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface ClientSpec {
  readonly userId: string;
  readonly token: string;
  readonly roomId: string;
}

export interface ClientPlan {
  readonly wsUrl: string;
  readonly clients: readonly ClientSpec[];
  readonly content: string;
  readonly warmupMessagesPerClient: number;
  readonly saturationMessagesPerClient: number;
  /** Open-loop phases, each at this fraction of the throughput measured in the saturation phase. */
  readonly pacedLoads: readonly number[];
  readonly pacedDurationMs: number;
  readonly connectConcurrency: number;
  readonly ackTimeoutMs: number;
  /** Waiting for the last acks and receipts of a phase. */
  readonly drainMs: number;
  /** Hard stop for the whole process. */
  readonly deadlineMs: number;
}

export interface PhaseResult {
  readonly name: string;
  readonly sent: number;
  readonly acked: number;
  readonly received: number;
  readonly errors: number;
  readonly skipped: number;
  readonly durationMs: number;
  /** Send to receipt by the other participant's connection, ms. */
  readonly receiptMs: number[];
  /** Send to the sender's ack, ms. */
  readonly ackMs: number[];
  readonly messagesPerSecond: number;
  readonly load?: number;
  readonly offeredPerSecond?: number;
}

export interface ClientsResult {
  readonly event: 'result';
  readonly connectMs: number;
  readonly connected: number;
  readonly saturation: PhaseResult;
  readonly paced: PhaseResult[];
  readonly errorSamples: string[];
}

interface Sent {
  readonly phase: string;
  readonly at: number;
  readonly from: number;
  acked: boolean;
  received: boolean;
}

interface PhaseCounters {
  sent: number;
  acked: number;
  received: number;
  errors: number;
  skipped: number;
  firstSendAt: number;
  lastReceiptAt: number;
  receiptMs: number[];
  ackMs: number[];
}

const newCounters = (): PhaseCounters => ({
  sent: 0,
  acked: 0,
  received: 0,
  errors: 0,
  skipped: 0,
  firstSendAt: Number.POSITIVE_INFINITY,
  lastReceiptAt: 0,
  receiptMs: [],
  ackMs: [],
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Resolves once the line is handed to the pipe: process.exit right after a write can drop it. */
const emit = (line: object) =>
  new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(line)}\n`, () => resolve()));
const started = performance.now();
const progress = (text: string) =>
  process.stderr.write(`[e2e clients +${((performance.now() - started) / 1000).toFixed(1)} s] ${text}\n`);

async function readPlan(): Promise<ClientPlan> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ClientPlan;
}

async function main(): Promise<void> {
  const plan = await readPlan();
  const hardStop = setTimeout(() => {
    process.stderr.write('e2e clients: deadline reached, exiting\n');
    process.exit(2);
  }, plan.deadlineMs);
  hardStop.unref();

  const sent = new Map<string, Sent>();
  const counters = new Map<string, PhaseCounters>();
  const phase = (name: string) => {
    let c = counters.get(name);
    if (c === undefined) {
      c = newCounters();
      counters.set(name, c);
    }
    return c;
  };
  const ackWaiters = new Map<string, () => void>();
  const inFlight: number[] = plan.clients.map(() => 0);
  const errorSamples: string[] = [];
  const sockets: WebSocket[] = [];

  const onFrame = (index: number, data: WebSocket.RawData) => {
    const now = performance.now();
    let frame: { type?: string; clientMessageId?: string; message?: { clientMessageId?: string } };
    try {
      frame = JSON.parse(data.toString()) as typeof frame;
    } catch {
      return;
    }
    const id = frame.type === 'chat_message' ? frame.message?.clientMessageId : frame.clientMessageId;
    const record = id === undefined ? undefined : sent.get(id);
    if (record === undefined || id === undefined) {
      if (frame.type === 'error' && errorSamples.length < 5) errorSamples.push(data.toString().slice(0, 300));
      return;
    }
    const c = phase(record.phase);
    if (frame.type === 'ack' && !record.acked && index === record.from) {
      record.acked = true;
      c.acked++;
      c.ackMs.push(now - record.at);
      inFlight[index] = (inFlight[index] ?? 1) - 1;
      ackWaiters.get(id)?.();
    } else if (frame.type === 'chat_message' && !record.received && index !== record.from) {
      record.received = true;
      c.received++;
      c.receiptMs.push(now - record.at);
      c.lastReceiptAt = Math.max(c.lastReceiptAt, now);
    } else if (frame.type === 'error') {
      c.errors++;
      if (errorSamples.length < 5) errorSamples.push(data.toString().slice(0, 300));
      inFlight[index] = (inFlight[index] ?? 1) - 1;
      ackWaiters.get(id)?.();
    }
  };

  // ---- connect
  const connectStarted = performance.now();
  const connectOne = async (index: number) => {
    const spec = plan.clients[index];
    if (spec === undefined) return;
    const url = new URL(plan.wsUrl);
    url.searchParams.set('token', spec.token);
    const socket = new WebSocket(url);
    sockets[index] = socket;
    socket.on('message', (data) => onFrame(index, data));
    socket.on('error', (error) => {
      if (errorSamples.length < 5) errorSamples.push(`socket ${index}: ${error.message}`);
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
  // Two waves: first one participant of every room, then the other. Connecting both participants of
  // a room at the same moment loses connections (each $connect announces presence to the other,
  // whose connection is still in its own $connect: 410, and the fan-out forgets it; see README).
  for (const wave of [0, 1]) {
    const indexes = plan.clients.map((_spec, index) => index).filter((index) => index % 2 === wave);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(plan.connectConcurrency, indexes.length) }, async () => {
        while (next < indexes.length) await connectOne(indexes[next++] ?? -1);
      }),
    );
  }
  const connectMs = performance.now() - connectStarted;
  const connected = sockets.filter((socket) => socket?.readyState === WebSocket.OPEN).length;
  progress(`${connected}/${plan.clients.length} connected in ${Math.round(connectMs)} ms`);

  const send = (index: number, phaseName: string): string | undefined => {
    const socket = sockets[index];
    const spec = plan.clients[index];
    const c = phase(phaseName);
    if (socket === undefined || spec === undefined || socket.readyState !== WebSocket.OPEN) {
      c.skipped++;
      return undefined;
    }
    const clientMessageId = randomUUID();
    const at = performance.now();
    sent.set(clientMessageId, { phase: phaseName, at, from: index, acked: false, received: false });
    c.sent++;
    c.firstSendAt = Math.min(c.firstSendAt, at);
    inFlight[index] = (inFlight[index] ?? 0) + 1;
    socket.send(
      JSON.stringify({ action: 'sendMessage', roomId: spec.roomId, content: plan.content, clientMessageId }),
    );
    return clientMessageId;
  };

  /** Closed loop: each client sends `count` messages, the next one after the previous one's ack. */
  const closedLoop = async (phaseName: string, count: number) => {
    await Promise.all(
      plan.clients.map(async (_spec, index) => {
        for (let i = 0; i < count; i++) {
          const id = send(index, phaseName);
          if (id === undefined) return;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, plan.ackTimeoutMs);
            ackWaiters.set(id, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          ackWaiters.delete(id);
        }
      }),
    );
  };

  /** Waits (bounded) until every message of the phase is acked (or refused) and received. */
  const drain = async (phaseName: string) => {
    const until = performance.now() + plan.drainMs;
    const c = phase(phaseName);
    while (performance.now() < until && (c.acked + c.errors < c.sent || c.received < c.acked))
      await sleep(20);
  };

  const result = (
    phaseName: string,
    durationMs: number,
    extra: { load?: number; offeredPerSecond?: number } = {},
  ): PhaseResult => {
    const c = phase(phaseName);
    return {
      name: phaseName,
      sent: c.sent,
      acked: c.acked,
      received: c.received,
      errors: c.errors,
      skipped: c.skipped,
      durationMs,
      receiptMs: [...c.receiptMs],
      ackMs: [...c.ackMs],
      messagesPerSecond: durationMs > 0 ? (c.received / durationMs) * 1000 : 0,
      ...extra,
    };
  };

  // ---- warm-up (every handler and connection path once), then saturation
  await closedLoop('warmup', plan.warmupMessagesPerClient);
  await drain('warmup');
  const warm = phase('warmup');
  progress(
    `warm-up: ${warm.received}/${warm.sent} received, ${warm.errors} errors ${errorSamples.join(' ')}`,
  );

  emit({ event: 'phase-start', phase: 'saturation' });
  await closedLoop('saturation', plan.saturationMessagesPerClient);
  await drain('saturation');
  emit({ event: 'phase-end', phase: 'saturation' });
  const sat = phase('saturation');
  const saturation = result('saturation', Math.max(0, sat.lastReceiptAt - sat.firstSendAt));
  progress(
    `saturation: ${sat.received}/${sat.sent} received, ${saturation.messagesPerSecond.toFixed(1)} msg/s`,
  );

  // ---- paced: open loop at fractions of the measured throughput, evenly spread over the clients
  const paced: PhaseResult[] = [];
  for (const load of plan.pacedLoads) {
    const name = `paced-${load}`;
    const offered = Math.max(1, saturation.messagesPerSecond * load);
    const intervalMs = (plan.clients.length / offered) * 1000;
    const maxInFlightPerClient = 20;
    emit({ event: 'phase-start', phase: name, offeredPerSecond: offered });
    const pacedStarted = performance.now();
    const timers: NodeJS.Timeout[] = [];
    plan.clients.forEach((_spec, index) => {
      const tick = () => {
        if (performance.now() - pacedStarted >= plan.pacedDurationMs) return;
        if ((inFlight[index] ?? 0) >= maxInFlightPerClient) phase(name).skipped++;
        else send(index, name);
        timers[index] = setTimeout(tick, intervalMs * (0.5 + Math.random()));
      };
      timers[index] = setTimeout(tick, Math.random() * intervalMs);
    });
    await sleep(plan.pacedDurationMs);
    for (const timer of timers) clearTimeout(timer);
    await drain(name);
    emit({ event: 'phase-end', phase: name });
    paced.push(result(name, plan.pacedDurationMs, { load, offeredPerSecond: offered }));
    const c = phase(name);
    progress(`${name}: ${c.received}/${c.sent} received at ${offered.toFixed(1)} msg/s offered`);
  }

  // ---- close
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket === undefined || socket.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            socket.terminate();
            resolve();
          }, 5000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(1000, 'bench done');
        }),
    ),
  );

  const output: ClientsResult = { event: 'result', connectMs, connected, saturation, paced, errorSamples };
  await emit(output);
  clearTimeout(hardStop);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`e2e clients failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
