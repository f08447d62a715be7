/** The client's view of a room in the chat list, kept current from the SDK's events. */
import type { Message, Participant, Room } from '../sdk/index.js';

export interface RoomItem {
  readonly roomId: string;
  peer: Participant;
  lastMessage: Omit<Message, 'roomId'> | null;
  unreadCount: number;
  /** Our read pointer as last known: tells an answer read before our last read from a newer one. */
  lastReadMessageId: string | null;
  /** Last activity: the last message, or the room's creation. */
  updatedAt: string;
}

export function roomItem(room: Room, me: string): RoomItem {
  const peer = room.participants.find((p) => p.userId !== me) ??
    room.participants[0] ?? {
      userId: '?',
      displayName: 'Unknown',
      avatarUrl: null,
      online: false,
      lastSeenAt: null,
    };
  return {
    roomId: room.roomId,
    peer,
    lastMessage: room.lastMessage,
    unreadCount: room.unreadCount,
    lastReadMessageId: room.lastReadMessageId,
    updatedAt: room.lastMessage?.sentAt ?? room.updatedAt,
  };
}

/*
 * `reading` below means the room is open on a visible page. Its badge is 0 whatever an answer
 * read a moment earlier says: the client marks what it shows read, and a count that shows up while
 * the user looks at the messages would flicker or, if no read follows, stick.
 */

/**
 * Folds a chat-list row read from the server into the row the client holds. A list response can
 * be older than what the client already applied (it was read before live messages were stored or
 * before our read moved the pointer, or an earlier request answered late): the newer last message
 * wins, and the count stays the held one when the held row knows a newer message or a newer read
 * pointer, so a slow response never takes back a message already counted nor brings back a count
 * already read.
 */
export function mergeListed(held: RoomItem | undefined, listed: RoomItem, reading = false): RoomItem {
  const row = held === undefined ? listed : merge(held, listed);
  if (reading) row.unreadCount = 0;
  return row;
}

function merge(held: RoomItem, listed: RoomItem): RoomItem {
  const heldMessageIsNewer = isNewer(
    held.lastMessage?.messageId ?? null,
    listed.lastMessage?.messageId ?? null,
  );
  const heldReadIsNewer = isNewer(held.lastReadMessageId, listed.lastReadMessageId);
  // The open room view holds the same object: update it in place.
  return Object.assign(held, {
    peer: listed.peer,
    ...(heldMessageIsNewer ? {} : { lastMessage: listed.lastMessage, updatedAt: listed.updatedAt }),
    lastReadMessageId: heldReadIsNewer ? held.lastReadMessageId : listed.lastReadMessageId,
    unreadCount: heldMessageIsNewer || heldReadIsNewer ? held.unreadCount : listed.unreadCount,
  });
}

const isNewer = (a: string | null, b: string | null) => a !== null && (b === null || a > b);

/**
 * A live message (or one caught up): the row's last message when newer, and one more unread when
 * it is the other participant's and the room is not being read.
 */
export function applyMessage(row: RoomItem, message: Message, me: string, reading: boolean): void {
  if (row.lastMessage !== null && message.messageId <= row.lastMessage.messageId) return;
  row.lastMessage = message;
  row.updatedAt = message.sentAt;
  if (message.senderId !== me && !reading) row.unreadCount += 1;
}

/**
 * Our read pointer moved: a `markRead` answer (with the count after it) or our own `read` event
 * from any device (without). An answer about an older pointer than one already applied answered
 * late and says nothing new.
 */
export function applyRead(
  row: RoomItem,
  read: { readonly messageId: string | null; readonly unreadCount?: number },
  reading: boolean,
): void {
  const stale = isNewer(row.lastReadMessageId, read.messageId);
  if (!stale && read.messageId !== null) row.lastReadMessageId = read.messageId;
  if (reading) row.unreadCount = 0;
  else if (stale) return;
  else if (read.unreadCount !== undefined) row.unreadCount = read.unreadCount;
  else if (
    read.messageId !== null &&
    (row.lastMessage === null || read.messageId >= row.lastMessage.messageId)
  )
    row.unreadCount = 0;
}

export const byActivity = (a: RoomItem, b: RoomItem) =>
  a.updatedAt === b.updatedAt ? a.roomId.localeCompare(b.roomId) : a.updatedAt < b.updatedAt ? 1 : -1;

/** Where a bubble sits in a room's message list. */
export interface Placed {
  /** Creation order: for my own messages, the order I wrote them in. */
  readonly order: number;
  /** The stored message's id, once the server has it (acknowledged, live or from history). */
  readonly messageId?: string | undefined;
  /** A message that failed stays just after this id: the newest shown when it failed ('' for none). */
  readonly anchor?: string | undefined;
}

/** The anchor of a message that just failed, given the ids of the stored messages shown. */
export function anchorOfFailed(shown: Iterable<string>): string {
  let newest = '';
  for (const messageId of shown) if (messageId > newest) newest = messageId;
  return newest;
}

/**
 * Stored messages in messageId order (the server's order, the same after a reload); failed ones
 * where they were when they failed; pending ones last, in the order they were written. The SDK sends
 * a room's messages one at a time, so each ack gets a newer id than the ones before it and a
 * pending bubble becomes a stored one without moving.
 */
export function compareBubbles(a: Placed, b: Placed): number {
  const keyA = a.messageId ?? a.anchor;
  const keyB = b.messageId ?? b.anchor;
  if (keyA !== keyB) {
    if (keyA === undefined) return 1;
    if (keyB === undefined) return -1;
    return keyA < keyB ? -1 : 1;
  }
  // Same place: the stored message before the failed ones anchored to it, those in writing order.
  const storedA = a.messageId !== undefined ? 0 : 1;
  const storedB = b.messageId !== undefined ? 0 : 1;
  return storedA - storedB || a.order - b.order;
}
