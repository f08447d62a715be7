/**
 * An in-memory ChatStore with the DynamoDB stores' semantics (lambdas/adapters/dynamo/): conditional
 * puts keyed on roomId + sender + clientMessageId, the room commit's condition on a newer
 * messageId, forward-only read pointers, hourly activity entries, connections kept on the user
 * profile. test/integration/store-contract.test.ts holds both to the same suite. Every answer is a
 * copy, as a DynamoDB read would be, so the service never sees later writes through an old object.
 */
import type {
  ConnectionRef,
  Message,
  RecentSend,
  Room,
  RoomId,
  SentCounts,
  UserId,
  UserProfile,
} from '../../lambdas/domain/model.js';
import {
  defaultNotificationPrefs,
  type NotificationPrefs,
  storedPrefs,
} from '../../lambdas/domain/notifications.js';
import type {
  ChatStore,
  Clock,
  CommitResult,
  MarkMove,
  Membership,
  MessagePage,
  MessagePageQuery,
  ProfileChanges,
  PutMessageResult,
  ReadPointerResult,
  Recipient,
  SendSnapshot,
  StoredMessage,
} from '../../lambdas/domain/ports.js';
import { activityBucket, type CommitPlan, emptyMember } from '../../lambdas/domain/room-commit.js';

interface StoredMember {
  lastRead: string | null;
  sent: number;
  read: number;
}

interface StoredRoom {
  roomId: RoomId;
  participants: UserId[];
  createdAt: string;
  updatedAt: string;
  lastMessage: Message | null;
  members: Map<UserId, StoredMember>;
  recentSends: Record<string, RecentSend>;
}

interface StoredUser {
  userId: UserId;
  displayName: string;
  avatarUrl: string | null;
  avatarKey: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  connections: Map<string, { expiresAt: number; roomId?: RoomId }>;
  email: string | null;
  /** As stored: fields absent until set (the adapter's `notify` map). */
  notify: Partial<NotificationPrefs> | undefined;
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
const dedupKey = (message: Pick<Message, 'senderId' | 'clientMessageId' | 'messageId'>) =>
  message.clientMessageId === undefined
    ? `id#${message.messageId}`
    : `client#${message.senderId}#${message.clientMessageId}`;

export class MemoryChatStore implements ChatStore {
  private readonly rooms = new Map<RoomId, StoredRoom>();
  private readonly memberships = new Map<UserId, Map<RoomId, UserId[]>>();
  private readonly messages = new Map<RoomId, Map<string, StoredMessage & { attemptId: string }>>();
  /** Activity entries, by user: "hour#roomId" keys, as the adapter's sort keys. */
  private readonly activity = new Map<UserId, Set<string>>();
  private readonly users = new Map<UserId, StoredUser>();
  private readonly connectionRecords = new Map<string, ConnectionRecord>();
  /** Notified marks, by user then room (the adapter's `notified#` items; "" is no mark). */
  private readonly marks = new Map<UserId, Map<RoomId, string>>();
  /** Preferences set before the user had a profile. */
  private readonly prefsOnly = new Map<UserId, Partial<NotificationPrefs>>();
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

  /** The next putMessage stores the message, then rejects: a Lambda dying between the put and its answer. */
  crashAfterNextPut(): void {
    this.crashAfterPut++;
  }

