/**
 * An in-memory ChatStore with the DynamoDB adapter's semantics (lambdas/adapters/dynamo-store.ts):
 * conditional puts keyed on roomId + sender + clientMessageId, the conditional room update of
 * recordMessage, forward-only read pointers, connections kept on the user profile. Every answer is a
 * copy, as a DynamoDB read would be, so the service never sees later writes through an old object.
 */
import type {
  ConnectionRef,
  Message,
  Room,
  RoomId,
  UserId,
  UserProfile,
} from '../../lambdas/domain/model.js';
import type {
  ChatStore,
  Clock,
  Membership,
  MessagePage,
  MessagePageQuery,
  ProfileChanges,
  PutMessageResult,
  RecordMode,
} from '../../lambdas/domain/ports.js';

interface StoredMember {
  lastRead: string | null;
  unread: number;
  /** The newest of the member's own messages counted in the room (the adapter's `lastSent`). */
  lastSent: string | null;
}

interface StoredRoom {
  roomId: RoomId;
  participants: UserId[];
  createdAt: string;
  updatedAt: string;
  lastMessage: Message | null;
  members: Map<UserId, StoredMember>;
}

interface StoredUser {
  userId: UserId;
  displayName: string;
  avatarUrl: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  connections: Map<string, { expiresAt: number; roomId?: RoomId }>;
}

/** A row of the connections table. */
export interface ConnectionRecord {
  readonly connectionId: string;
  readonly userId: UserId;
  readonly roomId?: RoomId;
  readonly connectedAt: string;
  readonly expiresAt: number;
}

type StoreMethod = keyof ChatStore;

const copy = <T>(value: T): T => structuredClone(value);

/** Same rule as the adapter: the sender's clientMessageId is the key; no id means no dedup. */
const dedupKey = (message: Message) =>
  message.clientMessageId === undefined
    ? `id#${message.messageId}`
    : `client#${message.senderId}#${message.clientMessageId}`;

export class MemoryChatStore implements ChatStore {
  private readonly rooms = new Map<RoomId, StoredRoom>();
  private readonly memberships = new Map<UserId, Map<RoomId, UserId[]>>();
  private readonly messages = new Map<RoomId, Map<string, Message>>();
  private readonly users = new Map<UserId, StoredUser>();
  private readonly connectionRecords = new Map<string, ConnectionRecord>();
  private readonly failures = new Map<StoreMethod, unknown[]>();
  private crashAfterPut = 0;
  /** Every call, by method name, in order: lets a test see what the service asked for. */
  readonly calls: StoreMethod[] = [];

  constructor(private readonly clock: Clock) {}

  // ---------------------------------------------------------------- test controls

  /** The next call of `method` rejects with `error` (queue several to fail several calls). */
  failNext(method: StoreMethod, error: unknown = new Error(`${method} failed`)): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** The next putMessage stores the message, then rejects: a Lambda dying between the put and the rest. */
  crashAfterNextPut(): void {
    this.crashAfterPut++;
  }

  /** A user profile as sign-in or PUT /users/me would write it. */
  seedUser(userId: UserId, displayName = userId, avatarUrl: string | null = null): void {
    this.users.set(userId, {
      userId,
      displayName,
      avatarUrl,
      createdAt: this.clock.now().toISOString(),
      lastSeenAt: null,
      connections: new Map(),
    });
  }

  /** Writes a connection attribute directly, e.g. one whose expiry has already passed. */
  seedConnection(userId: UserId, connection: ConnectionRef): void {
    const user = this.requireUser(userId);
    user.connections.set(connection.connectionId, {
      expiresAt: connection.expiresAt,
      ...(connection.roomId === undefined ? {} : { roomId: connection.roomId }),
    });
  }

  /** Every stored message of a room, ordered by messageId. */
  storedMessages(roomId: RoomId): Message[] {
    return [...(this.messages.get(roomId)?.values() ?? [])]
      .sort((a, b) => (a.messageId < b.messageId ? -1 : 1))
      .map(copy);
  }

  connectionRecord(connectionId: string): ConnectionRecord | undefined {
    const record = this.connectionRecords.get(connectionId);
    return record && copy(record);
  }

  // ---------------------------------------------------------------- rooms

  async getRoom(roomId: RoomId): Promise<Room | undefined> {
    await this.enter('getRoom');
    const room = this.rooms.get(roomId);
    return room && toRoom(room);
  }

  async getRoomAndUsers(roomId: RoomId, userIds: readonly UserId[]) {
    await this.enter('getRoomAndUsers');
    const room = this.rooms.get(roomId);
    return { room: room && toRoom(room), users: this.usersById(userIds) };
  }

