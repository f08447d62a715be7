/**
 * What the DynamoDB stores share: table names, item shapes and the request helpers DynamoDB's paging
 * and partial batches call for. Item shapes (keys in definitions/tables.ts):
 *   rooms:       { pk: roomId, sk: "room", participants, createdAt, updatedAt, lastMessage?,
 *                  members: { [userId]: { sent, read, lastRead? } },
 *                  recent: { [sendKey]: participant index + messageId } }
 *                { pk: "member#" + userId, sk: roomId, peers }          (presence: who shares a room)
 *                { pk: "activity#" + userId, sk: hour + "#" + roomId, roomId }   (the chat list)
 *                { pk: roomId, sk: "upload#" + uploadId, claim, claimedAt }   (an upload attached: files)
 *                { pk: "notified#" + userId, sk: roomId, messageId }   (the newest message e-mailed)
 *   messages:    { roomId, dedupKey, messageId, senderId, content, sentAt, clientMessageId?, attachments?, counts }
 *   connections: { connectionId, userId, roomId?, connectedAt, expiresAt }
 *   users:       { userId, displayName, avatarUrl? | avatarKey?, createdAt, lastSeenAt?, "conn#" + connectionId: { expiresAt, roomId? },
 *                  email?, notify?: { email?, delayMinutes? } }
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { notifiedMarkKeyPrefix } from '../../../definitions/keys.js';
import type { StoredAttachment } from '../../domain/files.js';
import type {
  ConnectionRef,
  MemberState,
  Message,
  RecentSend,
  Room,
  SentCounts,
  UserId,
  UserProfile,
} from '../../domain/model.js';
import type { StoredMessage } from '../../domain/ports.js';

export interface TableNames {
  readonly rooms: string;
  readonly messages: string;
  readonly connections: string;
  readonly users: string;
}

export type Item = Record<string, unknown>;

export const ROOM_SK = 'room';
export const MEMBER_PREFIX = 'member#';
export const ACTIVITY_PREFIX = 'activity#';
export const CONNECTION_PREFIX = 'conn#';
export const NOTIFIED_PREFIX = notifiedMarkKeyPrefix;
export const BY_MESSAGE_ID = 'byMessageId';
export const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const MAX_BATCH_RETRIES = 8;

export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
export const num = (value: unknown): number => (typeof value === 'number' ? value : 0);
export const isRecord = (value: unknown): value is Item => typeof value === 'object' && value !== null;

/** The sender's clientMessageId is the key, so a retry hits the same item; no id means no dedup. */
export function dedupKey(senderId: UserId, clientMessageId: string | undefined, messageId: string): string {
  return clientMessageId === undefined ? `id#${messageId}` : `client#${senderId}#${clientMessageId}`;
}

export function toMessage(item: Item): Message {
  const clientMessageId = str(item.clientMessageId);
  return {
    messageId: String(item.messageId),
    roomId: String(item.roomId),
    senderId: String(item.senderId),
    content: String(item.content),
    sentAt: String(item.sentAt),
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
    ...(Array.isArray(item.attachments)
      ? { attachments: item.attachments.filter(isRecord).map(toAttachment) }
      : {}),
  };
}

function toAttachment(item: Item): StoredAttachment {
  const width = item.width;
  const height = item.height;
  return {
    attachmentId: String(item.attachmentId),
    key: String(item.key),
    fileName: String(item.fileName),
    contentType: String(item.contentType),
    size: num(item.size),
    ...(typeof width === 'number' && typeof height === 'number' ? { width, height } : {}),
  };
}

function toCounts(value: unknown): SentCounts | null {
  if (!isRecord(value)) return null;
  return Object.fromEntries(Object.entries(value).map(([id, count]) => [id, num(count)]));
}

export function toStoredMessage(item: Item): StoredMessage {
  return { message: toMessage(item), counts: toCounts(item.counts) };
}

