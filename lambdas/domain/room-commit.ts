/**
 * The counting scheme, as pure rules over a room snapshot. A send is committed by one conditional
 * write of the room item that compares the room's newest messageId with the snapshot's (a
 * compare-and-set: every commit replaces it with a greater one). So commits are serialized per room,
 * each one sees the exact state before it, and:
 *
 * - messageIds are assigned in commit order: a message committed later always sorts after every
 *   message committed before it, so nothing can ever land behind a read pointer;
 * - each participant's `sent` moves forward by exactly one per committed message, and the message
 *   records the counts after it (`SentCounts`): the number of each participant's messages up to it;
 * - a read pointer moving to message P sets `read` to P's counts of the other participants: a fixed
 *   fact of P, so pointer and `read` only move forward together and never overwrite an increment;
 * - unread = the others' `sent` − own `read`: exact at every instant, with no cap.
 *
 * The commit also records the send's clientMessageId in `recentSends` (same write), so a retry racing
 * its first attempt finds it even before the message item is stored. Entries are dropped once no
 * racing retry can still miss the stored message (see RECENT_SEND_SECONDS).
 */
import { createHash } from 'node:crypto';
import type { MemberState, Message, RecentSend, Room, SentCounts, UserId } from './model.js';

/**
 * How long a committed clientMessageId is kept on the room. A retry that read the room before the
 * first attempt stored its message commits within one Lambda lifetime of that read, and the first
 * attempt stores within one Lambda lifetime of its commit; the send function's 5 s timeout bounds
 * both, so 15 s covers them with room for clock skew between containers.
 */
export const RECENT_SEND_SECONDS = 15;

/**
 * At most this many entries (about 40 bytes each) stay on the room item, so that a burst of sends
 * does not take the room item past 1 KB and make each of its writes cost two units. The oldest go
 * first. Dropping one younger than RECENT_SEND_SECONDS matters only if a retry of it is racing while
 * this many newer sends are committed in the room before its first attempt stores it (one DynamoDB
 * round trip): then the retry is counted a second time.
 */
export const RECENT_SEND_LIMIT = 8;

/** Activity buckets of the chat list (rooms-activity.ts): one hour, as an ISO prefix. */
export const activityBucket = (iso: string): string => iso.slice(0, 13);

/** A short, fixed-size key for "this sender's clientMessageId" on the room item (48 bits). */
export function recentSendKey(senderId: UserId, clientMessageId: string): string {
  return createHash('sha256').update(`${senderId}\n${clientMessageId}`).digest('base64url').slice(0, 8);
}

const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The millisecond time in a ULID's first 10 characters. */
export function ulidTime(ulid: string): number {
  let time = 0;
  for (const char of ulid.slice(0, 10)) time = time * 32 + ULID_ALPHABET.indexOf(char);
  return time;
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

export interface CommitPlan {
  /** Every participant's `sent` after the commit: the message's counts. */
  readonly counts: SentCounts;
  /** The room's recent sends after the commit: the expired ones dropped, this one added. */
  readonly recentSends: Readonly<Record<string, RecentSend>>;
}

/** The room state that committing `message` over `room` (the snapshot compared against) writes. */
export function planCommit(room: Room, message: Message, now: Date): CommitPlan {
  const counts: Record<UserId, number> = {};
  for (const id of room.participants) {
    const sent = room.members[id]?.sent ?? 0;
    counts[id] = id === message.senderId ? sent + 1 : sent;
  }
  const oldest = now.getTime() - RECENT_SEND_SECONDS * 1000;
  const kept = Object.entries(room.recentSends)
    .filter(([, entry]) => ulidTime(entry.messageId) >= oldest)
    .sort(([, a], [, b]) => (a.messageId < b.messageId ? 1 : -1))
    .slice(0, RECENT_SEND_LIMIT - 1);
  const recentSends: Record<string, RecentSend> = Object.fromEntries(kept);
  if (message.clientMessageId !== undefined) {
    recentSends[recentSendKey(message.senderId, message.clientMessageId)] = {
      messageId: message.messageId,
      counts,
    };
  }
  return { counts, recentSends };
}

/** The recent send of this sender's clientMessageId, if the room still holds it. */
export function findRecentSend(
  room: Room,
  senderId: UserId,
  clientMessageId: string | undefined,
): RecentSend | undefined {
  if (clientMessageId === undefined) return undefined;
  return room.recentSends[recentSendKey(senderId, clientMessageId)];
}

/** The room as it stands after the commit of `message` with `plan`. */
export function committedRoom(room: Room, message: Message, plan: CommitPlan): Room {
  const members: Record<UserId, MemberState> = {};
  for (const id of room.participants) {
    members[id] = { ...(room.members[id] ?? emptyMember()), sent: plan.counts[id] ?? 0 };
  }
  return { ...room, lastMessage: message, updatedAt: message.sentAt, members, recentSends: plan.recentSends };
}
