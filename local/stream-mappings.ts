/**
 * Lambda's DynamoDB stream event source mappings, locally: for each table a `streams`-triggered
 * definition lists, DynamoDB Local's stream is polled (DescribeStream, GetShardIterator, GetRecords,
 * as Lambda's pollers do, four times a second) and the function is invoked with Lambda's DynamoDB
 * event. The semantics are those lib/chat-events.ts configures (definitions/notifications.ts
 * `changeStreamSettings` and `changeStreamFilters`):
 *
 * - records of a shard in order, one batch at a time per shard; a child shard after its parent;
 * - at most `batchSize` records read per batch, then the FilterCriteria: records no pattern matches
 *   are dropped (and count as processed) before any invocation;
 * - a batch fails when the function throws (or times out), or answers `batchItemFailures`: then the
 *   records before the lowest reported sequence number are done and the rest is retried (an empty
 *   or unknown `itemIdentifier` fails the whole batch, as Lambda does);
 * - bisect on error: a failed batch is split in two, each half retried on its own; a partial failure
 *   retries from the reported record only;
 * - bounded retries (`retryAttempts`: each failed invocation that is not split counts one, a split
 *   does not, halves inheriting the count) and a maximum record age: then the records go to the on-failure destination
 *   (dead-letters.ts `ChangeDeadLetters`) as Lambda's `DDBStreamBatchInfo` record, and the shard moves on;
 * - the start position: TRIM_HORIZON for a shard the mapping never read (a new mapping), otherwise
 *   right after the last record processed, kept per stream and shard in
 *   `<dataDir>/stream-checkpoints.json`, so a restart resumes as a persistent mapping would.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { TriggeredFunctionDefinition } from '../definitions/routes.js';
import { writeJsonFile } from './aws-endpoint.js';
import type { DeadLetters } from './dead-letters.js';
import { deadLetterQueues } from './dead-letters.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo-local.js';
import { checkPattern, matchesAny } from './event-pattern.js';
import { type HandlerResolver, invoke, localFunctionArn } from './lambda.js';
import type { Log } from './log.js';

export interface StreamMappingSettings {
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
}

export interface StreamSource {
  /** The local table's name. */
  readonly tableName: string;
  /** FilterCriteria patterns; absent: every record. */
  readonly filters?: readonly Record<string, unknown>[];
}

export interface StreamMappingsOptions {
  readonly dynamoEndpoint: string;
  readonly definition: TriggeredFunctionDefinition;
  readonly sources: readonly StreamSource[];
  readonly settings: StreamMappingSettings;
  readonly resolve: HandlerResolver;
  readonly deadLetters: DeadLetters;
  readonly log: Log;
  /** Folder for the checkpoints; undefined keeps them in memory. */
  readonly dataDir: string | undefined;
  /** The function's timeout; default 30 s (lib's). */
  readonly timeoutMs?: number;
  /** Lambda polls a shard four times a second. */
  readonly pollIntervalMs?: number;
}

