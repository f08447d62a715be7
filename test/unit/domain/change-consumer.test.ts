import { beforeEach, describe, expect, it } from 'vitest';
import { ChangeConsumer, type RecordChange } from '../../../lambdas/domain/change-consumer.js';
import type { Message, Room } from '../../../lambdas/domain/model.js';
import {
  defaultNotificationPrefs,
  parseCheckTarget,
  parseNotificationPrefs,
  planCheck,
  scheduleName,
  storedPrefs,
} from '../../../lambdas/domain/notifications.js';
import type { Recipient } from '../../../lambdas/domain/ports.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';
import { RecordingPublisher, RecordingScheduler } from '../../fakes/notifications.js';

const chatError = (code: string) => expect.objectContaining({ name: 'ChatError', code });
const MINUTE = 60_000;

const recipient = (
  overrides: Partial<Recipient> = {},
  connections: Recipient['profile']['connections'] = [],
) => ({
  profile: {
    userId: 'bob',
    displayName: 'Bob',
    avatarUrl: null,
    avatarKey: null,
    lastSeenAt: null,
    connections,
  },
  email: 'bob@example.com',
  prefs: defaultNotificationPrefs,
  ...overrides,
});

describe('notification preferences', () => {
  it('parses one or both fields', () => {
    expect(parseNotificationPrefs({ email: false })).toEqual({ email: false });
    expect(parseNotificationPrefs({ delayMinutes: 1440, email: true })).toEqual({
      email: true,
      delayMinutes: 1440,
    });
  });

  it.each([
    [{}, 'Give email and/or delayMinutes'],
    [{ email: 'yes' }, 'email must be true or false'],
    [{ delayMinutes: 0 }, 'delayMinutes must be a whole number from 1 to 1440'],
    [{ delayMinutes: 1441 }, 'delayMinutes must be a whole number from 1 to 1440'],
    [{ delayMinutes: 2.5 }, 'delayMinutes must be a whole number from 1 to 1440'],
    [{ delayMinutes: '5' }, 'delayMinutes must be a whole number from 1 to 1440'],
    [{ email: true, sms: true }, 'Unknown field(s): sms'],
  ])('refuses %j', (body, message) => {
    expect(() => parseNotificationPrefs(body)).toThrow(chatError('bad_request'));
    expect(() => parseNotificationPrefs(body)).toThrow(message);
  });

  it('reads stored preferences with defaults for anything missing or invalid', () => {
    expect(storedPrefs(undefined)).toEqual({ email: true, delayMinutes: 5 });
    expect(storedPrefs({ email: false })).toEqual({ email: false, delayMinutes: 5 });
    expect(storedPrefs({ email: 'no', delayMinutes: 99999 })).toEqual({ email: true, delayMinutes: 5 });
  });
});

