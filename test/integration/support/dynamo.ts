/** Direct reads of DynamoDB Local, for what the API cannot show (stored rows, connection records). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { localStack } from './stack-info.js';

let client: DynamoDBDocumentClient | undefined;

function db(): { doc: DynamoDBDocumentClient; env: Readonly<Record<string, string>> } {
  const local = localStack();
  // The SDK's notice about future Node versions would otherwise be printed by every test file.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // DynamoDB Local keeps tables per access key and region (unless -sharedDb): use the handlers' own.
  client ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: local.dynamoEndpoint,
      region: local.env.AWS_REGION ?? local.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: local.env.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: local.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      },
    }),
  );
  return { doc: client, env: local.env };
}

function table(env: Readonly<Record<string, string>>, name: string): string {
  const value = env[name];
  if (value === undefined) throw new Error(`the local stack's env has no ${name}`);
  return value;
}

async function count(input: ConstructorParameters<typeof QueryCommand>[0]): Promise<number> {
  const { doc } = db();
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, Select: 'COUNT', ExclusiveStartKey: start }));
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return total;
}

/** Items stored in the messages table under the room's partition. */
export function storedMessageItems(roomId: string): Promise<number> {
  const { env } = db();
  return count({
    TableName: table(env, 'MESSAGES_TABLE'),
    KeyConditionExpression: 'roomId = :roomId',
    ExpressionAttributeValues: { ':roomId': roomId },
    ConsistentRead: true,
  });
}

/** Connection records of a user (the connections table's `byUser` index). */
export function connectionRecords(userId: string): Promise<number> {
  const { env } = db();
  return count({
    TableName: table(env, 'CONNECTIONS_TABLE'),
    IndexName: 'byUser',
    KeyConditionExpression: 'userId = :userId',
    ExpressionAttributeValues: { ':userId': userId },
  });
}
