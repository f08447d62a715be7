/**
 * Wires a handler's service from configuration, once per container. Each builder constructs only the
 * stores its service calls, so a handler's bundle holds only those tables' code. The services that
 * post to connections are built in posting-service.ts, so the others never load the management API
 * client.
 */
import type { TableName } from '../../definitions/tables.js';
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityIndex } from '../adapters/dynamo/activity-index.js';
import type { TableNames } from '../adapters/dynamo/items.js';
import { DynamoRoomDirectory } from '../adapters/dynamo/room-directory.js';
import { DynamoRoomReads } from '../adapters/dynamo/room-reads.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserStore } from '../adapters/dynamo/user-store.js';
import type { Clock } from '../domain/ports.js';
import { ProfileService } from '../domain/profiles.js';
import { RoomService } from '../domain/rooms.js';
import { tableName } from './config.js';
import { attachmentChecker, downloadSigner, uploadTags } from './files.js';

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

export function buildRoomService(needs: ServiceNeeds): RoomService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const rooms = new DynamoRoomStore(db, tables.rooms);
  return new RoomService(
    {
      ...methodsOf(rooms, 'getRoom', 'getRooms'),
      ...methodsOf(new DynamoRoomDirectory(db, tables.rooms), 'createRoom'),
      ...methodsOf(new DynamoActivityIndex(db, tables.rooms), 'activityPage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'getRoomAndUsers'),
      ...methodsOf(new DynamoUserStore(db, tables, clock), 'getUsers'),
    },
    downloadSigner(),
    clock,
  );
}

/**
 * `files`: 'none' for the Cognito trigger (it shows and sets no avatar), 'show' for GET /users/me
 * (signs the avatar's URL), 'set' for PUT /users/me (also checks an avatar upload and releases the
 * replaced one).
 */
export function buildProfileService(needs: ServiceNeeds, files: 'none' | 'show' | 'set'): ProfileService {
  const store = new DynamoUserStore(makeDocumentClient(), tablesFor(needs), clock);
  if (files === 'none') return new ProfileService(store);
  const signer = downloadSigner();
  const unused = () => Promise.reject(new Error('GET /users/me sets no avatar'));
  return new ProfileService(
    store,
    files === 'set'
      ? { signer, checker: attachmentChecker(), tags: uploadTags() }
      : { signer, checker: { check: unused }, tags: { markPending: unused } },
  );
}
