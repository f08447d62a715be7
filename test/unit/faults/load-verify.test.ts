/** The load run's end check (load/verify.ts): each figure moves for the fault it names. */
import { describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../../load/client.js';
import { passed, type RoomHistory, verify } from '../../../load/verify.js';
import type { ChatMessage } from '../../../load/wire.js';
import { smallestUlidAt, ulidTime } from '../../../load/wire.js';

const ROOM = 'chat_ann_bob';

function message(n: number, senderId: string, clientMessageId = `c${n}`): ChatMessage {
  return {
    messageId: `01JD00000000000000000000${String(n).padStart(2, '0')}`,
    roomId: ROOM,
    senderId,
    content: `m${n}`,
    sentAt: `2026-11-24T10:00:${String(n).padStart(2, '0')}.000Z`,
    clientMessageId,
  };
}

function client(userId: string, peerId: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    userId,
    peerId,
    roomId: ROOM,
    held: new Map(),
    acks: new Map(),
    lastAckAt: new Map(),
    sentOrder: [],
    orderViolations: [],
    failures: [],
    catchUpLog: [],
    connectionLog: [],
    foreignFrames: 0,
    ...overrides,
  };
}

/** Ann sent m1 and m3, Bob m2; everyone acked and received everything. */
function healthyRun(): { histories: RoomHistory[]; ann: ClientRecord; bob: ClientRecord } {
  const m1 = message(1, 'ann');
  const m2 = message(2, 'bob');
  const m3 = message(3, 'ann');
  const all = new Map([m1, m2, m3].map((m) => [m.messageId, m]));
  const ann = client('ann', 'bob', {
    held: all,
    sentOrder: ['c1', 'c3'],
    acks: new Map([
      ['c1', new Set([m1.messageId])],
      ['c3', new Set([m3.messageId])],
    ]),
  });
  const bob = client('bob', 'ann', {
    held: new Map(all),
    sentOrder: ['c2'],
    acks: new Map([['c2', new Set([m2.messageId])]]),
  });
  return { histories: [{ roomId: ROOM, messages: [m1, m2, m3] }], ann, bob };
}

describe('verify', () => {
  it('counts a healthy run as sent, acked and stored, with nothing lost, duplicated or out of order', () => {
    const { histories, ann, bob } = healthyRun();

    const figures = verify(histories, [ann, bob]);

    expect(figures).toMatchObject({
      sent: 3,
      acked: 3,
      unacked: 0,
      stored: 3,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    expect(passed(figures)).toBe(true);
  });

  it('counts an acked message missing from the history as lost', () => {
    const { histories, ann, bob } = healthyRun();
    const [m1, m2] = histories[0]?.messages ?? [];
    const figures = verify([{ roomId: ROOM, messages: [m1, m2].filter((m) => m !== undefined) }], [ann, bob]);

    expect(figures.lostDetail.ackedNotStored).toBe(1);
    // Bob holds m3 although it is not stored: delivered before (or without) being persisted.
    expect(figures.lostDetail.deliveredNotStored).toBe(1);
    expect(passed(figures)).toBe(false);
  });

  it('counts a stored message its recipient never held as lost, and says why', () => {
    const { histories, ann, bob } = healthyRun();
    const m3 = message(3, 'ann');
    const held = new Map(bob.held);
    held.delete(m3.messageId);
    const missedBob = {
      ...bob,
      held,
      catchUpLog: [
        {
          after: message(4, 'bob').messageId,
          startedAt: Date.parse(m3.sentAt) + 10,
          endedAt: Date.parse(m3.sentAt) + 20,
        },
      ],
    };

    const figures = verify(histories, [ann, missedBob]);

    expect(figures.lostDetail.notReceived).toBe(1);
    expect(figures.lostDetail.notReceivedBehindCursor).toBe(1);
    expect(figures.examples.join('\n')).toMatch(/bob: never received .* newer cursor/);
  });

  it('tells a message missed by a connection open throughout its send from one skipped by a catch-up', () => {
    const { histories, ann, bob } = healthyRun();
    const m3 = message(3, 'ann');
    const held = new Map(bob.held);
    held.delete(m3.messageId);
    const sentAt = Date.parse(m3.sentAt);
    const connectedBob = {
      ...bob,
      held,
      connectionLog: [{ openedAt: sentAt - 60_000, closedAt: undefined }],
    };

    const annAcked = { ...ann, lastAckAt: new Map([['c3', sentAt + 50]]) };

    const figures = verify(histories, [annAcked, connectedBob]);

    expect(figures.lostDetail).toMatchObject({
      notReceived: 1,
      notReceivedWhileConnected: 1,
      notReceivedBehindCursor: 0,
    });
    expect(figures.examples.join('\n')).toMatch(
      /connected from before the send until its ack, and no chat_message came/,
    );
  });

  it('counts a clientMessageId stored twice, a messageId stored twice and two messageIds acked for one clientMessageId', () => {
    const { histories, ann, bob } = healthyRun();
    const m1 = message(1, 'ann');
    const copy = { ...m1, messageId: '01JD0000000000000000000015' };
    const messages = [...(histories[0]?.messages ?? []), copy, copy];
    const acks = new Map(ann.acks);
    acks.set('c1', new Set([m1.messageId, copy.messageId]));

    const figures = verify([{ roomId: ROOM, messages }], [{ ...ann, acks }, bob]);

    expect(figures.duplicatedDetail.sameClientMessageId).toBe(2);
    expect(figures.duplicatedDetail.sameMessageId).toBe(1);
    expect(figures.duplicatedDetail.ackedTwice).toBe(1);
  });

  it('counts a history out of messageId order, a bad catch-up page and a later send with an older id', () => {
    const { histories, ann, bob } = healthyRun();
    const [m1, m2, m3] = histories[0]?.messages ?? [];
    if (m1 === undefined || m2 === undefined || m3 === undefined) throw new Error('three messages');
    const reversedSends = { ...ann, sentOrder: ['c3', 'c1'] };
    const badPage = { ...bob, orderViolations: ['catch-up after X: Y follows Z'] };

    const figures = verify([{ roomId: ROOM, messages: [m2, m1, m3] }], [reversedSends, badPage]);

    expect(figures.outOfOrderDetail).toEqual({ history: 1, catchUp: 1, sendingOrder: 1 });
    expect(passed(figures)).toBe(false);
  });

  it('fails a run with unacked messages, frames of other rooms or failed catch-ups', () => {
    const { histories, ann, bob } = healthyRun();
    expect(passed(verify(histories, [{ ...ann, sentOrder: [...ann.sentOrder, 'c9'] }, bob]))).toBe(false);
    expect(passed(verify(histories, [{ ...ann, foreignFrames: 1 }, bob]))).toBe(false);
    expect(passed(verify(histories, [{ ...ann, failures: ['catch-up failed'] }, bob]))).toBe(false);
  });
});

describe('catch-up cursors', () => {
  it('builds the smallest ULID of a millisecond, which sorts before every id of that millisecond', () => {
    const id = '01JD0ABCDEFGHJKMNPQRSTVWXY';
    const cursor = smallestUlidAt(ulidTime(id));

    expect(cursor).toBe('01JD0ABCDE0000000000000000');
    expect(cursor < id).toBe(true);
    expect(smallestUlidAt(ulidTime(id) - 1) < cursor).toBe(true);
  });
});
