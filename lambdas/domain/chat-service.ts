/**
 * The chat's rules: who may see and write what, and who is told about it. Everything outside
 * (DynamoDB, API Gateway, time, ids) comes in through the ports, so this runs unchanged in unit
 * tests, on Lambda and on the local stack.
 */
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import {
  connectionsOf,
  countLiveConnections,
  type DeliveryTarget,
  type FanOutOptions,
  fanOut,
} from './fan-out.js';
import type {
  Message,
  MessageView,
  ParticipantView,
  Room,
  RoomId,
  RoomView,
  ServerFrame,
  UserId,
  UserProfile,
} from './model.js';
import type { ChatStore, Clock, IdGenerator, Logger, Notifier, ProfileChanges, RecordMode } from './ports.js';
import { participantCandidates, roomIdFor } from './validation.js';

/** A user's connections expire this long after connecting: API Gateway's 2-hour limit plus margin. */
export const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60 + 5 * 60;
/** Unread counts past this many are not worth a longer Query when a pointer moves to an old message. */
const UNREAD_COUNT_CAP = 1000;

export interface ChatServiceDeps {
  readonly store: ChatStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly newMessageId: IdGenerator;
  readonly logger: Logger;
  readonly fanOut?: Partial<
    Pick<FanOutOptions, 'concurrency' | 'maxThrottleRetries' | 'backoffMs' | 'sleep'>
  >;
}

/** Who is calling, and through which connection (WebSocket routes only). */
export interface Caller {
  readonly userId: UserId;
  readonly connectionId?: string;
  /** A connection opened with `&room=` may act only in that room. */
  readonly scopeRoomId?: RoomId;
}

export interface SendMessageInput {
  readonly roomId: RoomId;
  readonly content: string;
  readonly clientMessageId?: string;
}

export interface MessagePageInput {
  readonly before?: string;
  readonly after?: string;
  readonly limit: number;
}

export interface ReadState {
  readonly roomId: RoomId;
  readonly userId: UserId;
  /** Same as `lastReadMessageId`: the message the pointer now stands at. */
  readonly messageId: string;
  readonly lastReadMessageId: string;
  readonly unreadCount: number;
  readonly readAt: string;
}

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

export class ChatService {
  private readonly store: ChatStore;
  private readonly notifier: Notifier;
  private readonly clock: Clock;
  private readonly newMessageId: IdGenerator;
  private readonly logger: Logger;
  private readonly fanOutOptions: FanOutOptions;

  constructor(deps: ChatServiceDeps) {
    this.store = deps.store;
    this.notifier = deps.notifier;
    this.clock = deps.clock;
    this.newMessageId = deps.newMessageId;
    this.logger = deps.logger;
    this.fanOutOptions = {
      concurrency: 25,
      maxThrottleRetries: 4,
      backoffMs: (attempt) => Math.round(Math.random() * Math.min(1000, 50 * 2 ** attempt)),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...deps.fanOut,
      onGone: (target) => this.forgetConnection(target),
      onError: (target, error) =>
        this.logger.warn('post to connection failed', {
          connectionId: target.connectionId,
          error: String(error),
        }),
    };
  }

  // ---------------------------------------------------------------- rooms

  async startChat(callerId: UserId, otherUserId: UserId): Promise<{ created: boolean; room: RoomView }> {
    if (otherUserId === callerId) throw badRequest('You cannot start a chat with yourself');
    const roomId = roomIdFor(callerId, otherUserId);
    const participants = [callerId, otherUserId].sort();
    const { room: existing, users } = await this.store.getRoomAndUsers(roomId, participants);
    if (existing)
      return {
        created: false,
        room: this.roomView(this.assertSameParticipants(existing, participants), callerId, users),
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
      return { created: true, room: this.roomView(room, callerId, users) };
    }
    // Started concurrently by the other participant: answer with the room that won.
    const winner = await this.store.getRoom(roomId);
    if (!winner) throw new Error(`room ${roomId} reported existing but not found`);
    return {
      created: false,
      room: this.roomView(this.assertSameParticipants(winner, participants), callerId, users),
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
      rooms: page.map((room) => this.roomView(room, callerId, users)),
      nextCursor: remaining.length > limit && last ? encodeCursor(last) : null,
    };
  }

