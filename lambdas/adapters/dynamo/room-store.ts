/** The rooms table's room items as reads see them, and the read pointers they move. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Room, RoomId, UserId } from '../../domain/model.js';
import type { ReadPointerResult, RoomStore } from '../../domain/ports.js';
import { BATCH_GET_LIMIT, batchGet, chunks, ROOM_SK, toRoom } from './items.js';

export class DynamoRoomStore implements Pick<RoomStore, 'getRoom' | 'getRooms' | 'advanceReadPointer'> {
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
