/**
 * Live connections: a record in the connections table, and an attribute on the user's profile so that
 * a send reads every participant's connections with the room (one BatchGet).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { countLiveConnections } from '../../domain/fan-out.js';
import type { ConnectionRef, UserId } from '../../domain/model.js';
import type { Clock, ConnectionStore } from '../../domain/ports.js';
import { CONNECTION_PREFIX, type Item, type TableNames, toUser } from './items.js';

function countLive(item: Item | undefined, now: Date): number {
  return item ? countLiveConnections(toUser(item), now) : 0;
}

/** Forgetting connections: all a fan-out needs (it removes the ones API Gateway reports gone). */
export class DynamoConnectionRemoval implements Pick<ConnectionStore, 'removeConnection'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tables: Pick<TableNames, 'users' | 'connections'>,
    protected readonly clock: Clock,
  ) {}

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
          (output) => countLive(output.Attributes, this.clock.now()),
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return 0;
            throw error;
          },
        ),
    ]);
    return remaining;
  }
}

export class DynamoConnectionStore extends DynamoConnectionRemoval implements ConnectionStore {
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
    return countLive(updated.Attributes, this.clock.now());
  }
}
