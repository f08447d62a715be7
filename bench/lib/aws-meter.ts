/**
 * Counts the AWS requests the local stack's handlers make, by function: every DynamoDB, S3, Lambda,
 * EventBridge, EventBridge Scheduler and SES v2 client in this process (the handlers build their own, at import or on first use) is found
 * when it first sends (its class's `send` is watched, as sections/chat-list.ts finds the list
 * function's client), and gets two middlewares, as lib/ddb-meter.ts does:
 * - at `initialize`: the command, its wall time, and for DynamoDB `ReturnConsumedCapacity: INDEXES`
 *   added, so the answer says the read and write units it consumed;
 * - at `finalizeRequest` (inside the retry loop): one count per HTTP request, named by the real
 *   operation (DynamoDB's `X-Amz-Target`, so a document client's `PutCommand` counts as `PutItem`;
 *   S3's GetObject with a `Range` as `GetObject (range)`).
 * Which function made a request is local/lambda.ts `runningFunction` (an AsyncLocalStorage around
 * each handler call): on AWS each function is its own process, here they share one.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runningFunction } from '../../local/lambda.js';

/** What one function did between two resets. */
export interface FunctionCalls {
  /** HTTP requests by `Service:Operation` (e.g. `DynamoDB:PutItem`, `S3:HeadObject`, `Scheduler:CreateSchedule`). */
  readonly requests: Readonly<Record<string, number>>;
  readonly totalRequests: number;
  /** DynamoDB capacity units as DynamoDB Local reported them, by operation. */
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly unitsByOperation: Readonly<Record<string, number>>;
  /** DynamoDB commands whose answer carried no ConsumedCapacity. */
  readonly unreported: number;
  /** Wall time of each command (signing, HTTP, parsing), by `Service:Operation`, ms: one entry per command, retries inside it. */
  readonly durations: Readonly<Record<string, readonly number[]>>;
}

export interface AwsMeter {
  reset(): void;
  /** By function id (`(bench)` for requests made outside any handler). */
  snapshot(): Readonly<Record<string, FunctionCalls>>;
  /** Stops watching and takes the middlewares off every client metered. */
  stop(): void;
}

interface Stackish {
  readonly middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
    remove(name: string): boolean;
  };
}

type Sender = { send: (...args: never[]) => unknown };

const OUTSIDE = '(bench)';
const COMMAND_METER = 'benchAwsCommandMeter';
const HTTP_METER = 'benchAwsHttpMeter';

const WRITE_OPERATIONS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

interface Mutable {
  requests: Record<string, number>;
  writeUnits: number;
  readUnits: number;
  unitsByOperation: Record<string, number>;
  unreported: number;
  durations: Record<string, number[]>;
}

const empty = (): Mutable => ({
  requests: {},
  writeUnits: 0,
  readUnits: 0,
  unitsByOperation: {},
  unreported: 0,
  durations: {},
});

/** `DynamoDBClient` and `DynamoDBDocumentClient` → `DynamoDB`, `S3Client` → `S3`, `SESv2Client` → `SESv2`, … */
const serviceOf = (clientName: unknown) =>
  String(clientName ?? 'unknown')
    .replace(/Client$/, '')
    .replace(/^DynamoDBDocument$/, 'DynamoDB');

/** Document client commands, by the DynamoDB operation they send. */
const DOCUMENT_OPERATIONS: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

function operationOf(service: string, commandName: unknown, input: Record<string, unknown>): string {
  const command = String(commandName ?? 'unknown').replace(/Command$/, '');
  if (service === 'DynamoDB') return DOCUMENT_OPERATIONS[command] ?? command;
  if (service === 'S3' && command === 'GetObject' && input.Range !== undefined) return 'GetObject (range)';
  return command;
}

function unitsOf(consumed: unknown): number {
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as (
    | { CapacityUnits?: number }
    | undefined
  )[];
  return list.reduce((sum, entry) => sum + (entry?.CapacityUnits ?? 0), 0);
}

