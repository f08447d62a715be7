/** Reading profiles (with the live connections kept on each): what every fan-out starts from. */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { UserId, UserProfile } from '../../domain/model.js';
import type { Clock, UserStore } from '../../domain/ports.js';
import { BATCH_GET_LIMIT, batchGet, chunks, str, type TableNames, toUser } from './items.js';

export class DynamoUserReads implements Pick<UserStore, 'getUser' | 'getUsers'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tables: Pick<TableNames, 'users' | 'connections'>,
    protected readonly clock: Clock,
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
}
