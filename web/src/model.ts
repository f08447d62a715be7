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

export const byActivity = (a: RoomItem, b: RoomItem) =>
  a.updatedAt === b.updatedAt ? a.roomId.localeCompare(b.roomId) : a.updatedAt < b.updatedAt ? 1 : -1;