export interface StreamMappings {
  /** Resolves once every record written so far has been handled (tests). */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The Lambda event record of one stream record (the `Records[]` entry Lambda builds). */
export interface DynamoDBEventRecord {
  eventID: string;
  eventName: string;
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: Record<string, unknown>;
  eventSourceARN: string;
}

/** An AttributeValue as it travels in JSON: binary as base64 (the SDK hands Uint8Arrays). */
function attributeJson(value: AttributeValue): unknown {
  const [type, inner] = Object.entries(value).find(([, v]) => v !== undefined) ?? [];
  // DynamoDB Local writes an empty map into its stream records as `{}`, without its type (its
  // GetItem answers `{"M": {}}`, as DynamoDB's streams do). A typeless value can be nothing else
  // (the other empty values keep their type, and the chat's items hold no binary), so the record
  // Lambda would build has `{"M": {}}`: a new room's `recent` map is one, and the consumer cannot
  // read the room without it.
  if (type === undefined) return { M: {} };
  if (type === 'B') return { B: Buffer.from(inner as Uint8Array).toString('base64') };
  if (type === 'BS') return { BS: (inner as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
  if (type === 'M')
    return {
      M: Object.fromEntries(
        Object.entries(inner as Record<string, AttributeValue>).map(([k, v]) => [k, attributeJson(v)]),
      ),
    };
  if (type === 'L') return { L: (inner as AttributeValue[]).map(attributeJson) };
  return { [type]: inner };
}

const imageJson = (image: Record<string, AttributeValue> | undefined) =>
  image === undefined
    ? undefined
    : Object.fromEntries(Object.entries(image).map(([k, v]) => [k, attributeJson(v)]));

export function lambdaRecord(record: StreamRecord, streamArn: string): DynamoDBEventRecord {
  const data = record.dynamodb ?? {};
  const created = data.ApproximateCreationDateTime;
  const dynamodb: Record<string, unknown> = {
    // Lambda gives epoch seconds (a number); the SDK parsed it into a Date.
    ApproximateCreationDateTime: created === undefined ? undefined : Math.floor(created.getTime() / 1000),
    Keys: imageJson(data.Keys),
    NewImage: imageJson(data.NewImage),
    OldImage: imageJson(data.OldImage),
    SequenceNumber: data.SequenceNumber,
    SizeBytes: data.SizeBytes,
    StreamViewType: data.StreamViewType,
  };
  for (const key of Object.keys(dynamodb)) if (dynamodb[key] === undefined) delete dynamodb[key];
  return {
    eventID: record.eventID ?? randomUUID().replaceAll('-', ''),
    eventName: record.eventName ?? 'INSERT',
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    // DynamoDB Local names its region "ddblocal"; Lambda gives the table's region.
    awsRegion: LOCAL_REGION,
    dynamodb,
    eventSourceARN: streamArn,
  };
}

/** A piece of a batch being retried: its records and how many of its failures counted as retries. */
interface Piece {
  readonly records: readonly DynamoDBEventRecord[];
  readonly retries: number;
}

type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly from?: string; readonly error: unknown };

const sequenceOf = (record: DynamoDBEventRecord) => String(record.dynamodb.SequenceNumber ?? '');
const compareSequence = (a: string, b: string) =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

export async function startStreamMappings(options: StreamMappingsOptions): Promise<StreamMappings> {
  const { definition, settings, log } = options;
  for (const source of options.sources) for (const pattern of source.filters ?? []) checkPattern(pattern);
  const client = new DynamoDBStreamsClient({
    endpoint: options.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 2,
  });
  const pollMs = options.pollIntervalMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const functionArn = localFunctionArn(definition.functionId);
  const checkpointFile =
    options.dataDir === undefined ? undefined : join(options.dataDir, 'stream-checkpoints.json');
  /** streamArn → shardId → last sequence number processed, or "closed" once the shard was read to its end. */
  let checkpoints: Record<string, Record<string, string>> = {};
  if (checkpointFile !== undefined) {
    try {
      checkpoints = JSON.parse(readFileSync(checkpointFile, 'utf8')) as typeof checkpoints;
    } catch {
      checkpoints = {};
    }
  }
  let saving: Promise<void> = Promise.resolve();
  const checkpoint = (streamArn: string, shardId: string, value: string) => {
    checkpoints[streamArn] = { ...checkpoints[streamArn], [shardId]: value };
    if (checkpointFile !== undefined) {
      const snapshot = structuredClone(checkpoints);
      saving = saving
        .then(() => writeJsonFile(checkpointFile, snapshot))
        .catch((error: unknown) => {
          log.error('Could not save the stream checkpoints', error);
        });
    }
  };

  let stopping = false;
  /** Shards with records read and not yet handled, or an invocation running: `drain()` waits on them. */
  const busy = new Set<string>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
    });

