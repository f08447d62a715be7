/**
 * The chat list's first page against the caller's total rooms (issue 9, item 5): `GET
 * /chat/list?limit=20` through the local stack (HTTP API emulator, HTTP authorizer, the real
 * ListRooms handler on DynamoDB Local) for a user with 1,000 rooms and one with 20, in the same
 * tables, measured alternately in the same minutes so the machine's load drift hits both alike.
 *
 * Seeding goes through the domain services only (profiles, RoomService.startChat,
 * MessagingService.sendMessage on the product's DynamoDB stores), never the store's items: the
 * store's layout is being rewritten, and whatever it becomes, a room started and written to through
 * the services is what the list must find. Each room runs on its own simulated clock, so rooms
 * accumulate the way they do in real life: started at various times over ten days, and one room's
 * last activity every ~10 minutes going back a week, in an order unrelated to their start order.
 *
 * The handler's own DynamoDB client is metered (lib/ddb-meter.ts): it is found by watching which
 * client sends requests while the list function runs (local/lambda.ts `runningFunction`), the way
 * the integration tests' call recorder tells functions apart.
 */
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { httpRoutes } from '../../definitions/routes.js';
import { ChatService } from '../../lambdas/domain/chat-service.js';
import { noFileAccess } from '../../lambdas/domain/files.js';
import { monotonicUlidFactory } from '../../lambdas/domain/message-id.js';
import type { RoomId, UserId } from '../../lambdas/domain/model.js';
import type { ChatStore, Notifier } from '../../lambdas/domain/ports.js';
import { ProfileService } from '../../lambdas/domain/profiles.js';
import { seededRandom } from '../../load/random.js';
import { runningFunction } from '../../local/lambda.js';
import type { LocalStack } from '../../local/stack.js';
import type { BenchConfig } from '../config.js';
import { cpuPer, cpuSnapshot, dynamoLocalPid } from '../lib/cpu.js';
import { attachMeter, type DdbMeter, type MeteredClient, type MeterSnapshot } from '../lib/ddb-meter.js';
import type { Deadline } from '../lib/deadline.js';
import { benchDb, benchStore, inPool, quietLogger, signIn } from '../lib/local.js';
import { round, roundSummary, type Summary, summarize } from '../lib/stats.js';

const MINUTE_MS = 60_000;
/** One room's last activity every ~10 minutes: 1,000 rooms reach back about a week. */
const ACTIVITY_SPACING_MS = 10 * MINUTE_MS;
/** A room is started up to three days before its last activity. */
const MAX_ROOM_AGE_MS = 3 * 24 * 60 * MINUTE_MS;
/** Fixed, so every run seeds the same timeline. */
const SEED = 0x5eed_11a7;
const HTTP_TIMEOUT_MS = 15_000;
/** Problems listed in the result; past this many, only counted. */
const MAX_PROBLEMS = 10;

/** What one user's calls measured. */
export interface ChatListSide {
  readonly userId: string;
  readonly rooms: number;
  /** `GET /chat/list?limit=` as the client sees it: request sent → whole body read, ms. */
  readonly latencyMs: Summary;
  /** Per call, the handler's DynamoDB HTTP requests (retries included). */
  readonly requests: Summary;
  /** Per call, read units as DynamoDB Local reports them (ReturnConsumedCapacity: INDEXES). */
  readonly readUnits: Summary;
  /** Per call, the summed wall time of the handler's DynamoDB commands, ms. */
  readonly dynamoMs: Summary;
  /** Mean per call, by command name. */
  readonly commandsPerCall: Readonly<Record<string, number>>;
}

export interface ChatListResult {
  readonly route: string;
  readonly functionId: string;
  readonly limit: number;
  readonly large: ChatListSide;
  readonly small: ChatListSide;
  /** The goal: median latency at the large user / at the small one, ≤ 1.5. */
  readonly p50Ratio: number;
  readonly p90Ratio: number;
  /** Median read units per first page, large / small. */
  readonly readUnitsRatio: number;
  readonly requestsRatio: number;
  readonly warmupPerUser: number;
  readonly measureMs: number;
  readonly loadAverage: readonly [number, number];
  readonly seed: {
    readonly rooms: number;
    readonly messages: number;
    readonly profiles: number;
    readonly concurrency: number;
    readonly ms: number;
    /** CPU ms while seeding, by process: says whether DynamoDB Local or the SDK sets the pace. */
    readonly cpuMs: Readonly<Record<string, number>>;
    readonly activitySpanDays: number;
  };
  /** Requests the metered clients made that reported no ConsumedCapacity. */
  readonly unreportedCapacity: number;
  readonly correctness: {
    /** Pages walked with nextCursor through the large user's whole list, of `walkLimit` rooms. */
    readonly pages: number;
    readonly walkLimit: number;
    readonly roomsSeen: number;
    /** Measured calls whose page was not the expected first page. */
    readonly wrongMeasuredPages: number;
    readonly problems: readonly string[];
  };
}

