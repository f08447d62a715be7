/**
 * Brings a stack deployed before the counting scheme to it (README "Upgrading a deployed stack"):
 *
 *   npm run migrate -- --rooms-table <name> --messages-table <name>
 *
 * For every room item it counts history in messageId order, writes each message's `counts`, sets
 * each participant's `sent` and `read` (and drops the old `unread`/`lastSent`) by one update that is
 * conditional on the room's newest message and read pointers being those it counted against, and
 * files the room's chat-list activity entries. It only writes what differs, so it is idempotent, and
 * it can be stopped and run again at any point.
 *
 * It runs beside the new code, which already commits sends and moves read pointers on rooms it has
 * not reached (from zeros: `sent` and `read` read as 0 until then). Three races are handled here:
 * - a send or a read between the count and the room update: the condition fails and the room is
 *   read again and recounted;
 * - a commit whose message is not stored yet (the put follows the commit by up to a Lambda lifetime)
 *   would be missing from the count: a room is counted only once its newest commit is that old;
 * - a send or a read that read the room before the update and writes after it, from the old figures
 *   (the commit's condition only looks at the newest messageId and its own key, which the migration does not
 *   change): every room written is read again once such requests have timed out, and counted again
 *   if anything moved meanwhile.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { makeDocumentClient } from '../lambdas/adapters/clients.js';
import {
  ACTIVITY_PREFIX,
  BATCH_GET_LIMIT,
  BY_MESSAGE_ID,
  batchGet,
  batchWrite,
  chunks,
  type Item,
  isRecord,
  queryAll,
  ROOM_SK,
  str,
  updateIf,
} from '../lambdas/adapters/dynamo/items.js';
import { ulidTime } from '../lambdas/domain/message-id.js';
import type { SentCounts, UserId } from '../lambdas/domain/model.js';
import { activityBucket, RECENT_SEND_SECONDS, readCountAt } from '../lambdas/domain/room-commit.js';

export interface MigrateTables {
  readonly rooms: string;
  readonly messages: string;
}

export interface MigrateResult {
  /** Rooms brought to the counting scheme (or found already there). */
  readonly rooms: number;
  /** Message items whose counts were written. */
  readonly messages: number;
  /** Counts redone because a send or a read changed the room meanwhile. */
  readonly retried: number;
}

export interface MigrateOptions {
  /** Tries per room, both for updates lost to racing requests and for waits on a busy room. */
  readonly maxAttempts?: number;
  /**
   * How long a request may still write from what it read: the send and read functions time out
   * after 10 s; the default leaves room for clock skew between containers, as RECENT_SEND_SECONDS does.
   */
  readonly quietMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Rooms counted at once. */
  readonly concurrency?: number;
}

const DEFAULT_ATTEMPTS = 10;
const DEFAULT_CONCURRENCY = 16;
const FAILURES_LISTED = 20;
const PROGRESS_EVERY = 100;

export function migrate(
  db: DynamoDBDocumentClient,
  tables: MigrateTables,
  log: (line: string) => void,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  return new Migration(db, tables, log, options).run();
}

/** What a room item says, as far as the migration reads it. */
interface RoomState {
  readonly roomId: string;
  readonly participants: readonly UserId[];
  readonly updatedAt: string;
  readonly last: { readonly messageId: string; readonly senderId: UserId } | null;
  /** The `members` attribute, or null when the item has none. */
  readonly members: Item | null;
  readonly pointers: ReadonlyMap<UserId, string | null>;
  readonly hasRecent: boolean;
}

interface HistoryEntry {
  /** Null for a commit whose message was never stored: counted, but there is no item to write. */
  readonly dedupKey: string | null;
  readonly messageId: string;
  readonly senderId: UserId;
  readonly counts: unknown;
}

interface Tally {
  readonly fixes: readonly { readonly dedupKey: string; readonly counts: SentCounts }[];
  readonly sent: SentCounts;
  readonly read: SentCounts;
}

/** A room to look at again in a later round. */
type Pending =
  | {
      readonly kind: 'busy';
      readonly roomId: string;
      readonly due: number;
      readonly lastMessageId: string;
      readonly putBucket: string | undefined;
    }
  | {
      readonly kind: 'settle';
      readonly roomId: string;
      readonly due: number;
      readonly state: RoomState;
      readonly putBucket: string;
    };

