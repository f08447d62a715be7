/** Writing profiles: created on first sign-in, changed by PUT /users/me. */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UserId, UserProfile } from '../../domain/model.js';
import type { Clock, ProfileChanges, UserStore } from '../../domain/ports.js';
import { type TableNames, toUser } from './items.js';

export class DynamoProfileWrites implements Pick<UserStore, 'createProfileIfMissing' | 'updateProfile'> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'users' | 'connections'>,
    private readonly clock: Clock,
  ) {}

  async createProfileIfMissing(userId: UserId, displayName: string, email?: string): Promise<UserProfile> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { userId },
        UpdateExpression: `SET displayName = if_not_exists(displayName, :name), createdAt = if_not_exists(createdAt, :now)${email === undefined ? '' : ', #email = :email'}`,
        // Aliased: whether a word is reserved in DynamoDB's expressions is not worth the risk.
        ...(email === undefined ? {} : { ExpressionAttributeNames: { '#email': 'email' } }),
        ExpressionAttributeValues: {
          ':name': displayName,
          ':now': this.clock.now().toISOString(),
          ...(email === undefined ? {} : { ':email': email }),
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
  ): Promise<{ profile: UserProfile; before: UserProfile | undefined }> {
    const set = ['createdAt = if_not_exists(createdAt, :now)'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':now': this.clock.now().toISOString() };
    if (changes.displayName === undefined) {
      set.push('displayName = if_not_exists(displayName, :name)');
      values[':name'] = defaultDisplayName;
    } else {
      set.push('displayName = :name');
      values[':name'] = changes.displayName;
    }
    if (changes.avatarUrl === null) {
      remove.push('avatarUrl', 'avatarKey');
    } else if (changes.avatarUrl !== undefined) {
      set.push('avatarUrl = :avatar');
      remove.push('avatarKey');
      values[':avatar'] = changes.avatarUrl;
    } else if (changes.avatarKey !== undefined) {
      set.push('avatarKey = :avatar');
      remove.push('avatarUrl');
      values[':avatar'] = changes.avatarKey;
    }
    // ALL_OLD: the caller learns which uploaded avatar was replaced; the new state follows from it.
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { userId },
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = Attributes === undefined ? undefined : toUser(Attributes);
    const old = before ?? toUser({ userId, displayName: defaultDisplayName });
    const avatar =
      changes.avatarUrl !== undefined
        ? { avatarUrl: changes.avatarUrl, avatarKey: null }
        : changes.avatarKey !== undefined
          ? { avatarUrl: null, avatarKey: changes.avatarKey }
          : {};
    const profile: UserProfile = {
      ...old,
      ...(changes.displayName === undefined ? {} : { displayName: changes.displayName }),
      ...avatar,
    };
    return { profile, before };
  }
}