interface PlannedRoom {
  readonly owner: UserId;
  readonly peer: UserId;
  readonly startedBy: UserId;
  readonly startAt: number;
  readonly messages: readonly { readonly at: number; readonly sender: UserId }[];
  /** The room's newest activity: its last message, or its start if it has none. */
  readonly lastActivityAt: number;
}

interface ListedRoom {
  readonly roomId: string;
  readonly updatedAt: string;
}

interface ListPage {
  readonly rooms: readonly ListedRoom[];
  readonly nextCursor: string | null;
}

interface CallFigures {
  readonly ms: number;
  readonly requests: number;
  readonly readUnits: number;
  readonly dynamoMs: number;
  readonly unreported: number;
  readonly commands: Readonly<Record<string, number>>;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/**
 * `owner`'s rooms with `peers`: the activity ranks are shuffled against the peers' order, and each
 * room's start lies a random while before its last activity, so neither the peer ids nor the
 * creation times give the activity order away. Jitter stays under the spacing: no two rooms tie.
 */
function planRooms(
  owner: UserId,
  peers: readonly UserId[],
  end: number,
  messagesPerRoom: number,
  random: () => number,
): PlannedRoom[] {
  const ranks = shuffled(
    peers.map((_, i) => i),
    random,
  );
  return peers.map((peer, i) => {
    const rank = ranks[i] ?? i;
    const lastActivityAt =
      end - rank * ACTIVITY_SPACING_MS - Math.floor(random() * (ACTIVITY_SPACING_MS / 2));
    // Some rooms are started and never written to: their start is their last activity.
    const count = i % 10 === 9 ? 0 : messagesPerRoom;
    const startAt =
      count === 0 ? lastActivityAt : lastActivityAt - MINUTE_MS - Math.floor(random() * MAX_ROOM_AGE_MS);
    const ownerFirst = random() < 0.5;
    const messages = Array.from({ length: count }, (_, k) => ({
      at: Math.round(startAt + ((lastActivityAt - startAt) * (k + 1)) / count),
      sender: (k % 2 === 0) === ownerFirst ? owner : peer,
    }));
    return { owner, peer, startedBy: random() < 0.5 ? owner : peer, startAt, messages, lastActivityAt };
  });
}

/** Nothing seeded has a connection, so nothing may be posted; a post would be a bench bug. */
const nowhere: Notifier = {
  post: () => Promise.reject(new Error('chat-list seeding posted to a connection')),
};

/** Starts the room and sends its messages, each step at its simulated time; answers the room id. */
async function seedRoom(store: ChatStore, room: PlannedRoom, content: string): Promise<RoomId> {
  let now = room.startAt;
  const nextUlid = monotonicUlidFactory();
  const chat = new ChatService({
    store,
    notifier: nowhere,
    clock: { now: () => new Date(now) },
    newMessageId: (date) => nextUlid(date.getTime()),
    logger: quietLogger,
    files: noFileAccess,
  });
  const other = room.startedBy === room.owner ? room.peer : room.owner;
  const { room: started } = await chat.rooms.startChat(room.startedBy, other);
  for (const [k, message] of room.messages.entries()) {
    now = message.at;
    await chat.messaging.sendMessage(
      { userId: message.sender },
      { roomId: started.roomId, content, clientMessageId: `seed-${k}` },
    );
  }
  return started.roomId;
}

function isListedRoom(value: unknown): value is ListedRoom {
  return (
    typeof value === 'object' &&
    value !== null &&
    'roomId' in value &&
    typeof value.roomId === 'string' &&
    'updatedAt' in value &&
    typeof value.updatedAt === 'string'
  );
}

function parsePage(text: string): ListPage {
  const body: unknown = JSON.parse(text);
  if (typeof body === 'object' && body !== null && 'rooms' in body && 'nextCursor' in body) {
    const { rooms, nextCursor } = body;
    if (
      Array.isArray(rooms) &&
      rooms.every(isListedRoom) &&
      (nextCursor === null || typeof nextCursor === 'string')
    ) {
      return { rooms, nextCursor };
    }
  }
  throw new Error(`GET /chat/list answered an unexpected body: ${text.slice(0, 200)}`);
}

async function getList(
  stack: LocalStack,
  token: string,
  limit: number,
  cursor?: string,
): Promise<{ ms: number; page: ListPage }> {
  const url = new URL(`${stack.restUrl}/chat/list`);
  url.searchParams.set('limit', String(limit));
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  const started = performance.now();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) {
    throw new Error(`GET /chat/list answered ${response.status}: ${text.slice(0, 200)}`);
  }
  return { ms, page: parsePage(text) };
}

