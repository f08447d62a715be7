/** The rooms table: room items, the memberships presence reads, and the chat list's activity entries. */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Message, Room, RoomId, UserId } from '../../domain/model.js';
import type {
  ActivityIndex,
  CommitResult,
  Membership,
  MembershipStore,
  ReadPointerResult,
  RoomStore,
} from '../../domain/ports.js';
import { activityBucket, type CommitPlan } from '../../domain/room-commit.js';
import {
  ACTIVITY_PREFIX,
  BATCH_GET_LIMIT,
  batchGet,
  batchWrite,
  chunks,
  type Item,
  MEMBER_PREFIX,
  queryAll,
  ROOM_SK,
  recentItem,
  str,
  toRoom,
} from './items.js';

const CREATE_ROOM_ATTEMPTS = 3;

const activityKey = (userId: UserId, bucket: string, roomId: RoomId) => ({
  pk: `${ACTIVITY_PREFIX}${userId}`,
  sk: `${bucket}#${roomId}`,
});

export class DynamoRoomStore implements RoomStore, MembershipStore, ActivityIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getRoom(roomId: RoomId): Promise<Room | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: roomId, sk: ROOM_SK } }));
    return Item ? toRoom(Item) : undefined;
  }

  async getRooms(roomIds: readonly RoomId[]): Promise<Room[]> {
    const rooms: Room[] = [];
    for (const ids of chunks([...new Set(roomIds)], BATCH_GET_LIMIT)) {
      const found = await batchGet(this.db, { [this.table]: { Keys: ids.map((pk) => ({ pk, sk: ROOM_SK })) } });
      rooms.push(...(found[this.table] ?? []).map(toRoom));
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
    const members = Object.fromEntries(room.participants.map((id) => [id, { sent: 0, read: 0 }]));
    const bucket = activityBucket(room.updatedAt);
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: room.roomId,
                  sk: ROOM_SK,
                  participants: room.participants,
                  createdAt: room.createdAt,
                  updatedAt: room.updatedAt,
                  members,
                  recent: {},
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...room.participants.flatMap((userId) => [
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    pk: `${MEMBER_PREFIX}${userId}`,
                    sk: room.roomId,
                    peers: room.participants.filter((id) => id !== userId),
                    createdAt: room.createdAt,
                  },
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: { ...activityKey(userId, bucket, room.roomId), roomId: room.roomId },
                },
              },
            ]),
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

  async commitMessage(snapshot: Room, message: Message, plan: CommitPlan): Promise<CommitResult> {
    // Attribute names aliased throughout: several plain words are reserved in expressions.
    const names: Record<string, string> = { '#recent': 'recent', '#sent': 'sent' };
    const sets = ['lastMessage = :message', 'updatedAt = :sentAt', '#recent = :recent'];
    snapshot.participants.forEach((id, i) => {
      names[`#m${i}`] = id;
      sets.push(`members.#m${i}.#sent = :sent${i}`);
    });
    const values: Record<string, unknown> = {
      ':message': { ...message },
      ':sentAt': message.sentAt,
      ':recent': recentItem(snapshot, plan.recentSends),
      ...Object.fromEntries(snapshot.participants.map((id, i) => [`:sent${i}`, plan.counts[id] ?? 0])),
    };
    const previous = snapshot.lastMessage?.messageId;
    if (previous !== undefined) values[':previous'] = previous;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: snapshot.roomId, sk: ROOM_SK },
          UpdateExpression: `SET ${sets.join(', ')}`,
          // The compare-and-set: every commit replaces the newest messageId with a greater one.
          ConditionExpression:
            previous === undefined
              ? 'attribute_exists(pk) AND attribute_not_exists(lastMessage)'
              : 'lastMessage.messageId = :previous',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'committed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The room exists (the snapshot had it, and rooms are never deleted), so ALL_OLD is always there.
      if (!error.Item) throw new Error(`room ${snapshot.roomId} answered no item to a failed commit`);
      return { status: 'stale', room: toRoom(unmarshall(error.Item)) };
    }
  }

  async advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    read: number,
  ): Promise<ReadPointerResult> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: roomId, sk: ROOM_SK },
          UpdateExpression: 'SET members.#u.lastRead = :messageId, members.#u.#read = :read',
          ConditionExpression:
            'attribute_exists(members.#u) AND (attribute_not_exists(members.#u.lastRead) OR members.#u.lastRead < :messageId)',
          ExpressionAttributeNames: { '#u': userId, '#read': 'read' },
          ExpressionAttributeValues: { ':messageId': messageId, ':read': read },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!Attributes) throw new Error(`room ${roomId} answered no attributes`);
      return { moved: true, room: toRoom(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) throw new Error(`room ${roomId} answered no item to a failed read update`);
      return { moved: false, room: toRoom(unmarshall(error.Item)) };
    }
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${MEMBER_PREFIX}${userId}` },
    });
    return items.map((item) => ({
      roomId: String(item.sk),
      peers: Array.isArray(item.peers) ? item.peers.map(String) : [],
    }));
  }

  async activityPage(
    userId: UserId,
    fromBucket: string | undefined,
    minRooms: number,
  ): Promise<{ roomIds: RoomId[]; exhausted: boolean }> {
    const roomIds = new Set<RoomId>();
    let stopBucket: string | undefined;
    let startKey: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          // '$' sorts just after '#': every entry of `fromBucket` and of the hours before it.
          KeyConditionExpression: fromBucket === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :upper',
          ExpressionAttributeValues: {
            ':pk': `${ACTIVITY_PREFIX}${userId}`,
            ...(fromBucket === undefined ? {} : { ':upper': `${fromBucket}$` }),
          },
          ScanIndexForward: false,
          Limit: minRooms + 10,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item.sk);
        const bucket = sk.slice(0, sk.indexOf('#'));
        // Whole hours only: the rooms of an hour are ordered by reading them, not by their entries.
        if (stopBucket !== undefined && bucket !== stopBucket) return { roomIds: [...roomIds], exhausted: false };
        roomIds.add(str(item.roomId) ?? sk.slice(sk.indexOf('#') + 1));
        if (stopBucket === undefined && roomIds.size >= minRooms) stopBucket = bucket;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { roomIds: [...roomIds], exhausted: true };
  }

  async moveActivity(roomId: RoomId, participants: readonly UserId[], from: string, to: string): Promise<void> {
    // New entries first, so the room is never missing from a list; a reader skips the moment both
    // exist by taking each room once.
    await batchWrite(
      this.db,
      this.table,
      participants.map((userId) => ({ PutRequest: { Item: { ...activityKey(userId, to, roomId), roomId } } })),
    );
    await batchWrite(
      this.db,
      this.table,
      participants.map((userId) => ({ DeleteRequest: { Key: activityKey(userId, from, roomId) } })),
    );
  }

}
