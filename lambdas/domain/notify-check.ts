/**
 * The e-mail check a schedule runs for one user and one room, some minutes after a message reached
 * them. One e-mail lists the check's room and every other room of theirs with unread messages at
 * least one delay old that no e-mail has listed yet (see `dueBy`); nothing is sent when they are
 * online, have read, turned e-mail off or have no address.
 *
 * Online at the check, they get no e-mail then; but if the check's room still has unread messages no
 * e-mail listed, the room is checked again one delay later, and again, while they stay online and
 * those messages stay unread, for at most `notificationLimits.recheckHours` after the newest of them.
 * So a user who was online when the message came (or came online within the delay) and leaves
 * without reading gets the e-mail about one delay after leaving; one who reads never does. A re-check
 * is planned like a message's check (same name for the same delay window), so it adds no second
 * schedule of the room to a window that has one.
 *
 * What was e-mailed is recorded per room (the notified mark: the newest messageId an e-mail covered),
 * and the marks are moved before the e-mail is sent, in one all-or-nothing conditional write. So of
 * checks that run at once (several rooms' schedules, or one retried) only one sends, and a retried
 * check finds the marks moved and sends nothing. If SES then fails, the marks are moved back and
 * the check fails, so a retry sends it; if SES refuses the address for good, they are moved back
 * and the check ends ('refused'). The one case that loses an e-mail is a crash between the
 * marks' write and SES's answer; sending first instead would make that case send twice, and SES has
 * no idempotency key to tell.
 */
import { createHash } from 'node:crypto';
import type { ChatEvent } from '../../definitions/notifications.js';
import { notificationLimits } from '../../definitions/notifications.js';
import { type Digest, type DigestRoom, renderDigest } from './digest.js';
import { countLiveConnections } from './fan-out.js';
import type { Room, UserId, UserProfile } from './model.js';
import { delaySecondsOf, planCheck } from './notifications.js';
import type {
  ActivityIndex,
  CheckScheduler,
  CheckTarget,
  Clock,
  EventPublisher,
  Logger,
  Mailer,
  MailResult,
  MarkMove,
  MessageStore,
  NotificationStore,
  Recipient,
  RoomStore,
  StoredMessage,
  UserStore,
} from './ports.js';
import { unreadCountOf } from './room-commit.js';

export type NotifyStore = Pick<RoomStore, 'getRooms'> &
  Pick<ActivityIndex, 'activityPage'> &
  Pick<MessageStore, 'listMessages'> &
  Pick<UserStore, 'getUsers'> &
  Pick<NotificationStore, 'getRecipient' | 'notifiedMarks' | 'moveNotifiedMarks'>;

/**
 * The user's most recently active rooms a check looks at (whole activity hours, so possibly a few
 * more), capped at what one transaction can mark. A room with unread messages that no e-mail listed
 * has had a message since the last e-mail, so it is among the recent ones unless the user has this
 * many rooms busier still.
 */
const SCANNED_ROOMS = 50;
const MAX_MARKED_ROOMS = 100;
/**
 * A move back lost to this many transaction conflicts in a row (each one another check's transaction
 * on the same mark, in flight at that moment) gives up; the room's e-mail is then lost, and logged.
 */
const MOVE_BACK_ATTEMPTS = 10;
/** The newest messages read per room to find the unread ones to quote. */
const MESSAGES_READ = 20;
/**
 * Checks that lose the marks' write to a concurrent check recompute this many times, then fail (and
 * are retried by Lambda).
 */
const MAX_ATTEMPTS = 3;

export type CheckOutcome =
  | 'no-user'
  | 'email-off'
  | 'no-address'
  /** Online, and nothing in the check's room to check again for. */
  | 'online'
  /** Online, with unread messages no e-mail listed: the room is checked again one delay later. */
  | 'online-recheck'
  /** Online, with such messages, but too old to check again for (`recheckHours`). */
  | 'online-stale'
  | 'nothing-new'
  /** SES refused this recipient for good (MessageRejected naming the recipient). */
  | 'refused'
  | 'sent';

/** A room with unread messages that no e-mail covered yet, and the mark an e-mail of it moves. */
interface DueRoom {
  readonly room: Room;
  readonly unreadCount: number;
  readonly fresh: readonly StoredMessage[];
  readonly move: MarkMove;
}

export interface NotifySettings {
  readonly appUrl: string;
  /** NOTIFY_DELAY_SECONDS: every re-check this long after its check, whatever the preferences. */
  readonly delayOverrideSeconds?: number;
}

export class NotifyService {
  constructor(
    private readonly store: NotifyStore,
    private readonly mailer: Mailer,
    private readonly publisher: EventPublisher,
    private readonly scheduler: CheckScheduler,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: NotifySettings,
  ) {}

