/**
 * E-mail notifications in the tables: the preferences and address on the users item (`notify` map,
 * `email`), and the notified marks in the rooms table (`pk` = "notified#" + userId, `sk` = roomId,
 * `messageId` = the newest message e-mailed; "" once moved back to none, since the notify function
 * writes marks with PutItem only).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RoomId, UserId } from '../../domain/model.js';
import { defaultNotificationPrefs, type NotificationPrefs, storedPrefs } from '../../domain/notifications.js';
import type { MarkMove, NotificationStore, Recipient } from '../../domain/ports.js';
import {
  BATCH_GET_LIMIT,
  batchGet,
  chunks,
  type Item,
  NOTIFIED_PREFIX,
  queryAll,
  str,
  type TableNames,
  toUser,
} from './items.js';

/** What one transaction may write. */
const MAX_MOVES = 100;

export function toRecipient(item: Item): Recipient {
  return { profile: toUser(item), email: str(item.email) ?? null, prefs: storedPrefs(item.notify) };
}

/** The preferences routes' reads and writes on the users table. */
export class DynamoNotificationPrefs
  implements Pick<NotificationStore, 'getNotificationPrefs' | 'updateNotificationPrefs'>
{
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'users'>,
  ) {}

  async getNotificationPrefs(userId: UserId): Promise<NotificationPrefs> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.users,
        Key: { userId },
        ProjectionExpression: '#notify',
        ExpressionAttributeNames: { '#notify': 'notify' },
      }),
    );
    return storedPrefs(Item?.notify);
  }

  /**
   * Sets the given fields inside the `notify` map when it exists; else writes the whole map (defaults
   * for the rest), on condition that it still does not exist. One of the two holds at any moment, so
   * a loser of a race to create the map sets its fields on the second try.
   */
  async updateNotificationPrefs(
    userId: UserId,
    changes: Partial<NotificationPrefs>,
  ): Promise<NotificationPrefs> {
    const fields = Object.entries(changes).filter(([, value]) => value !== undefined);
    const names = Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name]));
    const values = Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value]));
    for (let attempt = 1; ; attempt++) {
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.tables.users,
            Key: { userId },
            UpdateExpression: `SET ${fields.map((_, i) => `#notify.#f${i} = :f${i}`).join(', ')}`,
            ConditionExpression: 'attribute_exists(#notify)',
            ExpressionAttributeNames: { '#notify': 'notify', ...names },
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        return storedPrefs(Attributes?.notify);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt > 2) throw error;
      }
      try {
        const prefs = { ...defaultNotificationPrefs, ...changes };
        await this.db.send(
          new UpdateCommand({
            TableName: this.tables.users,
            Key: { userId },
            UpdateExpression: 'SET #notify = :notify',
            ConditionExpression: 'attribute_not_exists(#notify)',
            ExpressionAttributeNames: { '#notify': 'notify' },
            ExpressionAttributeValues: { ':notify': prefs },
          }),
        );
        return prefs;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }
}

/** The recipients' profiles, addresses and preferences. */
export class DynamoRecipients implements Pick<NotificationStore, 'getRecipient' | 'getRecipients'> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'users'>,
  ) {}

  async getRecipient(userId: UserId): Promise<Recipient | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tables.users, Key: { userId } }));
    return Item && str(Item.displayName) !== undefined ? toRecipient(Item) : undefined;
  }

  async getRecipients(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, Recipient>> {
    const found = new Map<UserId, Recipient>();
    for (const ids of chunks([...new Set(userIds)], BATCH_GET_LIMIT)) {
      const items = await batchGet(this.db, {
        [this.tables.users]: { Keys: ids.map((userId) => ({ userId })) },
      });
      for (const item of items[this.tables.users] ?? []) {
        // An item without a display name holds preferences set before the profile: no profile yet.
        if (str(item.displayName) !== undefined) found.set(String(item.userId), toRecipient(item));
      }
    }
    return found;
  }
}

/** The notified marks in the rooms table. */
export class DynamoNotifiedMarks implements Pick<NotificationStore, 'notifiedMarks' | 'moveNotifiedMarks'> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async notifiedMarks(userId: UserId): Promise<ReadonlyMap<RoomId, string>> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${NOTIFIED_PREFIX}${userId}` },
      // A mark read stale would only make the transaction below fail and the check read again.
      ConsistentRead: true,
    });
    const marks = new Map<RoomId, string>();
    for (const item of items) {
      const messageId = str(item.messageId);
      if (messageId) marks.set(String(item.sk), messageId);
    }
    return marks;
  }

  async moveNotifiedMarks(userId: UserId, moves: readonly MarkMove[]): Promise<boolean> {
    if (moves.length === 0) return true;
    if (moves.length > MAX_MOVES) throw new Error(`at most ${MAX_MOVES} notified marks move at once`);
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: moves.map(({ roomId, from, to }) => ({
            Put: {
              TableName: this.table,
              Item: { pk: `${NOTIFIED_PREFIX}${userId}`, sk: roomId, messageId: to ?? '' },
              ...(from === null
                ? {
                    ConditionExpression: 'attribute_not_exists(pk) OR messageId = :none',
                    ExpressionAttributeValues: { ':none': '' },
                  }
                : { ConditionExpression: 'messageId = :from', ExpressionAttributeValues: { ':from': from } }),
            },
          })),
        }),
      );
      return true;
    } catch (error) {
      // A mark moved by another check (its condition), or another check's transaction on the same
      // marks at this moment: either way the caller reads the marks again.
      const lost =
        error instanceof TransactionCanceledException &&
        (error.CancellationReasons ?? []).some(
          (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
        );
      if (lost) return false;
      throw error;
    }
  }
}
