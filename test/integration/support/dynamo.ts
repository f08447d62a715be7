/** Direct reads of DynamoDB Local, for what the API cannot show (stored rows, connection records). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableEnvVars } from '../../../definitions/env.js';
import type { TableNames } from '../../../lambdas/adapters/dynamo/items.js';
import { localStack } from './stack-info.js';

export function localTables(env: Readonly<Record<string, string>>): TableNames {
  const table = (name: keyof typeof tableEnvVars): string => {
    const value = env[tableEnvVars[name]];
    if (value === undefined) throw new Error(`the local stack's env has no ${tableEnvVars[name]}`);
    return value;
  };
  return {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  };
}

export function localDynamoClient(endpoint: string, env: Readonly<Record<string, string>>): DynamoDBClient {
  // The SDK's notice about future Node versions would otherwise be printed by every test file.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // DynamoDB Local keeps tables per access key and region (unless -sharedDb): use the handlers' own.
  return new DynamoDBClient({
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local',
    },
  });
}

let client: DynamoDBDocumentClient | undefined;

function db(): { doc: DynamoDBDocumentClient; tables: TableNames } {
  const local = localStack();
  client ??= DynamoDBDocumentClient.from(localDynamoClient(local.dynamoEndpoint, local.env));
  return { doc: client, tables: localTables(local.env) };
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
  return count({
    TableName: db().tables.messages,
    KeyConditionExpression: 'roomId = :roomId',
    ExpressionAttributeValues: { ':roomId': roomId },
    ConsistentRead: true,
  });
}

/** Connection records of a user (the connections table's `byUser` index). */
export function connectionRecords(userId: string): Promise<number> {
  return count({
    TableName: db().tables.connections,
    IndexName: 'byUser',
    KeyConditionExpression: 'userId = :userId',
    ExpressionAttributeValues: { ':userId': userId },
  });
}

/** A user's item in the users table as stored (profile, kept address), read strongly consistent. */
export async function storedUser(userId: string): Promise<Record<string, unknown> | undefined> {
  const { doc, tables } = db();
  const answer = await doc.send(
    new GetCommand({ TableName: tables.users, Key: { userId }, ConsistentRead: true }),
  );
  return answer.Item;
}