  // ---------------------------------------------------------------- messages

  async sendMessage(caller: Caller, input: SendMessageInput): Promise<Message> {
    this.assertInScope(caller, input.roomId);
    const { room, users } = await this.loadRoomForParticipant(caller.userId, input.roomId);
    const now = this.clock.now();
    const message: Message = {
      messageId: this.newMessageId(now),
      roomId: room.roomId,
      senderId: caller.userId,
      content: input.content,
      sentAt: now.toISOString(),
      ...(input.clientMessageId === undefined ? {} : { clientMessageId: input.clientMessageId }),
    };

    const result = await this.store.putMessage(message);
    if (result.status === 'stored') {
      await this.publishMessage(room, users, message, caller.connectionId, 'new');
      return message;
    }
    const stored = result.existing;
    // The first attempt stored the message but may have died before counting it and telling the
    // others; the sender's pointer on the room says whether it got that far.
    const lastSent = room.members[caller.userId]?.lastSentMessageId;
    if (lastSent === undefined || stored.messageId > lastSent) {
      await this.publishMessage(room, users, stored, caller.connectionId, 'repair');
    }
    return stored;
  }

  async getMessages(
    callerId: UserId,
    roomId: RoomId,
    query: MessagePageInput,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    if (query.before !== undefined && query.after !== undefined) {
      throw badRequest('Use either before or after, not both');
    }
    let room = await this.loadRoom(callerId, roomId);
    const page = await this.store.listMessages(roomId, query);
    const newest = page.messages.at(-1);
    const isNewestPage = query.before === undefined && query.after === undefined;
    if (isNewestPage && newest && this.isAheadOfPointer(room, callerId, newest.messageId)) {
      const moved = await this.store.advanceReadPointer(roomId, callerId, newest.messageId, 0);
      if (moved) {
        room = withReadPointer(room, callerId, newest.messageId, 0);
        await this.announceRead(room, callerId, newest.messageId);
      }
    }
    return { messages: page.messages.map((message) => withReadFlag(room, message)), hasMore: page.hasMore };
  }

  async markRead(caller: Caller, roomId: RoomId, messageId: string): Promise<ReadState> {
    this.assertInScope(caller, roomId);
    const room = await this.loadRoom(caller.userId, roomId);
    const message = await this.store.getMessage(roomId, messageId);
    if (!message) throw notFound(`No message ${messageId} in room ${roomId}`);
    const readAt = this.clock.now().toISOString();

    const current = room.members[caller.userId];
    if (!this.isAheadOfPointer(room, caller.userId, messageId) && current?.lastReadMessageId) {
      return readState(roomId, caller.userId, current.lastReadMessageId, current.unreadCount, readAt);
    }
    const isLatest = room.lastMessage === null || messageId >= room.lastMessage.messageId;
    const unreadCount = isLatest
      ? 0
      : await this.store.countMessagesAfter(roomId, messageId, caller.userId, UNREAD_COUNT_CAP);
    if (!(await this.store.advanceReadPointer(roomId, caller.userId, messageId, unreadCount))) {
      // Another request moved it further meanwhile: report where it stands.
      const fresh = (await this.store.getRoom(roomId))?.members[caller.userId];
      return readState(
        roomId,
        caller.userId,
        fresh?.lastReadMessageId ?? messageId,
        fresh?.unreadCount ?? 0,
        readAt,
      );
    }
    await this.announceRead(room, caller.userId, messageId, readAt);
    return readState(roomId, caller.userId, messageId, unreadCount, readAt);
  }

  async typing(caller: Caller, roomId: RoomId, isTyping: boolean): Promise<void> {
    this.assertInScope(caller, roomId);
    const { room, users } = await this.loadRoomForParticipant(caller.userId, roomId);
    const others = room.participants.filter((id) => id !== caller.userId);
    await this.deliver(this.usersIn(users, others), room.roomId, {
      type: 'typing',
      roomId: room.roomId,
      userId: caller.userId,
      isTyping,
    });
  }

