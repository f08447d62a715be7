/** The messages table: one item per message, keyed by the sender's clientMessageId, ordered by the LSI. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Message, RoomId, SentCounts } from '../../domain/model.js';
import type {
  MessagePage,
  MessagePageQuery,
  MessageStore,
  PutMessageResult,
  StoredMessage,
} from '../../domain/ports.js';
import { BY_MESSAGE_ID, dedupKey, queryAll, toStoredMessage } from './items.js';

/** Storing a message: all the send path does with the table (the reads below are the history's). */
export class DynamoMessageWrites implements Pick<MessageStore, 'putMessage'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
  ) {}

  async putMessage(message: Message, counts: SentCounts, attemptId: string): Promise<PutMessageResult> {
    const key = {
      roomId: message.roomId,
      dedupKey: dedupKey(message.senderId, message.clientMessageId, message.messageId),
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, ...message, counts, attempt: attemptId },
          ConditionExpression: 'attribute_not_exists(dedupKey)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'stored' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing =
        error.Item === undefined
          ? (await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })))
              .Item
          : unmarshall(error.Item);
      if (!existing) throw new Error('duplicate message reported but not found');
      // The same attempt's item: its first put was applied and its answer lost, then the SDK retried.
      if (existing.attempt === attemptId) return { status: 'stored' };
      return { status: 'duplicate', existing: toStoredMessage(existing) };
    }
  }
}

export class DynamoMessageStore extends DynamoMessageWrites implements MessageStore {
  async listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage> {
    const forward = query.after !== undefined;
    const bound = query.after ?? query.before;
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: BY_MESSAGE_ID,
        KeyConditionExpression:
          bound === undefined
            ? 'roomId = :roomId'
            : `roomId = :roomId AND messageId ${forward ? '>' : '<'} :bound`,
        ExpressionAttributeValues: { ':roomId': roomId, ...(bound === undefined ? {} : { ':bound': bound }) },
        ScanIndexForward: forward,
        Limit: query.limit + 1,
      },
      query.limit + 1,
    );
    const page = items.slice(0, query.limit).map(toStoredMessage);
    return { messages: forward ? page : page.reverse(), hasMore: items.length > query.limit };
  }

  async getMessage(roomId: RoomId, messageId: string): Promise<StoredMessage | undefined> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: BY_MESSAGE_ID,
        KeyConditionExpression: 'roomId = :roomId AND messageId = :messageId',
        ExpressionAttributeValues: { ':roomId': roomId, ':messageId': messageId },
        // A message delivered a moment ago must be found by a read that names it.
        ConsistentRead: true,
      }),
    );
    const item = Items?.[0];
    return item ? toStoredMessage(item) : undefined;
  }
}
