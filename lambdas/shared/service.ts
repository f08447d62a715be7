/**
 * Wires the ChatService from configuration, once per container. A function that does not post to
 * connections gets no management client and needs no callback URL.
 */
import { monotonicFactory } from 'ulid';
import type { HandlerDefinition } from '../../definitions/routes.js';
import type { TableName } from '../../definitions/tables.js';
import { makeDocumentClient, makeManagementClient } from '../adapters/clients.js';
import { DynamoChatStore } from '../adapters/dynamo-store.js';
import { ApiGatewayNotifier } from '../adapters/notifier.js';
import { ChatService } from '../domain/chat-service.js';
import type { Notifier } from '../domain/ports.js';
import { callbackUrl, tableName } from './config.js';
import { logger } from './logger.js';

const notPosting: Notifier = {
  post: () => Promise.reject(new Error('This function is not configured to post to connections')),
};

/**
 * Builds the service for one function from its route definition: the tables it is granted must be
 * in its environment (a missing one fails the cold start by name); the others it never touches.
 */
export function buildChatService(definition: HandlerDefinition): ChatService {
  const nextUlid = monotonicFactory();
  const table = (name: TableName) => (definition.tables[name] ? tableName(name) : `${name}-not-granted`);
  const store = new DynamoChatStore(makeDocumentClient(), {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  });
  return new ChatService({
    store,
    notifier: definition.postsToConnections
      ? new ApiGatewayNotifier(makeManagementClient(callbackUrl()))
      : notPosting,
    clock: { now: () => new Date() },
    newMessageId: (now) => nextUlid(now.getTime()),
    logger,
  });
}
