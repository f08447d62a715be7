/**
 * What every ChatStore must do, through the port methods only. The same suite runs on the in-memory
 * store (test/unit/fakes/memory-store.test.ts) and on the DynamoDB stores over DynamoDB Local
 * (test/integration/store-contract.test.ts): the domain tests trust the fake only as far as this
 * suite holds on both.
 *
 * The DynamoDB tables are shared by every test of a run, so each test names its own users from
 * `ids()`, and rooms are named after their users. Orders a port does not promise (rooms of a batch
 * read, memberships, a profile's connections) are compared as sets.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  MemberState,
  Message,
  RecentSend,
  Room,
  RoomId,
  SentCounts,
  UserId,
  UserProfile,
} from '../../lambdas/domain/model.js';
import type { ChatStore, CommitResult, StoredMessage } from '../../lambdas/domain/ports.js';
import {
  activityBucket,
  type CommitPlan,
  countsAfter,
  emptyMember,
  planCommit,
  RECENT_SEND_SECONDS,
  recentSendKey,
} from '../../lambdas/domain/room-commit.js';
import { roomIdFor } from '../../lambdas/domain/validation.js';
import { type FixedClock, T0, ulidAt } from '../fakes/clock.js';

export interface ContractSubject {
  readonly store: ChatStore;
  /** The clock the store was given: it stands at T0 when the test starts. */
  readonly clock: FixedClock;
  /** A prefix no other test of the run uses, for user ids (letters and digits only). */
  readonly ids: () => string;
}

/** A fresh prefix per call: unique within a run and across runs on a persistent DynamoDB Local. */
export function uniqueIds(): () => string {
  let counter = 0;
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return () => `c${run}x${(++counter).toString(36)}`;
}

const HOUR_MS = 3_600_000;
const at = (hours: number, minutes = 0) =>
  new Date(Date.parse(T0) + hours * HOUR_MS + minutes * 60_000).toISOString();

function newRoom(a: UserId, b: UserId, createdAt: string = T0): Room {
  const participants = [a, b].sort();
  return {
    roomId: roomIdFor(a, b),
    participants,
    createdAt,
    updatedAt: createdAt,
    lastMessage: null,
    members: Object.fromEntries(participants.map((id) => [id, emptyMember()])),
    recentSends: {},
  };
}

function messageIn(
  roomId: RoomId,
  senderId: UserId,
  sequence: number,
  overrides: Partial<Message> = {},
): Message {
  const sentAt = overrides.sentAt ?? T0;
  return {
    messageId: ulidAt(sentAt, sequence),
    roomId,
    senderId,
    content: `m${sequence}`,
    sentAt,
    ...overrides,
  };
}

/** The room as it stands right after committing `message` over `before` with `plan`. */
function committedRoom(before: Room, message: Message, plan: CommitPlan): Room {
  const counts = countsAfter(before, message);
  const members: Record<UserId, MemberState> = {};
  for (const id of before.participants) {
    members[id] = { ...(before.members[id] ?? emptyMember()), sent: counts[id] ?? 0 };
  }
  const recentSends: Record<string, RecentSend> = { ...before.recentSends };
  for (const key of plan.evict) delete recentSends[key];
  recentSends[plan.key] = { messageId: message.messageId, senderId: message.senderId };
  return { ...before, lastMessage: message, updatedAt: message.sentAt, members, recentSends };
}

const sortedIds = (rooms: readonly { roomId: RoomId }[]) => rooms.map((room) => room.roomId).sort();
const byRoomId = <T extends { roomId: RoomId }>(items: readonly T[]) =>
  [...items].sort((x, y) => (x.roomId < y.roomId ? -1 : 1));
const byConnectionId = (user: UserProfile | undefined) =>
  [...(user?.connections ?? [])].sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));

