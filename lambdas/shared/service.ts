/**
 * Wires a handler's service from configuration, once per container. Each builder pulls in only the
 * service it returns, so a handler's bundle holds only the rules it uses. A function that does not
 * post to connections gets no management client and needs no callback URL.
 */
import type { TableName } from '../../definitions/tables.js';
import { makeDocumentClient, makeManagementClient } from '../adapters/clients.js';
import { DynamoChatStore } from '../adapters/dynamo-store.js';
import { ApiGatewayNotifier } from '../adapters/notifier.js';
import { Deliveries } from '../domain/deliveries.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import { MessagingService } from '../domain/messaging.js';
import type { Clock } from '../domain/ports.js';
import { PresenceService } from '../domain/presence.js';
import { ProfileService } from '../domain/profiles.js';
import { RoomService } from '../domain/rooms.js';
import { callbackUrl, tableName } from './config.js';
import { logger } from './logger.js';

/**
 * What a handler uses. Each handler module exports its own, and a test checks it against the grants
 * in definitions/routes.ts; the handlers do not import the route table itself (bundle size).
 */
export interface ServiceNeeds {
  readonly tables: readonly TableName[];
  readonly posts: boolean;
}

const clock: Clock = { now: () => new Date() };

/** The tables a handler uses must be in its environment (a missing one fails the cold start by name). */
function storeFor(needs: ServiceNeeds): DynamoChatStore {
  const table = (name: TableName) => (needs.tables.includes(name) ? tableName(name) : `${name}-not-granted`);
  return new DynamoChatStore(makeDocumentClient(), {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  });
}

function deliveriesFor(store: DynamoChatStore): Deliveries {
  return new Deliveries(store, new ApiGatewayNotifier(makeManagementClient(callbackUrl())), clock, logger);
}

export function buildRoomService(needs: ServiceNeeds): RoomService {
  return new RoomService(storeFor(needs), clock);
}

export function buildMessagingService(needs: ServiceNeeds): MessagingService {
  const store = storeFor(needs);
  const nextUlid = monotonicUlidFactory();
  return new MessagingService(store, deliveriesFor(store), clock, (now) => nextUlid(now.getTime()));
}

export function buildPresenceService(needs: ServiceNeeds): PresenceService {
  const store = storeFor(needs);
  return new PresenceService(store, deliveriesFor(store), clock);
}

export function buildProfileService(needs: ServiceNeeds): ProfileService {
  return new ProfileService(storeFor(needs));
}
