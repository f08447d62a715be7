/**
 * Wires the ChatService from configuration, once per container. A function that does not post to
 * connections gets no management client and needs no callback URL.
 */
import type { TableName } from '../../definitions/tables.js';
import { makeDocumentClient, makeManagementClient } from '../adapters/clients.js';
import { DynamoChatStore } from '../adapters/dynamo-store.js';
import { ApiGatewayNotifier } from '../adapters/notifier.js';
import { ChatService } from '../domain/chat-service.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import type { Notifier } from '../domain/ports.js';
import { callbackUrl, tableName } from './config.js';
import { logger } from './logger.js';

const notPosting: Notifier = {
  post: () => Promise.reject(new Error('This function is not configured to post to connections')),
};

/**
 * What a handler uses. Each handler module exports its own, and a test checks it against the grants
 * in definitions/routes.ts; the handlers do not import the route table itself (bundle size).
 */
export interface ServiceNeeds {
  readonly tables: readonly TableName[];
  readonly posts: boolean;
}

/**
 * Builds the service a handler needs: the tables it uses must be in its environment (a missing one
 * fails the cold start by name); the others it never touches.
 */
export function buildChatService(needs: ServiceNeeds): ChatService {
  const nextUlid = monotonicUlidFactory();
  const table = (name: TableName) => (needs.tables.includes(name) ? tableName(name) : `${name}-not-granted`);
  const store = new DynamoChatStore(makeDocumentClient(), {
    rooms: table('rooms'),
    messages: table('messages'),
    connections: table('connections'),
    users: table('users'),
  });
  return new ChatService({
    store,
    notifier: needs.posts ? new ApiGatewayNotifier(makeManagementClient(callbackUrl())) : notPosting,
    clock: { now: () => new Date() },
    newMessageId: (now) => nextUlid(now.getTime()),
    logger,
  });
}
