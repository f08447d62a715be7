/** The rooms table's activity entries: the chat list's index of each user's rooms by hour. */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RoomId, UserId } from '../../domain/model.js';
import type { ActivityIndex } from '../../domain/ports.js';
import { ACTIVITY_PREFIX, batchWrite, type Item, str } from './items.js';

export const activityKey = (userId: UserId, bucket: string, roomId: RoomId) => ({
  pk: `${ACTIVITY_PREFIX}${userId}`,
  sk: `${bucket}#${roomId}`,
});

/** Keeping a room's entries in its newest hour: all the send path does with the chat list. */
export class DynamoActivityMoves implements Pick<ActivityIndex, 'moveActivity' | 'ensureActivity'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
  ) {}

  async moveActivity(
    roomId: RoomId,
    participants: readonly UserId[],
    from: string,
    to: string,
  ): Promise<void> {
    // New entries first, so the room is never missing from a list; a reader skips the moment both
    // exist by taking each room once.
    await batchWrite(
      this.db,
      this.table,
      participants.map((userId) => ({
        PutRequest: { Item: { ...activityKey(userId, to, roomId), roomId } },
      })),
    );
    await batchWrite(
      this.db,
      this.table,
      participants.map((userId) => ({ DeleteRequest: { Key: activityKey(userId, from, roomId) } })),
    );
  }

  async ensureActivity(roomId: RoomId, participants: readonly UserId[], bucket: string): Promise<void> {
    await batchWrite(
      this.db,
      this.table,
      participants.map((userId) => ({
        PutRequest: { Item: { ...activityKey(userId, bucket, roomId), roomId } },
      })),
    );
  }
}

export class DynamoActivityIndex extends DynamoActivityMoves implements ActivityIndex {
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
        if (stopBucket !== undefined && bucket !== stopBucket)
          return { roomIds: [...roomIds], exhausted: false };
        roomIds.add(str(item.roomId) ?? sk.slice(sk.indexOf('#') + 1));
        if (stopBucket === undefined && roomIds.size >= minRooms) stopBucket = bucket;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { roomIds: [...roomIds], exhausted: true };
  }
}
