/**
 * Which function made which DynamoDB call, on which table: every document-client request made in
 * this process is recorded with the function running at the time (local/lambda.ts
 * `runningFunction`), the logical table it names and the IAM action it needs. A transaction is
 * recorded as the actions of its items, since that is what IAM checks for it.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HandlerDefinition } from '../../../definitions/routes.js';
import type { TableName } from '../../../definitions/tables.js';
import { runningFunction } from '../../../local/lambda.js';
import { operationOf } from '../faults/support/dynamo-throttles.js';

/** `${functionId} ${table} ${action}`, e.g. `SendMessageFunction messages PutItem`. */
export type DynamoCall = string;

interface CommandLike {
  readonly constructor: { readonly name: string };
  readonly input: Readonly<Record<string, unknown>>;
}

const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** Table names as the request carries them, with the IAM action each needs. */
function tableActions(command: CommandLike): [string, string][] {
  const operation = operationOf(command.constructor.name);
  const { input } = command;
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((input.RequestItems ?? {}) as object).map((table) => [table, operation]);
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (input.TransactItems ?? []) as Record<string, { TableName?: string }>[];
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, request]): [string, string] => [
        String(request.TableName),
        TRANSACT_ITEM_ACTIONS[kind] ?? kind,
      ]),
    );
  }
  return [[String(input.TableName), operation]];
}

/** The partition keys (`pk`) of the items a write request writes, by physical table name. */
function writtenKeys(command: CommandLike): [string, string][] {
  const operation = operationOf(command.constructor.name);
  const { input } = command;
  const pkOf = (item: unknown) => String((item as { pk?: unknown } | undefined)?.pk);
  if (operation === 'PutItem') return [[String(input.TableName), pkOf(input.Item)]];
  if (operation === 'UpdateItem' || operation === 'DeleteItem')
    return [[String(input.TableName), pkOf(input.Key)]];
  if (operation === 'BatchWriteItem') {
    return Object.entries(
      (input.RequestItems ?? {}) as Record<string, Record<string, { Item?: unknown; Key?: unknown }>[]>,
    ).flatMap(([table, requests]) =>
      requests.map((request): [string, string] => [
        table,
        pkOf(request.PutRequest?.Item ?? request.DeleteRequest?.Key),
      ]),
    );
  }
  if (operation === 'TransactWriteItems') {
    const items = (input.TransactItems ?? []) as Record<
      string,
      { TableName?: string; Item?: unknown; Key?: unknown }
    >[];
    return items.flatMap((item) =>
      Object.entries(item)
        .filter(([kind]) => kind !== 'ConditionCheck')
        .map(([, request]): [string, string] => [
          String(request.TableName),
          pkOf(request.Item ?? request.Key),
        ]),
    );
  }
  return [];
}

/** The calls a definition's grant allows, in the recorder's notation. */
export function grantedCalls(definition: HandlerDefinition): DynamoCall[] {
  return Object.entries(definition.tables)
    .flatMap(([table, actions]) =>
      (actions ?? []).map((action) => `${definition.functionId} ${table} ${action}`),
    )
    .sort();
}

export class DynamoCallRecorder {
  readonly calls = new Set<DynamoCall>();
  /** The partition keys each function wrote, as `${functionId} ${table}` → keys. */
  readonly writes = new Map<string, Set<string>>();
  /** Requests made outside any function (the local stack's own set-up, the test's reads). */
  outsideFunctions = 0;
  readonly uninstall: () => void;
  /**
   * Called before each request a function makes, with the calls it stands for; a promise returned
   * holds the request until it settles. Lets a test line requests up to reach a race on purpose.
   */
  holdBefore: ((calls: readonly DynamoCall[]) => Promise<void> | undefined) | undefined;

  /**
   * Records every document-client request in this process from now on, until `uninstall`; `tables`
   * maps physical table names back to their logical names.
   */
  constructor(tables: Readonly<Record<TableName, string>>) {
    const logical = new Map(Object.entries(tables).map(([name, physical]) => [physical, name]));
    const record = (command: CommandLike) => this.record(command, logical);
    const prototype = DynamoDBDocumentClient.prototype;
    const send = prototype.send;
    const holdBefore = (calls: readonly DynamoCall[]) => this.holdBefore?.(calls);
    prototype.send = function (this: DynamoDBDocumentClient, ...args: Parameters<typeof send>) {
      const calls = record(args[0] as unknown as CommandLike);
      const hold = calls.length > 0 ? holdBefore(calls) : undefined;
      return hold === undefined ? send.apply(this, args) : hold.then(() => send.apply(this, args));
    } as typeof send;
    this.uninstall = () => {
      prototype.send = send;
    };
  }

  /** Calls recorded that no grant among `definitions` allows. */
  ungranted(definitions: readonly HandlerDefinition[]): DynamoCall[] {
    const granted = new Set(definitions.flatMap(grantedCalls));
    return [...this.calls].filter((call) => !granted.has(call)).sort();
  }

  private record(command: CommandLike, logical: ReadonlyMap<string, string>): DynamoCall[] {
    const functionId = runningFunction.getStore();
    if (functionId === undefined) {
      this.outsideFunctions++;
      return [];
    }
    const calls = tableActions(command).map(
      ([table, action]) => `${functionId} ${logical.get(table) ?? `unknown table ${table}`} ${action}`,
    );
    for (const call of calls) this.calls.add(call);
    for (const [table, key] of writtenKeys(command)) {
      const name = `${functionId} ${logical.get(table) ?? `unknown table ${table}`}`;
      this.writes.set(name, (this.writes.get(name) ?? new Set()).add(key));
    }
    return calls;
  }

  /** The calls made by one function, sorted. */
  of(functionId: string): DynamoCall[] {
    return [...this.calls].filter((call) => call.startsWith(`${functionId} `)).sort();
  }
}
