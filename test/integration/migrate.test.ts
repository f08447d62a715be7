/**
 * scripts/migrate.ts on DynamoDB Local: rooms and messages written in the shape of the code before
 * the counting scheme are migrated, then judged through the product's own services (chat list,
 * markRead, send), including sends and reads that race the migration.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoChatStore } from '../../lambdas/adapters/dynamo/chat-store.js';
import { dedupKey, type Item, type TableNames } from '../../lambdas/adapters/dynamo/items.js';
import { ChatService } from '../../lambdas/domain/chat-service.js';
import { ulidTime } from '../../lambdas/domain/message-id.js';
import type { MessageOut, UserId } from '../../lambdas/domain/model.js';
import { roomIdFor } from '../../lambdas/domain/validation.js';
import { type MigrateResult, migrate } from '../../scripts/migrate.js';
import { FixedClock, sequentialUlids, ulidAt } from '../fakes/clock.js';
import { makeFiles } from '../fakes/files.js';
import { RecordingLogger } from '../fakes/logger.js';
import { RecordingNotifier } from '../fakes/notifier.js';
import { localDynamoClient, localTables } from './support/dynamo.js';
import { localStack } from './support/stack-info.js';
import { uniqueUserId } from './support/users.js';

// Old history lies hours before the services' clock, as on a stack upgraded after a while.
const HISTORY_START = Date.parse('2026-11-24T08:00:00.000Z');
const minute = (n: number) => new Date(HISTORY_START + n * 60_000).toISOString();
const clock = new FixedClock('2026-11-24T12:00:00.000Z');
// One generator for every service: two would hand out the same ids at the same instant.
const newMessageId = sequentialUlids();

let client: DynamoDBDocumentClient | undefined;

function local(): { doc: DynamoDBDocumentClient; tables: TableNames } {
  const stack = localStack();
  client ??= DynamoDBDocumentClient.from(localDynamoClient(stack.dynamoEndpoint, stack.env));
  return { doc: client, tables: localTables(stack.env) };
}

function service(doc: DynamoDBDocumentClient): ChatService {
  return new ChatService({
    store: dynamoChatStore(doc, local().tables, clock),
    notifier: new RecordingNotifier(),
    clock,
    newMessageId,
    logger: new RecordingLogger(),
    files: makeFiles(),
    fanOut: { backoffMs: () => 0, sleep: () => Promise.resolve() },
  });
}

/** The migration as the tests run it: no wait for in-flight requests, none is left in flight. */
async function migrated(doc: DynamoDBDocumentClient): Promise<MigrateResult & { log: string[] }> {
  const log: string[] = [];
  const result = await migrate(doc, local().tables, (line) => log.push(line), { quietMs: 0 });
  return { ...result, log };
}

async function putAll(table: string, items: readonly Item[]): Promise<void> {
  const { doc } = local();
  for (let i = 0; i < items.length; i += 25) {
    const { UnprocessedItems } = await doc.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    expect(UnprocessedItems ?? {}).toEqual({});
  }
}

interface OldRoom {
  readonly roomId: string;
  /** The seeded messages' ids, in order. */
  readonly ids: readonly string[];
}

/**
 * A room exactly as the old code left it: `unread` counts, `lastSent` pointers, no `sent`/`read`,
 * no `recent`, no activity entries, messages without `counts`. `senders` are the messages' senders
 * in order; `pointers` the index of the message each user had read up to.
 */