  async getRooms(roomIds: readonly RoomId[]): Promise<Room[]> {
    await this.enter('getRooms');
    return roomIds.flatMap((id) => {
      const room = this.rooms.get(id);
      return room ? [toRoom(room)] : [];
    });
  }

  async createRoom(room: Room): Promise<'created' | 'exists'> {
    await this.enter('createRoom');
    if (this.rooms.has(room.roomId)) return 'exists';
    this.rooms.set(room.roomId, {
      roomId: room.roomId,
      participants: [...room.participants],
      createdAt: room.createdAt,
      updatedAt: room.updatedAt,
      lastMessage: null,
      // Like the adapter, a new room's members start with no pointer and nothing unread.
      members: new Map(room.participants.map((id) => [id, { lastRead: null, unread: 0, lastSent: null }])),
    });
    for (const userId of room.participants) {
      const rooms = this.memberships.get(userId) ?? new Map<RoomId, UserId[]>();
      rooms.set(
        room.roomId,
        room.participants.filter((id) => id !== userId),
      );
      this.memberships.set(userId, rooms);
    }
    return 'created';
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    await this.enter('listMemberships');
    return [...(this.memberships.get(userId) ?? new Map<RoomId, UserId[]>())].map(([roomId, peers]) => ({
      roomId,
      peers: [...peers],
    }));
  }

  async recordMessage(
    roomId: RoomId,
    message: Message,
    recipients: readonly UserId[],
    mode: RecordMode,
  ): Promise<'recorded' | 'skipped'> {
    await this.enter('recordMessage');
    const room = this.rooms.get(roomId);
    // Every update the adapter makes is conditional on the room existing.
    if (!room) return 'skipped';
    const members = recipients.map((id) => {
      const member = room.members.get(id);
      // DynamoDB rejects an update of a document path that does not exist.
      if (!member) throw new Error(`ValidationException: no member ${id} in ${roomId}`);
      return member;
    });
    const sender = room.members.get(message.senderId);
    if (!sender) throw new Error(`ValidationException: no member ${message.senderId} in ${roomId}`);
    const isNewestOfRoom = room.lastMessage === null || room.lastMessage.messageId < message.messageId;
    const isNewestOfSender = sender.lastSent === null || sender.lastSent < message.messageId;
    // The adapter's cascade: full update; counts + sender pointer; counts only ('new' mode).
    if (isNewestOfSender) {
      sender.lastSent = message.messageId;
      if (isNewestOfRoom) {
        room.lastMessage = copy(message);
        room.updatedAt = message.sentAt;
      }
    } else if (mode === 'repair' || sender.lastSent === message.messageId) {
      return 'skipped';
    }
    for (const member of members) member.unread++;
    return 'recorded';
  }

  async setUnreadCount(roomId: RoomId, userId: UserId, unreadCount: number): Promise<void> {
    await this.enter('setUnreadCount');
    const member = this.rooms.get(roomId)?.members.get(userId);
    if (!member) throw new Error(`ConditionalCheckFailed: no member ${userId} in ${roomId}`);
    member.unread = unreadCount;
  }