type Outcome =
  | { readonly kind: 'done'; readonly wrote: boolean; readonly state: RoomState; readonly putBucket: string }
  | {
      readonly kind: 'busy';
      readonly due: number;
      readonly lastMessageId: string;
      readonly putBucket?: string;
    }
  | { readonly kind: 'failed'; readonly reason: string };

function readRoom(item: Item): RoomState {
  const participants = Array.isArray(item.participants) ? item.participants.map(String) : [];
  const members = isRecord(item.members) ? item.members : null;
  const last = isRecord(item.lastMessage) ? item.lastMessage : null;
  return {
    roomId: String(item.pk),
    participants,
    updatedAt: String(item.updatedAt),
    last: last === null ? null : { messageId: String(last.messageId), senderId: String(last.senderId) },
    members,
    pointers: new Map(participants.map((id) => [id, memberOf(members, id)?.lastRead ?? null])),
    hasRecent: isRecord(item.recent),
  };
}

function memberOf(members: Item | null, id: UserId): { record: Item; lastRead: string | null } | undefined {
  const record = members?.[id];
  return isRecord(record) ? { record, lastRead: str(record.lastRead) ?? null } : undefined;
}

/** Same newest message and read pointers: nothing that the counts depend on has moved. */
function sameState(a: RoomState, b: RoomState): boolean {
  if ((a.last?.messageId ?? null) !== (b.last?.messageId ?? null)) return false;
  return a.participants.every((id) => a.pointers.get(id) === b.pointers.get(id));
}

function sameCounts(stored: unknown, counts: SentCounts): boolean {
  if (!isRecord(stored)) return false;
  const keys = Object.keys(counts);
  return Object.keys(stored).length === keys.length && keys.every((id) => stored[id] === counts[id]);
}

/**
 * Counts history in messageId order. `last` is the room's newest commit: when history does not hold
 * it once its put is overdue, the send died between commit and put (README), and the new code
 * counts such a message in `sent`, so it is counted here too.
 */
function tally(room: RoomState, history: readonly HistoryEntry[]): Tally {
  const entries = [...history];
  if (room.last && !history.some((entry) => entry.messageId === room.last?.messageId)) {
    entries.push({
      dedupKey: null,
      messageId: room.last.messageId,
      senderId: room.last.senderId,
      counts: null,
    });
  }
  entries.sort((a, b) => (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));

  const running: Record<UserId, number> = Object.fromEntries(room.participants.map((id) => [id, 0]));
  const fixes: { dedupKey: string; counts: SentCounts }[] = [];
  const read: Record<UserId, number> = Object.fromEntries(room.participants.map((id) => [id, 0]));
  for (const entry of entries) {
    const sent = running[entry.senderId];
    if (sent !== undefined) running[entry.senderId] = sent + 1;
    const counts = { ...running };
    if (entry.dedupKey !== null && !sameCounts(entry.counts, counts)) {
      fixes.push({ dedupKey: entry.dedupKey, counts });
    }
    // Entries ascend, so the last one at or before a pointer leaves its counts here.
    for (const id of room.participants) {
      const pointer = room.pointers.get(id);
      if (pointer != null && entry.messageId <= pointer) read[id] = readCountAt(counts, id);
    }
  }
  return { fixes, sent: running, read };
}

