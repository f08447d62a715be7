/**
 * Reading and typing in a room (history, read pointers, typing), and `MessagingService`, which adds
 * sending (sending.ts) for tests and tools. Handlers build the narrow service they call, so a read
 * handler does not bundle the send and the send handler does not bundle the reads.
 */

import type { Deliveries } from './deliveries.js';
import { badRequest, notFound } from './errors.js';
import { type DownloadSigner, presentMessage } from './files.js';
import type { Message, MessageOut, MessageView, Room, RoomId, UserId } from './model.js';
import type {
  Clock,
  IdGenerator,
  Logger,
  MessagePageQuery,
  MessageStore,
  Metrics,
  RoomReads,
  RoomStore,
  StoredMessage,
  UserStore,
} from './ports.js';
import { assertInScope, type Caller, loadRoom, loadRoomWithParticipants, usersIn } from './room-access.js';
import { readCountAt, unreadCountOf } from './room-commit.js';
import { type SendFiles, SendingService, type SendingStore, type SendMessageInput } from './sending.js';

export type { SendMessageInput } from './sending.js';

export interface ReadState {
  readonly roomId: RoomId;
  readonly userId: UserId;
  /** Same as `lastReadMessageId`: the message the pointer now stands at. */
  readonly messageId: string;
  readonly lastReadMessageId: string;
  readonly unreadCount: number;
  readonly readAt: string;
}

export type ReadingStore = Pick<RoomStore, 'getRoom' | 'advanceReadPointer'> &
  Pick<MessageStore, 'listMessages' | 'getMessage'> &
  Pick<RoomReads, 'getRoomAndUsers'> &
  Pick<UserStore, 'getUsers'>;

export type MessagingStore = ReadingStore & SendingStore;

export class ReadingService {
  constructor(
    private readonly store: ReadingStore,
    private readonly deliveries: Deliveries,
    /** Signs the download URLs of the attachments in history pages. */
    private readonly signer: DownloadSigner,
    private readonly clock: Clock,
  ) {}

  async getMessages(
    callerId: UserId,
    roomId: RoomId,
    query: MessagePageQuery,
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
      messages: await Promise.all(
        page.messages.map(({ message }) => withReadFlag(room, message, this.signer)),
      ),
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

/** Every messaging operation over one set of ports, as ChatService builds it. */
export class MessagingService {
  private readonly reading: ReadingService;
  private readonly sending: SendingService;

  constructor(
    store: MessagingStore,
    deliveries: Deliveries,
    files: SendFiles & { readonly signer: DownloadSigner },
    clock: Clock,
    newMessageId: IdGenerator,
    logger: Logger,
    metrics?: Metrics,
  ) {
    this.reading = new ReadingService(store, deliveries, files.signer, clock);
    this.sending = new SendingService(store, deliveries, files, clock, newMessageId, logger, metrics);
  }

  sendMessage(caller: Caller, input: SendMessageInput): Promise<MessageOut> {
    return this.sending.sendMessage(caller, input);
  }

  getMessages(callerId: UserId, roomId: RoomId, query: MessagePageQuery) {
    return this.reading.getMessages(callerId, roomId, query);
  }

  markRead(caller: Caller, roomId: RoomId, messageId: string): Promise<ReadState> {
    return this.reading.markRead(caller, roomId, messageId);
  }

  typing(caller: Caller, roomId: RoomId, isTyping: boolean): Promise<void> {
    return this.reading.typing(caller, roomId, isTyping);
  }
}

function isAheadOfPointer(room: Room, userId: UserId, messageId: string): boolean {
  const pointer = room.members[userId]?.lastReadMessageId;
  return pointer === null || pointer === undefined || messageId > pointer;
}

/** Read when every participant other than the sender has a pointer at or past the message. */
async function withReadFlag(room: Room, message: Message, signer: DownloadSigner): Promise<MessageView> {
  const read = room.participants
    .filter((id) => id !== message.senderId)
    .every((id) => {
      const pointer = room.members[id]?.lastReadMessageId;
      return pointer !== null && pointer !== undefined && pointer >= message.messageId;
    });
  return { ...(await presentMessage(signer, message)), read };
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
