/**
 * Every DynamoDB store behind the one ChatStore interface, for tools and tests that use them all (the
 * local stack's checks, the bench, the store contract tests). Handlers never import this: each builds
 * only the stores its service calls (lambdas/shared/service.ts), so its bundle holds only those.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChatStore, Clock } from '../../domain/ports.js';
import { DynamoActivityIndex } from './activity-index.js';
import type { TableNames } from './items.js';
import { DynamoMessageStore } from './message-store.js';
import { DynamoNotificationPrefs, DynamoNotifiedMarks, DynamoRecipients } from './notification-store.js';
import { DynamoRoomCommits } from './room-commits.js';
import { DynamoRoomDirectory } from './room-directory.js';
import { DynamoRoomReads } from './room-reads.js';
import { DynamoRoomStore } from './room-store.js';
import { DynamoUserStore } from './user-store.js';

export type { TableNames } from './items.js';

export function dynamoChatStore(db: DynamoDBDocumentClient, tables: TableNames, clock: Clock): ChatStore {
  const rooms = new DynamoRoomStore(db, tables.rooms);
  const commits = new DynamoRoomCommits(db, tables.rooms);
  const directory = new DynamoRoomDirectory(db, tables.rooms);
  const activity = new DynamoActivityIndex(db, tables.rooms);
  const messages = new DynamoMessageStore(db, tables.messages);
  const users = new DynamoUserStore(db, tables, clock);
  const reads = new DynamoRoomReads(db, tables);
  const prefs = new DynamoNotificationPrefs(db, tables);
  const recipients = new DynamoRecipients(db, tables);
  const marks = new DynamoNotifiedMarks(db, tables.rooms);
  return {
    getRoom: (...args) => rooms.getRoom(...args),
    getRooms: (...args) => rooms.getRooms(...args),
    createRoom: (...args) => directory.createRoom(...args),
    commitMessage: (...args) => commits.commitMessage(...args),
    revertCommit: (...args) => commits.revertCommit(...args),
    advanceReadPointer: (...args) => rooms.advanceReadPointer(...args),
    listMemberships: (...args) => directory.listMemberships(...args),
    activityPage: (...args) => activity.activityPage(...args),
    moveActivity: (...args) => activity.moveActivity(...args),
    ensureActivity: (...args) => activity.ensureActivity(...args),
    putMessage: (...args) => messages.putMessage(...args),
    listMessages: (...args) => messages.listMessages(...args),
    getMessage: (...args) => messages.getMessage(...args),
    getUser: (...args) => users.getUser(...args),
    getUsers: (...args) => users.getUsers(...args),
    createProfileIfMissing: (...args) => users.createProfileIfMissing(...args),
    updateProfile: (...args) => users.updateProfile(...args),
    addConnection: (...args) => users.addConnection(...args),
    removeConnection: (...args) => users.removeConnection(...args),
    getRoomAndUsers: (...args) => reads.getRoomAndUsers(...args),
    loadSend: (...args) => reads.loadSend(...args),
    getNotificationPrefs: (...args) => prefs.getNotificationPrefs(...args),
    updateNotificationPrefs: (...args) => prefs.updateNotificationPrefs(...args),
    getRecipient: (...args) => recipients.getRecipient(...args),
    getRecipients: (...args) => recipients.getRecipients(...args),
    notifiedMarks: (...args) => marks.notifiedMarks(...args),
    moveNotifiedMarks: (...args) => marks.moveNotifiedMarks(...args),
  };
}
