/**
 * Sending, reading and typing in a room. A send is the hot path: one BatchGet (the room, both
 * participants' profiles with their connections, and the message of the sender's clientMessageId),
 * one conditional room update that commits the message (room-commit.ts), one conditional put that
 * stores it, then posts. The attempt whose put stores the message is the one that delivers it, so a
 * retry racing its first attempt, or arriving after it, never delivers it twice.
 */

import type { Deliveries } from './deliveries.js';
import { badRequest, notFound, rateLimited } from './errors.js';
import type { Message, MessageView, Room, RoomId, SentCounts, UserId, UserProfile } from './model.js';
import type {
  ActivityIndex,
  Clock,
  IdGenerator,
  Logger,
  MessageStore,
  RoomReads,
  RoomStore,
  StoredMessage,
  UserStore,
} from './ports.js';
import { assertInScope, type Caller, loadRoom, loadRoomWithParticipants, usersIn } from './room-access.js';
import {
  activityBucket,
  countsAfter,
  findRecentSend,
  planCommit,
  readCountAt,
  ulidTime,
  unreadCountOf,
} from './room-commit.js';

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

export type MessagingStore = Pick<
  RoomStore,
  'getRoom' | 'commitMessage' | 'revertCommit' | 'advanceReadPointer'
> &
  Pick<MessageStore, 'putMessage' | 'listMessages' | 'getMessage'> &
  Pick<RoomReads, 'getRoomAndUsers' | 'loadSend'> &
  Pick<UserStore, 'getUsers'> &
  Pick<ActivityIndex, 'moveActivity'>;

export class MessagingService {
  constructor(
    private readonly store: MessagingStore,
    private readonly deliveries: Deliveries,
    private readonly clock: Clock,
    private readonly newMessageId: IdGenerator,
    private readonly logger: Logger,
  ) {}

  async sendMessage(caller: Caller, input: SendMessageInput): Promise<Message> {
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
    if (snapshot.stored) return snapshot.stored.message;

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
        const stored = await this.storeAndDeliver(
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
          stored.messageId !== message.messageId &&
          !(await this.store.revertCommit(before, message, plan))
        ) {
          this.logger.warn('a duplicate send was counted twice', { roomId: room.roomId });
        }
        return stored;
      }
      room = result.room;
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw rateLimited('Too many messages are being sent to this room at once; send it again');
      }
    }
  }

  async getMessages(
    callerId: UserId,
    roomId: RoomId,
    query: MessagePageInput,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }> {
    if (query.before !== undefined && query.after !== undefined) {
      throw badRequest('Use either before or after, not both');
    }
    // The page is read beside the room (one round trip, not two); it is only returned once the
    // room says the caller is a participant.
    let [room, page] = await Promise.all([
      loadRoom(this.store, callerId, roomId),
      this.store.listMessages(roomId, query),
    ]);
    const newest = page.messages.at(-1);
    const isNewestPage = query.before === undefined && query.after === undefined;
    if (isNewestPage && newest && isAheadOfPointer(room, callerId, newest.message.messageId)) {
      const result = await this.store.advanceReadPointer(
        roomId,
        callerId,
        newest.message.messageId,
        this.readCount(room, newest, callerId),
      );
      room = result.room;
      if (result.moved) await this.announceRead(room, callerId, newest.message.messageId);
    }
    return {
      messages: page.messages.map(({ message }) => withReadFlag(room, message)),
      hasMore: page.hasMore,
    };
  }

  async markRead(caller: Caller, roomId: RoomId, messageId: string): Promise<ReadState> {
    assertInScope(caller, roomId);
    const [room, stored] = await Promise.all([
      loadRoom(this.store, caller.userId, roomId),
      this.store.getMessage(roomId, messageId),
    ]);
    if (!stored) throw notFound(`No message ${messageId} in room ${roomId}`);
    const readAt = this.clock.now().toISOString();

    const current = room.members[caller.userId]?.lastReadMessageId;
    // A pointer never moves back: one already at or past the message answers as it stands.
    if (!isAheadOfPointer(room, caller.userId, messageId) && current) {
      return readState(roomId, caller.userId, current, unreadCountOf(room, caller.userId), readAt);
    }
    const result = await this.store.advanceReadPointer(
      roomId,
      caller.userId,
      messageId,
      this.readCount(room, stored, caller.userId),
    );
    const pointer = result.room.members[caller.userId]?.lastReadMessageId ?? messageId;
    if (result.moved) await this.announceRead(result.room, caller.userId, messageId, readAt);
    return readState(roomId, caller.userId, pointer, unreadCountOf(result.room, caller.userId), readAt);
  }

  async typing(caller: Caller, roomId: RoomId, isTyping: boolean): Promise<void> {
    assertInScope(caller, roomId);
    const { room, users } = await loadRoomWithParticipants(
      (id, userIds) => this.store.getRoomAndUsers(id, userIds),
      this.store,
      caller.userId,
      roomId,
    );
    const others = room.participants.filter((id) => id !== caller.userId);
    await this.deliveries.toUsers(usersIn(users, others), room.roomId, {
      type: 'typing',
      roomId: room.roomId,
      userId: caller.userId,
      isTyping,
    });
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
  ): Promise<Message> {
    const put = await this.store.putMessage(message, counts);
    if (put.status === 'duplicate') return put.existing.message;
    await Promise.all([
      this.deliveries.toUsers(
        usersIn(users, room.participants),
        room.roomId,
        { type: 'chat_message', message },
        sendingConnectionId,
      ),
      after?.(),
    ]);
    return message;
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

  /**
   * What a pointer at `stored` has read of the others' messages. Items written before messages
   * carried counts (see the README's migration) have none: the room's count then stands in, exact
   * when the message is the room's newest.
   */
  private readCount(room: Room, stored: StoredMessage, userId: UserId): number {
    if (stored.counts) return readCountAt(stored.counts, userId);
    const sent = Object.fromEntries(Object.entries(room.members).map(([id, member]) => [id, member.sent]));
    return readCountAt(sent, userId);
  }

  private async announceRead(
    room: Room,
    readerId: UserId,
    messageId: string,
    readAt?: string,
  ): Promise<void> {
    const users = await this.store.getUsers(room.participants);
    await this.deliveries.toUsers([...users.values()], room.roomId, {
      type: 'read',
      roomId: room.roomId,
      userId: readerId,
      messageId,
      readAt: readAt ?? this.clock.now().toISOString(),
    });
  }
}

function isAheadOfPointer(room: Room, userId: UserId, messageId: string): boolean {
  const pointer = room.members[userId]?.lastReadMessageId;
  return pointer === null || pointer === undefined || messageId > pointer;
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
