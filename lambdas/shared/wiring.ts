/**
 * What every service builder shares: the clock, the tables a handler may use, and picking a few
 * methods from a store. Apart from service.ts so that a builder elsewhere (posting-service.ts) does
 * not bundle the stores service.ts builds.
 */
import type { TableName } from '../../definitions/tables.js';
import type { TableNames } from '../adapters/dynamo/items.js';
import type { Clock } from '../domain/ports.js';
import { tableName } from './config.js';

/**
 * What a handler uses. Each handler module exports its own, and a test checks it against the grants
 * in definitions/routes.ts; the handlers do not import the route table itself (bundle size).
 */
export interface ServiceNeeds {
  readonly tables: readonly TableName[];
  readonly posts: boolean;
}

export const clock: Clock = { now: () => new Date() };

/** The tables a handler uses must be in its environment (a missing one fails the cold start by name). */
export function tablesFor(needs: ServiceNeeds): TableNames {
  const table = (name: TableName) => (needs.tables.includes(name) ? tableName(name) : `${name}-not-granted`);
  return {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  };
}

/**
 * The named methods of `source`, bound to it: how one service takes the few methods it calls from
 * several stores.
 */
export function methodsOf<T extends object, K extends keyof T>(source: T, ...names: K[]): Pick<T, K> {
  const picked: Partial<Record<K, unknown>> = {};
  for (const name of names) {
    const method = source[name];
    picked[name] = typeof method === 'function' ? method.bind(source) : method;
  }
  return picked as Pick<T, K>;
}
