/**
 * The services that post to WebSocket connections, apart from service.ts so that handlers which
 * never post do not load the API Gateway management client at cold start.
 */
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityMoves } from '../adapters/dynamo/activity-index.js';
import { DynamoConnectionRemoval, DynamoConnectionStore } from '../adapters/dynamo/connection-store.js';
import type { TableNames } from '../adapters/dynamo/items.js';
import { DynamoMessageStore, DynamoMessageWrites } from '../adapters/dynamo/message-store.js';
import { DynamoRoomCommits } from '../adapters/dynamo/room-commits.js';
import { DynamoRoomDirectory } from '../adapters/dynamo/room-directory.js';
import { DynamoRoomReads } from '../adapters/dynamo/room-reads.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserReads } from '../adapters/dynamo/user-reads.js';
import { ApiGatewayNotifier, makeManagementClient } from '../adapters/notifier.js';
import { Deliveries } from '../domain/deliveries.js';
import { type DownloadSigner, noFileAccess } from '../domain/files.js';
import { monotonicUlidFactory } from '../domain/message-id.js';
import { ReadingService } from '../domain/messaging.js';
import { PresenceService } from '../domain/presence.js';
import { SendingService } from '../domain/sending.js';
import { callbackUrl } from './config.js';
import { attachmentChecker } from './files.js';
import { logger } from './logger.js';
import { metrics } from './metrics.js';
import { clock, methodsOf, type ServiceNeeds, tablesFor } from './wiring.js';

/** A fan-out removes the connections API Gateway reports gone. */
function deliveriesFor(db: ReturnType<typeof makeDocumentClient>, tables: TableNames): Deliveries {
  return new Deliveries(
    new DynamoConnectionRemoval(db, tables, clock),
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
  const users = new DynamoUserReads(db, tables, clock);
  const nextUlid = monotonicUlidFactory();
  return new SendingService(
    {
      ...methodsOf(new DynamoRoomCommits(db, tables.rooms), 'commitMessage', 'revertCommit'),
      ...methodsOf(new DynamoActivityMoves(db, tables.rooms), 'moveActivity', 'ensureActivity'),
      ...methodsOf(new DynamoMessageWrites(db, tables.messages), 'putMessage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'loadSend'),
      ...methodsOf(users, 'getUsers'),
    },
    deliveriesFor(db, tables),
    { checker: attachmentChecker() },
    clock,
    (now) => nextUlid(now.getTime()),
    logger,
    metrics,
  );
}

/**
 * `signer`: for the function that answers messages (history), which signs their attachments' URLs;
 * the others (mark-read, typing) answer none and do not bundle the S3 signer.
 */
export function buildReadingService(
  needs: ServiceNeeds,
  signer: DownloadSigner = noFileAccess.signer,
): ReadingService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const users = new DynamoUserReads(db, tables, clock);
  return new ReadingService(
    {
      ...methodsOf(new DynamoRoomStore(db, tables.rooms), 'getRoom', 'advanceReadPointer'),
      ...methodsOf(new DynamoMessageStore(db, tables.messages), 'listMessages', 'getMessage'),
      ...methodsOf(new DynamoRoomReads(db, tables), 'getRoomAndUsers'),
      ...methodsOf(users, 'getUsers'),
    },
    deliveriesFor(db, tables),
    signer,
    clock,
  );
}

export function buildPresenceService(needs: ServiceNeeds): PresenceService {
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const users = new DynamoUserReads(db, tables, clock);
  return new PresenceService(
    {
      ...methodsOf(new DynamoRoomStore(db, tables.rooms), 'getRoom'),
      ...methodsOf(new DynamoRoomDirectory(db, tables.rooms), 'listMemberships'),
      ...methodsOf(users, 'getUsers'),
      ...methodsOf(new DynamoConnectionStore(db, tables, clock), 'addConnection', 'removeConnection'),
    },
    deliveriesFor(db, tables),
    clock,
  );
}