  async check(target: CheckTarget): Promise<CheckOutcome> {
    const recipient = await this.store.getRecipient(target.userId);
    if (recipient === undefined) return 'no-user';
    if (!recipient.prefs.email) return 'email-off';
    if (recipient.email === null) return 'no-address';
    if (countLiveConnections(recipient.profile, this.clock.now()) > 0) return this.recheck(recipient, target);
    const rooms = await this.roomsWithUnread(target);
    if (rooms.length === 0) return 'nothing-new';
    const due = this.dueBy(recipient, target);

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const dueRooms = await this.dueRooms(target.userId, rooms, due);
      if (dueRooms.length === 0) return 'nothing-new';
      const moves = dueRooms.map((room) => room.move);
      if (!(await this.store.moveNotifiedMarks(target.userId, moves))) continue;
      const digest = await this.digestOf(recipient.profile, dueRooms);
      let result: MailResult;
      try {
        result = await this.mailer.send({ to: recipient.email, ...renderDigest(digest) });
      } catch (error) {
        await this.moveBack(target.userId, moves);
        throw error;
      }
      if (result === 'refused') {
        // No retry can deliver it; the marks go back so that what was never e-mailed is not recorded
        // as e-mailed (a later check tries again, e.g. once the address is verified).
        await this.moveBack(target.userId, moves);
        this.logger.warn('e-mail refused for this recipient', { userId: target.userId });
        return 'refused';
      }
      await this.announce(target.userId, digest, dueRooms);
      return 'sent';
    }
    // Not an outcome: this check may own messages no other check will e-mail (its room's younger
    // ones), so it fails and Lambda runs it again.
    throw new Error('notified marks kept changing');
  }

  /**
   * Which unread messages a check of `target` may e-mail, by room: in the check's own room every one
   * (the check runs one delay after the message that planned it, and a burst shares it); in the
   * user's other rooms only those at least one delay old. A younger message there has its own check
   * still to come, and e-mailing it now would break "no e-mail when they read within the delay".
   */
  private dueBy(recipient: Recipient, target: CheckTarget): (room: Room, sentAt: string) => boolean {
    const cutoff =
      this.clock.now().getTime() - delaySecondsOf(recipient, this.settings.delayOverrideSeconds) * 1000;
    return (room, sentAt) => room.roomId === target.roomId || Date.parse(sentAt) <= cutoff;
  }

  /**
   * The user is online: no e-mail now. If the check's room has unread messages no e-mail listed, and
   * the next check would run within `recheckHours` of the newest of them, it is scheduled one delay
   * from now. Only the check's own room: every other room with such messages has its own check.
   */
  private async recheck(recipient: Recipient, target: CheckTarget): Promise<CheckOutcome> {
    const rooms = await this.store.getRooms([target.roomId]);
    const unread = rooms.filter(
      (room) => room.participants.includes(target.userId) && unreadCountOf(room, target.userId) > 0,
    );
    const [due] = await this.dueRooms(target.userId, unread, () => true);
    if (due === undefined) return 'online';
    const next = planCheck(recipient, target.roomId, this.clock.now(), this.settings.delayOverrideSeconds);
    if (next === undefined) return 'online';
    const newest = due.fresh.reduce((a, { message }) => Math.max(a, Date.parse(message.sentAt)), 0);
    if (next.at.getTime() - newest > notificationLimits.recheckHours * 3_600_000) return 'online-stale';
    await this.scheduler.schedule(next);
    return 'online-recheck';
  }

  /** The user's recent rooms (and the check's own) with unread messages, newest activity first. */
  private async roomsWithUnread(target: CheckTarget): Promise<Room[]> {
    const { roomIds } = await this.store.activityPage(target.userId, undefined, SCANNED_ROOMS);
    const ids = [target.roomId, ...roomIds.filter((id) => id !== target.roomId)].slice(0, MAX_MARKED_ROOMS);
    const rooms = await this.store.getRooms(ids);
    return rooms
      .filter((room) => room.participants.includes(target.userId) && unreadCountOf(room, target.userId) > 0)
      .sort((a, b) => (a.updatedAt > b.updatedAt ? -1 : a.updatedAt < b.updatedAt ? 1 : 0));
  }

  /**
   * The rooms whose unread messages include some no e-mail covered and that `isDue`: the others'
   * messages after both the read pointer and the notified mark. The mark moves to the newest due
   * message seen (in the room or its history, whichever read saw later), so what this e-mail counts
   * is never counted again, and younger ones are left to their own check.
   */
  private async dueRooms(
    userId: UserId,
    rooms: readonly Room[],
    isDue: (room: Room, sentAt: string) => boolean,
  ): Promise<DueRoom[]> {
    const marks = await this.store.notifiedMarks(userId);
    const candidates = rooms.filter((room) => {
      const mark = marks.get(room.roomId);
      return room.lastMessage !== null && (mark === undefined || room.lastMessage.messageId > mark);
    });
    const due = await Promise.all(
      candidates.map(async (room): Promise<DueRoom | undefined> => {
        const mark = marks.get(room.roomId) ?? null;
        const lastRead = room.members[userId]?.lastReadMessageId ?? null;
        const bound = [mark, lastRead].reduce<string>((a, b) => (b !== null && b > a ? b : a), '');
        const { messages } = await this.store.listMessages(room.roomId, { limit: MESSAGES_READ });
        const fresh = messages.filter(
          ({ message }) =>
            message.messageId > bound && message.senderId !== userId && isDue(room, message.sentAt),
        );
        if (fresh.length === 0) return undefined;
        // The newest due message seen, in the room (its last message) or its history.
        const due = [
          ...(room.lastMessage === null ? [] : [room.lastMessage]),
          ...messages.map((m) => m.message),
        ]
          .filter((message) => isDue(room, message.sentAt))
          .map((message) => message.messageId);
        const to = due.reduce((a, b) => (b > a ? b : a), '');
        return {
          room,
          unreadCount: unreadCountOf(room, userId),
          fresh: fresh.slice(-notificationLimits.quotedMessages),
          move: { roomId: room.roomId, from: mark, to },
        };
      }),
    );
    return due.filter((room): room is DueRoom => room !== undefined);
  }

  private async digestOf(recipient: UserProfile, due: readonly DueRoom[]): Promise<Digest> {
    const listed = due.slice(0, notificationLimits.maxRooms);
    const rest = due.slice(notificationLimits.maxRooms);
    const peerIds = listed.flatMap(({ room }) => room.participants.filter((id) => id !== recipient.userId));
    const users = await this.store.getUsers([...new Set(peerIds)]);
    const nameOf = (id: UserId) => users.get(id)?.displayName ?? id;
    const rooms: DigestRoom[] = listed.map(({ room, unreadCount, fresh }) => ({
      roomId: room.roomId,
      peerName: room.participants
        .filter((id) => id !== recipient.userId)
        .map(nameOf)
        .join(', '),
      unreadCount,
      messages: fresh.map(({ message }) => ({
        senderName: nameOf(message.senderId),
        content: message.content,
        fileNames: (message.attachments ?? []).map((file) => file.fileName),
      })),
    }));
    return {
      rooms,
      moreRooms: rest.length,
      moreUnread: rest.reduce((sum, room) => sum + room.unreadCount, 0),
      appUrl: this.settings.appUrl,
    };
  }

  /**
   * After SES failed or refused: each room's mark goes back unless a later check moved it on
   * meanwhile. Room by room, not all or none: a concurrent check that moved one room's mark on (its
   * e-mail listed that room) must not keep the others' marks where no e-mail went (the concurrency
   * property test found that loss). A move back that loses to another check's transaction without
   * the mark having moved (DynamoDB's TransactionConflict) is tried again.
   */
  private async moveBack(userId: UserId, moves: readonly MarkMove[]): Promise<void> {
    let stuck = 0;
    for (const { roomId, from, to } of moves) {
      try {
        for (let attempt = 1; ; attempt++) {
          if (await this.store.moveNotifiedMarks(userId, [{ roomId, from: to, to: from }])) break;
          // Moved on by another check (whose e-mail listed the room): it stays. Else a conflict: again.
          if ((await this.store.notifiedMarks(userId)).get(roomId) !== to) break;
          if (attempt === MOVE_BACK_ATTEMPTS) throw new Error('conflicts');
        }
      } catch {
        stuck++;
      }
    }
    // Those rooms' unread messages stay recorded as e-mailed: the e-mail that would have listed them is lost.
    if (stuck > 0) this.logger.error('notified marks not moved back', { userId, stuck });
  }

  /**
   * `notification.sent`: the rooms the e-mail listed, and the count of those it summed up in one line,
   * with an id derived from every mark it moved: the same e-mail announced twice carries the same id.
   * The e-mail is out by now; a failure to announce it is logged, not retried (a retried check would
   * find nothing to send, and so nothing to announce).
   */
  private async announce(userId: UserId, digest: Digest, due: readonly DueRoom[]): Promise<void> {
    const key = createHash('sha256')
      .update(due.map(({ move }) => `${move.roomId}\n${move.to}`).join('\n'))
      .digest('base64url')
      .slice(0, 22);
    const event: ChatEvent<'notification.sent'> = {
      id: `notification.sent:${userId}:${key}`,
      type: 'notification.sent',
      time: this.clock.now().toISOString(),
      detail: {
        userId,
        channel: 'email',
        rooms: digest.rooms.map(({ roomId, unreadCount }) => ({ roomId, unreadCount })),
        ...(digest.moreRooms > 0 ? { moreRooms: digest.moreRooms, moreUnread: digest.moreUnread } : {}),
      },
    };
    try {
      await this.publisher.publish([event]);
    } catch (error) {
      this.logger.error('notification.sent not published', {
        event,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
