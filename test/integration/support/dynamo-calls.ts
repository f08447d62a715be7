/**
 * Which function made which DynamoDB call, on which table: every document-client request made in
 * this process is recorded with the function running at the time (local/lambda.ts
 * `runningFunction`), the logical table it names and the IAM action it needs. A transaction is
 * recorded as the actions of its items, since that is what IAM checks for it.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
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

export class DynamoCallRecorder {
  readonly calls = new Set<DynamoCall>();
  /** Requests made outside any function (the local stack's own set-up, the test's reads). */
  outsideFunctions = 0;

  /** Records from now on; `tables` maps physical table names back to their logical names. */
  constructor(tables: Readonly<Record<TableName, string>>) {
    const logical = new Map(Object.entries(tables).map(([name, physical]) => [physical, name]));
    const record = (command: CommandLike) => this.record(command, logical);
    const send = DynamoDBDocumentClient.prototype.send;
    vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (
      this: DynamoDBDocumentClient,
      ...args: Parameters<typeof send>
    ) {
      record(args[0] as unknown as CommandLike);
      return send.apply(this, args);
    } as typeof send);
  }

  private record(command: CommandLike, logical: ReadonlyMap<string, string>): void {
    const functionId = runningFunction.getStore();
    if (functionId === undefined) {
      this.outsideFunctions++;
      return;
    }
    for (const [table, action] of tableActions(command)) {
      this.calls.add(`${functionId} ${logical.get(table) ?? `unknown table ${table}`} ${action}`);
    }
  }

  /** The calls made by one function, sorted. */
  of(functionId: string): DynamoCall[] {
    return [...this.calls].filter((call) => call.startsWith(`${functionId} `)).sort();
  }
}