export function describeChatStoreContract(
  name: string,
  setup: () => ContractSubject | Promise<ContractSubject>,
): void {
  describe(`ChatStore contract: ${name}`, () => {
    let store: ChatStore;
    let clock: FixedClock;
    let ids: () => string;
    beforeEach(async () => {
      ({ store, clock, ids } = await setup());
    });

    /** Two users of this test and their room, created. */
    async function createdRoom(createdAt: string = T0): Promise<{ a: UserId; b: UserId; room: Room }> {
      const prefix = ids();
      const a = `${prefix}a`;
      const b = `${prefix}b`;
      const room = newRoom(a, b, createdAt);
      expect(await store.createRoom(room)).toBe('created');
      return { a, b, room: await requireRoom(room.roomId) };
    }

    async function requireRoom(roomId: RoomId): Promise<Room> {
      const room = await store.getRoom(roomId);
      if (!room) throw new Error(`room ${roomId} not found`);
      return room;
    }

    /** Commits `message` over `snapshot` with the plan the service would make. */
    async function commit(
      snapshot: Room,
      message: Message,
    ): Promise<{ plan: CommitPlan; result: CommitResult; after: Room }> {
      const plan = planCommit(snapshot, message, clock.now());
      const result = await store.commitMessage(snapshot, message, plan);
      const before = result.status === 'committed' ? result.before : snapshot;
      return { plan, result, after: committedRoom(before, message, plan) };
    }

    describe('rooms', () => {
      it('creates a room once: created, then exists, leaving the first one as it was', async () => {
        const { a, b, room } = await createdRoom();

        expect(room).toEqual(newRoom(a, b));
        expect(await store.createRoom(newRoom(a, b, at(1)))).toBe('exists');
        expect(await store.getRoom(room.roomId)).toEqual(room);
      });

      it("records each participant's membership with the other participant as peer", async () => {
        const { a, b, room } = await createdRoom();
        const c = `${ids()}c`;
        const other = newRoom(a, c);
        await store.createRoom(other);

        expect(await store.listMemberships(b)).toEqual([{ roomId: room.roomId, peers: [a] }]);
        expect(await store.listMemberships(c)).toEqual([{ roomId: other.roomId, peers: [a] }]);
        expect(byRoomId(await store.listMemberships(a))).toEqual(
          byRoomId([
            { roomId: room.roomId, peers: [b] },
            { roomId: other.roomId, peers: [c] },
          ]),
        );
        expect(await store.listMemberships(`${ids()}nobody`)).toEqual([]);
      });

      it('indexes a new room under the hour bucket of its updatedAt, for both participants', async () => {
        const { a, b, room } = await createdRoom(at(0, 59));
        const hour = activityBucket(room.updatedAt);

        for (const user of [a, b]) {
          expect(await store.activityPage(user, undefined, 10)).toEqual({
            roomIds: [room.roomId],
            exhausted: true,
          });
          expect(await store.activityPage(user, hour, 10)).toEqual({
            roomIds: [room.roomId],
            exhausted: true,
          });
          expect(await store.activityPage(user, activityBucket(at(-1)), 10)).toEqual({
            roomIds: [],
            exhausted: true,
          });
        }
      });

      it('reads rooms by id: a missing one is undefined or skipped, a repeated one answered once', async () => {
        const first = await createdRoom();
        const second = await createdRoom();
        const missing = roomIdFor(`${ids()}x`, `${ids()}y`);

        expect(await store.getRoom(missing)).toBeUndefined();
        const rooms = await store.getRooms([
          first.room.roomId,
          missing,
          second.room.roomId,
          first.room.roomId,
        ]);
        expect(sortedIds(rooms)).toEqual(sortedIds([first.room, second.room]));
        expect(rooms.find((room) => room.roomId === first.room.roomId)).toEqual(first.room);
        expect(await store.getRooms([])).toEqual([]);
        expect(await store.getRooms([missing])).toEqual([]);
      });

      it('answers a snapshot: a later write does not show through a room read before it', async () => {
        const { a, room } = await createdRoom();

        await commit(room, messageIn(room.roomId, a, 1));

        expect(room.lastMessage).toBeNull();
        expect(room.members[a]?.sent).toBe(0);
      });
    });

    describe('commitMessage', () => {
      it('commits the first message of an empty room: newest message, updatedAt, one more sent, the send recorded', async () => {
        const { a, b, room } = await createdRoom();
        const message = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1', sentAt: at(0, 5) });

        const { plan, result, after } = await commit(room, message);

        expect(result).toEqual({ status: 'committed', before: room });
        expect(countsAfter(room, message)).toEqual({ [a]: 1, [b]: 0 });
        const stored = await store.getRoom(room.roomId);
        expect(stored).toEqual(after);
        expect(stored?.lastMessage).toEqual(message);
        expect(stored?.updatedAt).toBe(message.sentAt);
        expect(stored?.recentSends).toEqual({ [plan.key]: { messageId: message.messageId, senderId: a } });
        expect(plan.key).toBe(recentSendKey(a, 'c-1', message.messageId));
      });

      it('commits on top of the newest message, keeping read pointers and read counts', async () => {
        const { a, b, room } = await createdRoom();
        const first = await commit(room, messageIn(room.roomId, a, 1));
        const m1 = first.after.lastMessage?.messageId ?? '';
        await store.advanceReadPointer(room.roomId, b, m1, 1);
        const snapshot = await requireRoom(room.roomId);

        const second = await commit(snapshot, messageIn(room.roomId, b, 2));

        expect(second.result).toEqual({ status: 'committed', before: snapshot });
        const stored = await requireRoom(room.roomId);
        expect(stored).toEqual(second.after);
        expect(stored.members).toEqual({
          [a]: { lastReadMessageId: null, sent: 1, read: 0 },
          [b]: { lastReadMessageId: m1, sent: 1, read: 1 },
        });
      });

      it('commits over a stale snapshot when the id is the newest, counting from the room as it stood', async () => {
        const { a, b, room } = await createdRoom();
        const first = await commit(room, messageIn(room.roomId, a, 1));

        // The snapshot predates the first commit; the answer says what the commit counted from.
        const second = await commit(room, messageIn(room.roomId, b, 2));

        expect(second.result).toEqual({ status: 'committed', before: first.after });
        expect((await requireRoom(room.roomId)).members).toEqual({
          [a]: { lastReadMessageId: null, sent: 1, read: 0 },
          [b]: { lastReadMessageId: null, sent: 1, read: 0 },
        });
      });

      it('answers stale with the room as it stands for an id not after the newest, or a key already there, and writes nothing', async () => {
        const { a, b, room } = await createdRoom();
        await commit(room, messageIn(room.roomId, a, 3, { clientMessageId: 'c-3' }));
        const current = await requireRoom(room.roomId);

        const older = await commit(current, messageIn(room.roomId, b, 2));
        expect(older.result).toEqual({ status: 'stale', room: current });
        const sameKey = await commit(current, messageIn(room.roomId, a, 4, { clientMessageId: 'c-3' }));
        expect(sameKey.result).toEqual({ status: 'stale', room: current });

        expect(await store.getRoom(room.roomId)).toEqual(current);
      });

      it('drops the entries the plan evicts and records a send without clientMessageId by its id', async () => {
        const { a, b, room } = await createdRoom();
        const first = await commit(room, messageIn(room.roomId, a, 1, { clientMessageId: 'old' }));
        // Past the recent-send window: the plan drops the first entry.
        clock.advance((RECENT_SEND_SECONDS + 1) * 1000);
        const sentAt = clock.now().toISOString();
        const message = messageIn(room.roomId, b, 2, { sentAt });

        const second = await commit(first.after, message);

        expect(second.plan.evict).toEqual([recentSendKey(a, 'old', '')]);
        expect((await requireRoom(room.roomId)).recentSends).toEqual({
          [recentSendKey(b, undefined, message.messageId)]: { messageId: message.messageId, senderId: b },
        });
      });

      it('fails for a room that was never started', async () => {
        const room = newRoom(`${ids()}x`, `${ids()}y`);

        await expect(commit(room, messageIn(room.roomId, room.participants[0] ?? '', 1))).rejects.toThrow();
        expect(await store.getRoom(room.roomId)).toBeUndefined();
      });
    });

    describe('revertCommit', () => {
      it('puts the room back as it stood before the commit while the message is still the newest', async () => {
        const { a, b, room } = await createdRoom();
        const first = await commit(room, messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' }));
        const second = messageIn(room.roomId, b, 2, { clientMessageId: 'c-2', sentAt: at(1) });
        const { plan } = await commit(first.after, second);

        expect(await store.revertCommit(first.after, second, plan)).toBe(true);

        expect(await requireRoom(room.roomId)).toEqual(first.after);
      });

      it('puts an empty room back to no last message', async () => {
        const { a, room } = await createdRoom();
        const message = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' });
        const { plan } = await commit(room, message);

        expect(await store.revertCommit(room, message, plan)).toBe(true);

        expect(await requireRoom(room.roomId)).toEqual(room);
      });

      it('changes nothing once another message was committed after it', async () => {
        const { a, b, room } = await createdRoom();
        const message = messageIn(room.roomId, a, 1);
        const first = await commit(room, message);
        await commit(first.after, messageIn(room.roomId, b, 2));
        const newest = await requireRoom(room.roomId);

        expect(await store.revertCommit(room, message, first.plan)).toBe(false);

        expect(await requireRoom(room.roomId)).toEqual(newest);
      });
    });

    describe('loadSend and getRoomAndUsers', () => {
      async function roomWithProfiles() {
        const created = await createdRoom();
        await store.createProfileIfMissing(created.a, 'Ann');
        await store.createProfileIfMissing(created.b, 'Bob');
        return created;
      }

      it("reads the room, the users and the message stored for the sender's clientMessageId", async () => {
        const { a, b, room } = await roomWithProfiles();
        const message = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' });
        const counts = { [a]: 1, [b]: 0 };
        await store.putMessage(message, counts, 'attempt-1');

        const snapshot = await store.loadSend(room.roomId, [a, b], a, 'c-1');

        expect(snapshot.room).toEqual(room);
        expect([...snapshot.users.keys()].sort()).toEqual([a, b].sort());
        expect(snapshot.users.get(a)).toEqual(await store.getUser(a));
        expect(snapshot.stored).toEqual({ message, counts });
      });

      it('finds no message for another sender, another clientMessageId, another room or none at all', async () => {
        const { a, b, room } = await roomWithProfiles();
        await store.putMessage(
          messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' }),
          { [a]: 1, [b]: 0 },
          'attempt-1',
        );
        await store.putMessage(messageIn(room.roomId, a, 2), { [a]: 2, [b]: 0 }, 'attempt-1');
        await store.putMessage(
          messageIn(roomIdFor(a, `${ids()}c`), a, 3, { clientMessageId: 'c-3' }),
          {
            [a]: 1,
          },
          'attempt-1',
        );

        expect((await store.loadSend(room.roomId, [a, b], b, 'c-1')).stored).toBeUndefined();
        expect((await store.loadSend(room.roomId, [a, b], a, 'c-2')).stored).toBeUndefined();
        expect((await store.loadSend(room.roomId, [a, b], a, 'c-3')).stored).toBeUndefined();
        const withoutId = await store.loadSend(room.roomId, [a, b], a, undefined);
        expect(withoutId.stored).toBeUndefined();
        expect(withoutId.room).toEqual(room);
      });

      it('answers no room for a room never started, and skips users without a profile', async () => {
        const { a, room } = await roomWithProfiles();
        const stranger = `${ids()}s`;
        const missing = roomIdFor(a, stranger);

        const snapshot = await store.loadSend(missing, [a, stranger], a, 'c-1');

        expect(snapshot.room).toBeUndefined();
        expect([...snapshot.users.keys()]).toEqual([a]);
        expect(snapshot.stored).toBeUndefined();
        const plain = await store.getRoomAndUsers(room.roomId, [a, stranger]);
        expect(plain.room).toEqual(room);
        expect([...plain.users.keys()]).toEqual([a]);
      });
    });

    describe('messages', () => {
      it('stores a message with its counts', async () => {
        const { a, b, room } = await createdRoom();
        const message = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' });

        expect(await store.putMessage(message, { [a]: 1, [b]: 0 }, 'attempt-1')).toEqual({
          status: 'stored',
        });

        expect(await store.getMessage(room.roomId, message.messageId)).toEqual({
          message,
          counts: { [a]: 1, [b]: 0 },
        });
      });

      it('answers the first copy for the same sender and clientMessageId, and stores nothing more', async () => {
        const { a, b, room } = await createdRoom();
        const first = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' });
        await store.putMessage(first, { [a]: 1, [b]: 0 }, 'attempt-1');

        const retry = await store.putMessage(
          messageIn(room.roomId, a, 2, { clientMessageId: 'c-1', content: 'again' }),
          {
            [a]: 2,
            [b]: 0,
          },
          'attempt-2',
        );

        expect(retry).toEqual({
          status: 'duplicate',
          existing: { message: first, counts: { [a]: 1, [b]: 0 } },
        });
        const page = await store.listMessages(room.roomId, { limit: 10 });
        expect(page.messages.map((stored) => stored.message)).toEqual([first]);
      });

      it('answers stored to the same attempt putting again (its first answer was lost), and stores once', async () => {
        const { a, b, room } = await createdRoom();
        const message = messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' });
        await store.putMessage(message, { [a]: 1, [b]: 0 }, 'attempt-1');

        expect(await store.putMessage(message, { [a]: 1, [b]: 0 }, 'attempt-1')).toEqual({
          status: 'stored',
        });

        const page = await store.listMessages(room.roomId, { limit: 10 });
        expect(page.messages.map((stored) => stored.message)).toEqual([message]);
      });

      it("stores another sender's message with the same clientMessageId, and messages without one", async () => {
        const { a, b, room } = await createdRoom();
        const messages = [
          messageIn(room.roomId, a, 1, { clientMessageId: 'c-1' }),
          messageIn(room.roomId, b, 2, { clientMessageId: 'c-1' }),
          messageIn(room.roomId, a, 3, { content: 'same' }),
          messageIn(room.roomId, a, 4, { content: 'same' }),
        ];

        for (const [i, message] of messages.entries()) {
          expect(await store.putMessage(message, { [a]: i, [b]: 1 }, 'attempt-1')).toEqual({
            status: 'stored',
          });
        }

        const page = await store.listMessages(room.roomId, { limit: 10 });
        expect(page.messages.map((stored) => stored.message)).toEqual(messages);
      });

      it('pages by messageId: the newest page, before and after, oldest first, with hasMore', async () => {
        const { a, b, room } = await createdRoom();
        const other = await createdRoom();
        await store.putMessage(messageIn(other.room.roomId, other.a, 9), { [other.a]: 1 }, 'attempt-1');
        const stored = new Map<number, StoredMessage>();
        for (const n of [3, 1, 5, 2, 4]) {
          const message = messageIn(room.roomId, n % 2 === 0 ? b : a, n);
          const counts: SentCounts = { [a]: n, [b]: 10 - n };
          stored.set(n, { message, counts });
          await store.putMessage(message, counts, 'attempt-1');
        }
        const id = (n: number) => ulidAt(T0, n);
        const pick = (...ns: number[]) => ns.map((n) => stored.get(n));

        expect(await store.listMessages(room.roomId, { limit: 2 })).toEqual({
          messages: pick(4, 5),
          hasMore: true,
        });
        expect(await store.listMessages(room.roomId, { limit: 5 })).toEqual({
          messages: pick(1, 2, 3, 4, 5),
          hasMore: false,
        });
        expect(await store.listMessages(room.roomId, { limit: 2, before: id(4) })).toEqual({
          messages: pick(2, 3),
          hasMore: true,
        });
        expect(await store.listMessages(room.roomId, { limit: 2, before: id(3) })).toEqual({
          messages: pick(1, 2),
          hasMore: false,
        });
        expect(await store.listMessages(room.roomId, { limit: 2, after: id(1) })).toEqual({
          messages: pick(2, 3),
          hasMore: true,
        });
        expect(await store.listMessages(room.roomId, { limit: 2, after: id(3) })).toEqual({
          messages: pick(4, 5),
          hasMore: false,
        });
        expect(await store.listMessages(room.roomId, { limit: 2, after: id(5) })).toEqual({
          messages: [],
          hasMore: false,
        });
      });

      it('answers an empty page for a room without messages', async () => {
        const { room } = await createdRoom();

        expect(await store.listMessages(room.roomId, { limit: 10 })).toEqual({
          messages: [],
          hasMore: false,
        });
      });

      it('gets a message by room and messageId only', async () => {
        const { a, b, room } = await createdRoom();
        const other = await createdRoom();
        const message = messageIn(room.roomId, b, 1, { clientMessageId: 'c-1' });
        await store.putMessage(message, { [a]: 0, [b]: 1 }, 'attempt-1');

        expect(await store.getMessage(room.roomId, message.messageId)).toEqual({
          message,
          counts: { [a]: 0, [b]: 1 },
        });
        expect(await store.getMessage(room.roomId, ulidAt(T0, 2))).toBeUndefined();
        expect(await store.getMessage(other.room.roomId, message.messageId)).toBeUndefined();
      });
    });

    describe('advanceReadPointer', () => {
      it('moves the pointer forward with its read count, answering the room after the move', async () => {
        const { a, b, room } = await createdRoom();
        await commit(room, messageIn(room.roomId, b, 1));

        const first = await store.advanceReadPointer(room.roomId, a, ulidAt(T0, 1), 1);
        expect(first.moved).toBe(true);
        expect(first.room.members[a]).toEqual({ lastReadMessageId: ulidAt(T0, 1), sent: 0, read: 1 });
        expect(first.room).toEqual(await store.getRoom(room.roomId));

        const second = await store.advanceReadPointer(room.roomId, a, ulidAt(T0, 2), 2);
        expect(second).toEqual({ moved: true, room: await store.getRoom(room.roomId) });
        expect(second.room.members[a]).toEqual({ lastReadMessageId: ulidAt(T0, 2), sent: 0, read: 2 });
        expect(second.room.members[b]).toEqual({ lastReadMessageId: null, sent: 1, read: 0 });
      });

      it('never moves back nor rewrites the count at the same message, answering the room as it stands', async () => {
        const { a, room } = await createdRoom();
        await store.advanceReadPointer(room.roomId, a, ulidAt(T0, 5), 3);
        const current = await requireRoom(room.roomId);

        expect(await store.advanceReadPointer(room.roomId, a, ulidAt(T0, 4), 9)).toEqual({
          moved: false,
          room: current,
        });
        expect(await store.advanceReadPointer(room.roomId, a, ulidAt(T0, 5), 9)).toEqual({
          moved: false,
          room: current,
        });
        expect((await requireRoom(room.roomId)).members[a]).toEqual({
          lastReadMessageId: ulidAt(T0, 5),
          sent: 0,
          read: 3,
        });
      });

      it('does not move a pointer for someone who is not a participant', async () => {
        const { room } = await createdRoom();

        const result = await store.advanceReadPointer(room.roomId, `${ids()}z`, ulidAt(T0, 1), 1);

        expect(result).toEqual({ moved: false, room });
        expect(await store.getRoom(room.roomId)).toEqual(room);
      });

      it('fails for a room that was never started', async () => {
        const missing = roomIdFor(`${ids()}x`, `${ids()}y`);

        await expect(store.advanceReadPointer(missing, `${ids()}x`, ulidAt(T0, 1), 1)).rejects.toThrow();
      });
    });

    describe('activity index', () => {
      /** One user with rooms in three hours: r8 at 08:xx, r9a and r9b at 09:xx, r10 at 10:xx. */
      async function userWithRooms() {
        const prefix = ids();
        const user = `${prefix}u`;
        const rooms: Record<'r8' | 'r9a' | 'r9b' | 'r10', RoomId> = { r8: '', r9a: '', r9b: '', r10: '' };
        const hours = { r8: -2, r9a: -1, r9b: -1, r10: 0 } as const;
        for (const key of ['r8', 'r9a', 'r9b', 'r10'] as const) {
          const room = newRoom(user, `${prefix}${key}`, at(hours[key], 30));
          await store.createRoom(room);
          rooms[key] = room.roomId;
        }
        return { user, rooms, peer: (key: keyof typeof rooms) => `${prefix}${key}` };
      }

      const asSet = (page: { roomIds: RoomId[] }) => new Set(page.roomIds);

      it('lists the newest buckets first, whole buckets only, until minRooms are in hand', async () => {
        const { user, rooms } = await userWithRooms();

        expect(await store.activityPage(user, undefined, 1)).toEqual({
          roomIds: [rooms.r10],
          exhausted: false,
        });
        const two = await store.activityPage(user, undefined, 2);
        expect(two.roomIds).toHaveLength(3);
        expect(two.roomIds[0]).toBe(rooms.r10);
        expect(asSet(two)).toEqual(new Set([rooms.r10, rooms.r9a, rooms.r9b]));
        expect(two.exhausted).toBe(false);
        const all = await store.activityPage(user, undefined, 4);
        expect(all.roomIds).toHaveLength(4);
        expect(all.roomIds.at(-1)).toBe(rooms.r8);
        expect(all.exhausted).toBe(true);
        expect((await store.activityPage(user, undefined, 50)).exhausted).toBe(true);
      });

      it('lists a whole bucket even when it holds more rooms than one read of the index', async () => {
        const prefix = ids();
        const user = `${prefix}u`;
        const older = newRoom(user, `${prefix}old`, at(-1));
        await store.createRoom(older);
        const busy: RoomId[] = [];
        for (let i = 0; i < 14; i++) {
          const room = newRoom(user, `${prefix}p${i}`, at(0, i));
          await store.createRoom(room);
          busy.push(room.roomId);
        }

        const page = await store.activityPage(user, undefined, 1);

        expect([...page.roomIds].sort()).toEqual(busy.sort());
        expect(page.exhausted).toBe(false);
      });

      it('starts at fromBucket, inclusive', async () => {
        const { user, rooms } = await userWithRooms();

        const nine = await store.activityPage(user, activityBucket(at(-1)), 1);
        expect(asSet(nine)).toEqual(new Set([rooms.r9a, rooms.r9b]));
        expect(nine.roomIds).toHaveLength(2);
        expect(nine.exhausted).toBe(false);
        expect(await store.activityPage(user, activityBucket(at(-2)), 5)).toEqual({
          roomIds: [rooms.r8],
          exhausted: true,
        });
        expect(await store.activityPage(user, activityBucket(at(-3)), 5)).toEqual({
          roomIds: [],
          exhausted: true,
        });
        expect(await store.activityPage(`${ids()}nobody`, undefined, 5)).toEqual({
          roomIds: [],
          exhausted: true,
        });
      });

      it("moves a room's entries to a newer bucket for every participant given", async () => {
        const { user, rooms, peer } = await userWithRooms();

        await store.moveActivity(rooms.r8, [user, peer('r8')], activityBucket(at(-2)), activityBucket(at(1)));

        expect(await store.activityPage(user, undefined, 1)).toEqual({
          roomIds: [rooms.r8],
          exhausted: false,
        });
        expect(await store.activityPage(peer('r8'), undefined, 5)).toEqual({
          roomIds: [rooms.r8],
          exhausted: true,
        });
        const older = await store.activityPage(user, activityBucket(at(-2)), 5);
        expect(older.roomIds).not.toContain(rooms.r8);
        expect(older.exhausted).toBe(true);
      });

      it('lists a room with entries in two buckets once', async () => {
        const { user, rooms } = await userWithRooms();
        // Moving from an hour the room has no entry in leaves its old entry (r8 at 08) standing.
        await store.moveActivity(rooms.r8, [user], activityBucket(at(-5)), activityBucket(at(1)));

        const page = await store.activityPage(user, undefined, 50);

        expect(page.roomIds[0]).toBe(rooms.r8);
        expect(page.roomIds).toHaveLength(4);
        expect(asSet(page)).toEqual(new Set(Object.values(rooms)));
        expect(page.exhausted).toBe(true);
      });
    });

    describe('users', () => {
      it('answers undefined for an unknown user', async () => {
        expect(await store.getUser(`${ids()}nobody`)).toBeUndefined();
      });

      it('creates a profile once, keeping the first display name', async () => {
        const user = `${ids()}u`;

        const created = await store.createProfileIfMissing(user, 'Ann');
        const again = await store.createProfileIfMissing(user, 'Someone else');

        const expected: UserProfile = {
          userId: user,
          displayName: 'Ann',
          avatarUrl: null,
          avatarKey: null,
          lastSeenAt: null,
          connections: [],
        };
        expect(created).toEqual(expected);
        expect(again).toEqual(expected);
        expect(await store.getUser(user)).toEqual(expected);
      });

      it('updates the fields given, creating the profile with the default name when missing', async () => {
        const user = `${ids()}u`;

        const first = await store.updateProfile(user, { avatarUrl: 'https://example.com/a.png' }, 'Default');
        expect(first.before).toBeUndefined();
        expect(first.profile).toMatchObject({
          displayName: 'Default',
          avatarUrl: 'https://example.com/a.png',
        });
        const renamed = await store.updateProfile(user, { displayName: 'Ann' }, 'Other default');
        expect(renamed.profile).toMatchObject({ displayName: 'Ann', avatarUrl: 'https://example.com/a.png' });
        expect(renamed.before).toMatchObject({
          displayName: 'Default',
          avatarUrl: 'https://example.com/a.png',
        });
        expect((await store.updateProfile(user, {}, 'Other default')).profile).toMatchObject({
          displayName: 'Ann',
        });
        expect(await store.getUser(user)).toEqual({
          userId: user,
          displayName: 'Ann',
          avatarUrl: 'https://example.com/a.png',
          avatarKey: null,
          lastSeenAt: null,
          connections: [],
        });
        const other = `${ids()}v`;
        expect((await store.updateProfile(other, {}, 'Default')).profile).toMatchObject({
          userId: other,
          displayName: 'Default',
        });
      });

      it('keeps one avatar: an uploaded one replaces a URL and the other way round, and the update tells which it replaced', async () => {
        const user = `${ids()}u`;
        await store.updateProfile(user, { avatarUrl: 'https://example.com/a.png' }, 'Ann');

        const uploaded = await store.updateProfile(user, { avatarKey: 'avatars/u/1' }, 'Ann');
        expect(uploaded.profile).toMatchObject({ avatarUrl: null, avatarKey: 'avatars/u/1' });
        expect(uploaded.before).toMatchObject({ avatarUrl: 'https://example.com/a.png', avatarKey: null });
        const again = await store.updateProfile(user, { avatarKey: 'avatars/u/2' }, 'Ann');
        expect(again.before?.avatarKey).toBe('avatars/u/1');
        const back = await store.updateProfile(user, { avatarUrl: 'https://example.com/b.png' }, 'Ann');
        expect(back.before?.avatarKey).toBe('avatars/u/2');
        expect(await store.getUser(user)).toMatchObject({
          avatarUrl: 'https://example.com/b.png',
          avatarKey: null,
        });
        await store.updateProfile(user, { avatarKey: 'avatars/u/3' }, 'Ann');
        const cleared = await store.updateProfile(user, { avatarUrl: null }, 'Ann');
        expect(cleared.before?.avatarKey).toBe('avatars/u/3');
        expect(cleared.profile).toMatchObject({ avatarUrl: null, avatarKey: null });
        expect(await store.getUser(user)).toMatchObject({ avatarUrl: null, avatarKey: null });
      });

      it('reads several users, skipping unknown ones and answering a repeated one once', async () => {
        const prefix = ids();
        await store.createProfileIfMissing(`${prefix}a`, 'Ann');
        await store.createProfileIfMissing(`${prefix}b`, 'Bob');

        const users = await store.getUsers([`${prefix}a`, `${prefix}x`, `${prefix}b`, `${prefix}a`]);

        expect([...users.keys()].sort()).toEqual([`${prefix}a`, `${prefix}b`]);
        expect(users.get(`${prefix}b`)).toEqual(await store.getUser(`${prefix}b`));
        expect((await store.getUsers([])).size).toBe(0);
      });
    });

    describe('connections', () => {
      it('counts the live connections, this one included, keeping a scoped room on its connection', async () => {
        const user = `${ids()}u`;
        const live = clock.nowSeconds() + 60;

        expect(await store.addConnection(user, { connectionId: 'k1', expiresAt: live }, T0, 'Ann')).toBe(1);
        expect(
          await store.addConnection(
            user,
            { connectionId: 'k2', expiresAt: live, roomId: 'chat_a_b' },
            T0,
            'Other',
          ),
        ).toBe(2);
        // Expired as it is added: recorded, not counted.
        expect(
          await store.addConnection(user, { connectionId: 'k3', expiresAt: clock.nowSeconds() }, T0, 'Ann'),
        ).toBe(2);

        const profile = await store.getUser(user);
        expect(profile?.displayName).toBe('Ann');
        expect(byConnectionId(profile)).toEqual([
          { connectionId: 'k1', expiresAt: live },
          { connectionId: 'k2', expiresAt: live, roomId: 'chat_a_b' },
          { connectionId: 'k3', expiresAt: clock.nowSeconds() },
        ]);
      });

      it("counts by the store's clock: a connection past its expiry is not live", async () => {
        const user = `${ids()}u`;
        await store.addConnection(
          user,
          { connectionId: 'k1', expiresAt: clock.nowSeconds() + 60 },
          T0,
          'Ann',
        );

        clock.advance(61_000);

        expect(
          await store.addConnection(
            user,
            { connectionId: 'k2', expiresAt: clock.nowSeconds() + 60 },
            at(0, 1),
            'Ann',
          ),
        ).toBe(1);
      });

      it('keeps the display name of an existing profile', async () => {
        const user = `${ids()}u`;
        await store.createProfileIfMissing(user, 'Ann');

        await store.addConnection(
          user,
          { connectionId: 'k1', expiresAt: clock.nowSeconds() + 60 },
          T0,
          'Default',
        );

        expect((await store.getUser(user))?.displayName).toBe('Ann');
      });

      it('forgets a connection, counting the rest, and sets lastSeenAt when given', async () => {
        const user = `${ids()}u`;
        const live = clock.nowSeconds() + 60;
        await store.addConnection(user, { connectionId: 'k1', expiresAt: live }, T0, 'Ann');
        await store.addConnection(user, { connectionId: 'k2', expiresAt: live }, T0, 'Ann');

        expect(await store.removeConnection(user, 'k1', null)).toBe(1);
        expect(await store.getUser(user)).toMatchObject({
          lastSeenAt: null,
          connections: [{ connectionId: 'k2', expiresAt: live }],
        });
        expect(await store.removeConnection(user, 'k2', at(0, 3))).toBe(0);
        expect(await store.getUser(user)).toMatchObject({ lastSeenAt: at(0, 3), connections: [] });
        expect(await store.removeConnection(user, 'k2', at(0, 4))).toBe(0);
      });

      it('answers 0 for a user without a profile and creates none', async () => {
        const user = `${ids()}u`;

        expect(await store.removeConnection(user, 'k1', T0)).toBe(0);

        expect(await store.getUser(user)).toBeUndefined();
        expect((await store.getUsers([user])).size).toBe(0);
      });
    });

    describe('notification preferences and addresses', () => {
      it('answers the defaults for preferences never set, even for an unknown user', async () => {
        expect(await store.getNotificationPrefs(`${ids()}u`)).toEqual({ email: true, delayMinutes: 5 });
      });

      it('sets only the fields given, with or without a profile, creating none', async () => {
        const user = `${ids()}u`;

        expect(await store.updateNotificationPrefs(user, { delayMinutes: 30 })).toEqual({
          email: true,
          delayMinutes: 30,
        });
        expect(await store.updateNotificationPrefs(user, { email: false })).toEqual({
          email: false,
          delayMinutes: 30,
        });
        expect(await store.getNotificationPrefs(user)).toEqual({ email: false, delayMinutes: 30 });
        expect(await store.getUser(user)).toBeUndefined();

        // A profile created later keeps them.
        await store.createProfileIfMissing(user, 'Ann');
        expect((await store.getRecipient(user))?.prefs).toEqual({ email: false, delayMinutes: 30 });
        expect(await store.updateNotificationPrefs(user, { email: true, delayMinutes: 1 })).toEqual({
          email: true,
          delayMinutes: 1,
        });
        expect((await store.getUser(user))?.displayName).toBe('Ann');
      });

      it('keeps the address a profile is created with, replaced by a later one and kept when none is given', async () => {
        const user = `${ids()}u`;

        await store.createProfileIfMissing(user, 'Ann', 'ann@example.com');
        expect(await store.getRecipient(user)).toMatchObject({
          profile: { userId: user, displayName: 'Ann', connections: [] },
          email: 'ann@example.com',
          prefs: { email: true, delayMinutes: 5 },
        });
        await store.createProfileIfMissing(user, 'Other', 'new@example.com');
        await store.createProfileIfMissing(user, 'Other');

        expect(await store.getRecipient(user)).toMatchObject({
          profile: { displayName: 'Ann' },
          email: 'new@example.com',
        });
      });

      it('reads recipients with their connections, skipping unknown ones; a profile without an address has none', async () => {
        const prefix = ids();
        const [a, b] = [`${prefix}a`, `${prefix}b`];
        await store.createProfileIfMissing(a, 'Ann', 'ann@example.com');
        await store.addConnection(b, { connectionId: `${prefix}k`, expiresAt: 99 }, T0, 'Bob');

        const recipients = await store.getRecipients([a, b, `${prefix}nobody`, a]);

        expect([...recipients.keys()].sort()).toEqual([a, b]);
        expect(recipients.get(a)).toMatchObject({ email: 'ann@example.com' });
        expect(recipients.get(b)).toMatchObject({
          email: null,
          profile: { connections: [{ connectionId: `${prefix}k`, expiresAt: 99 }] },
        });
        expect(await store.getRecipient(`${prefix}nobody`)).toBeUndefined();
      });
    });

    describe('notified marks', () => {
      const m = (n: number) => ulidAt(T0, n);

      it('has none until moved, then each room’s newest e-mailed message', async () => {
        const user = `${ids()}u`;
        expect(await store.notifiedMarks(user)).toEqual(new Map());

        expect(
          await store.moveNotifiedMarks(user, [
            { roomId: 'chat_a_b', from: null, to: m(1) },
            { roomId: 'chat_a_c', from: null, to: m(2) },
          ]),
        ).toBe(true);
        expect(await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: m(1), to: m(3) }])).toBe(
          true,
        );

        expect(await store.notifiedMarks(user)).toEqual(
          new Map([
            ['chat_a_b', m(3)],
            ['chat_a_c', m(2)],
          ]),
        );
      });

      it('moves all or none: one mark not where it was read fails the move and writes nothing', async () => {
        const user = `${ids()}u`;
        await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: null, to: m(2) }]);

        expect(
          await store.moveNotifiedMarks(user, [
            { roomId: 'chat_a_c', from: null, to: m(1) },
            { roomId: 'chat_a_b', from: m(1), to: m(3) },
          ]),
        ).toBe(false);
        expect(await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: null, to: m(3) }])).toBe(
          false,
        );

        expect(await store.notifiedMarks(user)).toEqual(new Map([['chat_a_b', m(2)]]));
      });

      it('moves a mark back to none, after which it reads as none and moves from none again', async () => {
        const user = `${ids()}u`;
        await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: null, to: m(1) }]);

        expect(await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: m(1), to: null }])).toBe(
          true,
        );
        expect(await store.notifiedMarks(user)).toEqual(new Map());
        expect(await store.moveNotifiedMarks(user, [{ roomId: 'chat_a_b', from: null, to: m(4) }])).toBe(
          true,
        );
        expect(await store.notifiedMarks(user)).toEqual(new Map([['chat_a_b', m(4)]]));
      });

      it("keeps each user's marks apart", async () => {
        const prefix = ids();
        await store.moveNotifiedMarks(`${prefix}a`, [{ roomId: 'chat_a_b', from: null, to: m(1) }]);

        expect(await store.notifiedMarks(`${prefix}b`)).toEqual(new Map());
      });
    });
  });
}