class Migration {
  private readonly maxAttempts: number;
  private readonly quietMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly concurrency: number;
  private readonly done = new Set<string>();
  private readonly failed = new Map<string, string>();
  private pending: Pending[] = [];
  private roomsWritten = 0;
  private messages = 0;
  private retried = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: MigrateTables,
    private readonly log: (line: string) => void,
    options: MigrateOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
    this.quietMs = options.quietMs ?? RECENT_SEND_SECONDS * 1000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  async run(): Promise<MigrateResult> {
    let seen = 0;
    let startKey: Item | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tables.rooms,
          FilterExpression: '#sk = :room',
          ExpressionAttributeNames: { '#sk': 'sk' },
          ExpressionAttributeValues: { ':room': ROOM_SK },
          ExclusiveStartKey: startKey,
        }),
      );
      const readAt = this.now();
      await this.forEach(page.Items ?? [], async (item) => {
        await this.handle(item, readAt, {});
        if (++seen % PROGRESS_EVERY === 0) this.log(`migrate: ${seen} rooms scanned (${this.figures()})`);
      });
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    for (let round = 1; this.pending.length > 0 && round <= this.maxAttempts; round++) {
      const batch = this.pending;
      this.pending = [];
      const wait = Math.max(...batch.map((entry) => entry.due)) - this.now();
      const busy = batch.filter((entry) => entry.kind === 'busy').length;
      this.log(`migrate: round ${round}: ${batch.length - busy} rooms to check, ${busy} busy rooms to count`);
      if (wait > 0) await this.sleep(wait);
      const items = await this.readRooms(batch.map((entry) => entry.roomId));
      await this.forEach(batch, async (entry) => {
        const item = items.get(entry.roomId);
        if (!item) {
          this.fail(entry.roomId, 'room item vanished');
          return;
        }
        if (entry.kind === 'settle' && sameState(entry.state, readRoom(item))) return;
        await this.handle(item, this.now(), {
          readyLast: entry.kind === 'busy' ? entry.lastMessageId : undefined,
          putBucket: entry.putBucket,
        });
      });
    }
    for (const entry of this.pending) {
      this.fail(entry.roomId, entry.kind === 'busy' ? 'busy throughout' : 'still changing');
    }

    this.log(`migrate: finished: ${this.done.size} rooms (${this.figures()})`);
    if (this.failed.size > 0) {
      const rooms = [...this.failed]
        .slice(0, FAILURES_LISTED)
        .map(([roomId, reason]) => `${roomId} (${reason})`);
      const more = this.failed.size > FAILURES_LISTED ? ', ...' : '';
      this.log(`migrate: ${this.failed.size} rooms not migrated: ${rooms.join(', ')}${more}`);
      throw new Error(`${this.failed.size} rooms were not migrated; run the migration again`);
    }
    return { rooms: this.done.size, messages: this.messages, retried: this.retried };
  }

  /** `work` over `values`, at most `concurrency` at a time. */
  private async forEach<T>(values: readonly T[], work: (value: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let value = values[next++]; value !== undefined; value = values[next++]) await work(value);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, values.length) }, worker));
  }

  private figures(): string {
    return `${this.roomsWritten} room items written, ${this.messages} message counts written, ${this.retried} retried`;
  }

  private fail(roomId: string, reason: string): void {
    this.done.delete(roomId);
    this.failed.set(roomId, reason);
  }

  private async handle(
    item: Item,
    readAt: number,
    context: { readyLast?: string | undefined; putBucket?: string | undefined },
  ): Promise<void> {
    const roomId = String(item.pk);
    let outcome: Outcome;
    try {
      outcome = await this.migrateRoom(item, readAt, context.readyLast, context.putBucket);
    } catch (error) {
      // Throttling past the SDK's retries, say: the other rooms go on, and a later run does this one.
      outcome = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
    if (outcome.kind === 'failed') {
      this.fail(roomId, outcome.reason);
    } else if (outcome.kind === 'busy') {
      this.pending.push({
        kind: 'busy',
        roomId,
        due: outcome.due,
        lastMessageId: outcome.lastMessageId,
        putBucket: outcome.putBucket,
      });
    } else {
      this.done.add(roomId);
      // What this run wrote can still be overwritten by a request that read before it.
      if (outcome.wrote) {
        this.pending.push({
          kind: 'settle',
          roomId,
          due: this.now() + this.quietMs,
          state: outcome.state,
          putBucket: outcome.putBucket,
        });
      }
    }
  }

  /**
   * One room, counted against one state of its item and retried from the new state when the room
   * moved meanwhile. `readyLast` is a newest messageId whose earlier commits are known stored;
   * `putBucket` the activity bucket an earlier attempt filed the room under.
   */
  private async migrateRoom(
    first: Item,
    firstReadAt: number,
    readyLast: string | undefined,
    putBucket: string | undefined,
  ): Promise<Outcome> {
    let item = first;
    let readAt = firstReadAt;
    let ready = readyLast;
    let filed = putBucket;
    let wroteMessages = false;
    for (let attempt = 1; ; attempt++) {
      const room = readRoom(item);
      const last = room.last?.messageId;
      if (last !== undefined && last !== ready) {
        // The puts of every commit up to `last` end within quietMs of it, and of this read.
        const due = Math.min(readAt, ulidTime(last)) + this.quietMs;
        if (due > this.now()) {
          return {
            kind: 'busy',
            due,
            lastMessageId: last,
            ...(filed === undefined ? {} : { putBucket: filed }),
          };
        }
        ready = last;
      }

      const counted = tally(room, await this.history(room.roomId));
      for (const fix of counted.fixes) {
        if (await this.writeCounts(room.roomId, fix.dedupKey, fix.counts)) {
          this.messages++;
          wroteMessages = true;
        }
      }
      const bucket = activityBucket(room.updatedAt);
      await this.fileActivity(room, bucket, filed);
      filed = bucket;

      // The update's condition (or, when there is nothing to write, a fresh read) proves the room
      // still stood as counted after the activity entries were filed.
      const update = this.roomUpdate(room, counted);
      let moved: Item | undefined;
      if (update) {
        if (await updateIf(this.db, update)) {
          this.roomsWritten++;
        } else {
          moved = await this.getRoom(room.roomId);
          if (!moved) return { kind: 'failed', reason: 'room item vanished' };
        }
      } else {
        const current = await this.getRoom(room.roomId);
        if (current && !sameState(room, readRoom(current))) moved = current;
      }
      if (!moved) {
        return { kind: 'done', wrote: update !== undefined || wroteMessages, state: room, putBucket: bucket };
      }
      this.retried++;
      if (attempt >= this.maxAttempts) return { kind: 'failed', reason: `changed during ${attempt} counts` };
      item = moved;
      readAt = this.now();
    }
  }

  private async history(roomId: string): Promise<HistoryEntry[]> {
    const items = await queryAll(this.db, {
      TableName: this.tables.messages,
      IndexName: BY_MESSAGE_ID,
      KeyConditionExpression: '#roomId = :roomId',
      ProjectionExpression: '#dedupKey, #messageId, #senderId, #counts',
      ExpressionAttributeNames: {
        '#roomId': 'roomId',
        '#dedupKey': 'dedupKey',
        '#messageId': 'messageId',
        '#senderId': 'senderId',
        '#counts': 'counts',
      },
      ExpressionAttributeValues: { ':roomId': roomId },
      ScanIndexForward: true,
      // A message stored a moment ago must be counted.
      ConsistentRead: true,
    });
    return items.map((item) => ({
      dedupKey: String(item.dedupKey),
      messageId: String(item.messageId),
      senderId: String(item.senderId),
      counts: item.counts,
    }));
  }

  private writeCounts(roomId: string, dedupKey: string, counts: SentCounts): Promise<boolean> {
    return updateIf(this.db, {
      TableName: this.tables.messages,
      Key: { roomId, dedupKey },
      UpdateExpression: 'SET #counts = :counts',
      ConditionExpression: 'attribute_exists(#dedupKey)',
      ExpressionAttributeNames: { '#counts': 'counts', '#dedupKey': 'dedupKey' },
      ExpressionAttributeValues: { ':counts': counts },
    });
  }

  /**
   * Both participants' entries under `bucket`. Entries an earlier attempt filed under an older hour
   * are stale once a send has carried the room on (that send's own move may have run before them).
   */
  private async fileActivity(room: RoomState, bucket: string, earlier: string | undefined): Promise<void> {
    const key = (userId: UserId, hour: string) => ({
      pk: `${ACTIVITY_PREFIX}${userId}`,
      sk: `${hour}#${room.roomId}`,
    });
    await batchWrite(
      this.db,
      this.tables.rooms,
      room.participants.map((userId) => ({
        PutRequest: { Item: { ...key(userId, bucket), roomId: room.roomId } },
      })),
    );
    if (earlier !== undefined && earlier < bucket) {
      await batchWrite(
        this.db,
        this.tables.rooms,
        room.participants.map((userId) => ({ DeleteRequest: { Key: key(userId, earlier) } })),
      );
    }
  }

  /** The update that brings the room to `counted`, conditional on the state counted; none if it is there. */
  private roomUpdate(room: RoomState, counted: Tally): UpdateCommandInput | undefined {
    const current = room.participants.every((id) => {
      const member = memberOf(room.members, id)?.record;
      return (
        member !== undefined &&
        member.sent === counted.sent[id] &&
        member.read === counted.read[id] &&
        member.unread === undefined &&
        member.lastSent === undefined
      );
    });
    if (current && room.hasRecent) return undefined;

    // Every name aliased: user ids are arbitrary, and `read`, `sent` and others may be reserved.
    // Registered as used, since DynamoDB refuses an unused name or value.
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const name = (attribute: string, alias = `#${attribute}`) => {
      names[alias] = attribute;
      return alias;
    };
    const value = (alias: string, content: unknown) => {
      values[alias] = content;
      return alias;
    };
    const figures = (id: UserId) => ({ sent: counted.sent[id] ?? 0, read: counted.read[id] ?? 0 });
    const sets = [`${name('recent')} = if_not_exists(${name('recent')}, ${value(':empty', {})})`];
    const removes: string[] = [];
    const conditions = [`attribute_exists(${name('pk')})`];
    conditions.push(
      room.last
        ? `${name('lastMessage')}.${name('messageId')} = ${value(':last', room.last.messageId)}`
        : `attribute_not_exists(${name('lastMessage')})`,
    );
    if (room.members === null) {
      // Not written by any version of the code; whole, so the paths below need not exist.
      const members = Object.fromEntries(room.participants.map((id) => [id, figures(id)]));
      sets.push(`${name('members')} = ${value(':members', members)}`);
      conditions.push(`attribute_not_exists(${name('members')})`);
    }
    room.participants.forEach((id, i) => {
      if (room.members === null) return;
      const member = `${name('members')}.${name(id, `#m${i}`)}`;
      const found = memberOf(room.members, id);
      if (found === undefined) {
        sets.push(`${member} = ${value(`:member${i}`, figures(id))}`);
        conditions.push(`attribute_not_exists(${member})`);
        return;
      }
      sets.push(
        `${member}.${name('sent')} = ${value(`:sent${i}`, figures(id).sent)}`,
        `${member}.${name('read')} = ${value(`:read${i}`, figures(id).read)}`,
      );
      removes.push(`${member}.${name('unread')}`, `${member}.${name('lastSent')}`);
      conditions.push(
        found.lastRead === null
          ? `attribute_not_exists(${member}.${name('lastRead')})`
          : `${member}.${name('lastRead')} = ${value(`:lastRead${i}`, found.lastRead)}`,
      );
    });
    return {
      TableName: this.tables.rooms,
      Key: { pk: room.roomId, sk: ROOM_SK },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  private async getRoom(roomId: string): Promise<Item | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.rooms,
        Key: { pk: roomId, sk: ROOM_SK },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  private async readRooms(roomIds: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (const ids of chunks([...new Set(roomIds)], BATCH_GET_LIMIT)) {
      const items = await batchGet(this.db, {
        [this.tables.rooms]: { Keys: ids.map((pk) => ({ pk, sk: ROOM_SK })), ConsistentRead: true },
      });
      for (const item of items[this.tables.rooms] ?? []) found.set(String(item.pk), item);
    }
    return found;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { 'rooms-table': { type: 'string' }, 'messages-table': { type: 'string' } },
  });
  const rooms = values['rooms-table'];
  const messages = values['messages-table'];
  if (rooms === undefined || messages === undefined) {
    throw new Error('usage: npm run migrate -- --rooms-table <name> --messages-table <name>');
  }
  // Region and credentials come from the SDK's environment; more retries than a handler's, as a
  // whole-table pass may meet throttling on provisioned tables.
  const db = makeDocumentClient(new DynamoDBClient({ maxAttempts: 10 }));
  const result = await migrate(db, { rooms, messages }, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
