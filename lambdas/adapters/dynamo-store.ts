/**
 * The ChatStore port on DynamoDB. Item shapes (see definitions/tables.ts for the keys):
 *   rooms:       { pk: roomId, sk: "room", participants, createdAt, updatedAt, lastMessage?, members: { [userId]: { unread, lastRead?, lastSent? } } }
 *                { pk: "member#" + userId, sk: roomId, peers }
 *   messages:    { roomId, dedupKey, messageId, senderId, content, sentAt, clientMessageId? }
 *   connections: { connectionId, userId, roomId?, connectedAt, expiresAt }
 *   users:       { userId, displayName, avatarUrl?, createdAt, lastSeenAt?, "conn#" + connectionId: { expiresAt, roomId? } }
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { countLiveConnections } from '../domain/fan-out.js';
import type {
  ConnectionRef,
  MemberState,
  Message,
  Room,
  RoomId,
  UserId,
  UserProfile,
} from '../domain/model.js';
import type {
  ChatStore,
  Membership,
  MessagePage,
  MessagePageQuery,
  ProfileChanges,
  PutMessageResult,
  RecordMode,
} from '../domain/ports.js';

export interface TableNames {
  readonly rooms: string;
  readonly messages: string;
  readonly connections: string;
  readonly users: string;
}

type Item = Record<string, unknown>;

const ROOM_SK = 'room';
const MEMBER_PREFIX = 'member#';
const CONNECTION_PREFIX = 'conn#';
const BY_MESSAGE_ID = 'byMessageId';
const BATCH_GET_LIMIT = 100;
const MAX_BATCH_RETRIES = 8;
const CREATE_ROOM_ATTEMPTS = 3;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);
const isRecord = (value: unknown): value is Item => typeof value === 'object' && value !== null;

/** The sender's clientMessageId is the key, so a retry hits the same item; no id means no dedup. */
function dedupKey(message: Message): string {
  return message.clientMessageId === undefined
    ? `id#${message.messageId}`
    : `client#${message.senderId}#${message.clientMessageId}`;
}

function toMessage(item: Item): Message {
  const clientMessageId = str(item.clientMessageId);
  return {
    messageId: String(item.messageId),
    roomId: String(item.roomId),
    senderId: String(item.senderId),
    content: String(item.content),
    sentAt: String(item.sentAt),
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
  };
}

function toRoom(item: Item): Room {
  const members: Record<UserId, MemberState> = {};
  if (isRecord(item.members)) {
    for (const [userId, state] of Object.entries(item.members)) {
      const record = isRecord(state) ? state : {};
      const lastSent = str(record.lastSent);
      members[userId] = {
        lastReadMessageId: str(record.lastRead) ?? null,
        unreadCount: num(record.unread),
        ...(lastSent === undefined ? {} : { lastSentMessageId: lastSent }),
      };
    }
  }
  return {
    roomId: String(item.pk),
    participants: Array.isArray(item.participants) ? item.participants.map(String) : [],
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    lastMessage: isRecord(item.lastMessage) ? toMessage(item.lastMessage) : null,
    members,
  };
}

function toUser(item: Item): UserProfile {
  const connections: ConnectionRef[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(CONNECTION_PREFIX) || !isRecord(value)) continue;
    const roomId = str(value.roomId);
    connections.push({
      connectionId: name.slice(CONNECTION_PREFIX.length),
      expiresAt: num(value.expiresAt),
      ...(roomId === undefined ? {} : { roomId }),
    });
  }
  const userId = String(item.userId);
  return {
    userId,
    displayName: str(item.displayName) ?? userId,
    avatarUrl: str(item.avatarUrl) ?? null,
    lastSeenAt: str(item.lastSeenAt) ?? null,
    connections,
  };
}

function countLive(item: Item | undefined, nowSeconds: number): number {
  return item ? countLiveConnections(toUser(item), new Date(nowSeconds * 1000)) : 0;
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < values.length; i += size) result.push(values.slice(i, i + size));
  return result;
}

