/** The rooms table's room items: what a send commits and a read pointer moves. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Message, Room, RoomId, UserId } from '../../domain/model.js';
import type { CommitResult, ReadPointerResult, RoomStore } from '../../domain/ports.js';
import type { CommitPlan } from '../../domain/room-commit.js';
import { BATCH_GET_LIMIT, batchGet, chunks, ROOM_SK, recentItem, toRoom } from './items.js';

export class DynamoRoomStore implements RoomStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getRoom(roomId: RoomId): Promise<Room | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: roomId, sk: ROOM_SK } }),
    );
    return Item ? toRoom(Item) : undefined;
  }

  async getRooms(roomIds: readonly RoomId[]): Promise<Room[]> {
    const rooms: Room[] = [];
    for (const ids of chunks([...new Set(roomIds)], BATCH_GET_LIMIT)) {
      const found = await batchGet(this.db, {
        [this.table]: { Keys: ids.map((pk) => ({ pk, sk: ROOM_SK })) },
      });
      rooms.push(...(found[this.table] ?? []).map(toRoom));
    }
    return rooms;
  }

  async commitMessage(snapshot: Room, message: Message, plan: CommitPlan): Promise<CommitResult> {
    // Attribute names aliased throughout: several plain words are reserved in expressions.
    const names: Record<string, string> = { '#recent': 'recent', '#sent': 'sent' };
    const sets = ['lastMessage = :message', 'updatedAt = :sentAt', '#recent = :recent'];
    snapshot.participants.forEach((id, i) => {
      names[`#m${i}`] = id;
      sets.push(`members.#m${i}.#sent = :sent${i}`);
    });
    // The room id is the item's key: not repeated in every write of the room.
    const { roomId: _roomId, ...lastMessage } = message;
    const values: Record<string, unknown> = {
      ':message': lastMessage,
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

  async revertCommit(snapshot: Room, message: Message): Promise<boolean> {
    const names: Record<string, string> = { '#recent': 'recent', '#sent': 'sent' };
    const sets = ['updatedAt = :updatedAt', '#recent = :recent'];
    const values: Record<string, unknown> = {
      ':committed': message.messageId,
      ':updatedAt': snapshot.updatedAt,
      ':recent': recentItem(snapshot, snapshot.recentSends),
    };
    snapshot.participants.forEach((id, i) => {
      names[`#m${i}`] = id;
      sets.push(`members.#m${i}.#sent = :sent${i}`);
      values[`:sent${i}`] = snapshot.members[id]?.sent ?? 0;
    });
    if (snapshot.lastMessage) {
      const { roomId: _roomId, ...lastMessage } = snapshot.lastMessage;
      sets.push('lastMessage = :previous');
      values[':previous'] = lastMessage;
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: snapshot.roomId, sk: ROOM_SK },
          UpdateExpression: `SET ${sets.join(', ')}${snapshot.lastMessage ? '' : ' REMOVE lastMessage'}`,
          ConditionExpression: 'lastMessage.messageId = :committed',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
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
}
