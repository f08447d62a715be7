/**
 * What the domain needs from the outside world. DynamoDB and the API Gateway management API
 * implement these in `adapters/`; unit tests use the in-memory fakes in `test/fakes`.
 */

import type { ChatEvent } from '../../definitions/notifications.js';
import type { ConnectionRef, Message, Room, RoomId, SentCounts, UserId, UserProfile } from './model.js';
import type { NotificationPrefs } from './notifications.js';
import type { CommitPlan } from './room-commit.js';

export interface MessagePageQuery {
  readonly before?: string;
  readonly after?: string;
  readonly limit: number;
}

/** A stored message with the counts its commit recorded (null on items from before counts existed). */
export interface StoredMessage {
  readonly message: Message;
  readonly counts: SentCounts | null;
}

export interface MessagePage {
  /** Oldest first. */
  readonly messages: readonly StoredMessage[];
  readonly hasMore: boolean;
}

export type PutMessageResult =
  | { readonly status: 'stored' }
  | { readonly status: 'duplicate'; readonly existing: StoredMessage };

export interface Membership {
  readonly roomId: RoomId;
  /** The other participants, so presence can be fanned out without loading the rooms. */
  readonly peers: readonly UserId[];
}

/** An avatar is either a URL the user gave or an uploaded object; setting one clears the other. */
export interface ProfileChanges {
  readonly displayName?: string;
  /** A URL the user gives; null clears the avatar (either kind). */
  readonly avatarUrl?: string | null;
  readonly avatarKey?: string;
}

/** What a send reads, in one round trip. */
export interface SendSnapshot {
  readonly room: Room | undefined;
  readonly users: ReadonlyMap<UserId, UserProfile>;
  /** The message already stored for the sender's clientMessageId (a strongly consistent read). */
  readonly stored: StoredMessage | undefined;
}

export type CommitResult =
  /** Committed; `before` is the room as it stood just before (the update's ALL_OLD). */
  | { readonly status: 'committed'; readonly before: Room }
  /** Not committed: a message at least as new, or this send's key, is on the room as it now stands. */
  | { readonly status: 'stale'; readonly room: Room };

export interface ReadPointerResult {
  /** False when the pointer already stood at or past the message. */
  readonly moved: boolean;
  /** The room right after the update (or as it stood, when not moved). */
  readonly room: Room;
}

/** The room item: the only thing a send and a read both write. */
export interface RoomStore {
  getRoom(roomId: RoomId): Promise<Room | undefined>;
  getRooms(roomIds: readonly RoomId[]): Promise<Room[]>;
  /**
   * Commits `message` as the room's newest, with one more message counted for its sender and the send
   * recorded under `plan.key` (dropping `plan.evict`), if and only if its id is greater than the
   * room's newest and the key is not there: one atomic conditional update.
   */
  commitMessage(room: Room, message: Message, plan: CommitPlan): Promise<CommitResult>;
  /**
   * Undoes the commit of `message` over `before` while it is still the room's newest: for a message
   * that turned out to be stored already. False when another send committed since.
   */
  revertCommit(before: Room, message: Message, plan: CommitPlan): Promise<boolean>;
  /** Moves the read pointer to `messageId` with its `read` count, forward only. */
  advanceReadPointer(
    roomId: RoomId,
    userId: UserId,
    messageId: string,
    read: number,
  ): Promise<ReadPointerResult>;
}

/** Who is in which room: written once when a room starts. */
export interface RoomDirectory {
  /** Creates the room, its memberships and activity entries atomically; 'exists' when it was there. */
  createRoom(room: Room): Promise<'created' | 'exists'>;
  listMemberships(userId: UserId): Promise<Membership[]>;
}

/** The chat list's index: each participant's rooms by activity bucket (an hour), newest first. */
export interface ActivityIndex {
  /**
   * The rooms of the user's activity entries from `fromBucket` (inclusive; the newest when undefined)
   * downwards, whole buckets only, until at least `minRooms` are in hand; `exhausted` when none are left.
   */
  activityPage(
    userId: UserId,
    fromBucket: string | undefined,
    minRooms: number,
  ): Promise<{ roomIds: RoomId[]; exhausted: boolean }>;
  /** Moves the room's entries from one bucket to a newer one: the new ones are written first. */
  moveActivity(roomId: RoomId, participants: readonly UserId[], from: string, to: string): Promise<void>;
  /** Writes the room's entries for `bucket` (again), leaving any others as they are. */
  ensureActivity(roomId: RoomId, participants: readonly UserId[], bucket: string): Promise<void>;
}

export interface MessageStore {
  /**
   * Stores the message unless one is stored for the same sender and clientMessageId (then that one).
   * `attemptId` names the attempt: a put of the same attempt finding its own item (its first answer
   * was lost and the SDK sent it again) answers 'stored'.
   */
  putMessage(message: Message, counts: SentCounts, attemptId: string): Promise<PutMessageResult>;
  listMessages(roomId: RoomId, query: MessagePageQuery): Promise<MessagePage>;
  getMessage(roomId: RoomId, messageId: string): Promise<StoredMessage | undefined>;
}

