/**
 * Fan-out cost against the size of the connections table.
 *
 * One table set (rooms, messages, connections, users, created from definitions/tables.ts like the
 * local stack's own) per size, in the stack's DynamoDB Local, so that the sizes are measured side by
 * side in the same minutes: a shared machine's load drifts, and sizes measured one after the other
 * would put that drift into the ratios. Each set's connections table (and each user's `conn#<id>`
 * attributes on its users table, as DynamoUserStore.addConnection writes them) holds 100, 1,000 or
 * 10,000 connections: synthetic users paired in rooms of two with one or two connections each,
 * written with BatchWriteItem, plus the measured room. That room's two users are real: each has two
 * WebSockets open on the local stack (their items are copied into every set), so every post is a
 * real delivery.
 *
 * Per size, interleaved (rounds in a shuffled order of sizes: one baseline send, then several of
 * ours): our send path (MessagingService.sendMessage with the real DynamoDB stores on that set's
 * tables) and the Scan baseline (scan-baseline.ts), both posting through the product's
 * ApiGatewayNotifier to the local `@connections` API.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  GetCommand,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type WebSocket from 'ws';
import { type TableName, tables as tableDefinitions } from '../../definitions/tables.js';
import { dynamoChatStore, type TableNames } from '../../lambdas/adapters/dynamo/chat-store.js';
import type { MessagingService } from '../../lambdas/domain/messaging.js';
import type { Notifier } from '../../lambdas/domain/ports.js';
import { CONNECTION_LIFETIME_SECONDS } from '../../lambdas/domain/presence.js';
import type { LocalStack } from '../../local/stack.js';
import { createTableInput } from '../../local/tables.js';
import type { BenchConfig } from '../config.js';
import { type Deadline, sleep } from '../lib/deadline.js';
import {
  type BenchDb,
  benchDb,
  benchService,
  closeAll,
  connect,
  inPool,
  localNotifier,
  openConnections,
  signIn,
  startChat,
  tableNamesOf,
} from '../lib/local.js';
import { median, round, roundSummary, type Summary, summarize } from '../lib/stats.js';
import { ScanBaseline } from './scan-baseline.js';

export interface FanoutSize {
  readonly connections: number;
  readonly populateMs: number;
  readonly ours: Summary;
  readonly scan: Summary;
  /** DynamoDB requests per send, counted. */
  readonly oursRequestsPerSend: number;
  readonly scanRequestsPerSend: number;
  readonly scanPagesPerSend: number;
  readonly postsPerSend: { readonly ours: number; readonly scan: number };
  /** Median wall time of each step of ours (DynamoDB commands and posts), ms: where the time goes. */
  readonly oursSteps: Readonly<Record<string, number>>;
  /** Median wall time of the baseline's Scan pages and Put, ms. */
  readonly scanSteps: Readonly<Record<string, number>>;
  /** Read units the baseline's Scan consumed per send (DynamoDB Local's ConsumedCapacity). */
  readonly scanReadUnitsPerSend: number;
  readonly oursReadUnitsPerSend: number;
  readonly speedup: number;
}

export interface FanoutResult {
  readonly notifier: string;
  readonly roomConnections: { readonly sender: number; readonly recipient: number };
  readonly sizes: readonly FanoutSize[];
  /** Our median at the largest size / at the smallest (10,000 / 100 in the full run). */
  readonly flatness: number;
  readonly flatnessSizes: readonly [number, number];
  /** Baseline median / ours at the largest size. */
  readonly speedupVsScan: number;
  readonly speedupAt: number;
  readonly deliveredFrames: number;
  readonly expectedFrames: number;
  /**
   * Least-squares line through the baseline's medians: ms per 1,000 connections, and the table size
   * at which the baseline would be 100x our median at the largest size (if the line holds).
   */
  readonly scanMsPer1000Connections: number;
  readonly connectionsFor100x: number;
  /** The machine's 1-minute load average at the start and the end of the measurement. */
  readonly loadAverage: readonly [number, number];
  readonly measureMs: number;
}

const WRITE_BATCH = 25;

