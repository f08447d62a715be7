/** Direct reads of DynamoDB Local: what is stored, which the API alone cannot prove. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Target } from './target.js';

export class StoreReader {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tables: { messages: string; rooms: string; connections: string };

  constructor(target: Target) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const table = (name: string) => {
      const value = target.env[name];
      if (value === undefined) throw new Error(`the stack's env has no ${name}`);
      return value;
    };
    this.tables = {
      messages: table('MESSAGES_TABLE'),
      rooms: table('ROOMS_TABLE'),
      connections: table('CONNECTIONS_TABLE'),
    };
    // DynamoDB Local keeps tables per access key and region: use the handlers' own.
    this.doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: target.dynamoEndpoint,
        region: target.env.AWS_REGION ?? 'us-east-1',
        credentials: {
          accessKeyId: target.env.AWS_ACCESS_KEY_ID ?? 'local',
          secretAccessKey: target.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        },
      }),
    );
  }

  private async count(input: QueryCommandInput): Promise<number> {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ ...input, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return total;
  }

  /** Items in the messages table under the room's partition (messages and idempotency claims alike). */
  messageItems(roomId: string): Promise<number> {
    return this.count({
      TableName: this.tables.messages,
      KeyConditionExpression: 'roomId = :roomId',
      ExpressionAttributeValues: { ':roomId': roomId },
      ConsistentRead: true,
    });
  }

  /** The stored message with that id, as DynamoDB holds it. */
  async storedMessage(roomId: string, messageId: string): Promise<Record<string, unknown> | undefined> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.messages,
        IndexName: 'byMessageId',
        KeyConditionExpression: 'roomId = :roomId AND messageId = :messageId',
        ExpressionAttributeValues: { ':roomId': roomId, ':messageId': messageId },
        ConsistentRead: true,
      }),
    );
    return page.Items?.[0];
  }

  /** Items of the rooms table under `pk` (a room's own item, or a user's memberships with `member#`). */
  roomsItems(pk: string): Promise<number> {
    return this.count({
      TableName: this.tables.rooms,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    });
  }

  /** Connection records of a user (the connections table's `byUser` index). */
  connectionRecords(userId: string): Promise<number> {
    return this.count({
      TableName: this.tables.connections,
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :userId',
      ExpressionAttributeValues: { ':userId': userId },
    });
  }

  destroy(): void {
    this.doc.destroy();
  }
}

/** Whether DynamoDB could even hold `value` as a key: a counted key that it cannot take is skipped. */
export function isStorableKey(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.byteLength(value) <= 1024 &&
    !/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))
  );
}
