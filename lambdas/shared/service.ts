/**
 * Wires a handler's service from configuration, once per container. Each builder pulls in only the
 * service it returns, so a handler's bundle holds only the rules it uses. The services that post to
 * connections are built in posting-service.ts, so the others never load the management API client.
 */
import type { TableName } from '../../definitions/tables.js';
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoChatStore } from '../adapters/dynamo-store.js';
import type { Clock } from '../domain/ports.js';
import { ProfileService } from '../domain/profiles.js';
import { RoomService } from '../domain/rooms.js';
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
export function storeFor(needs: ServiceNeeds): DynamoChatStore {
  const table = (name: TableName) => (needs.tables.includes(name) ? tableName(name) : `${name}-not-granted`);
  return new DynamoChatStore(makeDocumentClient(), {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  });
}

export function buildRoomService(needs: ServiceNeeds): RoomService {
  return new RoomService(storeFor(needs), clock);
}

export function buildProfileService(needs: ServiceNeeds): ProfileService {
  return new ProfileService(storeFor(needs));
}