describe('the check a new message calls for', () => {
  const now = new Date(T0);

  it('is at now + the recipient’s delay, for an offline recipient with e-mail on and an address', () => {
    const check = planCheck(recipient({ prefs: { email: true, delayMinutes: 7 } }), 'chat_ann_bob', now);

    expect(check).toEqual({
      name: expect.stringMatching(/^notify-[A-Za-z0-9_-]{43}$/),
      at: new Date(Date.parse(T0) + 7 * MINUTE),
      target: { userId: 'bob', roomId: 'chat_ann_bob' },
    });
    expect(check?.name.length).toBeLessThanOrEqual(64);
  });

  it('is none for e-mail off, no address or no profile; a connected recipient gets one too (they may leave without reading)', () => {
    const live = { connectionId: 'c1', expiresAt: Math.floor(now.getTime() / 1000) + 60 };

    expect(
      planCheck(recipient({ prefs: { email: false, delayMinutes: 5 } }), 'chat_ann_bob', now),
    ).toBeUndefined();
    expect(planCheck(recipient({ email: null }), 'chat_ann_bob', now)).toBeUndefined();
    expect(planCheck(undefined, 'chat_ann_bob', now)).toBeUndefined();
    expect(planCheck(recipient({}, [live]), 'chat_ann_bob', now)).toEqual(
      planCheck(recipient(), 'chat_ann_bob', now),
    );
  });

  it('rounds a whole-minute delay up to the minute (Scheduler may run a schedule from the start of its minute): never before the delay, never before its window ends', () => {
    const sent = new Date(Date.parse(T0) + 12_345);
    const check = planCheck(recipient({ prefs: { email: true, delayMinutes: 5 } }), 'chat_ann_bob', sent);

    expect(check?.at.toISOString()).toBe('2026-11-24T10:06:00.000Z');
    // Property: for any send time and whole-minute delay, the check's minute starts at or after the
    // delay has passed and at or after the end of the window the send fell in.
    for (let i = 0; i < 500; i++) {
      const delayMinutes = 1 + ((i * 7) % 1440);
      const at = Date.parse(T0) + i * 7_919_123;
      const planned = planCheck(
        recipient({ prefs: { email: true, delayMinutes } }),
        'chat_ann_bob',
        new Date(at),
      );
      const runsFrom = Math.floor((planned?.at.getTime() ?? 0) / 60_000) * 60_000;
      const windowEnd = (Math.floor(at / (delayMinutes * MINUTE)) + 1) * delayMinutes * MINUTE;
      expect(runsFrom).toBeGreaterThanOrEqual(at + delayMinutes * MINUTE);
      expect(runsFrom).toBeGreaterThanOrEqual(windowEnd);
    }
  });

  it('takes NOTIFY_DELAY_SECONDS over the preference, in whole seconds', () => {
    const check = planCheck(recipient(), 'chat_ann_bob', new Date(Date.parse(T0) + 300), 10);

    expect(check?.at.toISOString()).toBe('2026-11-24T10:00:11.000Z');
  });

  it('has one name per recipient, room and delay window: a burst makes one schedule, the next window another', () => {
    const target = { userId: 'bob', roomId: 'chat_ann_bob' };
    const at = (ms: number) => new Date(Date.parse(T0) + ms);

    expect(scheduleName(target, 300, at(0))).toBe(scheduleName(target, 300, at(4 * MINUTE)));
    expect(scheduleName(target, 300, at(5 * MINUTE))).not.toBe(scheduleName(target, 300, at(0)));
    expect(scheduleName({ ...target, userId: 'ann' }, 300, at(0))).not.toBe(scheduleName(target, 300, at(0)));
    expect(scheduleName(target, 60, at(0))).not.toBe(scheduleName(target, 300, at(0)));
  });

  it('reads a schedule’s input only for a participant of the room', () => {
    expect(parseCheckTarget({ userId: 'bob', roomId: 'chat_ann_bob' })).toEqual({
      userId: 'bob',
      roomId: 'chat_ann_bob',
    });
    expect(parseCheckTarget({ userId: 'eve', roomId: 'chat_ann_bob' })).toBeUndefined();
    expect(parseCheckTarget({ userId: 'bob' })).toBeUndefined();
    expect(parseCheckTarget('bob')).toBeUndefined();
  });
});

