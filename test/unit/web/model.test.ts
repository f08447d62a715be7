import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../web/sdk/index.js';
import {
  anchorOfFailed,
  applyMessage,
  applyRead,
  compareBubbles,
  mergeListed,
  type Placed,
  type RoomItem,
} from '../../../web/src/model.js';

const peer = { userId: 'bob', displayName: 'Bob', avatarUrl: null, online: false, lastSeenAt: null };

const id = (n: number) => `01JA0000000000000000000${String(n).padStart(3, '0')}`;

function message(n: number, senderId = 'bob'): Message {
  return {
    messageId: id(n),
    roomId: 'r1',
    clientMessageId: `c${n}`,
    senderId,
    content: `Message ${n}`,
    sentAt: `2026-11-24T10:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

/** A row whose last message is `lastMessage`, with our read pointer at `readUpTo`. */
function row(
  lastMessage: number | null,
  unreadCount: number,
  online = false,
  readUpTo: number | null = null,
): RoomItem {
  const last = lastMessage === null ? null : message(lastMessage);
  return {
    roomId: 'r1',
    peer: { ...peer, online },
    lastMessage: last,
    unreadCount,
    lastReadMessageId: readUpTo === null ? null : id(readUpTo),
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

  it('does not bring back a count the user read, when the list was read before the read', () => {
    const merged = mergeListed(row(5, 0, false, 5), row(5, 3, false, 2));
    expect(merged.unreadCount).toBe(0);
    expect(merged.lastReadMessageId).toBe(id(5));
  });

  it('takes a newer last message from a list read before the read, but not its count', () => {
    // The read's answer (count 1) already counted message 6, whose live delivery is still on its way.
    const merged = mergeListed(row(5, 1, false, 5), row(6, 3, false, 3));
    expect(merged.lastMessage?.content).toBe('Message 6');
    expect(merged.unreadCount).toBe(1);
    expect(merged.lastReadMessageId).toBe(id(5));
  });

  it('takes the count of a list read after the read', () => {
    const merged = mergeListed(row(5, 0, false, 5), row(7, 2, false, 5));
    expect(merged.unreadCount).toBe(2);
    expect(mergeListed(row(5, 0, false, 3), row(6, 1, false, 5)).lastReadMessageId).toBe(id(5));
  });

  it('shows no count for the room being read, whatever the list says', () => {
    const merged = mergeListed(row(5, 0, false, 5), row(7, 2, false, 5), true);
    expect(merged.unreadCount).toBe(0);
    expect(merged.lastMessage?.content).toBe('Message 7');
    expect(mergeListed(undefined, row(3, 3), true).unreadCount).toBe(0);
  });
});

describe('applyMessage: a live message on its chat-list row', () => {
  it('counts the other participant’s newer message unless the room is being read', () => {
    const counted = row(1, 0);
    applyMessage(counted, message(2), 'ann', false);
    expect(counted.unreadCount).toBe(1);
    expect(counted.lastMessage?.content).toBe('Message 2');

    const read = row(1, 0);
    applyMessage(read, message(2), 'ann', true);
    expect(read.unreadCount).toBe(0);
    expect(read.lastMessage?.content).toBe('Message 2');
    expect(read.updatedAt).toBe(message(2).sentAt);
  });

  it('never counts my own message, nor one already on the row', () => {
    const mine = row(1, 0);
    applyMessage(mine, message(2, 'ann'), 'ann', false);
    expect(mine.unreadCount).toBe(0);
    expect(mine.lastMessage?.content).toBe('Message 2');

    const held = row(3, 1);
    applyMessage(held, message(3), 'ann', false);
    applyMessage(held, message(2), 'ann', false);
    expect(held.unreadCount).toBe(1);
    expect(held.lastMessage?.content).toBe('Message 3');
  });
});

describe('applyRead: our read pointer moved', () => {
  it('takes the count of a read answer when the room is not being read', () => {
    const held = row(6, 3, false, 2);
    applyRead(held, { messageId: id(5), unreadCount: 1 }, false);
    expect(held.unreadCount).toBe(1);
    expect(held.lastReadMessageId).toBe(id(5));
  });

  it('keeps the badge of the room being read at 0 when an answer counts a message read since', () => {
    // Message 6 arrived while the read of 5 was on its way: it is shown, and its own read follows.
    const held = row(6, 0, false, 4);
    applyRead(held, { messageId: id(5), unreadCount: 1 }, true);
    expect(held.unreadCount).toBe(0);
    expect(held.lastReadMessageId).toBe(id(5));
  });

  it('ignores an answer about an older pointer than one already applied', () => {
    const held = row(6, 0, false, 6);
    applyRead(held, { messageId: id(5), unreadCount: 1 }, false);
    expect(held.unreadCount).toBe(0);
    expect(held.lastReadMessageId).toBe(id(6));
  });

  it('clears the count on our own read event at or past the last message, and only then', () => {
    const caughtUp = row(6, 2, false, 4);
    applyRead(caughtUp, { messageId: id(6) }, false);
    expect(caughtUp.unreadCount).toBe(0);

    const behind = row(6, 2, false, 4);
    applyRead(behind, { messageId: id(5) }, false);
    expect(behind.unreadCount).toBe(2);
    expect(behind.lastReadMessageId).toBe(id(5));
  });
});

/**
 * One room on a server and its chat-list row on a client, driven by random interleavings of live
 * messages (delivered at once, or late and in any order), list answers read at any earlier moment
 * (so stale ones), read answers delivered late, our own read events, and the user opening and
 * leaving the room.
 */
describe('the unread badge against random interleavings', () => {
  type Step =
    | { kind: 'peer' }
    | { kind: 'mine' }
    | { kind: 'deliver'; pick: number }
    | { kind: 'listRead' }
    | { kind: 'listAnswer'; pick: number }
    | { kind: 'markRead' }
    | { kind: 'readAnswer'; pick: number }
    | { kind: 'reading'; on: boolean };

  const steps = fc.array(
    fc.oneof(
      fc.constant<Step>({ kind: 'peer' }),
      fc.constant<Step>({ kind: 'mine' }),
      fc.nat().map<Step>((pick) => ({ kind: 'deliver', pick })),
      fc.constant<Step>({ kind: 'listRead' }),
      fc.nat().map<Step>((pick) => ({ kind: 'listAnswer', pick })),
      fc.constant<Step>({ kind: 'markRead' }),
      fc.nat().map<Step>((pick) => ({ kind: 'readAnswer', pick })),
      fc.boolean().map<Step>((on) => ({ kind: 'reading', on })),
    ),
    { maxLength: 60, size: 'max' },
  );

  /** Runs `steps`; `check` sees the client's row, whether the room is read, and the server's count. */
  function play(
    all: readonly Step[],
    liveDelivery: 'at once' | 'late',
    check: (held: RoomItem, reading: boolean, serverCount: number) => void,
  ): void {
    const server = { messages: [] as Message[], readUpTo: null as string | null };
    const serverCount = () =>
      server.messages.filter(
        (m) => m.senderId === 'bob' && (server.readUpTo === null || m.messageId > server.readUpTo),
      ).length;
    const snapshot = (): RoomItem => {
      const last = server.messages.at(-1) ?? null;
      return {
        roomId: 'r1',
        peer,
        lastMessage: last,
        unreadCount: serverCount(),
        lastReadMessageId: server.readUpTo,
        updatedAt: last?.sentAt ?? '2026-11-24T09:00:00.000Z',
      };
    };
    const take = <T>(from: T[], pick: number): T | undefined =>
      from.splice(pick % Math.max(from.length, 1), 1)[0];
    let held = snapshot();
    let reading = false;
    const live: Message[] = [];
    const lists: RoomItem[] = [];
    const answers: { messageId: string | null; unreadCount: number }[] = [];
    let n = 0;

    for (const step of all) {
      switch (step.kind) {
        case 'peer':
        case 'mine': {
          const m = message(++n, step.kind === 'peer' ? 'bob' : 'ann');
          server.messages.push(m);
          if (liveDelivery === 'at once') applyMessage(held, m, 'ann', reading);
          else live.push(m);
          break;
        }
        case 'deliver': {
          const m = take(live, step.pick);
          if (m) applyMessage(held, m, 'ann', reading);
          break;
        }
        case 'listRead':
          lists.push(snapshot());
          break;
        case 'listAnswer': {
          const listed = take(lists, step.pick);
          if (listed) held = mergeListed(held, listed, reading);
          break;
        }
        case 'markRead': {
          // While the room is open the client reads up to the newest message it has.
          const newest = held.lastMessage?.messageId ?? null;
          if (!reading || newest === null) break;
          if (server.readUpTo === null || newest > server.readUpTo) server.readUpTo = newest;
          answers.push({ messageId: server.readUpTo, unreadCount: serverCount() });
          applyRead(held, { messageId: newest }, reading); // our own read event, on the socket
          break;
        }
        case 'readAnswer': {
          const answer = take(answers, step.pick);
          if (answer) applyRead(held, answer, reading);
          break;
        }
        case 'reading':
          reading = step.on;
          if (reading) held.unreadCount = 0; // what opening the room, or showing the page, does
          break;
      }
      check(held, reading, serverCount());
    }
  }

  it('is 0 while the room is being read, whatever arrives late', () => {
    fc.assert(
      fc.property(steps, (all) =>
        play(all, 'late', (held, reading) => {
          if (reading) expect(held.unreadCount).toBe(0);
        }),
      ),
      { numRuns: 1000 },
    );
  });

  it('never counts more than the server does: a stale answer brings back no count already read', () => {
    // Live messages at once here: a read answer that counted a message still on its way, applied
    // after the user left the room, counts that message twice until the next list (left as is).
    fc.assert(
      fc.property(steps, (all) =>
        play(all, 'at once', (held, _reading, serverCount) => {
          expect(held.unreadCount).toBeLessThanOrEqual(serverCount);
        }),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('compareBubbles: the order of a room’s bubbles', () => {
  const sorted = (bubbles: readonly Placed[]) => [...bubbles].sort(compareBubbles);

  it('puts stored messages by messageId, then pending ones in the order they were written', () => {
    const order = sorted([
      { order: 3 },
      { order: 0, messageId: id(2) },
      { order: 2 },
      { order: 1, messageId: id(1) },
    ]).map((b) => b.order);
    expect(order).toEqual([1, 0, 2, 3]);
  });

  it('keeps a queue of pending messages in place as their acks come in order', () => {
    const bubbles: { order: number; messageId?: string }[] = [{ order: 0, messageId: id(1) }];
    for (let k = 1; k <= 8; k++) bubbles.push({ order: k });
    const typed = bubbles.map((b) => b.order);
    for (let k = 1; k <= 8; k++) {
      const bubble = bubbles[k];
      if (bubble === undefined) throw new Error('no bubble');
      bubble.messageId = id(10 + k);
      expect(sorted(bubbles).map((b) => b.order)).toEqual(typed);
    }
  });

  it('keeps a failed message where it failed, below the messages stored before and above later ones', () => {
    const failed = { order: 2, anchor: anchorOfFailed([id(1), id(3)]) };
    expect(failed.anchor).toBe(id(3));
    const order = sorted([
      { order: 5 },
      { order: 4, messageId: id(7) },
      failed,
      { order: 1, messageId: id(3) },
      { order: 0, messageId: id(1) },
      { order: 3, anchor: id(3) },
    ]).map((b) => b.order);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(anchorOfFailed([])).toBe('');
    expect(
      sorted([
        { order: 1, messageId: id(1) },
        { order: 0, anchor: '' },
      ]).map((b) => b.order),
    ).toEqual([0, 1]);
  });

  it('never moves a bubble when my messages are stored in the order I wrote them', () => {
    // Ids come from one clock: the other participant's messages and my acks in any interleaving,
    // mine in writing order, each failure anchored to the newest stored message shown.
    type Event = 'write' | 'ack' | 'fail' | 'peer';
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<Event>('write', 'ack', 'fail', 'peer'), { maxLength: 40 }),
        (events) => {
          const bubbles: { order: number; messageId?: string; anchor?: string }[] = [];
          const unsettled: { order: number; messageId?: string; anchor?: string }[] = [];
          let clock = 0;
          let previous: number[] = [];
          for (const event of events) {
            if (event === 'write') {
              const bubble = { order: bubbles.length };
              bubbles.push(bubble);
              unsettled.push(bubble);
            } else if (event === 'peer') {
              bubbles.push({ order: bubbles.length, messageId: id(++clock) });
            } else {
              const oldest = unsettled.shift();
              if (oldest === undefined) continue;
              if (event === 'ack') oldest.messageId = id(++clock);
              else oldest.anchor = anchorOfFailed(bubbles.flatMap((b) => (b.messageId ? [b.messageId] : [])));
            }
            const now = sorted(bubbles).map((b) => b.order);
            // Every bubble shown before keeps its place relative to the others.
            expect(now.filter((order) => previous.includes(order))).toEqual(previous);
            previous = now;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
