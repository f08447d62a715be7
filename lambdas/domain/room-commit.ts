/**
 * The counting scheme, as pure rules over room snapshots. A send is committed by one conditional
 * update of the room item that DynamoDB applies atomically, in some order, to all the sends of a room:
 *
 * - its condition asks that the message's id be greater than the room's newest, so messageIds follow
 *   commit order: a message committed later always sorts after every message committed before it,
 *   and nothing is ever counted behind a read pointer (an earlier commit may reach history a moment
 *   after a later one: a pointer that moved past it meanwhile has read it, as its id says);
 * - it adds one to the sender's `sent`, so the room as it stood just before the commit (the update's
 *   ALL_OLD) plus this one message gives the message's counts (`SentCounts`): how many messages each
 *   participant had sent up to and including it;
 * - a read pointer moving to message P sets `read` to P's counts of the other participants: a fixed
 *   fact of P, so pointer and `read` only move forward together and never overwrite an increment;
 * - unread = the others' `sent` − own `read`: exact at every instant, with no cap.
 *
 * The same update records the send under a key of its clientMessageId in `recentSends`, on condition
 * that the key is not there: a retry racing its first attempt can neither commit the message twice
 * nor miss it before its message item is stored. Every commit records one (keyed by its messageId
 * when it has no clientMessageId) and the oldest leave first, so the entries are always the newest
 * commits of the room, and the counts of any of them follow from the room: `countsAt`.
 */
import { createHash } from 'node:crypto';
import { ulidTime } from './message-id.js';
import type { MemberState, Message, RecentSend, Room, SentCounts, UserId } from './model.js';

/**
 * How long a committed send is kept on the room. A retry that read the room before the first attempt
 * stored its message commits within one Lambda lifetime of that read, and the first attempt stores
 * within one Lambda lifetime of its commit; the send function's 10 s timeout bounds both, so 25 s
 * covers them with room for clock skew between containers (test/infra/functions.test.ts holds the
 * two together).
 */
export const RECENT_SEND_SECONDS = 25;

/**
 * At most this many entries (about 40 bytes each) stay on the room item, so that a burst of sends
 * does not take the room item past 1 KB and make each of its writes cost two units. The oldest go
 * first. Dropping one younger than RECENT_SEND_SECONDS matters only if a retry of it read the room
 * before its first attempt committed and then stalled while this many newer sends were committed:
 * that retry then commits the message again, finds it stored, and undoes its own commit.
 */
export const RECENT_SEND_LIMIT = 8;

/** Activity buckets of the chat list (rooms-activity.ts): one hour, as an ISO prefix. */
export const activityBucket = (iso: string): string => iso.slice(0, 13);

/**
 * A short, fixed-size key for "this sender's clientMessageId" on the room item (48 bits), or for the
 * message itself when the send has no clientMessageId.
 */
export function recentSendKey(
  senderId: UserId,
  clientMessageId: string | undefined,
  messageId: string,
): string {
  const name = clientMessageId === undefined ? `id\n${messageId}` : `${senderId}\n${clientMessageId}`;
  return createHash('sha256').update(name).digest('base64url').slice(0, 8);
}

export function emptyMember(): MemberState {
  return { lastReadMessageId: null, sent: 0, read: 0 };
}

/** Unread for `userId`: the other participants' messages after the read pointer. */
export function unreadCountOf(room: Room, userId: UserId): number {
  const own = room.members[userId] ?? emptyMember();
  let othersSent = 0;
  for (const [id, member] of Object.entries(room.members)) if (id !== userId) othersSent += member.sent;
  // Never negative, even over an item written by hand.
  return Math.max(0, othersSent - own.read);
}

/** What a pointer at a message with these counts has read of the others' messages, for `userId`. */
export function readCountAt(counts: SentCounts, userId: UserId): number {
  let read = 0;
  for (const [id, count] of Object.entries(counts)) if (id !== userId) read += count;
  return read;
}

/** The counts of `message` committed over `before`, the room as it stood just before the commit. */
export function countsAfter(before: Room, message: Message): SentCounts {
  return Object.fromEntries(
    before.participants.map((id) => {
      const sent = before.members[id]?.sent ?? 0;
      return [id, id === message.senderId ? sent + 1 : sent];
    }),
  );
}

/**
 * The counts of a message the room still holds among its recent sends: the room's counts less the
 * sends committed after it, which are all still held (the oldest entries leave first).
 */
export function countsAt(room: Room, messageId: string): SentCounts {
  const counts: Record<UserId, number> = {};
  for (const id of room.participants) counts[id] = room.members[id]?.sent ?? 0;
  for (const entry of Object.values(room.recentSends)) {
    if (entry.messageId > messageId) counts[entry.senderId] = (counts[entry.senderId] ?? 0) - 1;
  }
  return counts;
}

export interface CommitPlan {
  /** The key this send is recorded under, on condition that it is not there yet. */
  readonly key: string;
  /** Keys of the snapshot's entries that leave: older than RECENT_SEND_SECONDS, or beyond the limit. */
  readonly evict: readonly string[];
}

/** What committing `message` over the snapshot `room` writes besides the message and the count. */
export function planCommit(room: Room, message: Message, now: Date): CommitPlan {
  const oldest = now.getTime() - RECENT_SEND_SECONDS * 1000;
  const newestFirst = Object.entries(room.recentSends).sort(([, a], [, b]) =>
    a.messageId < b.messageId ? 1 : -1,
  );
  const evict = newestFirst
    .filter(([, entry], i) => i >= RECENT_SEND_LIMIT - 1 || ulidTime(entry.messageId) < oldest)
    .map(([key]) => key);
  return { key: recentSendKey(message.senderId, message.clientMessageId, message.messageId), evict };
}

/** The recent send of this sender's clientMessageId, with its counts, if the room still holds it. */
export function findRecentSend(
  room: Room,
  senderId: UserId,
  clientMessageId: string | undefined,
): (RecentSend & { readonly counts: SentCounts }) | undefined {
  if (clientMessageId === undefined) return undefined;
  const entry = room.recentSends[recentSendKey(senderId, clientMessageId, '')];
  return entry && { ...entry, counts: countsAt(room, entry.messageId) };
}
