/**
 * Sending, reading and typing in a room. A send is the hot path: one BatchGet (room and both
 * participants' profiles with their connections), one conditional Put, one room update, then posts.
 */

import type { Deliveries } from './deliveries.js';
import { badRequest, notFound } from './errors.js';
import type { Message, MessageView, Room, RoomId, UserId, UserProfile } from './model.js';
import type { ChatStore, Clock, IdGenerator } from './ports.js';
import { assertInScope, type Caller, loadRoom, loadRoomWithParticipants, usersIn } from './room-access.js';

/** Unread counts past this many are not worth a longer Query when a pointer moves to an old message. */
const UNREAD_COUNT_CAP = 1000;

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

export class MessagingService {
  constructor(
    private readonly store: ChatStore,
    private readonly deliveries: Deliveries,
    private readonly clock: Clock,
    private readonly newMessageId: IdGenerator,
  ) {}

  async sendMessage(caller: Caller, input: SendMessageInput): Promise<Message> {
    assertInScope(caller, input.roomId);
    const { room, users } = await loadRoomWithParticipants(this.store, caller.userId, input.roomId);
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
      await this.publishMessage(room, users, message, caller.connectionId);
      return message;
    }
    const stored = result.existing;
    // A retry: the first attempt may have died before counting the message or before telling the
    // others. Counting is made exactly-once below; delivery is repeated (at least once: clients
    // de-duplicate by messageId), since nothing records which posts went out.
    const recipients = room.participants.filter((id) => id !== caller.userId);
    const lastSent = room.members[caller.userId]?.lastSentMessageId;
    if (lastSent === undefined || stored.messageId > lastSent) {
      await this.store.recordMessage(room.roomId, stored, recipients, 'repair');
    } else if (stored.messageId < lastSent) {
      // A newer message of the sender was counted since: whether this one was is unknown, so the
      // recipients' unread counts are recounted from history (idempotent, and rare).
      await this.recountUnread(room, recipients);
    }
    await this.deliver(room, users, stored, caller.connectionId);
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
    // The page is read beside the room (one round trip, not two); it is only returned once the
    // room says the caller is a participant.
    let [room, page] = await Promise.all([
      loadRoom(this.store, callerId, roomId),
      this.store.listMessages(roomId, query),
    ]);
    const newest = page.messages.at(-1);
    const isNewestPage = query.before === undefined && query.after === undefined;
    if (isNewestPage && newest && isAheadOfPointer(room, callerId, newest.messageId)) {
      const moved = await this.store.advanceReadPointer(roomId, callerId, newest.messageId, 0);
      if (moved) {
        room = withReadPointer(room, callerId, newest.messageId, 0);
        await this.announceRead(room, callerId, newest.messageId);
      }
    }
    return { messages: page.messages.map((message) => withReadFlag(room, message)), hasMore: page.hasMore };
  }

  async markRead(caller: Caller, roomId: RoomId, messageId: string): Promise<ReadState> {
    assertInScope(caller, roomId);
    const [room, message] = await Promise.all([
      loadRoom(this.store, caller.userId, roomId),
      this.store.getMessage(roomId, messageId),
    ]);
    if (!message) throw notFound(`No message ${messageId} in room ${roomId}`);
    const readAt = this.clock.now().toISOString();

    const current = room.members[caller.userId];
    if (!isAheadOfPointer(room, caller.userId, messageId) && current?.lastReadMessageId) {
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
    assertInScope(caller, roomId);
    const { room, users } = await loadRoomWithParticipants(this.store, caller.userId, roomId);
    const others = room.participants.filter((id) => id !== caller.userId);
    await this.deliveries.toUsers(usersIn(users, others), room.roomId, {
      type: 'typing',
      roomId: room.roomId,
      userId: caller.userId,
      isTyping,
    });
  }

  /** Records the message on the room, then delivers it, unless a racing attempt already did both. */
  private async publishMessage(
    room: Room,
    users: ReadonlyMap<UserId, UserProfile>,
    message: Message,
    sendingConnectionId: string | undefined,
  ): Promise<void> {
    const recipients = room.participants.filter((id) => id !== message.senderId);
    if ((await this.store.recordMessage(room.roomId, message, recipients, 'new')) === 'skipped') return;
    await this.deliver(room, users, message, sendingConnectionId);
  }

  private async deliver(
    room: Room,
    users: ReadonlyMap<UserId, UserProfile>,
    message: Message,
    sendingConnectionId: string | undefined,
  ): Promise<void> {
    await this.deliveries.toUsers(
      usersIn(users, room.participants),
      room.roomId,
      { type: 'chat_message', message },
      sendingConnectionId,
    );
  }

  private async recountUnread(room: Room, recipients: readonly UserId[]): Promise<void> {
    for (const userId of recipients) {
      // Every ULID sorts after '0': no pointer counts the whole history.
      const after = room.members[userId]?.lastReadMessageId ?? '0';
      const unread = await this.store.countMessagesAfter(room.roomId, after, userId, UNREAD_COUNT_CAP);
      await this.store.setUnreadCount(room.roomId, userId, unread);
    }
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