  // ---------------------------------------------------------------- connections and presence

  /** Checks a room scope before a connection is accepted; false refuses the handshake (403). */
  async mayConnect(callerId: UserId, scopeRoomId: RoomId | undefined): Promise<boolean> {
    if (scopeRoomId === undefined) return true;
    if (!participantCandidates(scopeRoomId).includes(callerId)) return false;
    const room = await this.store.getRoom(scopeRoomId);
    return room?.participants.includes(callerId) ?? false;
  }

  async connect(
    caller: Caller & { readonly connectionId: string },
    suggestedName: string | undefined,
  ): Promise<void> {
    const now = this.clock.now();
    const live = await this.store.addConnection(
      caller.userId,
      {
        connectionId: caller.connectionId,
        expiresAt: Math.floor(now.getTime() / 1000) + CONNECTION_LIFETIME_SECONDS,
        ...(caller.scopeRoomId === undefined ? {} : { roomId: caller.scopeRoomId }),
      },
      now.toISOString(),
      suggestedName ?? caller.userId,
    );
    if (live === 1) await this.announcePresence(caller.userId, true, null);
  }

  async disconnect(caller: Caller & { readonly connectionId: string }): Promise<void> {
    const lastSeenAt = this.clock.now().toISOString();
    const live = await this.store.removeConnection(caller.userId, caller.connectionId, lastSeenAt);
    if (live === 0) await this.announcePresence(caller.userId, false, lastSeenAt);
  }

  // ---------------------------------------------------------------- profiles

  async getProfile(callerId: UserId, suggestedName: string | undefined): Promise<UserProfile> {
    return (
      (await this.store.getUser(callerId)) ??
      (await this.store.createProfileIfMissing(callerId, suggestedName ?? callerId))
    );
  }

  async updateProfile(
    callerId: UserId,
    changes: ProfileChanges,
    suggestedName: string | undefined,
  ): Promise<UserProfile> {
    return this.store.updateProfile(callerId, changes, suggestedName ?? callerId);
  }

  // ---------------------------------------------------------------- internals

  private assertInScope(caller: Caller, roomId: RoomId): void {
    if (caller.scopeRoomId !== undefined && caller.scopeRoomId !== roomId) {
      throw forbidden(`This connection is scoped to room ${caller.scopeRoomId}`);
    }
  }

  private assertSameParticipants(room: Room, participants: readonly UserId[]): Room {
    if (room.participants.join('\n') !== participants.join('\n')) {
      throw conflict(`Room name ${room.roomId} is already used by other participants`);
    }
    return room;
  }

  /**
   * Loads a room the caller must be a participant of. A caller who is not even named in the room
   * id is refused before any read; a room that was never started is 404 for its would-be members.
   */
  private async loadRoom(callerId: UserId, roomId: RoomId): Promise<Room> {
    if (!participantCandidates(roomId).includes(callerId)) throw forbidden();
    const room = await this.store.getRoom(roomId);
    return this.assertParticipant(room, callerId, roomId);
  }

  /** The room plus its participants' profiles (and so their connections), in one round trip. */
  private async loadRoomForParticipant(
    callerId: UserId,
    roomId: RoomId,
  ): Promise<{ room: Room; users: ReadonlyMap<UserId, UserProfile> }> {
    const candidates = participantCandidates(roomId);
    if (!candidates.includes(callerId)) throw forbidden();
    const { room, users } = await this.store.getRoomAndUsers(roomId, candidates);
    const checked = this.assertParticipant(room, callerId, roomId);
    const missing = checked.participants.filter((id) => !users.has(id) && !candidates.includes(id));
    if (missing.length === 0) return { room: checked, users };
    // Only when user ids contain '_' and the name parsed ambiguously: fetch the rest.
    const more = await this.store.getUsers(missing);
    return { room: checked, users: new Map([...users, ...more]) };
  }

