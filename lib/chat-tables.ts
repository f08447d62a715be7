import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import {
  type KeyAttribute,
  type TableDefinition,
  type TableName,
  tables as tableDefinitions,
} from '../definitions/tables.js';

export type ChatTables = Readonly<Record<TableName, dynamodb.Table>>;

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

/** A table definition's stream, as CDK names it; absent: no stream. */
export const streamViewTypes: Readonly<
  Record<NonNullable<TableDefinition['stream']>, dynamodb.StreamViewType>
> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
};

function projection(type: 'ALL' | 'KEYS_ONLY'): dynamodb.ProjectionType {
  return type === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY;
}

/**
 * One table from its shared definition. The construct id is the definition's `constructId`, directly
 * under the given scope, so the logical id (and with it the table and its data) stays put.
 */
export function createTable(scope: Construct, definition: TableDefinition): dynamodb.Table {
  const table = new dynamodb.Table(scope, definition.constructId, {
    partitionKey: attribute(definition.partitionKey),
    sortKey: definition.sortKey && attribute(definition.sortKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: definition.ttlAttribute,
    // The change consumer's trigger (lib/chat-events.ts): only the images it reads, as the definition says.
    stream: definition.stream === undefined ? undefined : streamViewTypes[definition.stream],
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: definition.holdsUserData },
    deletionProtection: definition.holdsUserData,
    removalPolicy: definition.holdsUserData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of definition.globalIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: index.sortKey && attribute(index.sortKey),
      projectionType: projection(index.projection),
    });
  }
  for (const index of definition.localIndexes) {
    table.addLocalSecondaryIndex({
      indexName: index.indexName,
      sortKey: attribute(index.sortKey),
      projectionType: projection(index.projection),
    });
  }
  if (!definition.holdsUserData) {
    Validations.of(table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason: `${definition.constructId} holds no user data, only short-lived records that expire by TTL and are rebuilt when clients reconnect: nothing worth restoring.`,
    });
  }
  return table;
}

export function createTables(scope: Construct): ChatTables {
  const entries = (Object.keys(tableDefinitions) as TableName[]).map(
    (name) => [name, createTable(scope, tableDefinitions[name])] as const,
  );
  return Object.fromEntries(entries) as Record<TableName, dynamodb.Table>;
}
