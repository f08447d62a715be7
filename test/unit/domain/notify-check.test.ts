import { beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../../definitions/notifications.js';
import { notificationLimits } from '../../../definitions/notifications.js';
import { planCheck } from '../../../lambdas/domain/notifications.js';
import { NotifyService } from '../../../lambdas/domain/notify-check.js';
import { type ChatWorld, makeWorld } from '../../fakes/chat-world.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { RecordingMailer, RecordingPublisher, RecordingScheduler } from '../../fakes/notifications.js';

const APP_URL = 'https://chat.example.com/';
const MINUTE = 60_000;

let world: ChatWorld;
let mailer: RecordingMailer;
let publisher: RecordingPublisher;
let scheduler: RecordingScheduler;
let logger: RecordingLogger;
let notify: NotifyService;

/** Users with profiles and (unless told otherwise) the address Cognito confirmed. */
async function users(...ids: string[]): Promise<void> {
  world.users(...ids);
  for (const id of ids) await world.store.createProfileIfMissing(id, id, `${id}@example.com`);
}

beforeEach(() => {
  world = makeWorld();
  mailer = new RecordingMailer();
  publisher = new RecordingPublisher();
  scheduler = new RecordingScheduler();
  logger = new RecordingLogger();
  notify = new NotifyService(world.store, mailer, publisher, scheduler, world.clock, logger, {
    appUrl: APP_URL,
  });
});

describe('the notify check', () => {
  it('e-mails an offline user their unread messages: the room, sender, count and first lines, with the link', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');
    await world.send('ann', roomId, 'Are you there?');
    world.clock.advance(5 * MINUTE);

    expect(await notify.check({ userId: 'bob', roomId })).toBe('sent');

    expect(mailer.sent).toHaveLength(1);
    const [mail] = mailer.sent;
    expect(mail?.to).toBe('bob@example.com');
    expect(mail?.subject).toBe('2 new messages from Ann');
    expect(mail?.text).toContain('Ann (2 unread messages)');
    expect(mail?.text).toContain('  Ann: Hello Bob\n  Ann: Are you there?');
    expect(mail?.text).toContain(`Open the chat: ${APP_URL}`);
    expect(mail?.html).toContain(`<a href="${APP_URL}">`);
  });

  it('announces the e-mail with notification.sent: the rooms and counts, an id that names what it covered', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');

    await notify.check({ userId: 'bob', roomId });

    expect(publisher.published).toEqual([
      {
        id: expect.stringMatching(/^notification\.sent:bob:[A-Za-z0-9_-]{22}$/),
        type: 'notification.sent',
        time: world.clock.now().toISOString(),
        detail: { userId: 'bob', channel: 'email', rooms: [{ roomId, unreadCount: 1 }] },
      },
    ]);
  });

  it('sends nothing to a user who came online within the delay (and checks again while the message is unread)', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');
    await world.connect('bob', 'bob-1');

    expect(await notify.check({ userId: 'bob', roomId })).toBe('online-recheck');
    expect(mailer.sent).toEqual([]);
  });

  it('sends nothing once the user has read the messages within the delay', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('ann', roomId, 'Hello Bob');
    await world.service.messaging.markRead({ userId: 'bob' }, roomId, message.messageId);

    expect(await notify.check({ userId: 'bob', roomId })).toBe('nothing-new');
    expect(mailer.sent).toEqual([]);
  });

  it('lists every room with unread messages at least one delay old in one e-mail, and the other rooms’ checks then send nothing', async () => {
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.send('carol', withCarol, 'From Carol');
    await world.send('carol', withCarol, 'Carol again');
    world.clock.advance(MINUTE);
    await world.send('ann', withAnn, 'From Ann');
    world.clock.advance(5 * MINUTE);

    expect(await notify.check({ userId: 'bob', roomId: withAnn })).toBe('sent');
    expect(await notify.check({ userId: 'bob', roomId: withCarol })).toBe('nothing-new');

    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]?.subject).toBe('3 new messages in 2 chats');
    expect(mailer.sent[0]?.text).toContain(
      'Carol (2 unread messages)\n  Carol: From Carol\n  Carol: Carol again',
    );
    expect(mailer.sent[0]?.text).toContain('Ann (1 unread message)\n  Ann: From Ann');
  });

  it('leaves another room’s messages younger than the delay to their own check: read in time, never e-mailed', async () => {
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.send('carol', withCarol, 'Old from Carol');
    world.clock.advance(5 * MINUTE);
    await world.send('ann', withAnn, 'From Ann');
    const young = await world.send('carol', withCarol, 'Young from Carol');
    world.clock.advance(4 * MINUTE);

    // Ann's check (scheduled at her message) runs 4 minutes after Carol's second message.
    expect(await notify.check({ userId: 'bob', roomId: withAnn })).toBe('sent');
    expect(mailer.sent[0]?.text).toContain('Old from Carol');
    expect(mailer.sent[0]?.text).not.toContain('Young from Carol');
    expect(publisher.published[0]?.detail).toMatchObject({
      rooms: [
        { roomId: withCarol, unreadCount: 2 },
        { roomId: withAnn, unreadCount: 1 },
      ],
    });

    // Bob reads within that message's delay: its own check sends nothing.
    await world.service.messaging.markRead({ userId: 'bob' }, withCarol, young.messageId);
    world.clock.advance(MINUTE);
    expect(await notify.check({ userId: 'bob', roomId: withCarol })).toBe('nothing-new');
    expect(mailer.sent).toHaveLength(1);
  });

  it('e-mails another room’s younger message at its own check when it stays unread', async () => {
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.send('ann', withAnn, 'From Ann');
    world.clock.advance(4 * MINUTE);
    await world.send('carol', withCarol, 'From Carol');
    world.clock.advance(MINUTE);

    expect(await notify.check({ userId: 'bob', roomId: withAnn })).toBe('sent');
    expect(mailer.sent[0]?.text).not.toContain('From Carol');
    world.clock.advance(4 * MINUTE);
    expect(await notify.check({ userId: 'bob', roomId: withCarol })).toBe('sent');
    expect(mailer.sent[1]?.text).toContain('Carol (1 unread message)\n  Carol: From Carol');
    expect(mailer.sent[1]?.text).not.toContain('From Ann');
  });

  it('counts the delay from NOTIFY_DELAY_SECONDS when it is set', async () => {
    notify = new NotifyService(world.store, mailer, publisher, scheduler, world.clock, logger, {
      appUrl: APP_URL,
      delayOverrideSeconds: 3,
    });
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.send('carol', withCarol, 'From Carol');
    await world.send('ann', withAnn, 'From Ann');
    world.clock.advance(3_000);

    await notify.check({ userId: 'bob', roomId: withAnn });
    expect(mailer.sent[0]?.text).toContain('From Carol');
  });

  it('e-mails each message once: a later check sends only what came since, with the count of all unread', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'first');
    await notify.check({ userId: 'bob', roomId });
    expect(await notify.check({ userId: 'bob', roomId })).toBe('nothing-new');

    await world.send('ann', roomId, 'second');
    expect(await notify.check({ userId: 'bob', roomId })).toBe('sent');

    expect(mailer.sent).toHaveLength(2);
    expect(mailer.sent[1]?.text).toContain('Ann (2 unread messages)\n  Ann: second\n');
    expect(mailer.sent[1]?.text).not.toContain('first');
  });

  it('quotes at most the newest messages of a room, its own messages never', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    for (let i = 1; i <= 5; i++) await world.send('ann', roomId, `m${i}`);
    await world.send('bob', roomId, 'my own reply');

    await notify.check({ userId: 'bob', roomId });

    const quoted = mailer.sent[0]?.text.split('\n').filter((line) => line.startsWith('  ')) ?? [];
    expect(quoted).toEqual(['  Ann: m3', '  Ann: m4', '  Ann: m5']);
    expect(quoted).toHaveLength(notificationLimits.quotedMessages);
  });

  it('sends nothing when the user turned e-mail off, or has no address', async () => {
    await users('ann', 'bob');
    world.users('carol');
    const withBob = await world.room('ann', 'bob');
    const withCarol = await world.room('ann', 'carol');
    await world.send('ann', withBob, 'Hello Bob');
    await world.send('ann', withCarol, 'Hello Carol');
    await world.store.updateNotificationPrefs('bob', { email: false });

    expect(await notify.check({ userId: 'bob', roomId: withBob })).toBe('email-off');
    expect(await notify.check({ userId: 'carol', roomId: withCarol })).toBe('no-address');
    expect(await notify.check({ userId: 'nobody', roomId: withCarol })).toBe('no-user');
    expect(mailer.sent).toEqual([]);
  });

  it('moves the marks back when SES refuses, so the retried check sends the e-mail', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');
    mailer.failNext();

    await expect(notify.check({ userId: 'bob', roomId })).rejects.toThrow('SES refused');
    expect(await world.store.notifiedMarks('bob')).toEqual(new Map());
    expect(publisher.published).toEqual([]);

    expect(await notify.check({ userId: 'bob', roomId })).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
  });

  it('treats a permanent SES refusal as final: no retry, nothing recorded as e-mailed, no notification.sent', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');
    mailer.refusing.add('bob@example.com');

    expect(await notify.check({ userId: 'bob', roomId })).toBe('refused');
    expect(await world.store.notifiedMarks('bob')).toEqual(new Map());
    expect(publisher.published).toEqual([]);
    expect(logger.entries.map((e) => e.message)).toContain('e-mail refused for this recipient');

    // Once the address can be sent to (verified), the next check e-mails what was never e-mailed.
    mailer.refusing.clear();
    expect(await notify.check({ userId: 'bob', roomId })).toBe('sent');
  });

  it('records the marks before sending: a retried check after a sent e-mail sends nothing', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('ann', roomId, 'Hello Bob');
    publisher.failNextFrom(0);

    // The e-mail is out; only its announcement failed, which is logged and does not fail the check.
    expect(await notify.check({ userId: 'bob', roomId })).toBe('sent');
    expect(await world.store.notifiedMarks('bob')).toEqual(new Map([[roomId, message.messageId]]));
    expect(logger.entries.map((e) => e.message)).toContain('notification.sent not published');
    expect(await notify.check({ userId: 'bob', roomId })).toBe('nothing-new');
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends one e-mail when two checks of the same user run at once', async () => {
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.send('ann', withAnn, 'From Ann');
    await world.send('carol', withCarol, 'From Carol');
    world.clock.advance(5 * MINUTE);

    const outcomes = await Promise.all([
      notify.check({ userId: 'bob', roomId: withAnn }),
      notify.check({ userId: 'bob', roomId: withCarol }),
    ]);

    expect(outcomes.sort()).toEqual(['nothing-new', 'sent']);
    expect(mailer.sent).toHaveLength(1);
  });

  it(`lists at most ${notificationLimits.maxRooms} rooms and counts the rest`, async () => {
    const senders = Array.from({ length: notificationLimits.maxRooms + 2 }, (_, i) => `s${i}`);
    await users('bob', ...senders);
    for (const sender of senders) {
      const roomId = await world.room(sender, 'bob');
      await world.send(sender, roomId, `from ${sender}`);
    }
    world.clock.advance(5 * MINUTE);

    await notify.check({ userId: 'bob', roomId: `chat_bob_${senders[0]}` });

    const mail = mailer.sent[0];
    expect(mail?.subject).toBe(`${senders.length} new messages in ${senders.length} chats`);
    expect(mail?.text.match(/^S\d+ \(1 unread message\)$/gm)).toHaveLength(notificationLimits.maxRooms);
    expect(mail?.text).toContain('…and 2 unread messages in 2 more chats.');
    // Every room is marked: the user was told of them all.
    expect((await world.store.notifiedMarks('bob')).size).toBe(senders.length);
    // The event lists the rooms the e-mail listed and counts the rest as the e-mail did.
    const detail = publisher.published[0]?.detail as ChatEvent<'notification.sent'>['detail'];
    expect(detail.rooms).toHaveLength(notificationLimits.maxRooms);
    expect(detail).toMatchObject({ moreRooms: 2, moreUnread: 2 });
  });

  it('ignores a room the user is not in', async () => {
    await users('ann', 'bob', 'carol');
    const roomId = await world.room('ann', 'carol');
    await world.send('ann', roomId, 'Not for Bob');

    expect(await notify.check({ userId: 'bob', roomId })).toBe('nothing-new');
  });
});