export function watchAwsCalls(): AwsMeter {
  let byFunction = new Map<string, Mutable>();
  const metered = new Set<Stackish['middlewareStack']>();
  const current = () => {
    const id = runningFunction.getStore() ?? OUTSIDE;
    let calls = byFunction.get(id);
    if (calls === undefined) {
      calls = empty();
      byFunction.set(id, calls);
    }
    return calls;
  };

  const meter = (client: Stackish) => {
    const stack = client.middlewareStack;
    if (metered.has(stack)) return;
    metered.add(stack);
    stack.add(
      (next: (args: unknown) => Promise<{ output: unknown }>, context: Record<string, unknown>) =>
        async (args: { input: Record<string, unknown> }) => {
          const service = serviceOf(context.clientName);
          const operation = `${service}:${operationOf(service, context.commandName, args.input)}`;
          if (service === 'DynamoDB' && args.input.ReturnConsumedCapacity === undefined) {
            args.input.ReturnConsumedCapacity = 'INDEXES';
          }
          // Saved here: the HTTP middleware runs in the same call, and names the request after it.
          (context as { benchOperation?: string }).benchOperation = operation;
          const started = performance.now();
          try {
            const result = await next(args);
            if (service === 'DynamoDB') {
              const calls = current();
              const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
              if (consumed === undefined) calls.unreported++;
              else {
                const units = unitsOf(consumed);
                calls.unitsByOperation[operation] = (calls.unitsByOperation[operation] ?? 0) + units;
                if (WRITE_OPERATIONS.has(operation.slice('DynamoDB:'.length))) calls.writeUnits += units;
                else calls.readUnits += units;
              }
            }
            return result;
          } finally {
            const calls = current();
            const list = calls.durations[operation] ?? [];
            list.push(performance.now() - started);
            calls.durations[operation] = list;
          }
        },
      { step: 'initialize', name: COMMAND_METER, override: true },
    );
    stack.add(
      (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) =>
        async (args: { request?: { headers?: Record<string, string> } }) => {
          const named = (context as { benchOperation?: string }).benchOperation ?? 'unknown';
          // Only DynamoDB's target names the real operation; EventBridge's (AWSEvents.PutEvents) is the command's.
          const target = named.startsWith('DynamoDB:') ? args.request?.headers?.['x-amz-target'] : undefined;
          const operation = target === undefined ? named : `DynamoDB:${target.split('.').at(-1) ?? target}`;
          const calls = current();
          calls.requests[operation] = (calls.requests[operation] ?? 0) + 1;
          return next(args);
        },
      { step: 'finalizeRequest', priority: 'low', name: HTTP_METER, override: true },
    );
  };

  const prototypes: Sender[] = [
    DynamoDBClient.prototype,
    DynamoDBDocumentClient.prototype,
    S3Client.prototype,
    LambdaClient.prototype,
    EventBridgeClient.prototype,
    SchedulerClient.prototype,
    SESv2Client.prototype,
  ];
  const restores = prototypes.map((prototype) => {
    const own = Object.hasOwn(prototype, 'send');
    const send = prototype.send;
    prototype.send = function (this: Stackish, ...args: never[]) {
      meter(this);
      return send.apply(this, args);
    };
    return () => {
      if (own) prototype.send = send;
      else Reflect.deleteProperty(prototype, 'send');
    };
  });

  return {
    reset() {
      byFunction = new Map();
    },
    snapshot() {
      return Object.fromEntries(
        [...byFunction].map(([id, calls]) => [
          id,
          {
            requests: { ...calls.requests },
            totalRequests: Object.values(calls.requests).reduce((sum, n) => sum + n, 0),
            writeUnits: calls.writeUnits,
            readUnits: calls.readUnits,
            unitsByOperation: { ...calls.unitsByOperation },
            unreported: calls.unreported,
            durations: Object.fromEntries(Object.entries(calls.durations).map(([k, v]) => [k, [...v]])),
          },
        ]),
      );
    },
    stop() {
      for (const restore of restores) restore();
      for (const stack of metered) {
        stack.remove(COMMAND_METER);
        stack.remove(HTTP_METER);
      }
      metered.clear();
    },
  };
}