export function toRoom(item: Item): Room {
  const participants = Array.isArray(item.participants) ? item.participants.map(String) : [];
  const members: Record<UserId, MemberState> = {};
  // Items from before the counting scheme carry `unread` and no `sent`/`read`: they read as zeros
  // until the migration (README) has counted their history.
  const stored = isRecord(item.members) ? item.members : {};
  for (const id of participants) {
    const record = isRecord(stored[id]) ? (stored[id] as Item) : {};
    members[id] = {
      lastReadMessageId: str(record.lastRead) ?? null,
      sent: num(record.sent),
      read: num(record.read),
    };
  }
  const recentSends: Record<string, RecentSend> = {};
  if (isRecord(item.recent)) {
    for (const [key, value] of Object.entries(item.recent)) {
      const senderId = participants[Number(String(value).charAt(0))];
      if (senderId !== undefined) recentSends[key] = { messageId: String(value).slice(1), senderId };
    }
  }
  return {
    roomId: String(item.pk),
    participants,
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    lastMessage: isRecord(item.lastMessage) ? toMessage({ ...item.lastMessage, roomId: item.pk }) : null,
    members,
    recentSends,
  };
}

/**
 * One entry of the `recent` attribute: the sender's index among the participants, then the messageId
 * (one short string, since every byte of the room item is paid on every write of it).
 */
export function recentEntry(participants: readonly UserId[], entry: RecentSend): string {
  return `${participants.indexOf(entry.senderId)}${entry.messageId}`;
}

export function toUser(item: Item): UserProfile {
  const connections: ConnectionRef[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(CONNECTION_PREFIX) || !isRecord(value)) continue;
    const roomId = str(value.roomId);
    connections.push({
      connectionId: name.slice(CONNECTION_PREFIX.length),
      expiresAt: num(value.expiresAt),
      ...(roomId === undefined ? {} : { roomId }),
    });
  }
  const userId = String(item.userId);
  return {
    userId,
    displayName: str(item.displayName) ?? userId,
    avatarUrl: str(item.avatarUrl) ?? null,
    avatarKey: str(item.avatarKey) ?? null,
    lastSeenAt: str(item.lastSeenAt) ?? null,
    connections,
  };
}

export function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < values.length; i += size) result.push(values.slice(i, i + size));
  return result;
}

const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));

/** An UpdateItem whose failed condition is an answer (false), not an error. */
export async function updateIf(db: DynamoDBDocumentClient, input: UpdateCommandInput): Promise<boolean> {
  try {
    await db.send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** BatchGetItem with the retries of unprocessed keys that DynamoDB asks for under load. */
export async function batchGet(
  db: DynamoDBDocumentClient,
  requestItems: NonNullable<BatchGetCommandInput['RequestItems']>,
): Promise<Record<string, Item[]>> {
  const found: Record<string, Item[]> = {};
  let pending: BatchGetCommandInput['RequestItems'] = requestItems;
  for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
    if (attempt > MAX_BATCH_RETRIES) throw new Error('BatchGetItem left keys unprocessed after retries');
    if (attempt > 0) await pause(attempt);
    const output: BatchGetCommandOutput = await db.send(new BatchGetCommand({ RequestItems: pending }));
    for (const [table, items] of Object.entries(output.Responses ?? {})) {
      found[table] = [...(found[table] ?? []), ...items];
    }
    pending = output.UnprocessedKeys;
  }
  return found;
}

/** BatchWriteItem of one table's requests, in batches of 25, retrying what DynamoDB leaves unprocessed. */
export async function batchWrite(
  db: DynamoDBDocumentClient,
  table: string,
  requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string],
): Promise<void> {
  for (const batch of chunks(requests, BATCH_WRITE_LIMIT)) {
    let pending: BatchWriteCommandInput['RequestItems'] = { [table]: batch };
    for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
      if (attempt > MAX_BATCH_RETRIES) throw new Error('BatchWriteItem left items unprocessed after retries');
      if (attempt > 0) await pause(attempt);
      const output: BatchWriteCommandOutput = await db.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = output.UnprocessedItems;
    }
  }
}

/** A Query followed through its pages, stopping once `max` items are in hand. */
export async function queryAll(
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
  max = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < max);
  return items;
}
