/**
 * The services that post to WebSocket connections, apart from service.ts so that handlers which
 * never post do not load the API Gateway management client at cold start.
 */
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityIndex } from '../adapters/dynamo/activity-index.js';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.js';
import { DynamoRoomDirectory } from '../adapters/dynamo/room-directory.js';
import { DynamoRoomReads } from '../adapters/dynamo/room-reads.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserStore } from '../adapters/dynamo/user-store.js';
import { ApiGatewayNotifier, makeManagementClient } from '../adapters/notifier.js';
import { Deliveries } from '../domain/deliveries.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import { MessagingService } from '../domain/messaging.js';
import { PresenceService } from '../domain/presence.js';
import { callbackUrl } from './config.js';
import { logger } from './logger.js';
import { clock, methodsOf, type ServiceNeeds, tablesFor } from './service.js';

function deliveriesFor(users: DynamoUserStore): Deliveries {
  return new Deliveries(users, new ApiGatewayNotifier(makeManagementClient(callbackUrl())), clock, logger);
}

export function buildMessagingService(needs: ServiceNeeds): MessagingService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const rooms = new DynamoRoomStore(db, tables.rooms);
  const users = new DynamoUserStore(db, tables, clock);
  const nextUlid = monotonicUlidFactory();
  return new MessagingService(
    {
      ...methodsOf(rooms, 'getRoom', 'commitMessage', 'revertCommit', 'advanceReadPointer'),
      ...methodsOf(new DynamoActivityIndex(db, tables.rooms), 'moveActivity'),
      ...methodsOf(new DynamoMessageStore(db, tables.messages), 'putMessage', 'listMessages', 'getMessage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'getRoomAndUsers', 'loadSend'),
      ...methodsOf(users, 'getUsers'),
    },
    deliveriesFor(users),
    clock,
    (now) => nextUlid(now.getTime()),
    logger,
  );
}

export function buildPresenceService(needs: ServiceNeeds): PresenceService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const users = new DynamoUserStore(db, tables, clock);
  return new PresenceService(
    {
      ...methodsOf(new DynamoRoomStore(db, tables.rooms), 'getRoom'),
      ...methodsOf(new DynamoRoomDirectory(db, tables.rooms), 'listMemberships'),
      ...methodsOf(users, 'getUsers', 'addConnection', 'removeConnection'),
    },
    deliveriesFor(users),
    clock,
  );
}