  private assertParticipant(room: Room | undefined, callerId: UserId, roomId: RoomId): Room {
    if (!room) throw notFound(`Room ${roomId} has not been started`);
    if (!room.participants.includes(callerId)) throw forbidden();
    return room;
  }

  private isAheadOfPointer(room: Room, userId: UserId, messageId: string): boolean {
    const pointer = room.members[userId]?.lastReadMessageId;
    return pointer === null || pointer === undefined || messageId > pointer;
  }

  /** Records the message on the room, then delivers it, unless a racing attempt already did both. */
  private async publishMessage(
    room: Room,
    users: ReadonlyMap<UserId, UserProfile>,
    message: Message,
    sendingConnectionId: string | undefined,
    mode: RecordMode,
  ): Promise<void> {
    const recipients = room.participants.filter((id) => id !== message.senderId);
    if ((await this.store.recordMessage(room.roomId, message, recipients, mode)) === 'skipped') return;
    await this.deliver(
      this.usersIn(users, room.participants),
      room.roomId,
      { type: 'chat_message', message },
      sendingConnectionId,
    );
  }

  private async announceRead(
    room: Room,
    readerId: UserId,
    messageId: string,
    readAt?: string,
  ): Promise<void> {
    const users = await this.store.getUsers(room.participants);
    await this.deliver([...users.values()], room.roomId, {
      type: 'read',
      roomId: room.roomId,
      userId: readerId,
      messageId,
      readAt: readAt ?? this.clock.now().toISOString(),
    });
  }

  private async announcePresence(userId: UserId, online: boolean, lastSeenAt: string | null): Promise<void> {
    const memberships = await this.store.listMemberships(userId);
    if (memberships.length === 0) return;
    const peers = await this.store.getUsers([...new Set(memberships.flatMap((m) => m.peers))]);
    const now = this.clock.now();
    // A peer's room-scoped connection hears of the user only through the room they share.
    const targets = new Map<string, DeliveryTarget>();
    for (const membership of memberships) {
      const peersHere = membership.peers.flatMap((id) => peers.get(id) ?? []);
      for (const target of connectionsOf(peersHere, membership.roomId, now))
        targets.set(target.connectionId, target);
    }
    const frame: ServerFrame = { type: 'presence', userId, online, lastSeenAt };
    await fanOut(this.notifier, [...targets.values()], JSON.stringify(frame), this.fanOutOptions);
  }

  private async deliver(
    users: readonly UserProfile[],
    roomId: RoomId,
    frame: ServerFrame,
    exceptConnectionId?: string,
  ): Promise<void> {
    const targets = connectionsOf(users, roomId, this.clock.now(), exceptConnectionId);
    if (targets.length > 0) await fanOut(this.notifier, targets, JSON.stringify(frame), this.fanOutOptions);
  }

  private async forgetConnection(target: DeliveryTarget): Promise<void> {
    await this.store.removeConnection(target.userId, target.connectionId, null);
  }

  private usersIn(users: ReadonlyMap<UserId, UserProfile>, ids: readonly UserId[]): UserProfile[] {
    return ids.flatMap((id) => users.get(id) ?? []);
  }

  private roomView(room: Room, viewerId: UserId, users: ReadonlyMap<UserId, UserProfile>): RoomView {
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

function withReadPointer(room: Room, userId: UserId, messageId: string, unreadCount: number): Room {
  return { ...room, members: { ...room.members, [userId]: { lastReadMessageId: messageId, unreadCount } } };
}

/** Read when every participant other than the sender has a pointer at or past the message. */
function withReadFlag(room: Room, message: Message): MessageView {
  const read = room.participants
    .filter((id) => id !== message.senderId)
    .every((id) => {
      const pointer = room.members[id]?.lastReadMessageId;
      return pointer !== null && pointer !== undefined && pointer >= message.messageId;
    });
  return { ...message, read };
}

function readState(
  roomId: RoomId,
  userId: UserId,
  messageId: string,
  unreadCount: number,
  readAt: string,
): ReadState {
  return { roomId, userId, messageId, lastReadMessageId: messageId, unreadCount, readAt };
}
