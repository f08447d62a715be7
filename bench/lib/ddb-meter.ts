/**
 * Counts what a DynamoDB client really sends, with two middlewares on its stack (the document
 * client built from it shares the stack):
 * - at `initialize` (outermost): one count per command, and `ReturnConsumedCapacity: INDEXES` added
 *   so the answer says how many read and write units the request consumed (DynamoDB Local reports
 *   them, per table and per index);
 * - at `finalizeRequest` (inside the retry loop): one count per HTTP request, retries included.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

interface CapacityLike {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

/** Operations that consume write units; the others consume read units. */
const WRITE_OPERATIONS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'Put',
  'Update',
  'Delete',
  'BatchWrite',
  'TransactWrite',
]);

export interface MeterSnapshot {
  /** Commands sent, by command name (e.g. BatchGetCommand, PutCommand). */
  readonly commands: Readonly<Record<string, number>>;
  readonly totalCommands: number;
  /** HTTP requests to DynamoDB, retries included. */
  readonly httpRequests: number;
  /** Capacity units DynamoDB reported, by command name. */
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly unitsByCommand: Readonly<Record<string, number>>;
  /** Commands whose answer carried no ConsumedCapacity (a failed conditional write, for one). */
  readonly unreported: number;
  /** Wall time of each command (marshalling, signing, HTTP, parsing), by command name, ms. */
  readonly durations: Readonly<Record<string, readonly number[]>>;
}

export interface DdbMeter {
  reset(): void;
  snapshot(): MeterSnapshot;
  /** Takes both middlewares off the client again (a client the bench does not own). */
  detach(): void;
}

const operationOf = (commandName: string) => commandName.replace(/Command$/, '').replace(/Item$/, '');

function unitsOf(consumed: unknown): number {
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as (CapacityLike | undefined)[];
  let units = 0;
  for (const entry of list) units += entry?.CapacityUnits ?? 0;
  return units;
}

/** Anything with the DynamoDB client's middleware stack (a document client shares its client's). */
export type MeteredClient = Pick<DynamoDBClient, 'middlewareStack'>;

export function attachMeter(client: MeteredClient, name = 'bench'): DdbMeter {
  let commands: Record<string, number> = {};
  let unitsByCommand: Record<string, number> = {};
  let httpRequests = 0;
  let writeUnits = 0;
  let readUnits = 0;
  let unreported = 0;
  let durations: Record<string, number[]> = {};

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = String(context.commandName ?? 'unknown');
      commands[commandName] = (commands[commandName] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'INDEXES';
      const started = performance.now();
      const result = await next(args).finally(() => {
        const list = durations[commandName] ?? [];
        list.push(performance.now() - started);
        durations[commandName] = list;
      });
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      if (consumed === undefined) {
        unreported++;
      } else {
        const units = unitsOf(consumed);
        unitsByCommand[commandName] = (unitsByCommand[commandName] ?? 0) + units;
        const op = operationOf(commandName);
        if (WRITE_OPERATIONS.has(op) || WRITE_OPERATIONS.has(`${op}Item`)) writeUnits += units;
        else readUnits += units;
      }
      return result;
    },
    { step: 'initialize', name: `${name}CommandMeter`, override: true },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      httpRequests++;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: `${name}HttpMeter`, override: true },
  );
  const detach = () => {
    client.middlewareStack.remove(`${name}CommandMeter`);
    client.middlewareStack.remove(`${name}HttpMeter`);
  };

  return {
    detach,
    reset() {
      commands = {};
      unitsByCommand = {};
      httpRequests = 0;
      writeUnits = 0;
      readUnits = 0;
      unreported = 0;
      durations = {};
    },
    snapshot() {
      return {
        commands: { ...commands },
        totalCommands: Object.values(commands).reduce((sum, n) => sum + n, 0),
        httpRequests,
        writeUnits,
        readUnits,
        unitsByCommand: { ...unitsByCommand },
        unreported,
        durations: Object.fromEntries(Object.entries(durations).map(([name, list]) => [name, [...list]])),
      };
    },
  };
}