async function seedOldRoom(
  [x, y]: readonly [UserId, UserId],
  senders: readonly UserId[],
  pointers: Readonly<Record<UserId, number>>,
  createdMinute: number,
): Promise<OldRoom> {
  const { doc, tables } = local();
  const store = dynamoChatStore(doc, tables, clock);
  for (const id of [x, y]) await store.createProfileIfMissing(id, id);
  const participants = [x, y].sort();
  const roomId = roomIdFor(x, y);
  const messages = senders.map((senderId, i) => {
    const sentAt = minute(createdMinute + i + 1);
    const messageId = ulidAt(sentAt, i + 1);
    // Every other message without a clientMessageId, as raw clients may send.
    const clientMessageId = i % 2 === 0 ? `c${i}` : undefined;
    return {
      roomId,
      dedupKey: dedupKey(senderId, clientMessageId, messageId),
      messageId,
      senderId,
      content: `m${i}`,
      sentAt,
      ...(clientMessageId === undefined ? {} : { clientMessageId }),
    };
  });
  const members = Object.fromEntries(
    participants.map((id) => {
      const pointer = pointers[id];
      const lastSent = messages.filter((m) => m.senderId === id).at(-1)?.messageId;
      const unread = messages.filter(
        (m, i) => m.senderId !== id && (pointer === undefined || i > pointer),
      ).length;
      const lastRead = pointer === undefined ? undefined : messages[pointer]?.messageId;
      return [
        id,
        {
          unread,
          ...(lastRead === undefined ? {} : { lastRead }),
          ...(lastSent === undefined ? {} : { lastSent }),
        },
      ];
    }),
  );
  const last = messages.at(-1);
  const lastMessage =
    last === undefined
      ? undefined
      : {
          messageId: last.messageId,
          roomId,
          senderId: last.senderId,
          content: last.content,
          sentAt: last.sentAt,
          ...(last.clientMessageId === undefined ? {} : { clientMessageId: last.clientMessageId }),
        };
  await putAll(tables.messages, messages);
  await putAll(tables.rooms, [
    {
      pk: roomId,
      sk: 'room',
      participants,
      createdAt: minute(createdMinute),
      updatedAt: last?.sentAt ?? minute(createdMinute),
      members,
      ...(lastMessage === undefined ? {} : { lastMessage }),
    },
    ...participants.map((id) => ({
      pk: `member#${id}`,
      sk: roomId,
      peers: participants.filter((peer) => peer !== id),
      createdAt: minute(createdMinute),
    })),
  ]);
  return { roomId, ids: messages.map((m) => m.messageId) };
}

async function chatList(
  chat: ChatService,
  userId: UserId,
): Promise<{ roomId: string; unreadCount: number }[]> {
  const { rooms } = await chat.rooms.listRooms(userId, 50, undefined);
  return rooms.map(({ roomId, unreadCount }) => ({ roomId, unreadCount }));
}

/** The counts a message was stored with, as the product reads them. */
async function countsOf(roomId: string, messageId: string) {
  const { doc, tables } = local();
  const stored = await dynamoChatStore(doc, tables, clock).getMessage(roomId, messageId);
  expect(stored, `message ${messageId}`).toBeDefined();
  return stored?.counts;
}

const id = (ids: readonly string[], index: number): string => {
  const value = ids[index];
  if (value === undefined) throw new Error(`no message ${index}`);
  return value;
};

async function send(chat: ChatService, userId: UserId, roomId: string, content: string): Promise<MessageOut> {
  const message = await chat.messaging.sendMessage({ userId }, { roomId, content, clientMessageId: content });
  clock.advance(1000);
  return message;
}

/** A document client that runs `before`/`after` around each request it sends (after: only on success). */
function intercepted(
  doc: DynamoDBDocumentClient,
  hooks: { before?: (command: unknown) => Promise<void>; after?: (command: unknown) => Promise<void> },
): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      const send: DynamoDBDocumentClient['send'] = async (command: Parameters<typeof target.send>[0]) => {
        await hooks.before?.(command);
        const output = await target.send(command);
        await hooks.after?.(command);
        return output;
      };
      return send;
    },
  });
}

/** The migration's update of this room item (it alone removes `unread`). */
const isMigrationUpdate = (command: unknown, roomId: string): boolean =>
  command instanceof UpdateCommand &&
  command.input.Key?.pk === roomId &&
  (command.input.UpdateExpression ?? '').includes('REMOVE');