export class DynamoChatStore implements ChatStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  // ---------------------------------------------------------------- rooms

  async getRoom(roomId: RoomId): Promise<Room | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.rooms, Key: { pk: roomId, sk: ROOM_SK } }),
    );
    return Item ? toRoom(Item) : undefined;
  }

  async getRoomAndUsers(roomId: RoomId, userIds: readonly UserId[]) {
    const found = await this.batchGet({
      [this.tables.rooms]: { Keys: [{ pk: roomId, sk: ROOM_SK }] },
      ...(userIds.length > 0 ? { [this.tables.users]: { Keys: userIds.map((userId) => ({ userId })) } } : {}),
    });
    const roomItem = found[this.tables.rooms]?.[0];
    const users = new Map(
      (found[this.tables.users] ?? []).map((item) => [String(item.userId), toUser(item)]),
    );
    return { room: roomItem ? toRoom(roomItem) : undefined, users };
  }

  async getRooms(roomIds: readonly RoomId[]): Promise<Room[]> {
    const rooms: Room[] = [];
    for (const ids of chunks(roomIds, BATCH_GET_LIMIT)) {
      const found = await this.batchGet({
        [this.tables.rooms]: { Keys: ids.map((pk) => ({ pk, sk: ROOM_SK })) },
      });
      rooms.push(...(found[this.tables.rooms] ?? []).map(toRoom));
    }
    return rooms;
  }

  async createRoom(room: Room): Promise<'created' | 'exists'> {
    // Both participants starting the room at the same moment run two transactions on the same
    // items: DynamoDB cancels one with TransactionConflict (not retried by the SDK). Once the other
    // has finished, a retry answers for sure: created, or exists.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createRoomOnce(room);
      } catch (error) {
        const conflict =
          error instanceof TransactionCanceledException &&
          (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
        if (!conflict || attempt >= CREATE_ROOM_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt * (0.5 + Math.random() / 2)));
      }
    }
  }

  private async createRoomOnce(room: Room): Promise<'created' | 'exists'> {
    const members = Object.fromEntries(room.participants.map((id) => [id, { unread: 0 }]));
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.rooms,
                Item: {
                  pk: room.roomId,
                  sk: ROOM_SK,
                  participants: room.participants,
                  createdAt: room.createdAt,
                  updatedAt: room.updatedAt,
                  members,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...room.participants.map((userId) => ({
              Put: {
                TableName: this.tables.rooms,
                Item: {
                  pk: `${MEMBER_PREFIX}${userId}`,
                  sk: room.roomId,
                  peers: room.participants.filter((id) => id !== userId),
                  createdAt: room.createdAt,
                },
              },
            })),
          ],
        }),
      );
      return 'created';
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return 'exists';
      }
      throw error;
    }
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    const items = await this.queryAll({
      TableName: this.tables.rooms,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${MEMBER_PREFIX}${userId}` },
    });
    return items.map((item) => ({
      roomId: String(item.sk),
      peers: Array.isArray(item.peers) ? item.peers.map(String) : [],
    }));
  }

  async recordMessage(
    roomId: RoomId,
    message: Message,
    recipients: readonly UserId[],
    mode: RecordMode,
  ): Promise<'recorded' | 'skipped'> {
    const key = { pk: roomId, sk: ROOM_SK };
    const names: Record<string, string> = { '#sender': message.senderId };
    const increments = recipients.map((userId, i) => {
      names[`#r${i}`] = userId;
      return `members.#r${i}.unread = members.#r${i}.unread + :one`;
    });
    const counted = { ':one': 1, ':messageId': message.messageId };
    const lastMessageOlder = '(attribute_not_exists(lastMessage) OR lastMessage.messageId < :messageId)';
    const lastSentOlder =
      '(attribute_not_exists(members.#sender.lastSent) OR members.#sender.lastSent < :messageId)';
    const setLastMessage = { ':message': { ...message }, ':sentAt': message.sentAt };

    // The common case, one request: newest message of the room and of its sender.
    if (
      mode === 'new' &&
      (await this.updateIf({
        TableName: this.tables.rooms,
        Key: key,
        UpdateExpression: `SET ${['lastMessage = :message', 'updatedAt = :sentAt', 'members.#sender.lastSent = :messageId', ...increments].join(', ')}`,
        ConditionExpression: `attribute_exists(pk) AND ${lastMessageOlder} AND ${lastSentOlder}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...counted, ...setLastMessage },
      }))
    ) {
      return 'recorded';
    }
    // A newer message is already the room's last (a concurrent send), or this is the repair of a
    // send that died before recording: count it unless the sender's pointer says it was counted.
    if (
      await this.updateIf({
        TableName: this.tables.rooms,
        Key: key,
        UpdateExpression: `SET ${['members.#sender.lastSent = :messageId', ...increments].join(', ')}`,
        ConditionExpression: `attribute_exists(pk) AND ${lastSentOlder}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: counted,
      })
    ) {
      if (mode === 'repair') {
        await this.updateIf({
          TableName: this.tables.rooms,
          Key: key,
          UpdateExpression: 'SET lastMessage = :message, updatedAt = :sentAt',
          ConditionExpression: lastMessageOlder,
          ExpressionAttributeValues: { ':messageId': message.messageId, ...setLastMessage },
        });
      }
      return 'recorded';
    }
    // The sender's own newer message got there first (two devices): count this one, which its
    // pointer now hides, unless the pointer stands at this very message (a retry counted it).
    if (
      mode === 'new' &&
      (await this.updateIf({
        TableName: this.tables.rooms,
        Key: key,
        UpdateExpression: `SET ${increments.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk) AND members.#sender.lastSent <> :messageId',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: counted,
      }))
    ) {
      return 'recorded';
    }
    return 'skipped';
  }

  async setUnreadCount(roomId: RoomId, userId: UserId, unreadCount: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tables.rooms,
        Key: { pk: roomId, sk: ROOM_SK },
        UpdateExpression: 'SET members.#u.unread = :unread',
        ConditionExpression: 'attribute_exists(members.#u)',
        ExpressionAttributeNames: { '#u': userId },
        ExpressionAttributeValues: { ':unread': unreadCount },
      }),
    );
  }

  async advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    unreadCount: number,
  ): Promise<boolean> {
    return this.updateIf({
      TableName: this.tables.rooms,
      Key: { pk: roomId, sk: ROOM_SK },
      UpdateExpression: 'SET members.#u.lastRead = :messageId, members.#u.unread = :unread',
      ConditionExpression:
        'attribute_exists(members.#u) AND (attribute_not_exists(members.#u.lastRead) OR members.#u.lastRead < :messageId)',
      ExpressionAttributeNames: { '#u': userId },
      ExpressionAttributeValues: { ':messageId': messageId, ':unread': unreadCount },
    });
  }

  // ---------------------------------------------------------------- messages

  async putMessage(message: Message): Promise<PutMessageResult> {
    const key = { roomId: message.roomId, dedupKey: dedupKey(message) };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tables.messages,
          Item: { ...key, ...message },
          ConditionExpression: 'attribute_not_exists(dedupKey)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'stored' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item) return { status: 'duplicate', existing: toMessage(unmarshall(error.Item)) };
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tables.messages, Key: key, ConsistentRead: true }),
      );
      if (!Item) throw new Error('duplicate message reported but not found');
      return { status: 'duplicate', existing: toMessage(Item) };
    }
  }

  async listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage> {
    const forward = query.after !== undefined;
    const bound = query.after ?? query.before;
    const items = await this.queryAll(
      {
        TableName: this.tables.messages,
        IndexName: BY_MESSAGE_ID,
        KeyConditionExpression:
          bound === undefined
            ? 'roomId = :roomId'
            : `roomId = :roomId AND messageId ${forward ? '>' : '<'} :bound`,
        ExpressionAttributeValues: { ':roomId': roomId, ...(bound === undefined ? {} : { ':bound': bound }) },
        ScanIndexForward: forward,
        Limit: query.limit + 1,
      },
      query.limit + 1,
    );
    const page = items.slice(0, query.limit).map(toMessage);
    return { messages: forward ? page : page.reverse(), hasMore: items.length > query.limit };
  }

  async getMessage(roomId: RoomId, messageId: string): Promise<Message | undefined> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tables.messages,
        IndexName: BY_MESSAGE_ID,
        KeyConditionExpression: 'roomId = :roomId AND messageId = :messageId',
        ExpressionAttributeValues: { ':roomId': roomId, ':messageId': messageId },
      }),
    );
    const item = Items?.[0];
    return item ? toMessage(item) : undefined;
  }

  async countMessagesAfter(
    roomId: RoomId,
    afterMessageId: string,
    excludeSender: UserId,
    cap: number,
  ): Promise<number> {
    let count = 0;
    let startKey: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tables.messages,
          IndexName: BY_MESSAGE_ID,
          KeyConditionExpression: 'roomId = :roomId AND messageId > :after',
          FilterExpression: 'senderId <> :me',
          ExpressionAttributeValues: { ':roomId': roomId, ':after': afterMessageId, ':me': excludeSender },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && count < cap);
    return Math.min(count, cap);
  }

  // ---------------------------------------------------------------- users

  async getUser(userId: UserId): Promise<UserProfile | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tables.users, Key: { userId } }));
    return Item && str(Item.displayName) !== undefined ? toUser(Item) : undefined;
  }

  async getUsers(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, UserProfile>> {
    const users = new Map<UserId, UserProfile>();
    for (const ids of chunks([...new Set(userIds)], BATCH_GET_LIMIT)) {
      const found = await this.batchGet({ [this.tables.users]: { Keys: ids.map((userId) => ({ userId })) } });
      for (const item of found[this.tables.users] ?? []) users.set(String(item.userId), toUser(item));
    }
    return users;
  }

  async createProfileIfMissing(userId: UserId, displayName: string): Promise<UserProfile> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { userId },
        UpdateExpression:
          'SET displayName = if_not_exists(displayName, :name), createdAt = if_not_exists(createdAt, :now)',
        ExpressionAttributeValues: {
          ':name': displayName,
          ':now': new Date(this.nowSeconds() * 1000).toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toUser(Attributes ?? { userId, displayName });
  }

  async updateProfile(
    userId: UserId,
    changes: ProfileChanges,
    defaultDisplayName: string,
  ): Promise<UserProfile> {
    const set = ['createdAt = if_not_exists(createdAt, :now)'];
    const values: Record<string, unknown> = { ':now': new Date(this.nowSeconds() * 1000).toISOString() };
    if (changes.displayName === undefined) {
      set.push('displayName = if_not_exists(displayName, :name)');
      values[':name'] = defaultDisplayName;
    } else {
      set.push('displayName = :name');
      values[':name'] = changes.displayName;
    }
    if (changes.avatarUrl !== undefined) {
      set.push('avatarUrl = :avatar');
      values[':avatar'] = changes.avatarUrl;
    }
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { userId },
        UpdateExpression: `SET ${set.join(', ')}`,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toUser(Attributes ?? { userId });
  }

  // ---------------------------------------------------------------- connections

  async addConnection(
    userId: UserId,
    connection: ConnectionRef,
    connectedAt: string,
    defaultDisplayName: string,
  ): Promise<number> {
    const scope = connection.roomId === undefined ? {} : { roomId: connection.roomId };
    const [, updated] = await Promise.all([
      this.db.send(
        new PutCommand({
          TableName: this.tables.connections,
          Item: {
            connectionId: connection.connectionId,
            userId,
            connectedAt,
            expiresAt: connection.expiresAt,
            ...scope,
          },
        }),
      ),
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.users,
          Key: { userId },
          UpdateExpression:
            'SET #connection = :connection, displayName = if_not_exists(displayName, :name), createdAt = if_not_exists(createdAt, :now)',
          ExpressionAttributeNames: { '#connection': `${CONNECTION_PREFIX}${connection.connectionId}` },
          ExpressionAttributeValues: {
            ':connection': { expiresAt: connection.expiresAt, ...scope },
            ':name': defaultDisplayName,
            ':now': connectedAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    ]);
    return countLive(updated.Attributes, this.nowSeconds());
  }

  async removeConnection(userId: UserId, connectionId: string, lastSeenAt: string | null): Promise<number> {
    const [, remaining] = await Promise.all([
      this.db.send(new DeleteCommand({ TableName: this.tables.connections, Key: { connectionId } })),
      this.db
        .send(
          new UpdateCommand({
            TableName: this.tables.users,
            Key: { userId },
            UpdateExpression: `${lastSeenAt === null ? '' : 'SET lastSeenAt = :lastSeenAt '}REMOVE #connection`,
            ConditionExpression: 'attribute_exists(userId)',
            ExpressionAttributeNames: { '#connection': `${CONNECTION_PREFIX}${connectionId}` },
            ...(lastSeenAt === null ? {} : { ExpressionAttributeValues: { ':lastSeenAt': lastSeenAt } }),
            ReturnValues: 'ALL_NEW',
          }),
        )
        .then(
          (output) => countLive(output.Attributes, this.nowSeconds()),
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return 0;
            throw error;
          },
        ),
    ]);
    return remaining;
  }

  // ---------------------------------------------------------------- helpers

  /** An UpdateItem whose failed condition is an answer (false), not an error. */
  private async updateIf(input: UpdateCommandInput): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** BatchGetItem with the retries of unprocessed keys that DynamoDB asks for under load. */
  private async batchGet(
    requestItems: NonNullable<BatchGetCommandInput['RequestItems']>,
  ): Promise<Record<string, Item[]>> {
    const found: Record<string, Item[]> = {};
    let pending: BatchGetCommandInput['RequestItems'] = requestItems;
    for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
      if (attempt > MAX_BATCH_RETRIES) throw new Error('BatchGetItem left keys unprocessed after retries');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      const output: BatchGetCommandOutput = await this.db.send(
        new BatchGetCommand({ RequestItems: pending }),
      );
      for (const [table, items] of Object.entries(output.Responses ?? {})) {
        found[table] = [...(found[table] ?? []), ...items];
      }
      pending = output.UnprocessedKeys;
    }
    return found;
  }

  /** A Query followed through its pages, stopping once `max` items are in hand. */
  private async queryAll(input: QueryCommandInput, max = Number.POSITIVE_INFINITY): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < max);
    return items;
  }
}