  async function invokeBatch(records: readonly DynamoDBEventRecord[]): Promise<Outcome> {
    let result: unknown;
    try {
      result = await invoke(options.resolve, definition, { Records: records }, timeoutMs);
    } catch (error) {
      return { ok: false, error };
    }
    if (!settings.reportBatchItemFailures || typeof result !== 'object' || result === null)
      return { ok: true };
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return { ok: true };
    if (!Array.isArray(failures)) return { ok: false, error: new Error('batchItemFailures is not a list') };
    if (failures.length === 0) return { ok: true };
    const sequences = new Set(records.map(sequenceOf));
    const reported: string[] = [];
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      // Lambda takes an empty, null or unknown identifier as the whole batch failing.
      if (typeof id !== 'string' || id === '' || !sequences.has(id)) {
        return {
          ok: false,
          error: new Error(`batchItemFailures names ${JSON.stringify(id)}, not a record of the batch`),
        };
      }
      reported.push(id);
    }
    reported.sort(compareSequence);
    return {
      ok: false,
      from: reported[0] as string,
      error: new Error(`partial batch failure from ${reported[0]}`),
    };
  }

  function discard(
    streamArn: string,
    shardId: string,
    records: readonly DynamoDBEventRecord[],
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
    invokeCount: number,
    error: unknown,
  ): void {
    const first = records[0];
    const last = records[records.length - 1];
    if (first === undefined || last === undefined) return;
    const arrival = (record: DynamoDBEventRecord) =>
      new Date(Number(record.dynamodb.ApproximateCreationDateTime ?? 0) * 1000).toISOString();
    // Lambda's on-failure record for a stream: where the records are, not the records themselves.
    options.deadLetters.add(deadLetterQueues.change, {
      requestContext: {
        requestId: randomUUID(),
        functionArn,
        condition,
        approximateInvokeCount: invokeCount,
      },
      responseContext:
        invokeCount === 0
          ? { statusCode: 0, executedVersion: '', functionError: '' }
          : { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: sequenceOf(first),
        endSequenceNumber: sequenceOf(last),
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn,
      },
    });
    if (invokeCount > 0)
      log.error(`${definition.functionId} gave up on ${records.length} stream record(s)`, error);
  }

  /** Handles one batch read from a shard, with retries, bisection and the dead letters, in order. */
  async function handleBatch(streamArn: string, shardId: string, batch: readonly DynamoDBEventRecord[]) {
    const pieces: Piece[] = [{ records: batch, retries: 0 }];
    while (pieces.length > 0 && !stopping) {
      const piece = pieces.shift() as Piece;
      // Records past the maximum age are not sent to the function: straight to the destination.
      const oldest = Date.now() / 1000 - settings.maxRecordAgeSeconds;
      const expired = piece.records.filter(
        (r) => Number(r.dynamodb.ApproximateCreationDateTime ?? 0) < oldest,
      );
      const records = piece.records.filter((r) => !expired.includes(r));
      if (expired.length > 0) discard(streamArn, shardId, expired, 'RecordAgeExceeded', 0, undefined);
      if (records.length === 0) continue;
      const outcome = await invokeBatch(records);
      if (outcome.ok) {
        checkpoint(streamArn, shardId, sequenceOf(records[records.length - 1] as DynamoDBEventRecord));
        continue;
      }
      let remaining = records;
      if (outcome.from !== undefined) {
        const at = records.findIndex((r) => sequenceOf(r) === outcome.from);
        const done = records[at - 1];
        if (done !== undefined) checkpoint(streamArn, shardId, sequenceOf(done));
        remaining = records.slice(at);
      }
      // A function error splits the batch (a partial response is retried from its record instead), and
      // "splitting a batch does not count towards the retry quota" (services-dynamodb-errors): a
      // bad record is isolated first, then retried on its own, so the records beside it are never
      // given up with it.
      const split = settings.bisectBatchOnFunctionError && outcome.from === undefined && remaining.length > 1;
      const retries = split ? piece.retries : piece.retries + 1;
      if (retries > settings.retryAttempts) {
        discard(streamArn, shardId, remaining, 'RetryAttemptsExhausted', retries, outcome.error);
        checkpoint(streamArn, shardId, sequenceOf(remaining[remaining.length - 1] as DynamoDBEventRecord));
        continue;
      }
      if (outcome.from === undefined)
        log.error(`${definition.functionId} failed on a stream batch; retrying`, outcome.error);
      if (split) {
        const half = Math.ceil(remaining.length / 2);
        pieces.unshift(
          { records: remaining.slice(0, half), retries },
          { records: remaining.slice(half), retries },
        );
      } else {
        pieces.unshift({ records: remaining, retries });
      }
      // Lambda retries at once but not in a tight loop; a short pause keeps a failing handler's logs readable.
      await sleep(Math.min(1000, 50 * 2 ** retries));
    }
  }

  async function iteratorFor(streamArn: string, shard: Shard): Promise<string | undefined> {
    const shardId = shard.ShardId as string;
    const last = checkpoints[streamArn]?.[shardId];
    try {
      const answer = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(last === undefined
            ? { ShardIteratorType: 'TRIM_HORIZON' }
            : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: last }),
        }),
      );
      return answer.ShardIterator;
    } catch (error) {
      // The checkpoint is older than the stream's 24 hours: what is left starts at the trim horizon.
      if (error instanceof TrimmedDataAccessException && last !== undefined) {
        const answer = await client.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        return answer.ShardIterator;
      }
      throw error;
    }
  }

  async function readShard(streamArn: string, shard: Shard, filters: StreamSource['filters']): Promise<void> {
    const shardId = shard.ShardId as string;
    let iterator = await iteratorFor(streamArn, shard);
    while (!stopping && iterator !== undefined) {
      let answer: GetRecordsCommandOutput;
      try {
        answer = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: settings.batchSize }),
        );
      } catch (error) {
        if (stopping) return;
        if (error instanceof ExpiredIteratorException) {
          iterator = await iteratorFor(streamArn, shard);
          continue;
        }
        // DynamoDB Local sometimes answers this for a fresh TRIM_HORIZON iterator of a new table's
        // shard once its first records arrive; a new iterator from the checkpoint (or the trim
        // horizon) reads them. On AWS it means the iterator fell behind the trim horizon, and Lambda
        // goes on from there too. After a pause, so that a shard that keeps answering it is no busy loop.
        if (error instanceof TrimmedDataAccessException) {
          await sleep(pollMs);
          iterator = await iteratorFor(streamArn, shard);
          continue;
        }
        throw error;
      }
      const read = (answer.Records ?? []).map((record) => lambdaRecord(record, streamArn));
      if (read.length > 0) {
        busy.add(shardId);
        try {
          const matching =
            filters === undefined ? read : read.filter((record) => matchesAny(filters, record));
          if (matching.length > 0) await handleBatch(streamArn, shardId, matching);
          if (stopping) return;
          // Filtered-out records count as processed.
          checkpoint(streamArn, shardId, sequenceOf(read[read.length - 1] as DynamoDBEventRecord));
        } finally {
          busy.delete(shardId);
        }
      }
      iterator = answer.NextShardIterator;
      if (read.length === 0 && iterator !== undefined) await sleep(pollMs);
    }
    if (!stopping && iterator === undefined) checkpoint(streamArn, shardId, 'closed');
  }

  /** One loop per table: finds its stream's shards and reads each once its parent is done. */
  async function followTable(dynamo: DynamoDBClient, source: StreamSource): Promise<void> {
    const table = await dynamo.send(new DescribeTableCommand({ TableName: source.tableName }));
    const streamArn = table.Table?.LatestStreamArn;
    if (streamArn === undefined) throw new Error(`Table ${source.tableName} has no stream`);
    // Reachable again: the next outage is reported again.
    reported.delete(source.tableName);
    const running = new Map<string, Promise<void>>();
    while (!stopping) {
      const shards: Shard[] = [];
      let start: string | undefined;
      do {
        const described = await client.send(
          new DescribeStreamCommand({
            StreamArn: streamArn,
            ...(start ? { ExclusiveStartShardId: start } : {}),
          }),
        );
        shards.push(...(described.StreamDescription?.Shards ?? []));
        start = described.StreamDescription?.LastEvaluatedShardId;
      } while (start !== undefined);
      const known = new Set(shards.map((shard) => shard.ShardId));
      for (const shard of shards) {
        const id = shard.ShardId as string;
        if (running.has(id) || checkpoints[streamArn]?.[id] === 'closed') continue;
        const parent = shard.ParentShardId;
        // A child waits for its parent (unless the parent has been trimmed away).
        if (parent !== undefined && known.has(parent) && checkpoints[streamArn]?.[parent] !== 'closed')
          continue;
        const reading = readShard(streamArn, shard, source.filters).catch((error: unknown) => {
          if (!stopping)
            log.error(`Reading shard ${id} of ${source.tableName}'s stream failed; retrying`, error);
          running.delete(id);
        });
        running.set(id, reading);
      }
      await sleep(1000);
    }
    await Promise.allSettled(running.values());
  }

  /** Tables whose mapping failure was reported: one report per outage (a fault test's stopped DynamoDB Local), not one a second. */
  const reported = new Set<string>();
  const { localDynamoClient } = await import('./tables.js');
  const dynamo = localDynamoClient(options.dynamoEndpoint);
  const loops = options.sources.map((source) =>
    (async () => {
      while (!stopping) {
        try {
          await followTable(dynamo, source);
        } catch (error) {
          if (stopping) return;
          log.error(
            `The ${definition.functionId} mapping of ${source.tableName} failed; restarting it`,
            error,
          );
          await sleep(1000);
        }
      }
    })(),
  );

  return {
    async drain(ms = 10_000) {
      const deadline = Date.now() + ms;
      // Two quiet polls in a row: nothing read, nothing running.
      let quiet = 0;
      while (quiet < 2) {
        if (Date.now() > deadline) throw new Error('The stream mappings did not drain in time');
        await sleep(pollMs + 50);
        quiet = busy.size === 0 ? quiet + 1 : 0;
      }
    },
    async stop() {
      stopping = true;
      await Promise.allSettled(loops);
      await saving;
      client.destroy();
      dynamo.destroy();
    },
  };
}