function fitLine(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function shuffled<T>(values: readonly T[]): T[] {
  const copy = [...values];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Connection ids shaped like API Gateway's (base64 of 11 random bytes), so items have the real size. */
const newConnectionId = () => randomBytes(11).toString('base64');

async function batchWrite(db: BenchDb, table: string, items: Record<string, unknown>[], deadline: Deadline) {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += WRITE_BATCH) batches.push(items.slice(i, i + WRITE_BATCH));
  await inPool(batches, 4, async (batch) => {
    let pending: BatchWriteCommandInput['RequestItems'] = {
      [table]: batch.map((Item) => ({ PutRequest: { Item } })),
    };
    for (let attempt = 0; pending !== undefined && Object.keys(pending).length > 0; attempt++) {
      if (attempt > 8 || deadline.expired) throw new Error('BatchWriteItem left items unprocessed');
      if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      const out: BatchWriteCommandOutput = await db.doc.send(
        new BatchWriteCommand({ RequestItems: pending }),
      );
      pending = out.UnprocessedItems;
    }
  });
}

async function countItems(db: BenchDb, table: string): Promise<number> {
  let total = 0;
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < 1000; page++) {
    const out: ScanCommandOutput = await db.doc.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: startKey }),
    );
    total += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
    if (startKey === undefined) break;
  }
  return total;
}

/** `count` connections of new synthetic users (1, 2, 1, 2, … connections each; the last may get 1). */
async function populate(db: BenchDb, names: TableNames, count: number, deadline: Deadline): Promise<void> {
  const now = new Date();
  const connectedAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + CONNECTION_LIFETIME_SECONDS;
  const connections: Record<string, unknown>[] = [];
  const users: Record<string, unknown>[] = [];
  let left = count;
  for (let index = 0; left > 0; index++) {
    const userId = `bench-u${String(index).padStart(6, '0')}`;
    const own = Math.min(left, 1 + (index % 2));
    left -= own;
    const user: Record<string, unknown> = { userId, displayName: `Bench ${index}`, createdAt: connectedAt };
    for (let c = 0; c < own; c++) {
      const connectionId = newConnectionId();
      connections.push({ connectionId, userId, connectedAt, expiresAt });
      user[`conn#${connectionId}`] = { expiresAt };
    }
    users.push(user);
  }
  await batchWrite(db, names.connections, connections, deadline);
  await batchWrite(db, names.users, users, deadline);
}

interface SizeSet {
  readonly target: number;
  readonly names: TableNames;
  readonly service: MessagingService;
  readonly baseline: ScanBaseline;
  readonly oursDb: BenchDb;
  readonly scanDb: BenchDb;
  connections: number;
  populateMs: number;
  readonly oursMs: number[];
  readonly scanMs: number[];
  readonly postMs: number[];
  pages: number;
  readonly posts: { ours: number; scan: number };
}