type Sender = { send: (...args: never[]) => unknown };

/**
 * Runs `action` while noting the clients through which `functionId` sends DynamoDB requests. Both
 * client classes are watched (a store may use either); a document client shares its DynamoDB
 * client's middleware stack, so one stack stands for both.
 */
async function clientsUsedBy<T>(
  functionId: string,
  action: () => Promise<T>,
): Promise<{ value: T; clients: MeteredClient[] }> {
  const found = new Map<unknown, MeteredClient>();
  const prototypes: Sender[] = [DynamoDBClient.prototype, DynamoDBDocumentClient.prototype];
  const restores = prototypes.map((prototype) => {
    const own = Object.hasOwn(prototype, 'send');
    const send = prototype.send;
    prototype.send = function (this: MeteredClient, ...args: never[]) {
      if (runningFunction.getStore() === functionId) found.set(this.middlewareStack, this);
      return send.apply(this, args);
    };
    return () => {
      if (own) prototype.send = send;
      else Reflect.deleteProperty(prototype, 'send');
    };
  });
  try {
    return { value: await action(), clients: [...found.values()] };
  } finally {
    for (const restore of restores) restore();
  }
}

function figuresOf(ms: number, snapshots: readonly MeterSnapshot[]): CallFigures {
  const commands: Record<string, number> = {};
  let requests = 0;
  let readUnits = 0;
  let dynamoMs = 0;
  let unreported = 0;
  for (const snapshot of snapshots) {
    requests += snapshot.httpRequests;
    readUnits += snapshot.readUnits;
    unreported += snapshot.unreported;
    for (const [name, count] of Object.entries(snapshot.commands))
      commands[name] = (commands[name] ?? 0) + count;
    for (const list of Object.values(snapshot.durations)) dynamoMs += list.reduce((sum, d) => sum + d, 0);
  }
  return { ms, requests, readUnits, dynamoMs, unreported, commands };
}

function side(userId: string, rooms: number, calls: readonly CallFigures[]): ChatListSide {
  const pick = (f: (c: CallFigures) => number) => roundSummary(summarize(calls.map(f)));
  const commands: Record<string, number> = {};
  for (const call of calls) {
    for (const [name, count] of Object.entries(call.commands)) commands[name] = (commands[name] ?? 0) + count;
  }
  for (const name of Object.keys(commands)) commands[name] = round((commands[name] ?? 0) / calls.length, 3);
  return {
    userId,
    rooms,
    latencyMs: pick((c) => c.ms),
    requests: pick((c) => c.requests),
    readUnits: pick((c) => c.readUnits),
    dynamoMs: pick((c) => c.dynamoMs),
    commandsPerCall: commands,
  };
}

/** The expected list: newest activity first (the plan has no ties). */
function expectedOrder(
  rooms: readonly PlannedRoom[],
  ids: readonly RoomId[],
): { roomId: RoomId; at: number }[] {
  return rooms
    .map((room, i) => ({ roomId: ids[i] ?? '', at: room.lastActivityAt }))
    .sort((a, b) => b.at - a.at);
}

/** Differences between a list as answered and as expected, in words. */
function compareLists(what: string, seen: readonly string[], expected: readonly string[]): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).length;
  const expectedSet = new Set(expected);
  const missing = expected.filter((id) => !counts.has(id)).length;
  const foreign = seen.filter((id) => !expectedSet.has(id)).length;
  if (repeated > 0) problems.push(`${what}: ${repeated} room(s) listed more than once`);
  if (missing > 0) problems.push(`${what}: ${missing} room(s) missing`);
  if (foreign > 0) problems.push(`${what}: ${foreign} room(s) that do not belong there`);
  const firstDifference = expected.findIndex((id, i) => seen[i] !== id);
  if (firstDifference >= 0 || seen.length !== expected.length) {
    const at = firstDifference >= 0 ? firstDifference : Math.min(seen.length, expected.length);
    problems.push(
      `${what}: ${seen.length} room(s), expected ${expected.length}; first difference at #${at + 1} ` +
        `(${seen[at] ?? 'nothing'} instead of ${expected[at] ?? 'nothing'})`,
    );
  }
  return problems;
}

