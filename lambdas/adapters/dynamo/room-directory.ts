/** The rooms table's memberships: a room's start writes them (with its first activity entries). */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Room, UserId } from '../../domain/model.js';
import type { Membership, RoomDirectory } from '../../domain/ports.js';
import { activityBucket } from '../../domain/room-commit.js';
import { activityKey } from './activity-index.js';
import { MEMBER_PREFIX, queryAll, ROOM_SK } from './items.js';

const CREATE_ROOM_ATTEMPTS = 3;

export class DynamoRoomDirectory implements RoomDirectory {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

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
}
