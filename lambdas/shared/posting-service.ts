/**
 * The services that post to WebSocket connections, apart from service.ts so that handlers which
 * never post do not load the API Gateway management client at cold start.
 */
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityIndex } from '../adapters/dynamo/activity-index.js';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.js';
import { DynamoRoomCommits } from '../adapters/dynamo/room-commits.js';
import { DynamoRoomDirectory } from '../adapters/dynamo/room-directory.js';
import { DynamoRoomReads } from '../adapters/dynamo/room-reads.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserStore } from '../adapters/dynamo/user-store.js';
import { ApiGatewayNotifier, makeManagementClient } from '../adapters/notifier.js';
import { Deliveries } from '../domain/deliveries.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import { ReadingService } from '../domain/messaging.js';
import { PresenceService } from '../domain/presence.js';
import { SendingService } from '../domain/sending.js';
import { callbackUrl } from './config.js';
import { logger } from './logger.js';
import { metrics } from './metrics.js';
import { clock, methodsOf, type ServiceNeeds, tablesFor } from './service.js';

function deliveriesFor(users: DynamoUserStore): Deliveries {
  return new Deliveries(
    users,
    new ApiGatewayNotifier(makeManagementClient(callbackUrl())),
    clock,
    logger,
    {},
    metrics,
  );
}

export function buildSendingService(needs: ServiceNeeds): SendingService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const users = new DynamoUserStore(db, tables, clock);
  const nextUlid = monotonicUlidFactory();
  return new SendingService(
    {
      ...methodsOf(new DynamoRoomCommits(db, tables.rooms), 'commitMessage', 'revertCommit'),
      ...methodsOf(new DynamoActivityIndex(db, tables.rooms), 'moveActivity', 'ensureActivity'),
      ...methodsOf(new DynamoMessageStore(db, tables.messages), 'putMessage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'loadSend'),
      ...methodsOf(users, 'getUsers'),
    },
    deliveriesFor(users),
    clock,
    (now) => nextUlid(now.getTime()),
    logger,
    metrics,
  );
}

export function buildReadingService(needs: ServiceNeeds): ReadingService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const users = new DynamoUserStore(db, tables, clock);
  return new ReadingService(
    {
      ...methodsOf(new DynamoRoomStore(db, tables.rooms), 'getRoom', 'advanceReadPointer'),
      ...methodsOf(new DynamoMessageStore(db, tables.messages), 'listMessages', 'getMessage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'getRoomAndUsers'),
      ...methodsOf(users, 'getUsers'),
    },
    deliveriesFor(users),
    clock,
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
