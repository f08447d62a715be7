/** The client's view of a room in the chat list, kept current from the SDK's events. */
import type { Message, Participant, Room } from '../sdk/index.js';

export interface RoomItem {
  readonly roomId: string;
  peer: Participant;
  lastMessage: Omit<Message, 'roomId'> | null;
  unreadCount: number;
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
    updatedAt: room.lastMessage?.sentAt ?? room.updatedAt,
  };
}

/**
 * Folds a chat-list row read from the server into the row the client holds. A list response can
 * be older than the live events already applied (it was read before they were stored, or an
 * earlier request answered late): the newer last message wins, with the unread count that goes
 * with it, so a slow response never takes back a message already counted.
 */
export function mergeListed(held: RoomItem | undefined, listed: RoomItem): RoomItem {
  if (held === undefined) return listed;
  const heldIsNewer =
    held.lastMessage !== null &&
    (listed.lastMessage === null || held.lastMessage.messageId > listed.lastMessage.messageId);
  // The open room view holds the same object: update it in place.
  return Object.assign(
    held,
    heldIsNewer
      ? { peer: listed.peer }
      : {
          peer: listed.peer,
          lastMessage: listed.lastMessage,
          unreadCount: listed.unreadCount,
          updatedAt: listed.updatedAt,
        },
  );
}

export const byActivity = (a: RoomItem, b: RoomItem) =>
  a.updatedAt === b.updatedAt ? a.roomId.localeCompare(b.roomId) : a.updatedAt < b.updatedAt ? 1 : -1;