  async advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    unreadCount: number,
  ): Promise<boolean> {
    await this.enter('advanceReadPointer');
    const member = this.rooms.get(roomId)?.members.get(userId);
    if (!member) return false;
    if (member.lastRead !== null && member.lastRead >= messageId) return false;
    member.lastRead = messageId;
    member.unread = unreadCount;
    return true;
  }

  // ---------------------------------------------------------------- messages

  async putMessage(message: Message): Promise<PutMessageResult> {
    await this.enter('putMessage');
    const room = this.messages.get(message.roomId) ?? new Map<string, Message>();
    this.messages.set(message.roomId, room);
    const key = dedupKey(message);
    const existing = room.get(key);
    if (existing) return { status: 'duplicate', existing: copy(existing) };
    room.set(key, copy(message));
    if (this.crashAfterPut > 0) {
      this.crashAfterPut--;
      throw new Error('crashed after the message was stored');
    }
    return { status: 'stored' };
  }

  async listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage> {
    await this.enter('listMessages');
    const all = this.storedMessages(roomId);
    const forward = query.after !== undefined;
    const { after, before } = query;
    const candidates =
      after !== undefined
        ? all.filter((m) => m.messageId > after)
        : before !== undefined
          ? all.filter((m) => m.messageId < before).reverse()
          : [...all].reverse();
    const page = candidates.slice(0, query.limit);
    return { messages: forward ? page : page.reverse(), hasMore: candidates.length > query.limit };
  }

  async getMessage(roomId: RoomId, messageId: string): Promise<Message | undefined> {
    await this.enter('getMessage');
    return this.storedMessages(roomId).find((m) => m.messageId === messageId);
  }

  async countMessagesAfter(
    roomId: RoomId,
    afterMessageId: string,
    excludeSender: UserId,
    cap: number,
  ): Promise<number> {
    await this.enter('countMessagesAfter');
    const count = this.storedMessages(roomId).filter(
      (m) => m.messageId > afterMessageId && m.senderId !== excludeSender,
    ).length;
    return Math.min(count, cap);
  }

  // ---------------------------------------------------------------- users

  async getUser(userId: UserId): Promise<UserProfile | undefined> {
    await this.enter('getUser');
    const user = this.users.get(userId);
    return user && toProfile(user);
  }

  async getUsers(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, UserProfile>> {
    await this.enter('getUsers');
    return this.usersById(userIds);
  }

  async createProfileIfMissing(userId: UserId, displayName: string): Promise<UserProfile> {
    await this.enter('createProfileIfMissing');
    return toProfile(this.upsertUser(userId, displayName));
  }

  async updateProfile(
    userId: UserId,
    changes: ProfileChanges,
    defaultDisplayName: string,
  ): Promise<UserProfile> {
    await this.enter('updateProfile');
    const user = this.upsertUser(userId, defaultDisplayName);
    if (changes.displayName !== undefined) user.displayName = changes.displayName;
    if (changes.avatarUrl !== undefined) user.avatarUrl = changes.avatarUrl;
    return toProfile(user);
  }

  // ---------------------------------------------------------------- connections

  async addConnection(
    userId: UserId,
    connection: ConnectionRef,
    connectedAt: string,
    defaultDisplayName: string,
  ): Promise<number> {
    await this.enter('addConnection');
    const scope = connection.roomId === undefined ? {} : { roomId: connection.roomId };
    this.connectionRecords.set(connection.connectionId, {
      connectionId: connection.connectionId,
      userId,
      connectedAt,
      expiresAt: connection.expiresAt,
      ...scope,
    });
    const user = this.upsertUser(userId, defaultDisplayName, connectedAt);
    user.connections.set(connection.connectionId, { expiresAt: connection.expiresAt, ...scope });
    return this.liveCount(user);
  }

  async removeConnection(userId: UserId, connectionId: string, lastSeenAt: string | null): Promise<number> {
    await this.enter('removeConnection');
    this.connectionRecords.delete(connectionId);
    // The adapter's update is conditional on the user existing: it never creates a profile.
    const user = this.users.get(userId);
    if (!user) return 0;
    user.connections.delete(connectionId);
    if (lastSeenAt !== null) user.lastSeenAt = lastSeenAt;
    return this.liveCount(user);
  }

  // ---------------------------------------------------------------- internals

  private async enter(method: StoreMethod): Promise<void> {
    this.calls.push(method);
    // A real store answers asynchronously: let other work interleave as it would.
    await Promise.resolve();
    const queued = this.failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  }

  private usersById(userIds: readonly UserId[]): Map<UserId, UserProfile> {
    const found = new Map<UserId, UserProfile>();
    for (const id of userIds) {
      const user = this.users.get(id);
      if (user) found.set(id, toProfile(user));
    }
    return found;
  }

  private upsertUser(userId: UserId, displayName: string, now = this.clock.now().toISOString()): StoredUser {
    const existing = this.users.get(userId);
    if (existing) return existing;
    const created: StoredUser = {
      userId,
      displayName,
      avatarUrl: null,
      createdAt: now,
      lastSeenAt: null,
      connections: new Map(),
    };
    this.users.set(userId, created);
    return created;
  }

  private requireUser(userId: UserId): StoredUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`seed user ${userId} first`);
    return user;
  }

  private liveCount(user: StoredUser): number {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    return [...user.connections.values()].filter((c) => c.expiresAt > nowSeconds).length;
  }
}

function toRoom(room: StoredRoom): Room {
  return {
    roomId: room.roomId,
    participants: [...room.participants],
    createdAt: room.createdAt,
    updatedAt: room.updatedAt,
    lastMessage: room.lastMessage && copy(room.lastMessage),
    members: Object.fromEntries(
      [...room.members].map(([id, m]) => [
        id,
        {
          lastReadMessageId: m.lastRead,
          unreadCount: m.unread,
          ...(m.lastSent === null ? {} : { lastSentMessageId: m.lastSent }),
        },
      ]),
    ),
  };
}

function toProfile(user: StoredUser): UserProfile {
  return {
    userId: user.userId,
    displayName: user.displayName,
    avatarUrl: user.avatarUrl,
    lastSeenAt: user.lastSeenAt,
    connections: [...user.connections].map(([connectionId, c]) => ({
      connectionId,
      expiresAt: c.expiresAt,
      ...(c.roomId === undefined ? {} : { roomId: c.roomId }),
    })),
  };
}
