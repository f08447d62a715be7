import { describe, expect, it } from 'vitest';
import { chatLink, parseRoute, peerIn, roomPath } from '../../../web/src/route.js';

describe('client URLs', () => {
  it('reads the list, a room and a chat link', () => {
    expect(parseRoute('/', '')).toEqual({});
    expect(parseRoute('/rooms/chat_ann_bob', '')).toEqual({ roomId: 'chat_ann_bob' });
    expect(parseRoute('/rooms/chat_ann_bob/', '')).toEqual({ roomId: 'chat_ann_bob' });
    expect(parseRoute('/', '?with=bob')).toEqual({ withUser: 'bob' });
    expect(parseRoute('/', '?with=%20bob%20')).toEqual({ withUser: 'bob' });
    expect(parseRoute('/', '?with=')).toEqual({});
    expect(parseRoute('/rooms/', '')).toEqual({});
    expect(parseRoute('/rooms/a/b', '')).toEqual({});
    expect(parseRoute('/rooms/%E0%A4%A', '')).toEqual({});
  });

  it('round-trips ids with characters a path or a query would change', () => {
    for (const id of ['chat_a+b@x.io_c.d-e', 'chat_a b_c', 'chat_ä_ö/x?y#z']) {
      expect(parseRoute(roomPath(id), '')).toEqual({ roomId: id });
    }
    const link = new URL(chatLink('https://chat.example.com', 'ann+work@example.com'));
    expect(link.origin).toBe('https://chat.example.com');
    expect(parseRoute(link.pathname, link.search)).toEqual({ withUser: 'ann+work@example.com' });
  });
});

describe('peerIn', () => {
  it('names the other participant of a room the user is in', () => {
    expect(peerIn('chat_ann_bob', 'ann')).toBe('bob');
    expect(peerIn('chat_ann_bob', 'bob')).toBe('ann');
    expect(peerIn('chat_3c6b0c27-aaaa_c89fa0b2-bbbb', 'c89fa0b2-bbbb')).toBe('3c6b0c27-aaaa');
    // Ids with `_`: only the splits with the user on one side count (a with b_c, or a_b with c).
    expect(peerIn('chat_a_b_c', 'a')).toBe('b_c');
    expect(peerIn('chat_a_b_c', 'c')).toBe('a_b');
    expect(peerIn('chat_a_b_c', 'a_b')).toBe('c');
  });

  it('is undefined for a room of others, a name that splits two ways, or no room name', () => {
    expect(peerIn('chat_ann_bob', 'cat')).toBeUndefined();
    expect(peerIn('room_ann_bob', 'ann')).toBeUndefined();
    expect(peerIn('room_ann_bob', 'ann')).toBeUndefined();
    expect(peerIn('chat_bob_ann', 'ann')).toBeUndefined();
  });
});