  /** A user profile as sign-in or PUT /users/me would write it. */
  seedUser(
    userId: UserId,
    displayName = userId,
    avatarUrl: string | null = null,
    email: string | null = null,
  ): void {
    this.users.set(userId, {
      userId,
      displayName,
      avatarUrl,
      avatarKey: null,
      createdAt: this.clock.now().toISOString(),
      lastSeenAt: null,
      connections: new Map(),
      email,
      notify: undefined,
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
    return this.storedWithCounts(roomId).map((stored) => stored.message);
  }

  /** A user's activity entries ("hour#roomId"), newest first. */
  activityEntries(userId: UserId): string[] {
    return [...(this.activity.get(userId) ?? [])].sort().reverse();
  }

  private storedWithCounts(roomId: RoomId): StoredMessage[] {
    return [...(this.messages.get(roomId)?.values() ?? [])]
      .map(({ message, counts }) => ({ message, counts }))
      .sort((a, b) => (a.message.messageId < b.message.messageId ? -1 : 1))
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

  async getRooms(roomIds: readonly RoomId[]): Promise<Room[]> {
    await this.enter('getRooms');
    return [...new Set(roomIds)].flatMap((id) => {
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
      // Like the adapter, a new room's members start with no pointer and nothing sent or read.
      members: new Map(room.participants.map((id) => [id, { lastRead: null, sent: 0, read: 0 }])),
      recentSends: {},
    });
    for (const userId of room.participants) {
      const rooms = this.memberships.get(userId) ?? new Map<RoomId, UserId[]>();
      rooms.set(
        room.roomId,
        room.participants.filter((id) => id !== userId),
      );
      this.memberships.set(userId, rooms);
      this.activityOf(userId).add(`${activityBucket(room.updatedAt)}#${room.roomId}`);
    }
    return 'created';
  }

  async commitMessage(room: Room, message: Message, plan: CommitPlan): Promise<CommitResult> {
    await this.enter('commitMessage');
    const stored = this.rooms.get(room.roomId);
    if (!stored) throw new Error(`ConditionalCheckFailed without an item: no room ${room.roomId}`);
    const before = toRoom(stored);
    // The adapter's condition: a greater id than the newest, and the send's key not recorded yet.
    if (
      (stored.lastMessage !== null && stored.lastMessage.messageId >= message.messageId) ||
      plan.key in stored.recentSends
    ) {
      return { status: 'stale', room: before };
    }
    const sender = stored.members.get(message.senderId);
    // DynamoDB rejects an update of a document path that does not exist.
    if (!sender) throw new Error(`ValidationException: no member ${message.senderId} in ${room.roomId}`);
    stored.lastMessage = copy(message);
    stored.updatedAt = message.sentAt;
    sender.sent++;
    for (const key of plan.evict) delete stored.recentSends[key];
    stored.recentSends[plan.key] = { messageId: message.messageId, senderId: message.senderId };
    return { status: 'committed', before };
  }

  async revertCommit(before: Room, message: Message, plan: CommitPlan): Promise<boolean> {
    await this.enter('revertCommit');
    const room = this.rooms.get(before.roomId);
    if (!room || room.lastMessage?.messageId !== message.messageId) return false;
    room.lastMessage = before.lastMessage && copy(before.lastMessage);
    room.updatedAt = before.updatedAt;
    const sender = room.members.get(message.senderId);
    if (sender) sender.sent--;
    delete room.recentSends[plan.key];
    return true;
  }

  async advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    read: number,
  ): Promise<ReadPointerResult> {
    await this.enter('advanceReadPointer');
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`ConditionalCheckFailed without an item: no room ${roomId}`);
    const member = room.members.get(userId);
    // The adapter's condition fails for a non-participant too, and then answers the room as it stands.
    if (!member || (member.lastRead !== null && member.lastRead >= messageId)) {
      return { moved: false, room: toRoom(room) };
    }
    member.lastRead = messageId;
    member.read = read;
    return { moved: true, room: toRoom(room) };
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    await this.enter('listMemberships');
    return [...(this.memberships.get(userId) ?? new Map<RoomId, UserId[]>())].map(([roomId, peers]) => ({
      roomId,
      peers: [...peers],
    }));
  }

  async activityPage(
    userId: UserId,
    fromBucket: string | undefined,
    minRooms: number,
  ): Promise<{ roomIds: RoomId[]; exhausted: boolean }> {
    await this.enter('activityPage');
    const entries = this.activityEntries(userId).filter(
      (key) => fromBucket === undefined || key < `${fromBucket}$`,
    );
    const roomIds = new Set<RoomId>();
    let stopBucket: string | undefined;
    for (const key of entries) {
      const [bucket = '', roomId = ''] = key.split(/#(.*)/s);
      if (stopBucket !== undefined && bucket !== stopBucket)
        return { roomIds: [...roomIds], exhausted: false };
      roomIds.add(roomId);
      if (stopBucket === undefined && roomIds.size >= minRooms) stopBucket = bucket;
    }
    return { roomIds: [...roomIds], exhausted: true };
  }

  async ensureActivity(roomId: RoomId, participants: readonly UserId[], bucket: string): Promise<void> {
    await this.enter('ensureActivity');
    for (const userId of participants) this.activityOf(userId).add(`${bucket}#${roomId}`);
  }

  async moveActivity(
    roomId: RoomId,
    participants: readonly UserId[],
    from: string,
    to: string,
  ): Promise<void> {
    await this.enter('moveActivity');
    for (const userId of participants) this.activityOf(userId).add(`${to}#${roomId}`);
    for (const userId of participants) this.activityOf(userId).delete(`${from}#${roomId}`);
  }

  // ---------------------------------------------------------------- messages

  async putMessage(message: Message, counts: SentCounts, attemptId: string): Promise<PutMessageResult> {
    await this.enter('putMessage');
    const room =
      this.messages.get(message.roomId) ?? new Map<string, StoredMessage & { attemptId: string }>();
    this.messages.set(message.roomId, room);
    const key = dedupKey(message);
    const existing = room.get(key);
    if (existing) {
      return existing.attemptId === attemptId
        ? { status: 'stored' }
        : { status: 'duplicate', existing: copy({ message: existing.message, counts: existing.counts }) };
    }
    room.set(key, copy({ message, counts, attemptId }));
    if (this.crashAfterPut > 0) {
      this.crashAfterPut--;
      throw new Error('crashed after the message was stored');
    }
    return { status: 'stored' };
  }

  async listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage> {
    await this.enter('listMessages');
    const all = this.storedWithCounts(roomId);
    const forward = query.after !== undefined;
    const { after, before } = query;
    const candidates =
      after !== undefined
        ? all.filter((m) => m.message.messageId > after)
        : before !== undefined
          ? all.filter((m) => m.message.messageId < before).reverse()
          : [...all].reverse();
    const page = candidates.slice(0, query.limit);
    return { messages: forward ? page : page.reverse(), hasMore: candidates.length > query.limit };
  }

  async getMessage(roomId: RoomId, messageId: string): Promise<StoredMessage | undefined> {
    await this.enter('getMessage');
    return this.storedWithCounts(roomId).find((m) => m.message.messageId === messageId);
  }

  // ---------------------------------------------------------------- reads across tables

  async getRoomAndUsers(roomId: RoomId, userIds: readonly UserId[]) {
    await this.enter('getRoomAndUsers');
    const room = this.rooms.get(roomId);
    return { room: room && toRoom(room), users: this.usersById(userIds) };
  }

  async loadSend(
    roomId: RoomId,
    userIds: readonly UserId[],
    senderId: UserId,
    clientMessageId: string | undefined,
  ): Promise<SendSnapshot> {
    await this.enter('loadSend');
    const room = this.rooms.get(roomId);
    const stored =
      clientMessageId === undefined
        ? undefined
        : this.messages.get(roomId)?.get(dedupKey({ senderId, clientMessageId, messageId: '' }));
    return {
      room: room && toRoom(room),
      users: this.usersById(userIds),
      stored: stored && copy({ message: stored.message, counts: stored.counts }),
    };
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

  async createProfileIfMissing(userId: UserId, displayName: string, email?: string): Promise<UserProfile> {
    await this.enter('createProfileIfMissing');
    const user = this.upsertUser(userId, displayName);
    if (email !== undefined) user.email = email;
    return toProfile(user);
  }

  async updateProfile(
    userId: UserId,
    changes: ProfileChanges,
    defaultDisplayName: string,
  ): Promise<{ profile: UserProfile; before: UserProfile | undefined }> {
    await this.enter('updateProfile');
    const existing = this.users.get(userId);
    const before = existing && toProfile(existing);
    const user = this.upsertUser(userId, defaultDisplayName);
    if (changes.displayName !== undefined) user.displayName = changes.displayName;
    if (changes.avatarUrl !== undefined) {
      user.avatarUrl = changes.avatarUrl;
      user.avatarKey = null;
    } else if (changes.avatarKey !== undefined) {
      user.avatarKey = changes.avatarKey;
      user.avatarUrl = null;
    }
    return { profile: toProfile(user), before };
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

  // ---------------------------------------------------------------- notifications

  async getNotificationPrefs(userId: UserId): Promise<NotificationPrefs> {
    await this.enter('getNotificationPrefs');
    return storedPrefs(this.storedNotify(userId));
  }

  async updateNotificationPrefs(
    userId: UserId,
    changes: Partial<NotificationPrefs>,
  ): Promise<NotificationPrefs> {
    await this.enter('updateNotificationPrefs');
    // Like the adapter's update, a user without an item gets one holding only the preferences, which
    // reads as no profile (no display name).
    const user = this.users.get(userId);
    const notify = { ...(this.storedNotify(userId) ?? defaultNotificationPrefs), ...changes };
    if (user) user.notify = notify;
    else this.prefsOnly.set(userId, notify);
    return storedPrefs(notify);
  }

  private storedNotify(userId: UserId): Partial<NotificationPrefs> | undefined {
    const user = this.users.get(userId);
    return user ? user.notify : this.prefsOnly.get(userId);
  }

  async getRecipient(userId: UserId): Promise<Recipient | undefined> {
    await this.enter('getRecipient');
    const user = this.users.get(userId);
    return user && toRecipient(user);
  }

  async getRecipients(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, Recipient>> {
    await this.enter('getRecipients');
    const found = new Map<UserId, Recipient>();
    for (const id of userIds) {
      const user = this.users.get(id);
      if (user) found.set(id, toRecipient(user));
    }
    return found;
  }

  async notifiedMarks(userId: UserId): Promise<ReadonlyMap<RoomId, string>> {
    await this.enter('notifiedMarks');
    return new Map([...(this.marks.get(userId) ?? [])].filter(([, messageId]) => messageId !== ''));
  }

  async moveNotifiedMarks(userId: UserId, moves: readonly MarkMove[]): Promise<boolean> {
    await this.enter('moveNotifiedMarks');
    if (moves.length > 100) throw new Error('at most 100 notified marks move at once');
    const marks = this.marks.get(userId) ?? new Map<RoomId, string>();
    // All or none, as the adapter's transaction.
    if (moves.some(({ roomId, from }) => (marks.get(roomId) ?? '') !== (from ?? ''))) return false;
    for (const { roomId, to } of moves) marks.set(roomId, to ?? '');
    this.marks.set(userId, marks);
    return true;
  }

  // ---------------------------------------------------------------- internals

  private async enter(method: StoreMethod): Promise<void> {
    this.calls.push(method);
    // A real store answers asynchronously: let other work interleave as it would.
    await Promise.resolve();
    const queued = this.failures.get(method);
    if (queued && queued.length > 0) throw queued.shift();
  }

  private activityOf(userId: UserId): Set<string> {
    const entries = this.activity.get(userId) ?? new Set<string>();
    this.activity.set(userId, entries);
    return entries;
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
      avatarKey: null,
      createdAt: now,
      lastSeenAt: null,
      connections: new Map(),
      email: null,
      notify: this.prefsOnly.get(userId),
    };
    this.prefsOnly.delete(userId);
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
      room.participants.map((id) => {
        const member = room.members.get(id);
        return [
          id,
          member
            ? { lastReadMessageId: member.lastRead, sent: member.sent, read: member.read }
            : emptyMember(),
        ];
      }),
    ),
    recentSends: copy(room.recentSends),
  };
}

function toRecipient(user: StoredUser): Recipient {
  return { profile: toProfile(user), email: user.email, prefs: storedPrefs(user.notify) };
}

function toProfile(user: StoredUser): UserProfile {
  return {
    userId: user.userId,
    displayName: user.displayName,
    avatarUrl: user.avatarUrl,
    avatarKey: user.avatarKey,
    lastSeenAt: user.lastSeenAt,
    connections: [...user.connections].map(([connectionId, c]) => ({
      connectionId,
      expiresAt: c.expiresAt,
      ...(c.roomId === undefined ? {} : { roomId: c.roomId }),
    })),
  };
}