describe('a user online at the check', () => {
  const bob = (roomId: string) => ({ userId: 'bob', roomId });
  const leave = (connectionId: string) => world.service.presence.disconnect({ userId: 'bob', connectionId });

  it('online at send, offline at the check: e-mailed', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    await world.send('ann', roomId, 'Hello Bob');
    await leave('bob-1');
    world.clock.advance(5 * MINUTE);

    expect(await notify.check(bob(roomId))).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
    expect(scheduler.requests).toEqual([]);
  });

  it('online the whole delay, then leaves without reading: checked again each delay, e-mailed after leaving', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    await world.send('ann', roomId, 'Hello Bob');
    world.clock.advance(5 * MINUTE);

    expect(await notify.check(bob(roomId))).toBe('online-recheck');
    expect(scheduler.requests).toEqual([
      {
        name: expect.stringMatching(/^notify-/),
        // One delay from now, rounded up to the minute (Scheduler's precision).
        at: new Date(Math.ceil((world.clock.now().getTime() + 5 * MINUTE) / MINUTE) * MINUTE),
        target: bob(roomId),
      },
    ]);
    world.clock.advance(5 * MINUTE);
    expect(await notify.check(bob(roomId))).toBe('online-recheck');
    // One schedule per delay window: the second re-check is another window's.
    expect(scheduler.schedules.size).toBe(2);
    expect(mailer.sent).toEqual([]);

    await leave('bob-1');
    world.clock.advance(5 * MINUTE);
    expect(await notify.check(bob(roomId))).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]?.text).toContain('Ann: Hello Bob');
    expect(scheduler.requests).toHaveLength(2);
  });

  it('reads within the delay while online: no e-mail and no re-check, then or after leaving', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    const message = await world.send('ann', roomId, 'Hello Bob');
    await world.service.messaging.markRead({ userId: 'bob' }, roomId, message.messageId);

    expect(await notify.check(bob(roomId))).toBe('online');
    await leave('bob-1');
    expect(await notify.check(bob(roomId))).toBe('nothing-new');
    expect(scheduler.requests).toEqual([]);
    expect(mailer.sent).toEqual([]);
  });

  it('reads after a re-check was scheduled: the re-check sends nothing', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    const message = await world.send('ann', roomId, 'Hello Bob');
    expect(await notify.check(bob(roomId))).toBe('online-recheck');

    await world.service.messaging.markRead({ userId: 'bob' }, roomId, message.messageId);
    await leave('bob-1');
    world.clock.advance(5 * MINUTE);

    expect(await notify.check(bob(roomId))).toBe('nothing-new');
    expect(mailer.sent).toEqual([]);
  });

  it('checks again for messages no e-mail listed only: a room already e-mailed is not re-checked', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.send('ann', roomId, 'Hello Bob');
    expect(await notify.check(bob(roomId))).toBe('sent');
    await world.connect('bob', 'bob-1');

    expect(await notify.check(bob(roomId))).toBe('online');
    expect(scheduler.requests).toEqual([]);
  });

  it('checks again for its own room only: another room’s unread messages have their own check', async () => {
    await users('ann', 'bob', 'carol');
    const withAnn = await world.room('ann', 'bob');
    const withCarol = await world.room('bob', 'carol');
    await world.connect('bob', 'bob-1');
    const message = await world.send('ann', withAnn, 'From Ann');
    await world.send('carol', withCarol, 'From Carol');
    await world.service.messaging.markRead({ userId: 'bob' }, withAnn, message.messageId);

    expect(await notify.check(bob(withAnn))).toBe('online');
    expect(await notify.check(bob(withCarol))).toBe('online-recheck');
    expect(scheduler.requests.map((check) => check.target)).toEqual([bob(withCarol)]);
  });

  it(`stops checking again once the next check would run ${notificationLimits.recheckHours} hours after the newest unread message`, async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    const message = await world.send('ann', roomId, 'Hello Bob');
    const sentAt = Date.parse(message.sentAt);
    const keepOnline = () =>
      world.store.seedConnection('bob', {
        connectionId: 'bob-1',
        expiresAt: world.clock.nowSeconds() + 3600,
      });

    world.clock.set(
      new Date(sentAt + notificationLimits.recheckHours * 60 * MINUTE - 5 * MINUTE).toISOString(),
    );
    keepOnline();
    expect(await notify.check(bob(roomId))).toBe('online-recheck');

    world.clock.advance(MINUTE);
    keepOnline();
    expect(await notify.check(bob(roomId))).toBe('online-stale');
    expect(scheduler.requests).toHaveLength(1);
    expect(mailer.sent).toEqual([]);
  });

  it('plans a re-check as a message’s check: the same window shares one schedule', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    await world.send('ann', roomId, 'Hello Bob');
    const recipient = await world.store.getRecipient('bob');

    expect(await notify.check(bob(roomId))).toBe('online-recheck');
    const messageCheck = planCheck(recipient, roomId, world.clock.now());
    expect(await scheduler.schedule(messageCheck ?? fail())).toBe('exists');
  });

  it('re-checks after NOTIFY_DELAY_SECONDS when it is set', async () => {
    notify = new NotifyService(world.store, mailer, publisher, scheduler, world.clock, logger, {
      appUrl: APP_URL,
      delayOverrideSeconds: 30,
    });
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    await world.send('ann', roomId, 'Hello Bob');

    expect(await notify.check(bob(roomId))).toBe('online-recheck');
    expect(scheduler.requests[0]?.at).toEqual(new Date(world.clock.now().getTime() + 30_000));
  });

  it('fails when the re-check cannot be scheduled, so the invocation is retried', async () => {
    await users('ann', 'bob');
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'bob-1');
    await world.send('ann', roomId, 'Hello Bob');
    scheduler.failNext();

    await expect(notify.check(bob(roomId))).rejects.toThrow('CreateSchedule failed');
    expect(await notify.check(bob(roomId))).toBe('online-recheck');
  });
});

function fail(): never {
  throw new Error('no check planned');
}
