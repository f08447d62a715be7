/**
 * The services that post to WebSocket connections, apart from service.ts so that handlers which
 * never post do not load the API Gateway management client at cold start.
 */
import type { DynamoChatStore } from '../adapters/dynamo-store.js';
import { ApiGatewayNotifier, makeManagementClient } from '../adapters/notifier.js';
import { Deliveries } from '../domain/deliveries.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import { MessagingService } from '../domain/messaging.js';
import { PresenceService } from '../domain/presence.js';
import { callbackUrl } from './config.js';
import { logger } from './logger.js';
import { clock, type ServiceNeeds, storeFor } from './service.js';

function deliveriesFor(store: DynamoChatStore): Deliveries {
  return new Deliveries(store, new ApiGatewayNotifier(makeManagementClient(callbackUrl())), clock, logger);
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
