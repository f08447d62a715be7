import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type KeyAttribute, type TableDefinition, tables } from '../../definitions/tables.js';
import { findResource, resourcesOfType, type SynthesizedChat, synthesizeChat } from './helpers.js';

const definitions = Object.values(tables) as TableDefinition[];

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined) {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

describe('DynamoDB tables', () => {
  let chat: SynthesizedChat;
  beforeAll(() => {
    chat = synthesizeChat();
  });

  it('builds exactly one table per definition', () => {
    chat.template.resourceCountIs('AWS::DynamoDB::Table', definitions.length);
  });

  it('keeps every table at its logical id (renaming one would replace the table and lose its data)', () => {
    const logicalIds = Object.keys(resourcesOfType(chat.template, 'AWS::DynamoDB::Table')).sort();
    expect(logicalIds).toEqual([
      'ConnectionsTable8000B8A1',
      'MessagesTable05B58A27',
      'RoomsTableA5C1D45B',
      'UsersTable9725E9C8',
    ]);
  });

  it.each(definitions.map((definition) => [definition.constructId, definition] as const))(
    '%s matches its definition: keys, indexes, TTL, on-demand, encryption',
    (_, definition) => {
      chat.template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keySchema(definition.partitionKey, definition.sortKey),
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        GlobalSecondaryIndexes:
          definition.globalIndexes.length === 0
            ? Match.absent()
            : definition.globalIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: keySchema(index.partitionKey, index.sortKey),
                Projection: { ProjectionType: index.projection },
              })),
        LocalSecondaryIndexes:
          definition.localIndexes.length === 0
            ? Match.absent()
            : definition.localIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: keySchema(definition.partitionKey, index.sortKey),
                Projection: { ProjectionType: index.projection },
              })),
        TimeToLiveSpecification:
          definition.ttlAttribute === undefined
            ? Match.absent()
            : { AttributeName: definition.ttlAttribute, Enabled: true },
      });
    },
  );

  it.each(definitions.map((definition) => [definition.constructId, definition] as const))(
    '%s: user data is retained and recoverable, the rest is disposable',
    (constructId, definition) => {
      const [, table] = findResource(chat.template, 'AWS::DynamoDB::Table', (_, id) =>
        id.startsWith(constructId),
      );
      const expectedPolicy = definition.holdsUserData ? 'Retain' : 'Delete';
      expect(table.DeletionPolicy).toBe(expectedPolicy);
      expect(table.UpdateReplacePolicy).toBe(expectedPolicy);
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: definition.holdsUserData,
      });
      expect(table.Properties.DeletionProtectionEnabled).toBe(definition.holdsUserData);
    },
  );

  it('stores the contract explicitly: messages ordered by ULID in an LSI, connections by user with a TTL', () => {
    chat.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'roomId', KeyType: 'HASH' },
        { AttributeName: 'dedupKey', KeyType: 'RANGE' },
      ],
      LocalSecondaryIndexes: [Match.objectLike({ IndexName: 'byMessageId' })],
    });
    chat.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byUser' })],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('uses generated table names, never physical ones', () => {
    for (const table of Object.values(resourcesOfType(chat.template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties.TableName).toBeUndefined();
    }
  });
});
