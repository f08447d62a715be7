/**
 * The DynamoDB tables, declared once. The CDK stack turns these into `dynamodb.Table`s and the
 * local stack into `CreateTable` calls against DynamoDB Local, so keys and indexes cannot drift.
 *
 * Plain data on purpose: no aws-cdk-lib import, so handlers' tooling and the local stack can load it.
 */
import { tableEnvVars } from './env.js';

export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface LocalIndexDefinition {
  readonly indexName: string;
  readonly sortKey: KeyAttribute;
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  /** CDK construct id. Part of the contract: renaming it replaces the table and loses its data. */
  readonly constructId: string;
  /** Environment variable through which handlers receive the table's name. */
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDefinition[];
  readonly localIndexes: readonly LocalIndexDefinition[];
  readonly ttlAttribute?: string;
  /** What the table's DynamoDB stream carries, for the event consumer; absent: no stream. */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
  /** Tables that hold user data get point-in-time recovery and are retained on stack deletion. */
  readonly holdsUserData: boolean;
}

/**
 * rooms: one item per room (`pk` = roomId, `sk` = "room") holding participants, last message, each
 * participant's sent count, read pointer and read count, and the recent sends, so a send commits by
 * one conditional update of one item; one membership item per participant (`pk` = "member#" +
 * userId, `sk` = roomId) written once when the room starts (presence); and one activity item per
 * participant (`pk` = "activity#" + userId, `sk` = hour + "#" + roomId), moved when the room enters a
 * new hour, so a chat-list page reads the newest hours only and never touches message history;
 * one claim item per attached upload (`pk` = roomId, `sk` = "upload#" + uploadId); and one notified
 * mark per user and room (`pk` = keys.ts `notifiedMarkKeyPrefix` + userId, `sk` = roomId).
 */
export const roomsTable: TableDefinition = {
  constructId: 'RoomsTable',
  envVar: tableEnvVars.rooms,
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [],
  localIndexes: [],
  holdsUserData: true,
  // Room items created (room.created) and read pointers moved (message.read): both images.
  stream: 'NEW_AND_OLD_IMAGES',
};

/**
 * messages: keyed by (roomId, dedupKey) where dedupKey is the sender's clientMessageId, so one
 * conditional Put both stores the message and makes a retry a no-op. History is ordered by ULID
 * through the `byMessageId` local index (a Query on one partition, strongly consistent if needed).
 * Price of the LSI: one extra write unit per message and a 10 GB cap per room's item collection.
 */
export const messagesTable: TableDefinition = {
  constructId: 'MessagesTable',
  envVar: tableEnvVars.messages,
  partitionKey: { name: 'roomId', type: 'S' },
  sortKey: { name: 'dedupKey', type: 'S' },
  globalIndexes: [],
  localIndexes: [{ indexName: 'byMessageId', sortKey: { name: 'messageId', type: 'S' }, projection: 'ALL' }],
  holdsUserData: true,
  // Messages stored (message.new, and the recipients' e-mail checks).
  stream: 'NEW_IMAGE',
};

/**
 * connections: the record of every open WebSocket connection, expiring a little after API Gateway's
 * 2-hour limit in case `$disconnect` never arrives. The `byUser` index lists a user's connections for
 * operators and repairs; the send path reads connection ids from the users table instead (one BatchGet).
 */
export const connectionsTable: TableDefinition = {
  constructId: 'ConnectionsTable',
  envVar: tableEnvVars.connections,
  partitionKey: { name: 'connectionId', type: 'S' },
  globalIndexes: [
    {
      indexName: 'byUser',
      partitionKey: { name: 'userId', type: 'S' },
      sortKey: { name: 'connectionId', type: 'S' },
      projection: 'ALL',
    },
  ],
  localIndexes: [],
  ttlAttribute: 'expiresAt',
  holdsUserData: false,
};

/**
 * users: the profile (display name, avatar) plus presence: one attribute per live connection
 * (`conn#<connectionId>`), so a send learns every participant's connections from the same BatchGet
 * that loads the room, and the first/last connection is detected atomically from one UpdateItem.
 */
export const usersTable: TableDefinition = {
  constructId: 'UsersTable',
  envVar: tableEnvVars.users,
  partitionKey: { name: 'userId', type: 'S' },
  globalIndexes: [],
  localIndexes: [],
  holdsUserData: true,
};

export const tables = {
  rooms: roomsTable,
  messages: messagesTable,
  connections: connectionsTable,
  users: usersTable,
} as const;

export type TableName = keyof typeof tables;