describe('the change consumer', () => {
  let clock: FixedClock;
  let store: MemoryChatStore;
  let publisher: RecordingPublisher;
  let scheduler: RecordingScheduler;
  let consumer: ChangeConsumer;

  const message = (sequence: number, senderId = 'ann', roomId = 'chat_ann_bob'): RecordChange => {
    const m: Message = {
      messageId: ulidAt(T0, sequence),
      roomId,
      senderId,
      content: `m${sequence}`,
      sentAt: T0,
    };
    return { kind: 'message', message: m, participants: roomId.slice(5).split('_') };
  };
  const created = (roomId: string): RecordChange => {
    const room: Room = {
      roomId,
      participants: roomId.slice(5).split('_'),
      createdAt: T0,
      updatedAt: T0,
      lastMessage: null,
      members: {},
      recentSends: {},
    };
    return { kind: 'room', before: undefined, after: room, time: T0 };
  };

  beforeEach(() => {
    clock = new FixedClock();
    store = new MemoryChatStore(clock);
    for (const id of ['ann', 'bob', 'carol']) {
      store.seedUser(id, id);
    }
    publisher = new RecordingPublisher();
    scheduler = new RecordingScheduler();
    consumer = new ChangeConsumer(store, publisher, scheduler, clock, new RecordingLogger());
  });

  const withAddress = async (...ids: string[]) => {
    for (const id of ids) await store.createProfileIfMissing(id, id, `${id}@example.com`);
  };

  it('publishes every record’s events in order and schedules the checks of recipients with an address, online or not', async () => {
    await withAddress('bob', 'carol');
    store.seedConnection('carol', { connectionId: 'k', expiresAt: clock.nowSeconds() + 60 });

    const failed = await consumer.consume([
      created('chat_ann_bob'),
      message(1),
      undefined,
      message(2, 'ann', 'chat_ann_carol'),
      message(3, 'bob', 'chat_bob_carol'),
    ]);

    expect(failed).toBeUndefined();
    expect(publisher.published.map((e) => e.type)).toEqual([
      'room.created',
      'message.new',
      'message.new',
      'message.new',
    ]);
    // Ann has no address; Carol is online, and checked all the same.
    expect([...scheduler.schedules.values()].map((s) => s.target)).toEqual([
      { userId: 'bob', roomId: 'chat_ann_bob' },
      { userId: 'carol', roomId: 'chat_ann_carol' },
      { userId: 'carol', roomId: 'chat_bob_carol' },
    ]);
  });

  it('makes one schedule for a burst, and asks for it once per container', async () => {
    await withAddress('bob');

    await consumer.consume([message(1), message(2)]);
    clock.advance(MINUTE);
    await consumer.consume([message(3)]);

    expect(scheduler.schedules.size).toBe(1);
    expect(scheduler.requests).toHaveLength(1);
  });

  it('answers the first record whose events failed: the records before it are done and not sent again', async () => {
    await withAddress('ann', 'bob');
    const records = [message(1), message(2), message(3, 'bob'), message(4)];
    publisher.failNextFrom(2);

    expect(await consumer.consume(records)).toBe(2);
    // The checks come first: every record's was scheduled.
    expect([...scheduler.schedules.values()].map((s) => s.target.userId).sort()).toEqual(['ann', 'bob']);
    const requests = scheduler.requests.length;

    // Lambda reads the shard again from the failed record: its events go, its check is not asked again.
    expect(await consumer.consume(records.slice(2))).toBeUndefined();
    const ids = publisher.published.map((e) => e.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(scheduler.requests).toHaveLength(requests);
    expect(scheduler.schedules.size).toBe(2);
  });

  it('answers the first record whose check could not be scheduled', async () => {
    await withAddress('ann', 'bob');
    await consumer.consume([message(1)]);
    scheduler.failNext();

    // Record 0 (bob's check, made already) is done; record 1's check for ann fails.
    expect(await consumer.consume([message(2), message(3, 'bob'), message(4)])).toBe(1);
    expect(await consumer.consume([message(3, 'bob'), message(4)])).toBeUndefined();
    expect([...scheduler.schedules.values()].map((s) => s.target.userId).sort()).toEqual(['ann', 'bob']);
  });

  it('publishes nothing of the record whose check failed, or of those after it: the retry publishes each once', async () => {
    await withAddress('ann', 'bob');
    scheduler.failNext();
    const records = [created('chat_ann_bob'), message(1), message(2)];

    // Record 1's check (for bob) fails: only room.created went out.
    expect(await consumer.consume(records)).toBe(1);
    expect(publisher.published.map((e) => e.type)).toEqual(['room.created']);
    expect(await consumer.consume(records.slice(1))).toBeUndefined();
    const ids = publisher.published.map((e) => e.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it('answers an unreadable record, handling the ones before it', async () => {
    await withAddress('bob');

    expect(await consumer.consume([message(1), { unreadable: new Error('bad image') }, message(2)])).toBe(1);
    expect(publisher.published).toHaveLength(1);
  });

  it('answers the first message record when the recipients cannot be read', async () => {
    store.failNext('getRecipients');

    expect(await consumer.consume([created('chat_ann_bob'), message(1)])).toBe(1);
    // The message's event waits for its record to come back, so that it is published once.
    expect(publisher.published.map((e) => e.type)).toEqual(['room.created']);
  });

  it('handles a whole batch again after a crash without a second schedule or a new event id', async () => {
    await withAddress('bob');
    const records = [created('chat_ann_bob'), message(1), message(2)];

    await consumer.consume(records);
    const again = new ChangeConsumer(store, publisher, scheduler, clock, new RecordingLogger());
    await again.consume(records);

    expect(new Set(publisher.published.map((e) => e.id)).size).toBe(3);
    expect(scheduler.schedules.size).toBe(1);
  });
});
