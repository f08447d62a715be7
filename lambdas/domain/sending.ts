/**
 * Sending a message: the hot path. One BatchGet (the room, both participants' profiles with their
 * connections, and the message of the sender's clientMessageId), one conditional room update that
 * commits the message (room-commit.ts), one conditional put that stores it, then posts. The attempt
 * whose put stores the message is the one that delivers it, so a retry racing its first attempt, or
 * arriving after it, never delivers it twice. Apart from messaging.ts so that the send handler does
 * not bundle history and read pointers, nor the read handlers the send.
 */

import type { Deliveries } from './deliveries.js';
import { rateLimited } from './errors.js';
import {
  type AttachmentChecker,
  checkedAttachments,
  type SignedAttachment,
  storedOf,
  viewsOf,
} from './files.js';
import { ulidTime } from './message-id.js';
import type { Message, MessageOut, Room, RoomId, SentCounts, UserId, UserProfile } from './model.js';
import {
  type ActivityIndex,
  type Clock,
  type IdGenerator,
  type Logger,
  type MessageStore,
  type Metrics,
  noMetrics,
  type RoomReads,
  type RoomStore,
  type UserStore,
} from './ports.js';
import { assertInScope, type Caller, loadRoomWithParticipants, usersIn } from './room-access.js';
import { activityBucket, countsAfter, countsAt, findRecentSend, planCommit } from './room-commit.js';

/**
 * A commit fails when a send with a greater id committed first, and is tried again with a new id
 * from the room it answered. Past this many attempts (a room flooded by pipelined sends) a send gives
 * up with `rate_limited` (retryable) rather than holding its connection's Lambda.
 */
const MAX_COMMIT_ATTEMPTS = 25;

export interface SendMessageInput {
  readonly roomId: RoomId;
  /** May be empty when there are attachments. */
  readonly content: string;
  readonly clientMessageId?: string;
  /** Upload ids (1 to 10), checked and claimed before the message is committed. */
  readonly attachments?: readonly string[];
}

/**
 * What a send needs for files: the attachment check, which checks and claims uploads and signs their
 * download URLs (so this function neither reads the bucket nor bundles the S3 signer).
 */
export interface SendFiles {
  readonly checker: AttachmentChecker;
}

export type SendingStore = Pick<RoomStore, 'commitMessage' | 'revertCommit'> &
  Pick<MessageStore, 'putMessage'> &
  Pick<RoomReads, 'loadSend'> &
  Pick<UserStore, 'getUsers'> &
  Pick<ActivityIndex, 'moveActivity' | 'ensureActivity'>;

/** The answer to a send, and whether this attempt stored it (false: a retry answered from the stored copy). */
interface Sent {
  readonly message: Message;
  /** The message as the ack carries it, when this attempt presented it already (for its fan-out). */
  readonly presented?: MessageOut;
  readonly stored: boolean;
}

export class SendingService {
  constructor(
    private readonly store: SendingStore,
    private readonly deliveries: Deliveries,
    private readonly files: SendFiles,
    private readonly clock: Clock,
    private readonly newMessageId: IdGenerator,
    private readonly logger: Logger,
    private readonly metrics: Metrics = noMetrics,
  ) {}

  /** Stores and delivers the message; answers it as the ack carries it. */
  async sendMessage(caller: Caller, input: SendMessageInput): Promise<MessageOut> {
    const started = this.clock.now().getTime();
    const { message, presented, stored } = await this.send(caller, input);
    const answer = presented ?? (await this.present(message));
    this.metrics.record({
      [stored ? 'MessagesSent' : 'DuplicateSends']: 1,
      SendLatency: this.clock.now().getTime() - started,
    });
    return answer;
  }

