import { describe, expect, it } from 'vitest';
import type { Message } from '../../../web/sdk/index.js';
import { mergeListed, type RoomItem } from '../../../web/src/model.js';

const peer = { userId: 'bob', displayName: 'Bob', avatarUrl: null, online: false, lastSeenAt: null };

function message(n: number): Omit<Message, 'roomId'> {
  return {
    messageId: `01JA0000000000000000000${String(n).padStart(3, '0')}`,
    clientMessageId: `c${n}`,
    senderId: 'bob',
    content: `Message ${n}`,
    sentAt: `2026-11-24T10:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

function row(lastMessage: number | null, unreadCount: number, online = false): RoomItem {
  const last = lastMessage === null ? null : message(lastMessage);
  return {
    roomId: 'r1',
    peer: { ...peer, online },
    lastMessage: last,
    unreadCount,
    updatedAt: last?.sentAt ?? '2026-11-24T09:00:00.000Z',
  };
}

describe('mergeListed: a chat-list row read from the server folded into the one held', () => {
  it('takes the listed row when none is held', () => {
    const listed = row(3, 3);
    expect(mergeListed(undefined, listed)).toBe(listed);
  });

  it('keeps the held last message and count when the list was read before newer live messages', () => {
    const held = row(7, 7);
    const merged = mergeListed(held, row(5, 5, true));
    expect(merged).toBe(held);
    expect(merged.lastMessage?.content).toBe('Message 7');
    expect(merged.unreadCount).toBe(7);
    expect(merged.updatedAt).toBe(message(7).sentAt);
    // Presence is not carried by messages: the list's is the newest known.
    expect(merged.peer.online).toBe(true);
  });

  it('takes the listed last message and count when the list is as new or newer', () => {
    expect(mergeListed(row(5, 2), row(5, 5)).unreadCount).toBe(5);
    const merged = mergeListed(row(5, 5), row(9, 9));
    expect(merged.lastMessage?.content).toBe('Message 9');
    expect(merged.unreadCount).toBe(9);
    expect(merged.updatedAt).toBe(message(9).sentAt);
  });

  it('takes the list when the held row has no message yet, and keeps a held message over an empty list', () => {
    expect(mergeListed(row(null, 0), row(2, 2)).unreadCount).toBe(2);
    expect(mergeListed(row(1, 1), row(null, 0)).unreadCount).toBe(1);
  });
});
