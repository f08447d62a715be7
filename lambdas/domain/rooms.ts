/**
 * Starting rooms and listing them: the chat list never reads message history, and costs one Query
 * of memberships plus BatchGets of rooms and profiles.
 */
import { badRequest, conflict, notFound } from './errors.js';
import { countLiveConnections } from './fan-out.js';
import type { ParticipantView, Room, RoomId, RoomView, UserId, UserProfile } from './model.js';
import type { ChatStore, Clock } from './ports.js';
import { roomIdFor } from './validation.js';

interface RoomCursor {
  readonly updatedAt: string;
  readonly roomId: RoomId;
}

const byActivity = (a: Room, b: Room) =>
  a.updatedAt !== b.updatedAt
    ? a.updatedAt > b.updatedAt
      ? -1
      : 1
    : a.roomId < b.roomId
      ? -1
      : a.roomId > b.roomId
        ? 1
        : 0;

function encodeCursor(room: Room): string {
  return Buffer.from(JSON.stringify({ updatedAt: room.updatedAt, roomId: room.roomId })).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): RoomCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      typeof value === 'object' &&
      value !== null &&
      'updatedAt' in value &&
      'roomId' in value &&
      typeof value.updatedAt === 'string' &&
      typeof value.roomId === 'string'
    ) {
      return { updatedAt: value.updatedAt, roomId: value.roomId };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('cursor is not one this API returned');
}

const isAfterCursor = (room: Room, cursor: RoomCursor) =>
  byActivity(room, { ...room, updatedAt: cursor.updatedAt, roomId: cursor.roomId }) > 0;

export class RoomService {
  constructor(
    private readonly store: ChatStore,
    private readonly clock: Clock,
  ) {}

  async startChat(callerId: UserId, otherUserId: UserId): Promise<{ created: boolean; room: RoomView }> {
    if (otherUserId === callerId) throw badRequest('You cannot start a chat with yourself');
    const roomId = roomIdFor(callerId, otherUserId);
    const participants = [callerId, otherUserId].sort();
    const { room: existing, users } = await this.store.getRoomAndUsers(roomId, participants);
    if (existing)
      return {
        created: false,
        room: this.view(assertSameParticipants(existing, participants), callerId, users),
      };
    if (!users.has(otherUserId)) throw notFound(`No user ${otherUserId}`);

    const now = this.clock.now().toISOString();
    const room: Room = {
      roomId,
      participants,
      createdAt: now,
      updatedAt: now,
      lastMessage: null,
      members: Object.fromEntries(
        participants.map((id) => [id, { lastReadMessageId: null, unreadCount: 0 }]),
      ),
    };
    if ((await this.store.createRoom(room)) === 'created') {
      return { created: true, room: this.view(room, callerId, users) };
    }
    // Started concurrently by the other participant: answer with the room that won.
    const winner = await this.store.getRoom(roomId);
    if (!winner) throw new Error(`room ${roomId} reported existing but not found`);
    return {
      created: false,
      room: this.view(assertSameParticipants(winner, participants), callerId, users),
    };
  }

  async listRooms(
    callerId: UserId,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ rooms: RoomView[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const memberships = await this.store.listMemberships(callerId);
    const rooms = (await this.store.getRooms(memberships.map((m) => m.roomId))).sort(byActivity);
    const remaining = after ? rooms.filter((room) => isAfterCursor(room, after)) : rooms;
    const page = remaining.slice(0, limit);
    const users = await this.store.getUsers([...new Set(page.flatMap((room) => room.participants))]);
    const last = page.at(-1);
    return {
      rooms: page.map((room) => this.view(room, callerId, users)),
      nextCursor: remaining.length > limit && last ? encodeCursor(last) : null,
    };
  }

  private view(room: Room, viewerId: UserId, users: ReadonlyMap<UserId, UserProfile>): RoomView {
    const now = this.clock.now();
    const participants: ParticipantView[] = room.participants.map((id) => {
      const user = users.get(id);
      return {
        userId: id,
        displayName: user?.displayName ?? id,
        avatarUrl: user?.avatarUrl ?? null,
        online: user ? countLiveConnections(user, now) > 0 : false,
        lastSeenAt: user?.lastSeenAt ?? null,
      };
    });
    const member = room.members[viewerId];
    return {
      roomId: room.roomId,
      participants,
      lastMessage: room.lastMessage,
      unreadCount: member?.unreadCount ?? 0,
      lastReadMessageId: member?.lastReadMessageId ?? null,
      createdAt: room.createdAt,
      updatedAt: room.updatedAt,
    };
  }
}

function assertSameParticipants(room: Room, participants: readonly UserId[]): Room {
  if (room.participants.join('\n') !== participants.join('\n')) {
    throw conflict(`Room name ${room.roomId} is already used by other participants`);
  }
  return room;
}