export interface UserStore {
  getUser(userId: UserId): Promise<UserProfile | undefined>;
  getUsers(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, UserProfile>>;
  /**
   * Creates the profile unless it exists (keeping the existing display name either way). `email`, when
   * given, is the account's address as Cognito confirmed it, and replaces any stored one.
   */
  createProfileIfMissing(userId: UserId, displayName: string, email?: string): Promise<UserProfile>;
  /** Applies the changes; `before` is the profile as it was (absent for a new one). */
  updateProfile(
    userId: UserId,
    changes: ProfileChanges,
    defaultDisplayName: string,
  ): Promise<{ readonly profile: UserProfile; readonly before: UserProfile | undefined }>;
}

export interface ConnectionStore {
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

/** Reads across tables in one round trip (BatchGetItem), for the routes that start with the room. */
export interface RoomReads {
  /** The room and the given users' profiles (the typing route's only read). */
  getRoomAndUsers(
    roomId: RoomId,
    userIds: readonly UserId[],
  ): Promise<{ room: Room | undefined; users: ReadonlyMap<UserId, UserProfile> }>;
  /** The send's only read: the room, the users, and the message of the sender's clientMessageId. */
  loadSend(
    roomId: RoomId,
    userIds: readonly UserId[],
    senderId: UserId,
    clientMessageId: string | undefined,
  ): Promise<SendSnapshot>;
}

/** A user as the e-mail notifications see them: the profile (with connections), address and preferences. */
export interface Recipient {
  readonly profile: UserProfile;
  /** The account's address (stored at sign-up confirmation); null when none is known. */
  readonly email: string | null;
  readonly prefs: NotificationPrefs;
}

/**
 * One room's notified mark moved from `from` to `to`: the newest messageId already e-mailed to the
 * user in that room (null: nothing e-mailed yet).
 */
export interface MarkMove {
  readonly roomId: RoomId;
  readonly from: string | null;
  readonly to: string | null;
}

/** E-mail preferences and the record of what was e-mailed (users items and `notified#` items). */
export interface NotificationStore {
  /** The stored preferences, defaults for what was never set. */
  getNotificationPrefs(userId: UserId): Promise<NotificationPrefs>;
  /** Sets only the fields given; answers the preferences as they now stand. */
  updateNotificationPrefs(userId: UserId, changes: Partial<NotificationPrefs>): Promise<NotificationPrefs>;
  getRecipient(userId: UserId): Promise<Recipient | undefined>;
  getRecipients(userIds: readonly UserId[]): Promise<ReadonlyMap<UserId, Recipient>>;
  /** The user's notified marks, by room. */
  notifiedMarks(userId: UserId): Promise<ReadonlyMap<RoomId, string>>;
  /**
   * Moves every mark from its `from` to its `to`, all or none (one transaction): false, and nothing
   * written, when any mark no longer stands at its `from` (another check moved it).
   */
  moveNotifiedMarks(userId: UserId, moves: readonly MarkMove[]): Promise<boolean>;
}

/** Every port together: what the in-memory store and the DynamoDB stores implement between them. */
export interface ChatStore
  extends RoomStore,
    RoomDirectory,
    ActivityIndex,
    MessageStore,
    UserStore,
    ConnectionStore,
    RoomReads,
    NotificationStore {}

/** Raised by an EventPublisher when some events are still unpublished after its retries. */
export class PublishError extends Error {
  constructor(
    /** Indexes (into the events given) of the events not published. */
    readonly failed: readonly number[],
    message = `${failed.length} event(s) not published`,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** Puts the chat's events on the bus. Publishing an event again is harmless: its id is the same. */
export interface EventPublisher {
  /** Resolves when every event is published; else rejects with a PublishError. */
  publish(events: readonly ChatEvent[]): Promise<void>;
}

/** The e-mail check of one user for one room, as a one-time schedule runs it. */
export interface CheckTarget {
  readonly userId: UserId;
  readonly roomId: RoomId;
}

export interface PlannedCheck {
  /** Derived from the target and its time window: creating the same check twice makes one schedule. */
  readonly name: string;
  readonly at: Date;
  readonly target: CheckTarget;
}

export interface CheckScheduler {
  /** 'exists' when a schedule of that name is already there (a burst, or a record processed again). */
  schedule(check: PlannedCheck): Promise<'created' | 'exists'>;
}

export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * `refused`: the provider will never deliver this e-mail to this address (SES MessageRejected naming
 * the recipient), so retrying is pointless. Anything that may pass on a retry, or that the operator
 * must hear of (throttling, an outage, an account-wide pause, the sender's identity), throws.
 */
export type MailResult = 'sent' | 'refused';

export interface Mailer {
  send(mail: Mail): Promise<MailResult>;
}

export type PostResult = 'delivered' | 'gone';

/** Raised by a Notifier when the management API throttles; the fan-out retries it. */
export class ThrottledError extends Error {
  constructor(message = 'throttled') {
    super(message);
    this.name = 'ThrottledError';
  }
}

/**
 * Raised by a Notifier for a failure that may pass (a 5xx, a dropped or timed-out request); the
 * fan-out retries it like a throttle. The frame may have been delivered before the failure, so the
 * connection can get it twice: every frame is safe to repeat (clients take a message once by id).
 */
export class TransientPostError extends Error {
  constructor(message = 'transient failure') {
    super(message);
    this.name = 'TransientPostError';
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

/** What the chat counts (Count) and times (Milliseconds): the operations figures of the send path. */
export interface MetricValues {
  /** Messages stored and delivered by the send that stored them. */
  readonly MessagesSent?: number;
  /** Sends answered from the copy an earlier attempt stored (a client retry), nothing delivered. */
  readonly DuplicateSends?: number;
  /** From the send's first read to its answer, duplicates included. */
  readonly SendLatency?: number;
  /** Connections a fan-out posted to (each counted once, whatever its retries). */
  readonly FanOutPosts?: number;
  readonly GoneConnections?: number;
  /** Post attempts the management API throttled (each retry that was throttled again counts). */
  readonly ThrottledPosts?: number;
  /** Posts given up on: the recipient gets the frame by catch-up. */
  readonly FailedPosts?: number;
}

/** Records figures without a request of its own (on Lambda a log line: adapters/emf-metrics.ts). */
export interface Metrics {
  record(values: MetricValues): void;
}

export const noMetrics: Metrics = { record: () => {} };
