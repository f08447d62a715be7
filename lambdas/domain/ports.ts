/**
 * What the domain needs from the outside world. DynamoDB and the API Gateway management API
 * implement these in `adapters/`; unit tests use the in-memory fakes in `test/fakes`.
 */
import type { ConnectionRef, Message, Room, RoomId, UserId, UserProfile } from './model.js';

export interface MessagePageQuery {
  readonly before?: string;
  readonly after?: string;
  readonly limit: number;
}

export interface MessagePage {
  /** Oldest first. */
  readonly messages: readonly Message[];
  readonly hasMore: boolean;
}

export type RecordMode = 'new' | 'repair';

export type PutMessageResult =
  | { readonly status: 'stored' }
  | { readonly status: 'duplicate'; readonly existing: Message };

export interface Membership {
  readonly roomId: RoomId;
  /** The other participants, so presence can be fanned out without loading the rooms. */
  readonly peers: readonly UserId[];
}

export interface ProfileChanges {
  readonly displayName?: string;
  readonly avatarUrl?: string;
}

export interface ChatStore {
  getRoom(roomId: RoomId): Promise<Room | undefined>;
  /** The room and the given users' profiles in one round trip (the send path's only read). */
  getRoomAndUsers(
    roomId: RoomId,
    userIds: readonly UserId[],
  ): Promise<{ room: Room | undefined; users: ReadonlyMap<UserId, UserProfile> }>;
  getRooms(roomIds: readonly RoomId[]): Promise<Room[]>;
  /** Creates the room and its memberships atomically; 'exists' when the room was already there. */
  createRoom(room: Room): Promise<'created' | 'exists'>;
  listMemberships(userId: UserId): Promise<Membership[]>;
  /**
   * Counts `message` as unread for each recipient, once, and makes it the room's last message if it
   * is the newest. 'new': a message just stored. 'repair': a retried message whose first attempt may
   * have died before recording it. 'skipped' when it had already been counted (by a racing attempt):
   * the caller must then not deliver it again.
   */
  recordMessage(
    roomId: RoomId,
    message: Message,
    recipients: readonly UserId[],
    mode: RecordMode,
  ): Promise<'recorded' | 'skipped'>;
  /** Sets a participant's unread count (a recount after an uncertain retry). */
  setUnreadCount(roomId: RoomId, userId: UserId, unreadCount: number): Promise<void>;
  /** Moves the read pointer forward only; false when it was already at or past `messageId`. */
  advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    unreadCount: number,
  ): Promise<boolean>;

  /** Conditional on the sender's clientMessageId: a retry gets the stored copy back. */
  putMessage(message: Message): Promise<PutMessageResult>;
  listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage>;
  getMessage(roomId: RoomId, messageId: string): Promise<Message | undefined>;
  /** Messages after `afterMessageId` not sent by `excludeSender`, counted up to `cap`. */
  countMessagesAfter(
    roomId: RoomId,
    afterMessageId: string,
    excludeSender: UserId,
    cap: number,
  ): Promise<number>;

  getUser(userId: UserId): Promise<UserProfile | undefined>;
  getUsers(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, UserProfile>>;
  createProfileIfMissing(userId: UserId, displayName: string): Promise<UserProfile>;
  updateProfile(userId: UserId, changes: ProfileChanges, defaultDisplayName: string): Promise<UserProfile>;

  /** Records a connection; answers how many live connections the user has now, this one included. */
  addConnection(
    userId: UserId,
    connection: ConnectionRef,
    connectedAt: string,
    defaultDisplayName: string,
  ): Promise<number>;
  /** Forgets a connection; answers how many live connections the user has left. */
  removeConnection(userId: UserId, connectionId: string, lastSeenAt: string | null): Promise<number>;
}

export type PostResult = 'delivered' | 'gone';

/** Raised by a Notifier when the management API throttles; the fan-out retries it. */
export class ThrottledError extends Error {
  constructor(message = 'throttled') {
    super(message);
    this.name = 'ThrottledError';
  }
}

export interface Notifier {
  /** `payload` is the JSON frame, encoded once per fan-out rather than once per connection. */
  post(connectionId: string, payload: string): Promise<PostResult>;
}

export interface Clock {
  now(): Date;
}

export type IdGenerator = (now: Date) => string;

export interface Logger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
