/** Matchers for the contract's ids, times and objects. */
import { expect } from 'vitest';
import type { Message, MessageWithRead, Participant, RoomEntry } from './api-types.js';

export const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The millisecond timestamp in a ULID's first 10 characters. */
export function ulidTime(ulid: string): number {
  let time = 0;
  for (const char of ulid.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

export function expectIsoMs(value: unknown, label = 'time'): void {
  expect(value, label).toMatch(ISO_MS);
  expect(new Date(value as string).toISOString(), label).toBe(value);
}

/** Participants may carry more fields (API.md lets code add them); these must be there. */
export function expectParticipant(participant: Participant): void {
  expect(participant).toMatchObject({
    userId: expect.any(String),
    displayName: expect.any(String),
    avatarUrl: participant?.avatarUrl === null ? null : expect.stringMatching(/^https:\/\//),
    online: expect.any(Boolean),
    lastSeenAt: participant?.lastSeenAt === null ? null : expect.stringMatching(ISO_MS),
  });
}

/** A chat-list entry (also the `room` of POST /chat/start). */
export function expectRoomEntry(room: RoomEntry): void {
  expect(Object.keys(room).sort()).toEqual(
    expect.arrayContaining([
      'createdAt',
      'lastMessage',
      'lastReadMessageId',
      'participants',
      'roomId',
      'unreadCount',
      'updatedAt',
    ]),
  );
  expect(room.roomId).toMatch(/^chat_.+_.+$/);
  expect(room.participants).toHaveLength(2);
  for (const participant of room.participants) expectParticipant(participant);
  expect(Number.isInteger(room.unreadCount) && room.unreadCount >= 0, `unreadCount ${room.unreadCount}`).toBe(
    true,
  );
  if (room.lastReadMessageId !== null) expect(room.lastReadMessageId).toMatch(ULID);
  expectIsoMs(room.createdAt, 'createdAt');
  expectIsoMs(room.updatedAt, 'updatedAt');
  if (room.lastMessage !== null) {
    expect(room.lastMessage).toMatchObject({
      messageId: expect.stringMatching(ULID),
      senderId: expect.any(String),
      content: expect.any(String),
      sentAt: expect.stringMatching(ISO_MS),
    });
  }
}

/** A stored message as frames carry it; `read` only in history pages. */
export function expectMessage(message: Message | MessageWithRead, withRead = false): void {
  expect(message).toMatchObject({
    messageId: expect.stringMatching(ULID),
    roomId: expect.stringMatching(/^chat_/),
    senderId: expect.any(String),
    content: expect.any(String),
    sentAt: expect.stringMatching(ISO_MS),
  });
  if (message.clientMessageId !== undefined) expect(typeof message.clientMessageId).toBe('string');
  if (withRead) expect(typeof (message as MessageWithRead).read).toBe('boolean');
}

/** Drops `read` so that a history entry compares equal to the message a frame carried. */
export function withoutRead(message: MessageWithRead): Message {
  const { read: _read, ...rest } = message;
  return rest;
}

export function participantOf(room: RoomEntry, userId: string): Participant {
  const participant = room.participants.find((p) => p.userId === userId);
  if (participant === undefined)
    throw new Error(`${userId} is not among ${JSON.stringify(room.participants)}`);
  return participant;
}

/** An element that must exist (noUncheckedIndexedAccess without `!`). */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index < 0 ? items.length + index : index];
  if (item === undefined) throw new Error(`no element ${index} in ${JSON.stringify(items)}`);
  return item;
}

/** Clock tolerance between this process and the server (the same clock locally). */
export const CLOCK_SKEW_MS = 1_000;

/** An ISO time taken between `from` and `to` (epoch ms), give or take the clock skew. */
export function expectTimeBetween(
  iso: string | null | undefined,
  from: number,
  to: number,
  label = 'time',
): void {
  expectIsoMs(iso, label);
  const time = Date.parse(iso as string);
  expect(time, `${label} ${iso} >= ${new Date(from).toISOString()}`).toBeGreaterThanOrEqual(
    from - CLOCK_SKEW_MS,
  );
  expect(time, `${label} ${iso} <= ${new Date(to).toISOString()}`).toBeLessThanOrEqual(to + CLOCK_SKEW_MS);
}
