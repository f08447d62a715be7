/**
 * The local stream event source mappings against DynamoDB Local (one JVM for the file), with stub
 * handlers: Lambda's DynamoDB event, the filters, batches in order, partial batch responses,
 * bisection, bounded retries and the on-failure record, the maximum record age, and checkpoints that
 * survive a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeStreamFilters, changeStreamSettings } from '../../../definitions/notifications.js';
import type { TriggeredFunctionDefinition } from '../../../definitions/routes.js';
import { roomsTable } from '../../../definitions/tables.js';
import { makeDeadLetters } from '../../../local/dead-letters.js';
import { type DynamoLocal, freePort, startDynamoLocal } from '../../../local/dynamo-local.js';
import { type LambdaHandler, withOverrides } from '../../../local/lambda.js';
import type { Log } from '../../../local/log.js';
import { type StreamMappingSettings, startStreamMappings } from '../../../local/stream-mappings.js';
import { createTableInput, localDynamoClient } from '../../../local/tables.js';

const quiet: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const consumer: TriggeredFunctionDefinition = {
  functionId: 'Consumer',
  entry: 'stub/consumer.ts',
  trigger: { kind: 'streams', tables: ['rooms'] },
  tables: {},
  postsToConnections: false,
  verifiesTokens: false,
};

let dynamo: DynamoLocal;
let client: DynamoDBClient;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynamoLocal({
    port: await freePort(),
    dataDir: undefined,
    log: quiet,
    javaCheck: Promise.resolve(),
  });
  client = localDynamoClient(dynamo.endpoint);
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

async function newTable(): Promise<string> {
  tableCount += 1;
  const name = `Rooms${tableCount}`;
  await client.send(new CreateTableCommand(createTableInput(roomsTable, name)));
  return name;
}

const put = (table: string, pk: string, sk = 'room', extra: Record<string, { S: string }> = {}) =>
  client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: sk }, ...extra } }));

interface Batch {
  pks: string[];
  records: { eventName: string; dynamodb: { SequenceNumber: string; Keys: unknown } }[];
}

function recorder(respond: (batch: Batch, call: number) => unknown = () => undefined) {
  const batches: Batch[] = [];
  const handler: LambdaHandler = async (event) => {
    const records = (event as { Records: Batch['records'] }).Records;
    const batch: Batch = {
      records,
      pks: records.map((r) => (r.dynamodb.Keys as { pk: { S: string } }).pk.S),
    };
    batches.push(batch);
    return respond(batch, batches.length);
  };
  return { batches, handler };
}

async function start(
  table: string,
  handler: LambdaHandler,
  settings: Partial<StreamMappingSettings> = {},
  dataDir?: string,
) {
  const deadLetters = makeDeadLetters(undefined, quiet);
  const mappings = await startStreamMappings({
    dynamoEndpoint: dynamo.endpoint,
    definition: consumer,
    sources: [{ tableName: table, filters: changeStreamFilters.rooms ?? [] }],
    settings: {
      ...changeStreamSettings,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      ...settings,
    },
    resolve: withOverrides({ Consumer: handler }),
    deadLetters,
    log: quiet,
    dataDir,
    pollIntervalMs: 100,
  });
  return { mappings, deadLetters };
}

describe('stream event source mappings', () => {
  it('builds Lambda’s DynamoDB event and applies the rooms filter (room items, inserted or modified)', async () => {
    const table = await newTable();
    const { batches, handler } = recorder();
    const { mappings } = await start(table, handler);
    await put(table, 'r1');
    await put(table, 'member#ann', 'r1');
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'r1' }, sk: { S: 'room' } },
        UpdateExpression: 'SET title = :t',
        ExpressionAttributeValues: { ':t': { S: 'hello' } },
      }),
    );
    await client.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'r1' }, sk: { S: 'room' } } }),
    );
    await mappings.drain();
    await mappings.stop();
    const records = batches.flatMap((batch) => batch.records) as unknown as Record<string, unknown>[];
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
    const [inserted, modified] = records as [Record<string, unknown>, Record<string, unknown>];
    expect(inserted).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
      awsRegion: 'us-east-1',
      eventSourceARN: expect.stringContaining(`table/${table}/stream/`),
      dynamodb: {
        Keys: { pk: { S: 'r1' }, sk: { S: 'room' } },
        NewImage: { pk: { S: 'r1' }, sk: { S: 'room' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: expect.any(String),
        SizeBytes: expect.any(Number),
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    expect(typeof inserted.eventID).toBe('string');
    expect(modified).toMatchObject({
      dynamodb: { OldImage: { pk: { S: 'r1' } }, NewImage: { title: { S: 'hello' } } },
    });
  });

  it('gives empty maps their type, which DynamoDB Local’s stream records leave out', async () => {
    const table = await newTable();
    const { batches, handler } = recorder();
    const { mappings } = await start(table, handler);
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: 'r1' },
          sk: { S: 'room' },
          recent: { M: {} },
          members: { M: { ann: { M: {} } } },
          list: { L: [{ M: {} }] },
        },
      }),
    );
    await mappings.drain();
    await mappings.stop();
    const [record] = batches.flatMap((batch) => batch.records) as unknown as Record<string, unknown>[];
    expect(record).toMatchObject({
      dynamodb: {
        NewImage: {
          recent: { M: {} },
          members: { M: { ann: { M: {} } } },
          list: { L: [{ M: {} }] },
        },
      },
    });
  });

  it('starts at the trim horizon and invokes batches of at most batchSize, in order', async () => {
    const table = await newTable();
    for (const pk of ['a', 'b', 'c', 'd', 'e']) await put(table, pk);
    const { batches, handler } = recorder();
    const { mappings } = await start(table, handler, { batchSize: 3 });
    await mappings.drain();
    await mappings.stop();
    expect(batches.map((b) => b.pks)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('retries from the first reported failure of a partial batch response, not the records before it', async () => {
    const table = await newTable();
    for (const pk of ['a', 'b', 'c', 'd']) await put(table, pk);
    const { batches, handler } = recorder((batch, call) =>
      call === 1
        ? {
            batchItemFailures: [
              { itemIdentifier: batch.records[3]?.dynamodb.SequenceNumber },
              { itemIdentifier: batch.records[2]?.dynamodb.SequenceNumber },
            ],
          }
        : { batchItemFailures: [] },
    );
    const { mappings, deadLetters } = await start(table, handler);
    await mappings.drain();
    await mappings.stop();
    expect(batches.map((b) => b.pks)).toEqual([
      ['a', 'b', 'c', 'd'],
      ['c', 'd'],
    ]);
    expect(deadLetters.list()).toEqual([]);
  });

  it('takes an unknown itemIdentifier as a failure of the whole batch', async () => {
    const table = await newTable();
    await put(table, 'a');
    const { batches, handler } = recorder((_batch, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined,
    );
    const { mappings } = await start(table, handler);
    await mappings.drain();
    await mappings.stop();
    expect(batches.map((b) => b.pks)).toEqual([['a'], ['a']]);
  });

  it('bisects a failing batch down to the bad record without counting the splits, retries it alone a bounded number of times, then records it for the on-failure destination', async () => {
    const table = await newTable();
    for (const pk of ['a', 'b', 'c', 'd', 'e', 'bad', 'f', 'g']) await put(table, pk);
    const { batches, handler } = recorder((batch) => {
      if (batch.pks.includes('bad')) throw new Error('cannot handle bad');
    });
    const { mappings, deadLetters } = await start(table, handler, { retryAttempts: 2 });
    await mappings.drain(20_000);
    await mappings.stop();
    // "Splitting a batch does not count towards the retry quota": [8] → [a b c d] ok, [e bad f g] →
    // [e bad] → [e] ok, [bad] fails, then its 2 retries; [f g] ok. Had each split counted, the third
    // failure would have given up [e bad] together, losing e.
    expect(batches.map((b) => b.pks)).toEqual([
      ['a', 'b', 'c', 'd', 'e', 'bad', 'f', 'g'],
      ['a', 'b', 'c', 'd'],
      ['e', 'bad', 'f', 'g'],
      ['e', 'bad'],
      ['e'],
      ['bad'],
      ['bad'],
      ['bad'],
      ['f', 'g'],
    ]);
    const letters = deadLetters.list('ChangeDeadLetters');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.body).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Consumer',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.stringContaining(table) },
    });
  }, 30_000);

  it('sends records older than the maximum record age to the destination without invoking', async () => {
    const table = await newTable();
    await put(table, 'old');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const { batches, handler } = recorder();
    const { mappings, deadLetters } = await start(table, handler, { maxRecordAgeSeconds: 1 });
    await mappings.drain();
    await mappings.stop();
    expect(batches).toEqual([]);
    expect(deadLetters.list()[0]?.body).toMatchObject({
      requestContext: { condition: 'RecordAgeExceeded', approximateInvokeCount: 0 },
      DDBStreamBatchInfo: { batchSize: 1 },
    });
  });

  it('resumes after the last processed record on a restart (a persistent mapping), from its checkpoint file', async () => {
    const table = await newTable();
    const dataDir = mkdtempSync(join(tmpdir(), 'stream-checkpoints-'));
    await put(table, 'a');
    const first = recorder();
    const one = await start(table, first.handler, {}, dataDir);
    await one.mappings.drain();
    await one.mappings.stop();
    await put(table, 'b');
    const second = recorder();
    const two = await start(table, second.handler, {}, dataDir);
    await two.mappings.drain();
    await two.mappings.stop();
    expect(first.batches.map((b) => b.pks)).toEqual([['a']]);
    expect(second.batches.map((b) => b.pks)).toEqual([['b']]);
  });
});