export async function measureChatList(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
  log: (line: string) => void,
): Promise<ChatListResult> {
  const settings = config.chatList;
  const route = httpRoutes.find((r) => r.method === 'GET' && r.path === '/chat/list');
  if (route === undefined) throw new Error('definitions/routes.ts has no GET /chat/list');
  const large = 'list-large';
  const small = 'list-small';
  const peers = Array.from(
    { length: Math.max(settings.largeRooms, settings.smallRooms) },
    (_, i) => `list-peer-${String(i).padStart(4, '0')}`,
  );

  // ---- seeding
  const seedStarted = performance.now();
  const [largeToken, smallToken] = [await signIn(stack, large), await signIn(stack, small)];
  const store = benchStore(benchDb(stack, 'chatListSeed'), stack);
  const profiles = new ProfileService(store);
  const outOfTime = () => {
    if (deadline.expired) throw new Error('chat-list seeding ran out of time');
  };
  const pids = { bench: process.pid, dynamoDbLocal: dynamoLocalPid(stack.dynamoEndpoint) };
  const cpuBefore = cpuSnapshot(pids);
  // One request per peer: the peer names itself (getProfile would read first, then create).
  await inPool(peers, settings.seedConcurrency, async (peer) => {
    outOfTime();
    await profiles.updateProfile(peer, { displayName: `Peer ${peer.slice(-4)}` }, peer);
  });
  const profilesMs = Math.round(performance.now() - seedStarted);
  const random = seededRandom(SEED);
  const end = Date.now() - MINUTE_MS;
  const largePlan = planRooms(
    large,
    peers.slice(0, settings.largeRooms),
    end,
    settings.messagesPerRoom,
    random,
  );
  const smallPlan = planRooms(
    small,
    peers.slice(0, settings.smallRooms),
    end,
    settings.messagesPerRoom,
    random,
  );
  const roomIds = await inPool([...largePlan, ...smallPlan], settings.seedConcurrency, async (room) => {
    outOfTime();
    return seedRoom(store, room, config.content);
  });
  const largeExpected = expectedOrder(largePlan, roomIds.slice(0, largePlan.length));
  const smallExpected = expectedOrder(smallPlan, roomIds.slice(largePlan.length));
  const seedMs = Math.round(performance.now() - seedStarted);
  const seedCpu = cpuPer(cpuBefore, cpuSnapshot(pids), 1);
  const messages = [...largePlan, ...smallPlan].reduce((sum, room) => sum + room.messages.length, 0);
  log(
    `chatList: seeded ${peers.length} profiles, ${roomIds.length} rooms, ${messages} messages in ${seedMs} ms ` +
      `(profiles ${profilesMs} ms; CPU ms: this process ${seedCpu.bench}, DynamoDB Local ${seedCpu.dynamoDbLocal})`,
  );

  // ---- correctness, and the handler's cold start: walk the large user's whole list.
  const problems: string[] = [];
  const limit = settings.limit;
  const walkLimit = settings.walkLimit;
  const { value: walk, clients } = await clientsUsedBy(route.functionId, async () => {
    const seen: ListedRoom[] = [];
    let pages = 0;
    let cursor: string | undefined;
    const maxPages = Math.ceil(settings.largeRooms / walkLimit) + 5;
    do {
      outOfTime();
      const { page } = await getList(stack, largeToken, walkLimit, cursor);
      pages++;
      if (page.rooms.length > walkLimit) {
        problems.push(`page ${pages}: ${page.rooms.length} rooms, limit ${walkLimit}`);
      }
      seen.push(...page.rooms);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && pages < maxPages);
    if (cursor !== undefined) problems.push(`paging did not end after ${pages} pages`);
    return { seen, pages };
  });
  if (clients.length === 0) throw new Error(`${route.functionId} sent no DynamoDB request`);
  problems.push(
    ...compareLists(
      `paging through ${large}'s list`,
      walk.seen.map((r) => r.roomId),
      largeExpected.map((r) => r.roomId),
    ),
  );
  const firstPageOf = (expected: readonly { roomId: RoomId; at: number }[]) => expected.slice(0, limit);
  const checkFirstPage = async (
    userId: string,
    token: string,
    expected: readonly { roomId: RoomId; at: number }[],
  ) => {
    const { page } = await getList(stack, token, limit);
    const want = firstPageOf(expected);
    problems.push(
      ...compareLists(
        `${userId}'s first page`,
        page.rooms.map((r) => r.roomId),
        want.map((r) => r.roomId),
      ),
    );
    const wrongTimes = page.rooms.filter((r, i) => r.updatedAt !== new Date(want[i]?.at ?? 0).toISOString());
    if (wrongTimes.length > 0) {
      problems.push(
        `${userId}'s first page: ${wrongTimes.length} updatedAt(s) differ from the expected rooms' last activity`,
      );
    }
    const more = expected.length > limit;
    if ((page.nextCursor !== null) !== more) {
      problems.push(
        `${userId}'s first page: nextCursor ${page.nextCursor === null ? 'null' : 'set'} with ${expected.length} rooms`,
      );
    }
  };
  await checkFirstPage(large, largeToken, largeExpected);
  await checkFirstPage(small, smallToken, smallExpected);

  // ---- measured calls, alternating the users (ABBA…: neither always goes first)
  const meters: DdbMeter[] = clients.map((client, i) => attachMeter(client, `chatList${i}`));
  try {
    const users = [
      {
        userId: large,
        token: largeToken,
        expected: firstPageOf(largeExpected)
          .map((r) => r.roomId)
          .join(),
      },
      {
        userId: small,
        token: smallToken,
        expected: firstPageOf(smallExpected)
          .map((r) => r.roomId)
          .join(),
      },
    ] as const;
    const calls: [CallFigures[], CallFigures[]] = [[], []];
    let wrongMeasuredPages = 0;
    const callOnce = async (index: 0 | 1): Promise<CallFigures> => {
      const user = users[index];
      for (const meter of meters) meter.reset();
      const { ms, page } = await getList(stack, user.token, limit);
      if (page.rooms.map((r) => r.roomId).join() !== user.expected) wrongMeasuredPages++;
      return figuresOf(
        ms,
        meters.map((meter) => meter.snapshot()),
      );
    };
    for (let i = 0; i < settings.warmup; i++) {
      await callOnce(0);
      await callOnce(1);
    }
    wrongMeasuredPages = 0;
    const loadBefore = loadavg()[0] ?? Number.NaN;
    const measureStarted = performance.now();
    for (let pair = 0; pair < settings.samples && !deadline.expired; pair++) {
      const order: readonly (0 | 1)[] = pair % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) calls[index].push(await callOnce(index));
    }
    const measureMs = Math.round(performance.now() - measureStarted);
    const [largeCalls, smallCalls] = calls;
    if (largeCalls.length === 0 || smallCalls.length === 0)
      throw new Error('no call measured before the deadline');
    if (wrongMeasuredPages > 0)
      problems.push(`${wrongMeasuredPages} measured call(s) answered another first page`);

    const largeSide = side(large, settings.largeRooms, largeCalls);
    const smallSide = side(small, settings.smallRooms, smallCalls);
    const unreportedCapacity = [...largeCalls, ...smallCalls].reduce((sum, c) => sum + c.unreported, 0);
    return {
      route: `GET /chat/list?limit=${limit}`,
      functionId: route.functionId,
      limit,
      large: largeSide,
      small: smallSide,
      p50Ratio: round(largeSide.latencyMs.p50 / smallSide.latencyMs.p50),
      p90Ratio: round(largeSide.latencyMs.p90 / smallSide.latencyMs.p90),
      readUnitsRatio: round(largeSide.readUnits.p50 / smallSide.readUnits.p50),
      requestsRatio: round(largeSide.requests.p50 / smallSide.requests.p50),
      warmupPerUser: settings.warmup,
      measureMs,
      loadAverage: [round(loadBefore), round(loadavg()[0] ?? Number.NaN)],
      seed: {
        rooms: roomIds.length,
        messages,
        profiles: peers.length,
        concurrency: settings.seedConcurrency,
        ms: seedMs,
        cpuMs: seedCpu,
        activitySpanDays: round((settings.largeRooms * ACTIVITY_SPACING_MS) / (24 * 60 * MINUTE_MS), 1),
      },
      unreportedCapacity,
      correctness: {
        pages: walk.pages,
        walkLimit,
        roomsSeen: walk.seen.length,
        wrongMeasuredPages,
        problems:
          problems.length > MAX_PROBLEMS
            ? [...problems.slice(0, MAX_PROBLEMS), `… ${problems.length - MAX_PROBLEMS} more`]
            : problems,
      },
    };
  } finally {
    // The handler's client outlives this section (later sections, other runs in this process).
    for (const meter of meters) meter.detach();
  }
}