export async function measureFanout(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
  log: (line: string) => void,
): Promise<FanoutResult> {
  const fan = config.fanout;
  const [a, b] = ['bench-fan-a', 'bench-fan-b'];
  const tokenA = await signIn(stack, a);
  const tokenB = await signIn(stack, b);
  const roomId = await startChat(stack, tokenA, b);
  const sockets: WebSocket[] = [];
  let deliveredFrames = 0;
  try {
    for (const token of [tokenA, tokenA, tokenB, tokenB]) {
      const socket = await connect(stack, token);
      socket.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { type?: string }).type === 'chat_message') deliveredFrames++;
      });
      sockets.push(socket);
    }
    const open = await openConnections(stack);
    const senderConnection = open.find((c) => c.userId === a)?.connectionId;
    if (senderConnection === undefined) throw new Error(`no open connection of ${a}`);
    const sender = { userId: a, connectionId: senderConnection };

    // The real room, users (with their conn# attributes) and connection records, as $connect wrote
    // them in the stack's tables: copied into every set.
    const admin = benchDb(stack, 'fanoutAdmin');
    const main = tableNamesOf(stack);
    const roomItem = (
      await admin.doc.send(new GetCommand({ TableName: main.rooms, Key: { pk: roomId, sk: 'room' } }))
    ).Item;
    const userItems = await Promise.all(
      [a, b].map(
        async (userId) =>
          (await admin.doc.send(new GetCommand({ TableName: main.users, Key: { userId } }))).Item,
      ),
    );
    const connectionItems = await Promise.all(
      open
        .filter((c) => c.userId === a || c.userId === b)
        .map(
          async (c) =>
            (
              await admin.doc.send(
                new GetCommand({ TableName: main.connections, Key: { connectionId: c.connectionId } }),
              )
            ).Item,
        ),
    );
    if (roomItem === undefined || userItems.some((u) => u === undefined) || connectionItems.length !== 4) {
      throw new Error('the measured room, its users or their 4 connections are not in the stack tables');
    }

    const notifier = localNotifier(stack);
    const counting = (set: () => SizeSet, which: 'ours' | 'scan'): Notifier => ({
      post: async (connectionId, payload) => {
        set().posts[which]++;
        const t0 = performance.now();
        try {
          return await notifier.post(connectionId, payload);
        } finally {
          if (which === 'ours') set().postMs.push(performance.now() - t0);
        }
      },
    });

    const sets: SizeSet[] = [];
    for (const target of fan.sizes) {
      const started = performance.now();
      const names = Object.fromEntries(
        (Object.keys(tableDefinitions) as TableName[]).map((name) => [
          name,
          `${tableDefinitions[name].constructId}-fan${target}`,
        ]),
      ) as unknown as TableNames;
      for (const name of Object.keys(tableDefinitions) as TableName[]) {
        await admin.client.send(
          new CreateTableCommand(createTableInput(tableDefinitions[name], names[name])),
        );
      }
      await admin.doc.send(new PutCommand({ TableName: names.rooms, Item: roomItem }));
      for (const item of [...userItems, ...connectionItems]) {
        if (item !== undefined) {
          await admin.doc.send(
            new PutCommand({
              TableName: 'connectionId' in item ? names.connections : names.users,
              Item: item,
            }),
          );
        }
      }
      await populate(
        admin,
        names,
        target - connectionItems.length,
        deadline.child('populate', fan.populateBudgetMs),
      );
      const oursDb = benchDb(stack, `fanoutOurs${target}`);
      const scanDb = benchDb(stack, `fanoutScan${target}`);
      let self: SizeSet | undefined;
      const get = () => self as SizeSet;
      self = {
        target,
        names,
        service: benchService(
          dynamoChatStore(oursDb.doc, names, { now: () => new Date() }),
          counting(get, 'ours'),
        ),
        baseline: new ScanBaseline(
          scanDb,
          dynamoChatStore(scanDb.doc, names, { now: () => new Date() }),
          names.connections,
          counting(get, 'scan'),
        ),
        oursDb,
        scanDb,
        connections: await countItems(admin, names.connections),
        populateMs: round(performance.now() - started, 0),
        oursMs: [],
        scanMs: [],
        postMs: [],
        pages: 0,
        posts: { ours: 0, scan: 0 },
      };
      sets.push(self);
      log(`fanout: table set of ${self.connections} connections ready in ${self.populateMs} ms`);
    }

    let sendsMade = 0;
    let sequence = 0;
    const ours = async (set: SizeSet) => {
      sendsMade++;
      const started = performance.now();
      await set.service.sendMessage(sender, {
        roomId,
        content: config.content,
        clientMessageId: `fan-${sequence++}`,
      });
      return performance.now() - started;
    };
    const scan = async (set: SizeSet) => {
      sendsMade++;
      const started = performance.now();
      const report = await set.baseline.send(sender, roomId, config.content);
      return { ms: performance.now() - started, pages: report.pages };
    };

    // Warm-up: the stack and DynamoDB Local's JVM have just started; every set gets sends until
    // both have run for a while, or the first sizes measured would pay for the JIT.
    const warmUntil = performance.now() + 5000;
    for (let i = 0; i < fan.warmup || performance.now() < warmUntil; i++) {
      if (deadline.expired || i > 20 * fan.warmup) break;
      for (const set of sets) {
        await ours(set);
        if (i % 10 === 0) await scan(set);
      }
    }
    for (const set of sets) {
      set.oursDb.meter.reset();
      set.scanDb.meter.reset();
      set.posts.ours = 0;
      set.posts.scan = 0;
      set.postMs.length = 0;
    }

    // Rounds: every size once per round, in a shuffled order; in each, one baseline send and as many
    // of ours as keeps both counts on schedule.
    const measureDeadline = deadline.child('fanout', fan.budgetPerSizeMs * sets.length);
    const perRound = Math.max(1, Math.ceil(fan.oursSends / fan.scanSends));
    const loadStart = round(loadavg()[0] ?? Number.NaN);
    const measureStarted = performance.now();
    const pending = () =>
      sets.some((s) => s.oursMs.length < fan.oursSends || s.scanMs.length < fan.scanSends);
    while (!measureDeadline.expired && pending()) {
      for (const set of shuffled(sets)) {
        if (set.scanMs.length < fan.scanSends) {
          const { ms, pages } = await scan(set);
          set.scanMs.push(ms);
          set.pages += pages;
        }
        for (let i = 0; i < perRound && set.oursMs.length < fan.oursSends && !measureDeadline.expired; i++) {
          set.oursMs.push(await ours(set));
        }
      }
    }
    const measureMs = round(performance.now() - measureStarted, 0);
    const loadEnd = round(loadavg()[0] ?? Number.NaN);
    await sleep(300); // frames still in flight

    const medians = (durations: Readonly<Record<string, readonly number[]>>) =>
      Object.fromEntries(
        Object.entries(durations).map(([name, list]) => [name.replace(/Command$/, ''), round(median(list))]),
      );
    const sizes: FanoutSize[] = sets.map((set) => {
      const oursMeter = set.oursDb.meter.snapshot();
      const scanMeter = set.scanDb.meter.snapshot();
      const oursSummary = roundSummary(summarize(set.oursMs));
      const scanSummary = roundSummary(summarize(set.scanMs));
      const n = Math.max(1, set.oursMs.length);
      const m = Math.max(1, set.scanMs.length);
      log(
        `fanout ${set.connections}: ours p50 ${oursSummary.p50} ms (n=${set.oursMs.length}), ` +
          `scan p50 ${scanSummary.p50} ms (n=${set.scanMs.length})`,
      );
      return {
        connections: set.connections,
        populateMs: set.populateMs,
        ours: oursSummary,
        scan: scanSummary,
        oursRequestsPerSend: round(oursMeter.httpRequests / n, 2),
        scanRequestsPerSend: round(scanMeter.httpRequests / m, 2),
        scanPagesPerSend: round(set.pages / m, 2),
        postsPerSend: { ours: round(set.posts.ours / n, 2), scan: round(set.posts.scan / m, 2) },
        oursSteps: { ...medians(oursMeter.durations), post: round(median(set.postMs)) },
        scanSteps: medians(scanMeter.durations),
        scanReadUnitsPerSend: round(scanMeter.readUnits / m, 1),
        oursReadUnitsPerSend: round(oursMeter.readUnits / n, 2),
        speedup: round(scanSummary.p50 / oursSummary.p50, 1),
      };
    });
    const first = sizes[0];
    const last = sizes.at(-1);
    if (first === undefined || last === undefined) throw new Error('no fan-out size measured');
    const line = fitLine(sizes.map((s) => [s.connections, s.scan.p50] as const));
    return {
      notifier:
        'ApiGatewayNotifier (the product adapter) posting to the local stack @connections API, real sockets, both paths',
      roomConnections: { sender: 2, recipient: 2 },
      sizes,
      flatness: round(last.ours.p50 / first.ours.p50, 3),
      flatnessSizes: [last.connections, first.connections],
      speedupVsScan: round(last.scan.p50 / last.ours.p50, 1),
      speedupAt: last.connections,
      // Each send posts to the sender's other connection and the recipient's two.
      deliveredFrames,
      expectedFrames: 3 * sendsMade,
      scanMsPer1000Connections: round(line.slope * 1000, 2),
      connectionsFor100x:
        line.slope > 0 ? Math.round((100 * last.ours.p50 - line.intercept) / line.slope) : Number.NaN,
      loadAverage: [loadStart, loadEnd],
      measureMs,
    };
  } finally {
    await closeAll(sockets);
  }
}
