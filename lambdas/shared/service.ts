/**
 * Wires a handler's service from configuration, once per container. Each builder constructs only the
 * stores its service calls, so a handler's bundle holds only those tables' code. The services that
 * post to connections are built in posting-service.ts, so the others never load the management API
 * client.
 */
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityIndex } from '../adapters/dynamo/activity-index.js';
import { DynamoRoomDirectory } from '../adapters/dynamo/room-directory.js';
import { DynamoRoomReads } from '../adapters/dynamo/room-reads.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserStore } from '../adapters/dynamo/user-store.js';
import { ProfileService } from '../domain/profiles.js';
import { RoomService } from '../domain/rooms.js';
import { attachmentChecker } from './files.js';
import { avatarRemoval, downloadSigner } from './s3-files.js';
import { clock, methodsOf, type ServiceNeeds, tablesFor } from './wiring.js';

export { clock, methodsOf, type ServiceNeeds, tablesFor } from './wiring.js';

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
 * (signs the avatar's URL), 'set' for PUT /users/me (also checks an avatar upload and deletes the
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
      ? { signer, checker: attachmentChecker(), avatars: avatarRemoval() }
      : { signer, checker: { check: unused }, avatars: { remove: unused } },
  );
}
