/**
 * The chat's events for the app's backend (definitions/notifications.ts), made from the changes the
 * tables' streams report. Every event's id is derived from the change alone, so a change processed
 * again (a retried batch) publishes the very same event, and a receiver de-duplicates by id.
 */
import type { ChatEvent, ChatEventDetail } from '../../definitions/notifications.js';
import type { Message, Room, UserId } from './model.js';
import { participantCandidates, roomIdFor } from './validation.js';

/**
 * What a stream record means to the chat. `message`: a message stored (a message item is written
 * once); `participants` when the item says who is in its room (its sent counts). `room`: a room item
 * written; `before` is undefined when it was created; `time` is when the stream saw the change.
 */
export type Change =
  | { readonly kind: 'message'; readonly message: Message; readonly participants?: readonly UserId[] }
  | { readonly kind: 'room'; readonly before: Room | undefined; readonly after: Room; readonly time: string };

/**
 * Who receives a message: the room's participants other than the sender. The message item's counts
 * name the participants; for an item without them (from before counts existed), the room name does:
 * of the participants a name can stand for, the one that makes this room's name with the sender.
 * No read either way: the change consumer has no grant on the rooms table, and needs none.
 */
export function recipientsOf(message: Message, participants?: readonly UserId[]): UserId[] {
  const all =
    participants !== undefined && participants.length > 0
      ? participants
      : participantCandidates(message.roomId).filter(
          (id) => roomIdFor(message.senderId, id) === message.roomId,
        );
  return [...new Set(all)].filter((id) => id !== message.senderId).sort();
}

const event = <T extends keyof ChatEventDetail>(
  type: T,
  key: string,
  time: string,
  detail: ChatEventDetail[T],
): ChatEvent<T> => ({ id: `${type}:${key}`, type, time, detail });

export function messageEvent(message: Message, recipientIds: readonly UserId[]): ChatEvent<'message.new'> {
  return event('message.new', `${message.roomId}:${message.messageId}`, message.sentAt, {
    roomId: message.roomId,
    messageId: message.messageId,
    senderId: message.senderId,
    recipientIds,
    sentAt: message.sentAt,
    content: message.content,
    ...(message.clientMessageId === undefined ? {} : { clientMessageId: message.clientMessageId }),
    // Named, never linked: the storage key stays on the server, and a URL would expire.
    ...(message.attachments === undefined
      ? {}
      : {
          attachments: message.attachments.map(({ attachmentId, fileName, contentType, size }) => ({
            attachmentId,
            fileName,
            contentType,
            size,
          })),
        }),
  });
}

/** Every event a change makes, in order. */
export function eventsOf(change: Change): ChatEvent[] {
  if (change.kind === 'message') {
    return [messageEvent(change.message, recipientsOf(change.message, change.participants))];
  }
  const { before, after } = change;
  if (before === undefined) {
    return [
      event('room.created', after.roomId, after.createdAt, {
        roomId: after.roomId,
        participants: after.participants,
        createdAt: after.createdAt,
      }),
    ];
  }
  const events: ChatEvent[] = [];
  for (const userId of after.participants) {
    const moved = after.members[userId]?.lastReadMessageId ?? null;
    const was = before.members[userId]?.lastReadMessageId ?? null;
    // Pointers only move forward; anything else (a hand-edited item) is no read.
    if (moved === null || (was !== null && moved <= was)) continue;
    events.push(
      event('message.read', `${after.roomId}:${userId}:${moved}`, change.time, {
        roomId: after.roomId,
        userId,
        messageId: moved,
      }),
    );
  }
  return events;
}
