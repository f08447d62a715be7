/** Who may act in a room: the checks every room-level use case starts with. */
import { forbidden, notFound } from './errors.js';
import type { Room, RoomId, UserId, UserProfile } from './model.js';
import type { RoomStore, UserStore } from './ports.js';
import { participantCandidates } from './validation.js';

/** Who is calling, and through which connection (WebSocket routes only). */
export interface Caller {
  readonly userId: UserId;
  readonly connectionId?: string;
  /** A connection opened with `&room=` may act only in that room. */
  readonly scopeRoomId?: RoomId;
}

export function assertInScope(caller: Caller, roomId: RoomId): void {
  if (caller.scopeRoomId !== undefined && caller.scopeRoomId !== roomId) {
    throw forbidden(`This connection is scoped to room ${caller.scopeRoomId}`);
  }
}

function assertParticipant(room: Room | undefined, callerId: UserId, roomId: RoomId): Room {
  if (!room) throw notFound(`Room ${roomId} has not been started`);
  if (!room.participants.includes(callerId)) throw forbidden();
  return room;
}

/**
 * A room the caller must be a participant of. A caller who is not even named in the room id is
 * refused before any read, by a synchronous throw: a use case may start another read of the room
 * beside this one (`Promise.all([loadRoom(...), read])`) and that read never starts for such a
 * caller. A room that was never started is 404 for its would-be members.
 */
export function loadRoom(store: Pick<RoomStore, 'getRoom'>, callerId: UserId, roomId: RoomId): Promise<Room> {
  if (!participantCandidates(roomId).includes(callerId)) throw forbidden();
  return store.getRoom(roomId).then((room) => assertParticipant(room, callerId, roomId));
}

/**
 * The room plus its participants' profiles (and so their connections), read by `load` in one round
 * trip with whatever else that read carries.
 */
export async function loadRoomWithParticipants<
  T extends { readonly room: Room | undefined; readonly users: ReadonlyMap<UserId, UserProfile> },
>(
  load: (roomId: RoomId, userIds: readonly UserId[]) => Promise<T>,
  store: Pick<UserStore, 'getUsers'>,
  callerId: UserId,
  roomId: RoomId,
): Promise<T & { readonly room: Room }> {
  const candidates = participantCandidates(roomId);
  if (!candidates.includes(callerId)) throw forbidden();
  const loaded = await load(roomId, candidates);
  const room = assertParticipant(loaded.room, callerId, roomId);
  const missing = room.participants.filter((id) => !loaded.users.has(id) && !candidates.includes(id));
  if (missing.length === 0) return { ...loaded, room };
  // Only when user ids contain '_' and the name parsed ambiguously: fetch the rest.
  const more = await store.getUsers(missing);
  return { ...loaded, room, users: new Map([...loaded.users, ...more]) };
}

/** Whether the user may open a connection scoped to `scopeRoomId` (undefined: not scoped). */
export async function mayUseRoom(
  store: Pick<RoomStore, 'getRoom'>,
  userId: UserId,
  scopeRoomId: RoomId | undefined,
): Promise<boolean> {
  if (scopeRoomId === undefined) return true;
  if (!participantCandidates(scopeRoomId).includes(userId)) return false;
  const room = await store.getRoom(scopeRoomId);
  return room?.participants.includes(userId) ?? false;
}

export function usersIn(users: ReadonlyMap<UserId, UserProfile>, ids: readonly UserId[]): UserProfile[] {
  return ids.flatMap((id) => users.get(id) ?? []);
}