  private async send(caller: Caller, input: SendMessageInput): Promise<Sent> {
    assertInScope(caller, input.roomId);
    const snapshot = await loadRoomWithParticipants(
      (roomId, userIds) => this.store.loadSend(roomId, userIds, caller.userId, input.clientMessageId),
      this.store,
      caller.userId,
      input.roomId,
    );
    const { users } = snapshot;
    // Stored before (a late retry, or one racing a first attempt that has finished): the same ack,
    // and no second delivery.
    if (snapshot.stored) {
      await this.ensureActivity(snapshot.room, snapshot.stored.message);
      return { message: snapshot.stored.message, stored: false };
    }

    // Tells this attempt's own put apart from another's when the SDK retries a put whose answer
    // was lost after DynamoDB had applied it.
    const attemptId = crypto.randomUUID();
    const signed = await this.attach(caller.userId, input, attemptId);
    const attachments = signed && storedOf(signed);
    let room = snapshot.room;
    for (let attempt = 1; ; attempt++) {
      const recent = findRecentSend(room, caller.userId, input.clientMessageId);
      if (recent) {
        // Committed by an attempt that may not have stored it yet (or died before): store the same
        // message; whichever attempt's put stores it delivers it.
        const message = this.messageFor(caller.userId, input, recent.messageId, attachments);
        const [sent] = await Promise.all([
          this.storeAndDeliver(room, users, message, signed, recent.counts, caller.connectionId, attemptId),
          this.ensureActivity(room, message),
        ]);
        return sent;
      }
      const message = this.messageFor(caller.userId, input, this.nextMessageId(room), attachments);
      const plan = planCommit(room, message, this.clock.now());
      const result = await this.store.commitMessage(room, message, plan);
      // A failed condition on this very commit: the SDK retried an update DynamoDB had applied.
      const lostAnswer =
        result.status === 'stale' && result.room.recentSends[plan.key]?.messageId === message.messageId;
      if (result.status === 'committed' || lostAnswer) {
        const counts =
          result.status === 'committed'
            ? countsAfter(result.before, message)
            : countsAt(result.room, message.messageId);
        const [sent] = await Promise.all([
          this.storeAndDeliver(room, users, message, signed, counts, caller.connectionId, attemptId),
          // The commit stands, whoever stores the message: the chat list must follow it.
          result.status === 'committed'
            ? this.moveActivity(result.before, message)
            : this.ensureActivity(result.room, message),
        ]);
        // Stored already: this was a retry that read the room before its first attempt committed and
        // whose entry had left the room by the time it committed (see RECENT_SEND_LIMIT). Its commit
        // counted the message a second time: undo it while it is the newest.
        if (
          sent.message.messageId !== message.messageId &&
          !(result.status === 'committed' && (await this.store.revertCommit(result.before, message, plan)))
        ) {
          this.logger.warn('a duplicate send was counted twice', { roomId: room.roomId });
        }
        return sent;
      }
      room = result.room;
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw rateLimited('Too many messages are being sent to this room at once; send it again');
      }
    }
  }

  /**
   * Stores the committed message; the attempt whose put stores it delivers it, any other answers
   * with the stored copy.
   */
  private async storeAndDeliver(
    room: Room,
    users: ReadonlyMap<UserId, UserProfile>,
    message: Message,
    signed: readonly SignedAttachment[] | undefined,
    counts: SentCounts,
    sendingConnectionId: string | undefined,
    attemptId: string,
  ): Promise<Sent> {
    const put = await this.store.putMessage(message, counts, attemptId);
    if (put.status === 'duplicate') return { message: put.existing.message, stored: false };
    const { attachments: _stored, ...text } = message;
    const presented: MessageOut = signed ? { ...text, attachments: viewsOf(signed) } : text;
    await this.deliveries.toUsers(
      usersIn(users, room.participants),
      room.roomId,
      { type: 'chat_message', message: presented },
      sendingConnectionId,
    );
    return { message, presented, stored: true };
  }

  /**
   * Checks and claims the send's uploads before anything is committed, so a refused upload changes
   * nothing. The claim is the sender's clientMessageId: the same send retried (or racing its first
   * attempt) claims the same uploads again and makes the same message. A send without one cannot be
   * retried as the same message anyway, so its attempt claims.
   */
  private async attach(
    senderId: UserId,
    input: SendMessageInput,
    attemptId: string,
  ): Promise<readonly SignedAttachment[] | undefined> {
    if (input.attachments === undefined) return undefined;
    return checkedAttachments(this.files.checker, {
      kind: 'attachments',
      roomId: input.roomId,
      senderId,
      uploadIds: input.attachments,
      claim:
        input.clientMessageId === undefined
          ? `attempt#${attemptId}`
          : `client#${senderId}#${input.clientMessageId}`,
    });
  }

  /**
   * The chat list finds rooms by hourly activity bucket: the one commit that carries a room into a
   * new hour moves its entries (commits are applied one at a time, so `before` is exactly the state
   * it replaced). A failure fails the send: the client sends it again, and the retry finds the
   * message stored and puts the entries of its hour (ensureActivity).
   */
  private async moveActivity(before: Room, message: Message): Promise<void> {
    const from = activityBucket(before.updatedAt);
    const to = activityBucket(message.sentAt);
    if (to > from) await this.store.moveActivity(before.roomId, before.participants, from, to);
  }

  /**
   * A retry of a message in the room's newest hour puts the room's entries for that hour again: the
   * attempt that committed it may have died before moving them. Without deleting the old ones, which
   * a reader passes over (it takes each room once, by its exact activity time).
   */
  private async ensureActivity(room: Room, message: Message): Promise<void> {
    const bucket = activityBucket(message.sentAt);
    if (bucket === activityBucket(room.updatedAt)) {
      await this.store.ensureActivity(room.roomId, room.participants, bucket);
    }
  }

  /** A stored message as the ack carries it: its attachments' URLs signed by the check (a retry's answer). */
  private async present(message: Message): Promise<MessageOut> {
    const { attachments, ...text } = message;
    if (attachments === undefined) return text;
    const signed = await checkedAttachments(this.files.checker, { kind: 'sign', attachments });
    return { ...text, attachments: viewsOf(signed) };
  }

  /** A messageId after the room's newest, whatever this container's clock says. */
  private nextMessageId(room: Room): string {
    const now = this.clock.now();
    const id = this.newMessageId(now);
    const newest = room.lastMessage?.messageId;
    if (newest === undefined || id > newest) return id;
    return this.newMessageId(new Date(Math.max(now.getTime(), ulidTime(newest) + 1)));
  }

  /** The message a send makes with this id: the same for every attempt that carries the same id. */
  private messageFor(
    senderId: UserId,
    input: SendMessageInput,
    messageId: string,
    attachments: Message['attachments'],
  ): Message {
    return {
      messageId,
      roomId: input.roomId,
      senderId,
      content: input.content,
      sentAt: new Date(ulidTime(messageId)).toISOString(),
      ...(input.clientMessageId === undefined ? {} : { clientMessageId: input.clientMessageId }),
      ...(attachments === undefined ? {} : { attachments }),
    };
  }
}
