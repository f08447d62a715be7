/** The users and connections tables: profiles, and the live connections kept on each profile. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { countLiveConnections } from '../../domain/fan-out.js';
import type { ConnectionRef, UserId, UserProfile } from '../../domain/model.js';
import type { Clock, ConnectionStore, ProfileChanges, UserStore } from '../../domain/ports.js';
import {
  BATCH_GET_LIMIT,
  batchGet,
  CONNECTION_PREFIX,
  chunks,
  type Item,
  str,
  type TableNames,
  toUser,
} from './items.js';

function countLive(item: Item | undefined, now: Date): number {
  return item ? countLiveConnections(toUser(item), now) : 0;
}

export class DynamoUserStore implements UserStore, ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'users' | 'connections'>,
    private readonly clock: Clock,
  ) {}

  async getUser(userId: UserId): Promise<UserProfile | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tables.users, Key: { userId } }));
    return Item && str(Item.displayName) !== undefined ? toUser(Item) : undefined;
  }

  async getUsers(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, UserProfile>> {
    const users = new Map<UserId, UserProfile>();
    for (const ids of chunks([...new Set(userIds)], BATCH_GET_LIMIT)) {
      const found = await batchGet(this.db, {
        [this.tables.users]: { Keys: ids.map((userId) => ({ userId })) },
      });
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
          ':now': this.clock.now().toISOString(),
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
    const values: Record<string, unknown> = { ':now': this.clock.now().toISOString() };
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
