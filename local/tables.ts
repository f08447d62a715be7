/**
 * The tables of definitions/tables.ts, created in DynamoDB Local from their definitions: keys, global
 * and local indexes, on-demand billing and TTL, so the local tables cannot drift from the deployed ones.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { KeyAttribute, TableDefinition } from '../definitions/tables.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo-local.js';
import type { Log } from './log.js';

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

function keyAttributes(definition: TableDefinition): KeyAttribute[] {
  const all: (KeyAttribute | undefined)[] = [
    definition.partitionKey,
    definition.sortKey,
    ...definition.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ...definition.localIndexes.map((index) => index.sortKey),
  ];
  const byName = new Map<string, KeyAttribute>();
  for (const attribute of all) if (attribute !== undefined) byName.set(attribute.name, attribute);
  return [...byName.values()];
}

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined) {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
    ...(sortKey !== undefined ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributeDefinitions: AttributeDefinition[] = keyAttributes(definition).map((attribute) => ({
    AttributeName: attribute.name,
    AttributeType: attribute.type,
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    ...(definition.stream !== undefined
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }
      : {}),
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: index.projection },
          })),
        }
      : {}),
    ...(definition.localIndexes.length > 0
      ? {
          LocalSecondaryIndexes: definition.localIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(definition.partitionKey, index.sortKey),
            Projection: { ProjectionType: index.projection },
          })),
        }
      : {}),
  };
}

/**
 * Creates each table that does not exist yet and turns TTL on. An existing table whose keys or
 * indexes differ from its definition is left alone (it holds data) with a warning.
 */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
  tableNameOf: (definition: TableDefinition) => string,
  log: Log,
): Promise<void> {
  await Promise.all(
    definitions.map(async (definition) => {
      const tableName = tableNameOf(definition);
      const input = createTableInput(definition, tableName);
      try {
        await client.send(new CreateTableCommand(input));
        log.info(`Created table ${tableName}`);
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        await warnOnDrift(client, input, log);
        await ensureStream(client, definition, tableName, log);
      }
      if (definition.ttlAttribute !== undefined) {
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
        if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: tableName,
              TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
            }),
          );
        }
      }
    }),
  );
}

/**
 * A table kept on disk from before its definition had a stream gets one (the deploy that adds
 * `stream` does the same on AWS); one with another view type is left alone with a warning.
 */
async function ensureStream(
  client: DynamoDBClient,
  definition: TableDefinition,
  tableName: string,
  log: Log,
): Promise<void> {
  if (definition.stream === undefined) return;
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const current = table?.StreamSpecification;
  if (current?.StreamEnabled === true) {
    if (current.StreamViewType !== definition.stream) {
      log.warn(
        `Table ${tableName} in the local data streams ${current.StreamViewType}, not ${definition.stream}: ` +
          'delete the data folder (or use --in-memory) to recreate it.',
      );
    }
    return;
  }
  await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream },
    }),
  );
  log.info(`Turned on the stream of table ${tableName}`);
}

async function warnOnDrift(
  client: DynamoDBClient,
  expected: CreateTableCommandInput,
  log: Log,
): Promise<void> {
  const { Table: actual } = await client.send(new DescribeTableCommand({ TableName: expected.TableName }));
  const describe = (keys: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    JSON.stringify((keys ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`));
  const indexes = (
    list: { IndexName?: string; KeySchema?: { AttributeName?: string; KeyType?: string }[] }[] = [],
  ) => JSON.stringify(list.map((index) => `${index.IndexName}${describe(index.KeySchema)}`).sort());
  const same =
    describe(actual?.KeySchema) === describe(expected.KeySchema) &&
    indexes(actual?.GlobalSecondaryIndexes) === indexes(expected.GlobalSecondaryIndexes) &&
    indexes(actual?.LocalSecondaryIndexes) === indexes(expected.LocalSecondaryIndexes);
  if (!same) {
    log.warn(
      `Table ${expected.TableName} in the local data differs from definitions/tables.ts (keys or indexes ` +
        'changed). Stop the stack and delete the data folder (or use --in-memory) to recreate it.',
    );
  }
}
