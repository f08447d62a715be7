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
import type { Message, Room, RoomId, SentCounts, UserId, UserProfile } from './model.js';
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
import { activityBucket, countsAfter, findRecentSend, planCommit, ulidTime } from './room-commit.js';

/**
 * A commit fails when a send with a greater id committed first, and is tried again with a new id
 * from the room it answered. Past this many attempts (a room flooded by pipelined sends) a send gives
 * up with `rate_limited` (retryable) rather than holding its connection's Lambda.
 */
const MAX_COMMIT_ATTEMPTS = 25;

export interface SendMessageInput {
  readonly roomId: RoomId;
  readonly content: string;
  readonly clientMessageId?: string;
}

export type SendingStore = Pick<RoomStore, 'commitMessage' | 'revertCommit'> &
  Pick<MessageStore, 'putMessage'> &
  Pick<RoomReads, 'loadSend'> &
  Pick<UserStore, 'getUsers'> &
  Pick<ActivityIndex, 'moveActivity'>;

/** The answer to a send, and whether this attempt stored it (false: a retry answered from the stored copy). */
interface Sent {
  readonly message: Message;
  readonly stored: boolean;
}

export class SendingService {
  constructor(
    private readonly store: SendingStore,
    private readonly deliveries: Deliveries,
    private readonly clock: Clock,
    private readonly newMessageId: IdGenerator,
    private readonly logger: Logger,
    private readonly metrics: Metrics = noMetrics,
  ) {}

  async sendMessage(caller: Caller, input: SendMessageInput): Promise<Message> {
    const started = this.clock.now().getTime();
    const { message, stored } = await this.send(caller, input);
    this.metrics.record({
      [stored ? 'MessagesSent' : 'DuplicateSends']: 1,
      SendLatency: this.clock.now().getTime() - started,
    });
    return message;
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
    if (snapshot.stored) return { message: snapshot.stored.message, stored: false };

    let room = snapshot.room;
    for (let attempt = 1; ; attempt++) {
      const recent = findRecentSend(room, caller.userId, input.clientMessageId);
      if (recent) {
        // Committed by an attempt that may not have stored it yet (or died before): store the same
        // message; whichever attempt's put stores it delivers it.
        const message = this.messageFor(caller.userId, input, recent.messageId);
        return this.storeAndDeliver(room, users, message, recent.counts, caller.connectionId);
      }
      const message = this.messageFor(caller.userId, input, this.nextMessageId(room));
      const plan = planCommit(room, message, this.clock.now());
      const result = await this.store.commitMessage(room, message, plan);
      if (result.status === 'committed') {
        const { before } = result;
        const sent = await this.storeAndDeliver(
          before,
          users,
          message,
          countsAfter(before, message),
          caller.connectionId,
          () => this.moveActivity(before, message),
        );
        // Stored already: this was a retry that read the room before its first attempt committed and
        // whose entry had left the room by the time it committed (see RECENT_SEND_LIMIT). Its commit
        // counted the message a second time: undo it while it is the newest.
        if (
          sent.message.messageId !== message.messageId &&
          !(await this.store.revertCommit(before, message, plan))
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
   * Stores the committed message; the attempt whose put stores it delivers it (and runs `after`),
   * any other answers with the stored copy.
   */
  private async storeAndDeliver(
    room: Room,
    users: ReadonlyMap<UserId, UserProfile>,
    message: Message,
    counts: SentCounts,
    sendingConnectionId: string | undefined,
    after?: () => Promise<void>,
  ): Promise<Sent> {
    const put = await this.store.putMessage(message, counts);
    if (put.status === 'duplicate') return { message: put.existing.message, stored: false };
    await Promise.all([
      this.deliveries.toUsers(
        usersIn(users, room.participants),
        room.roomId,
        { type: 'chat_message', message },
        sendingConnectionId,
      ),
      after?.(),
    ]);
    return { message, stored: true };
  }

  /**
   * The chat list finds rooms by hourly activity bucket: the one commit that carries a room into a
   * new hour moves its entries (commits are serialized, so `before` is exactly the previous state).
   * A failure is logged, not answered: the message is stored and delivered, and the entries are
   * moved again at the next hour.
   */
  private async moveActivity(before: Room, message: Message): Promise<void> {
    const from = activityBucket(before.updatedAt);
    const to = activityBucket(message.sentAt);
    if (to <= from) return;
    try {
      await this.store.moveActivity(before.roomId, before.participants, from, to);
    } catch (error) {
      this.logger.error('moving the chat-list activity entries failed', {
        roomId: before.roomId,
        error: String(error),
      });
    }
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
  private messageFor(senderId: UserId, input: SendMessageInput, messageId: string): Message {
    return {
      messageId,
      roomId: input.roomId,
      senderId,
      content: input.content,
      sentAt: new Date(ulidTime(messageId)).toISOString(),
      ...(input.clientMessageId === undefined ? {} : { clientMessageId: input.clientMessageId }),
    };
  }
}
