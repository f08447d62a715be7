import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ChatEvent, chatEventTypes } from '../../../definitions/notifications.js';
import { type Change, eventsOf, recipientsOf } from '../../../lambdas/domain/events.js';
import type { Message, Room } from '../../../lambdas/domain/model.js';
import { T0, ulidAt } from '../../fakes/clock.js';

const ROOM_ID = 'chat_ann_bob';
const message: Message = {
  messageId: ulidAt(T0, 1),
  roomId: ROOM_ID,
  senderId: 'ann',
  content: 'Hello',
  sentAt: T0,
  clientMessageId: 'c-1',
  attachments: [
    {
      attachmentId: 'a1',
      key: 'uploads/chat_ann_bob/ann/u1',
      fileName: 'plan.pdf',
      contentType: 'application/pdf',
      size: 12,
    },
  ],
};
const room = (ann: string | null, bob: string | null): Room => ({
  roomId: ROOM_ID,
  participants: ['ann', 'bob'],
  createdAt: T0,
  updatedAt: T0,
  lastMessage: null,
  members: {
    ann: { lastReadMessageId: ann, sent: 0, read: 0 },
    bob: { lastReadMessageId: bob, sent: 0, read: 0 },
  },
  recentSends: {},
});
const READ_TIME = '2026-11-24T10:05:00.000Z';

describe('events from changes', () => {
  it('a stored message is message.new for the other participants, its files named and never located', () => {
    const [event] = eventsOf({ kind: 'message', message, participants: ['ann', 'bob'] });

    expect(event).toEqual<ChatEvent<'message.new'>>({
      id: `message.new:${ROOM_ID}:${message.messageId}`,
      type: 'message.new',
      time: T0,
      detail: {
        roomId: ROOM_ID,
        messageId: message.messageId,
        senderId: 'ann',
        recipientIds: ['bob'],
        sentAt: T0,
        content: 'Hello',
        clientMessageId: 'c-1',
        attachments: [{ attachmentId: 'a1', fileName: 'plan.pdf', contentType: 'application/pdf', size: 12 }],
      },
    });
    expect(JSON.stringify(event)).not.toContain('uploads/');
  });

  it('a new room item is room.created with its participants', () => {
    expect(eventsOf({ kind: 'room', before: undefined, after: room(null, null), time: READ_TIME })).toEqual<
      ChatEvent<'room.created'>[]
    >([
      {
        id: `room.created:${ROOM_ID}`,
        type: 'room.created',
        time: T0,
        detail: { roomId: ROOM_ID, participants: ['ann', 'bob'], createdAt: T0 },
      },
    ]);
  });

  it('a read pointer moving forward is message.read, one per member that moved, at the change’s time', () => {
    const m1 = ulidAt(T0, 1);
    const m2 = ulidAt(T0, 2);

    const events = eventsOf({ kind: 'room', before: room(m1, null), after: room(m2, m1), time: READ_TIME });

    expect(events).toEqual<ChatEvent<'message.read'>[]>([
      {
        id: `message.read:${ROOM_ID}:ann:${m2}`,
        type: 'message.read',
        time: READ_TIME,
        detail: { roomId: ROOM_ID, userId: 'ann', messageId: m2 },
      },
      {
        id: `message.read:${ROOM_ID}:bob:${m1}`,
        type: 'message.read',
        time: READ_TIME,
        detail: { roomId: ROOM_ID, userId: 'bob', messageId: m1 },
      },
    ]);
  });

  it('a room change that moves no pointer (a message committed) is no event', () => {
    const m1 = ulidAt(T0, 1);
    const before = room(m1, null);
    const after: Room = { ...before, lastMessage: message, updatedAt: T0 };

    expect(eventsOf({ kind: 'room', before, after, time: READ_TIME })).toEqual([]);
    // Nor does a pointer that went back (an item edited by hand).
    expect(
      eventsOf({ kind: 'room', before: room(ulidAt(T0, 2), null), after: room(m1, null), time: READ_TIME }),
    ).toEqual([]);
  });

  it('gives the same ids to the same change processed again', () => {
    const change: Change = {
      kind: 'room',
      before: room(null, null),
      after: room(ulidAt(T0, 3), null),
      time: READ_TIME,
    };

    expect(eventsOf(change)).toEqual(eventsOf(structuredClone(change)));
    expect(eventsOf({ kind: 'message', message })[0]?.id).toBe(eventsOf({ kind: 'message', message })[0]?.id);
  });

  it('every type it makes is a declared type, with exactly the declared detail fields', () => {
    const events = [
      ...eventsOf({ kind: 'message', message }),
      ...eventsOf({ kind: 'room', before: undefined, after: room(null, null), time: READ_TIME }),
      ...eventsOf({
        kind: 'room',
        before: room(null, null),
        after: room(ulidAt(T0, 1), null),
        time: READ_TIME,
      }),
    ];
    const detailKeys: Record<string, string[]> = {
      'message.new': [
        'attachments',
        'clientMessageId',
        'content',
        'messageId',
        'recipientIds',
        'roomId',
        'senderId',
        'sentAt',
      ],
      'room.created': ['createdAt', 'participants', 'roomId'],
      'message.read': ['messageId', 'roomId', 'userId'],
    };

    for (const event of events) {
      expect(chatEventTypes).toContain(event.type);
      expect(Object.keys(event).sort()).toEqual(['detail', 'id', 'time', 'type']);
      expect(Object.keys(event.detail).sort()).toEqual(detailKeys[event.type]);
      expect(new Date(event.time).toISOString()).toBe(event.time);
    }
    expectTypeOf(eventsOf).returns.toEqualTypeOf<ChatEvent[]>();
  });
});

describe('recipients of a message', () => {
  it('are the participants its counts name, but the sender', () => {
    expect(recipientsOf(message, ['ann', 'bob'])).toEqual(['bob']);
  });

  it('follow from the room name and the sender without counts, also where ids hold "_"', () => {
    expect(recipientsOf(message)).toEqual(['bob']);
    // chat_a_b_c is (a, b_c) or (a_b, c): the sender tells which.
    expect(recipientsOf({ ...message, roomId: 'chat_a_b_c', senderId: 'a' })).toEqual(['b_c']);
    expect(recipientsOf({ ...message, roomId: 'chat_a_b_c', senderId: 'c' })).toEqual(['a_b']);
    expect(recipientsOf({ ...message, roomId: 'chat_a_b_c', senderId: 'b' })).toEqual([]);
  });
});
