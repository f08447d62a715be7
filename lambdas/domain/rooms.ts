/**
 * Starting rooms and listing them. The chat list never reads message history, and its cost is bounded
 * by the page, not by the caller's rooms: each participant has one activity entry per room, filed under
 * the hour of the room's last activity (moved by the send that carries the room into a new hour), so a
 * page reads the newest hours' entries until it has enough rooms, then sorts just those rooms exactly.
 */
import { badRequest, conflict, notFound } from './errors.js';
import { countLiveConnections } from './fan-out.js';
import { avatarUrlOf, type DownloadSigner, presentMessage } from './files.js';
import type { ParticipantView, Room, RoomId, RoomView, UserId, UserProfile } from './model.js';
import type { ActivityIndex, Clock, RoomDirectory, RoomReads, RoomStore, UserStore } from './ports.js';
import { activityBucket, emptyMember, unreadCountOf } from './room-commit.js';

export type RoomsStore = Pick<RoomStore, 'getRoom' | 'getRooms'> &
  Pick<RoomDirectory, 'createRoom'> &
  Pick<ActivityIndex, 'activityPage'> &
  Pick<RoomReads, 'getRoomAndUsers'> &
  Pick<UserStore, 'getUsers'>;

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
    private readonly store: RoomsStore,
    /** Signs the URLs of uploaded avatars and of the last message's attachments. */
    private readonly signer: DownloadSigner,
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
        room: await this.view(assertSameParticipants(existing, participants), callerId, users),
      };
    if (!users.has(otherUserId)) throw notFound(`No user ${otherUserId}`);

    const now = this.clock.now().toISOString();
    const room: Room = {
      roomId,
      participants,
      createdAt: now,
      updatedAt: now,
      lastMessage: null,
      members: Object.fromEntries(participants.map((id) => [id, emptyMember()])),
      recentSends: {},
    };
    if ((await this.store.createRoom(room)) === 'created') {
      return { created: true, room: await this.view(room, callerId, users) };
    }
    // Started concurrently by the other participant: answer with the room that won.
    const winner = await this.store.getRoom(roomId);
    if (!winner) throw new Error(`room ${roomId} reported existing but not found`);
    return {
      created: false,
      room: await this.view(assertSameParticipants(winner, participants), callerId, users),
    };
  }

  async listRooms(
    callerId: UserId,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ rooms: RoomView[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const fromBucket = after === undefined ? undefined : activityBucket(after.updatedAt);
    // limit + 1 rooms after the cursor tell whether there is a next page. Rooms of the cursor's own
    // hour that sort before it are read too and skipped, so read further while that leaves too few.
    let remaining: Room[] = [];
    for (let minRooms = limit + 1; ; minRooms *= 2) {
      const { roomIds, exhausted } = await this.store.activityPage(callerId, fromBucket, minRooms);
      const rooms = (await this.store.getRooms(roomIds)).sort(byActivity);
      remaining = after ? rooms.filter((room) => isAfterCursor(room, after)) : rooms;
      if (remaining.length > limit || exhausted) break;
    }
    const page = remaining.slice(0, limit);
    const users = await this.store.getUsers([...new Set(page.flatMap((room) => room.participants))]);
    const last = page.at(-1);
    return {
      rooms: await Promise.all(page.map((room) => this.view(room, callerId, users))),
      nextCursor: remaining.length > limit && last ? encodeCursor(last) : null,
    };
  }

  private async view(
    room: Room,
    viewerId: UserId,
    users: ReadonlyMap<UserId, UserProfile>,
  ): Promise<RoomView> {
    const now = this.clock.now();
    const participants: ParticipantView[] = await Promise.all(
      room.participants.map(async (id) => {
        const user = users.get(id);
        return {
          userId: id,
          displayName: user?.displayName ?? id,
          avatarUrl: await avatarUrlOf(this.signer, user),
          online: user ? countLiveConnections(user, now) > 0 : false,
          lastSeenAt: user?.lastSeenAt ?? null,
        };
      }),
    );
    const member = room.members[viewerId];
    return {
      roomId: room.roomId,
      participants,
      lastMessage: room.lastMessage && (await presentMessage(this.signer, room.lastMessage)),
      unreadCount: unreadCountOf(room, viewerId),
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