/** A send's commit of this room (the conditional update that writes the last message). */
const isCommit = (command: unknown, roomId: string): boolean =>
  command instanceof UpdateCommand &&
  command.input.Key?.pk === roomId &&
  (command.input.UpdateExpression ?? '').includes('lastMessage = :message');

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('npm run migrate on rooms written before the counting scheme', () => {
  it('gives exact unread counts, lists the rooms, and lets reads and sends go on from the totals', async () => {
    const { doc } = local();
    const chat = service(doc);
    const [ann, bob, cat] = [uniqueUserId('ann'), uniqueUserId('bob'), uniqueUserId('cat')];
    // Ann 5, Bob 3; Ann has read up to Bob's second message (index 4), Bob has read nothing.
    const talk = await seedOldRoom([ann, bob], [ann, ann, bob, ann, bob, ann, bob, ann], { [ann]: 4 }, 0);
    const quiet = await seedOldRoom([ann, cat], [], {}, 30);

    // Unmigrated rooms are missing from the chat list (README).
    expect(await chatList(chat, ann)).toEqual([]);

    const first = await migrated(doc);
    expect(first.rooms).toBeGreaterThanOrEqual(2);
    expect(first.messages).toBeGreaterThanOrEqual(8);
    expect(first.log.at(-1)).toMatch(/^migrate: finished: \d+ rooms/);

    expect(await chatList(chat, ann)).toEqual([
      { roomId: quiet.roomId, unreadCount: 0 },
      { roomId: talk.roomId, unreadCount: 1 },
    ]);
    expect(await chatList(chat, bob)).toEqual([{ roomId: talk.roomId, unreadCount: 5 }]);
    expect(await chatList(chat, cat)).toEqual([{ roomId: quiet.roomId, unreadCount: 0 }]);
    // Cumulative per sender, in messageId order.
    const expected = [
      [1, 0],
      [2, 0],
      [2, 1],
      [3, 1],
      [3, 2],
      [4, 2],
      [4, 3],
      [5, 3],
    ];
    for (const [i, [a, b]] of expected.entries()) {
      expect(await countsOf(talk.roomId, id(talk.ids, i))).toEqual({ [ann]: a, [bob]: b });
    }

    // Bob reads up to Ann's third message (index 3): 2 of her 5 left.
    const read = await chat.messaging.markRead({ userId: bob }, talk.roomId, id(talk.ids, 3));
    expect(read.unreadCount).toBe(2);

    const sent = await send(chat, ann, talk.roomId, 'after the upgrade');
    expect(await countsOf(talk.roomId, sent.messageId)).toEqual({ [ann]: 6, [bob]: 3 });
    const after = {
      ann: [
        { roomId: talk.roomId, unreadCount: 1 },
        { roomId: quiet.roomId, unreadCount: 0 },
      ],
      bob: [{ roomId: talk.roomId, unreadCount: 3 }],
    };
    expect(await chatList(chat, ann)).toEqual(after.ann);
    expect(await chatList(chat, bob)).toEqual(after.bob);

    // Run again: nothing left to write, the same figures.
    const second = await migrated(doc);
    expect(second).toMatchObject({ rooms: first.rooms, messages: 0, retried: 0 });
    expect(second.log.at(-1)).toContain('(0 room items written, 0 message counts written, 0 retried)');
    expect(await chatList(chat, ann)).toEqual(after.ann);
    expect(await chatList(chat, bob)).toEqual(after.bob);
    expect(await countsOf(talk.roomId, sent.messageId)).toEqual({ [ann]: 6, [bob]: 3 });
  });

  it('counts again when a send commits between its count and its room update', async () => {
    const { doc } = local();
    const chat = service(doc);
    const [dan, eve] = [uniqueUserId('dan'), uniqueUserId('eve')];
    // Dan 2, Eve 1; Eve has read Dan's first.
    const room = await seedOldRoom([dan, eve], [dan, eve, dan], { [eve]: 0 }, 0);

    let racing: MessageOut | undefined;
    const result = await migrated(
      intercepted(doc, {
        before: async (command) => {
          if (racing === undefined && isMigrationUpdate(command, room.roomId)) {
            racing = await send(chat, eve, room.roomId, 'racing the migration');
          }
        },
      }),
    );

    expect(racing).toBeDefined();
    expect(result.retried).toBe(1);
    expect(await chatList(chat, dan)).toEqual([{ roomId: room.roomId, unreadCount: 2 }]);
    expect(await chatList(chat, eve)).toEqual([{ roomId: room.roomId, unreadCount: 1 }]);
    // Committed on the unmigrated room from zeros, recounted by the retry.
    expect(await countsOf(room.roomId, racing?.messageId ?? '')).toEqual({ [dan]: 2, [eve]: 2 });
    const next = await send(chat, dan, room.roomId, 'and after it');
    expect(await countsOf(room.roomId, next.messageId)).toEqual({ [dan]: 3, [eve]: 2 });
    expect(await chatList(chat, eve)).toEqual([{ roomId: room.roomId, unreadCount: 2 }]);
  });

  it('counts again when a read pointer moves between its count and its room update', async () => {
    const { doc } = local();
    const chat = service(doc);
    const [dan, eve] = [uniqueUserId('dan'), uniqueUserId('eve')];
    const room = await seedOldRoom([dan, eve], [dan, eve, dan, eve], {}, 0);

    let moved = false;
    const result = await migrated(
      intercepted(doc, {
        before: async (command) => {
          if (!moved && isMigrationUpdate(command, room.roomId)) {
            moved = true;
            // Dan reads Eve's first message: 1 of her 2.
            await chat.messaging.markRead({ userId: dan }, room.roomId, id(room.ids, 1));
          }
        },
      }),
    );

    expect(moved).toBe(true);
    expect(result.retried).toBe(1);
    expect(await chatList(chat, dan)).toEqual([{ roomId: room.roomId, unreadCount: 1 }]);
    expect(await chatList(chat, eve)).toEqual([{ roomId: room.roomId, unreadCount: 2 }]);
  });

  it('repairs a send that read the room before the update and commits after it', async () => {
    const { doc } = local();
    const [dan, eve] = [uniqueUserId('dan'), uniqueUserId('eve')];
    const room = await seedOldRoom([dan, eve], [dan, eve, dan], { [eve]: 0 }, 0);

    // The send reads the unmigrated room, then its commit waits until the migration has written.
    const commitReached = gate();
    const commitReleased = gate();
    const slowSender = service(
      intercepted(doc, {
        before: async (command) => {
          if (isCommit(command, room.roomId)) {
            commitReached.open();
            await commitReleased.promise;
          }
        },
      }),
    );
    let sending: Promise<MessageOut> | undefined;
    let stale: MessageOut | undefined;
    const result = await migrated(
      intercepted(doc, {
        before: async (command) => {
          if (sending === undefined && isMigrationUpdate(command, room.roomId)) {
            sending = send(slowSender, dan, room.roomId, 'read before, committed after');
            await commitReached.promise;
          }
        },
        after: async (command) => {
          if (sending !== undefined && stale === undefined && isMigrationUpdate(command, room.roomId)) {
            commitReleased.open();
            stale = await sending;
          }
        },
      }),
    );

    // Its condition passed (the migration keeps the last message), so nothing was retried:
    // the second look after the update found the room moved and counted it again.
    expect(stale).toBeDefined();
    expect(result.retried).toBe(0);
    expect(result.log.some((line) => line.startsWith('migrate: round 1'))).toBe(true);
    const chat = service(doc);
    expect(await countsOf(room.roomId, stale?.messageId ?? '')).toEqual({ [dan]: 3, [eve]: 1 });
    expect(await chatList(chat, eve)).toEqual([{ roomId: room.roomId, unreadCount: 2 }]);
    expect(await chatList(chat, dan)).toEqual([{ roomId: room.roomId, unreadCount: 1 }]);
  });

  it('waits for the messages of recent commits to be stored before counting a room', async () => {
    const { doc, tables } = local();
    const [dan, eve] = [uniqueUserId('dan'), uniqueUserId('eve')];
    const room = await seedOldRoom([dan, eve], [dan, eve, dan], {}, 0);
    // Eve's message was committed before Dan's last one, and its put is still on its way: the
    // room's newest message alone does not show it missing.
    const key = { roomId: room.roomId, dedupKey: dedupKey(eve, undefined, id(room.ids, 1)) };
    const { Item: inFlight } = await doc.send(new GetCommand({ TableName: tables.messages, Key: key }));
    expect(inFlight).toBeDefined();
    await doc.send(new DeleteCommand({ TableName: tables.messages, Key: key }));

    // The migration's clock stands 2 s after the last message; its sleeps move that clock, and the
    // put lands during the first.
    let now = ulidTime(id(room.ids, 2)) + 2000;
    const sleeps: number[] = [];
    await migrate(doc, tables, () => {}, {
      quietMs: 15_000,
      now: () => now,
      sleep: async (ms) => {
        if (sleeps.length === 0)
          await doc.send(new PutCommand({ TableName: tables.messages, Item: inFlight }));
        sleeps.push(ms);
        now += ms;
      },
    });

    expect(sleeps[0]).toBeGreaterThanOrEqual(13_000);
    const chat = service(doc);
    expect(await chatList(chat, dan)).toEqual([{ roomId: room.roomId, unreadCount: 1 }]);
    expect(await chatList(chat, eve)).toEqual([{ roomId: room.roomId, unreadCount: 2 }]);
    expect(await countsOf(room.roomId, id(room.ids, 2))).toEqual({ [dan]: 2, [eve]: 1 });
  });
});
