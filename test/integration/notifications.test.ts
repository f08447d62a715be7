/**
 * Offline e-mail and events, end to end on the local stack with the real handlers: the streams'
 * consumer, EventBridge Scheduler, the notify function, SES, the bus and the webhook (docs/api.md
 * "Offline e-mail and events"). The stack runs every check `delaySeconds` after its message (the
 * global setup's NOTIFY_DELAY_SECONDS), and POSTs every event to the receiver the global setup runs.
 * Users here sign in with an address (as a Cognito confirmation stores it), so their checks are
 * scheduled; every other suite's users have none.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEvent, ChatEventType } from '../../definitions/notifications.js';
import type { Message } from './support/api-types.js';
import { expectError, expectOk, RestClient, request } from './support/rest.js';
import { localStack, stack } from './support/stack-info.js';
import { uniqueUserId } from './support/users.js';
import { eventually } from './support/wait.js';
import { closeAllSockets, openWs, type WsClient } from './support/ws.js';

afterEach(closeAllSockets);

const settings = () => localStack().notifications;
const delayMs = () => settings().delaySeconds * 1000;
/** How long after the delay an e-mail may take: the stream's polling, Scheduler, the check, SES. */
const SLACK_MS = 5_000;

interface MailUser {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  readonly api: RestClient;
  connect(): Promise<WsClient>;
}

/** A fresh user whose account has a verified address. */
async function mailUser(displayName: string): Promise<MailUser> {
  const userId = uniqueUserId(displayName.toLowerCase());
  const email = `${userId}@example.com`;
  const response = await fetch(`${stack().restUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, displayName, email }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  expect(response.status, `sign-in of ${userId}: ${text}`).toBe(200);
  const { token } = JSON.parse(text) as { token: string };
  return {
    userId,
    displayName,
    email,
    api: new RestClient(token),
    connect: () => openWs({ token }),
  };
}

async function startRoom(from: MailUser, to: MailUser): Promise<string> {
  return expectOk(await from.api.startRoom(to.userId, false), 201).room.roomId;
}

let sends = 0;
const send = (ws: WsClient, roomId: string, content: string): Promise<Message> =>
  ws.sendMessage(roomId, content, `n${Date.now().toString(36)}${sends++}`);

interface Mail {
  readonly destination: { readonly to: readonly string[] };
  readonly from: string;
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
}

async function mailsTo(user: MailUser): Promise<Mail[]> {
  const { emails } = (await (await fetch(settings().mailboxUrl)).json()) as { emails: Mail[] };
  return emails.filter((mail) => mail.destination.to.includes(user.email));
}

/** Waits for the user's `count`-th e-mail; answers the e-mails and when it was seen. */
async function awaitMail(user: MailUser, count = 1, timeoutMs = delayMs() + SLACK_MS) {
  const mails = await eventually(
    () => mailsTo(user),
    (found) => found.length >= count,
    { timeoutMs, intervalMs: 100, what: `e-mail ${count} to ${user.email}` },
  );
  return { mails, seenAt: Date.now() };
}

/** Long enough for any check of a message sent before it to have run, and its e-mail to be seen. */
const pastTheChecks = () => new Promise((resolve) => setTimeout(resolve, delayMs() + 3_000));

interface BusEnvelope {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: ChatEvent;
}

async function busEvents(): Promise<BusEnvelope[]> {
  return ((await (await fetch(settings().eventLogUrl)).json()) as { events: BusEnvelope[] }).events;
}

/** The chat events that concern a room (notification.sent: the rooms its e-mail listed). */
const aboutRoom = (roomId: string) => (event: ChatEvent) => {
  const detail = event.detail as { roomId?: string; rooms?: { roomId: string }[] };
  return detail.roomId === roomId || (detail.rooms ?? []).some((room) => room.roomId === roomId);
};

interface Delivery {
  readonly signature: string | null;
  readonly contentType: string | null;
  readonly raw: Buffer;
}

async function deliveries(): Promise<Delivery[]> {
  const { deliveries: all } = (await (await fetch(settings().webhook.deliveriesUrl)).json()) as {
    deliveries: { signature: string | null; contentType: string | null; body: string }[];
  };
  return all.map((d) => ({
    signature: d.signature,
    contentType: d.contentType,
    raw: Buffer.from(d.body, 'base64'),
  }));
}

/** As docs/api.md tells a receiver to: over the raw bytes, in constant time. */
function signatureOk(raw: Buffer, header: string | null): boolean {
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', settings().webhook.secret).update(raw).digest('hex')}`,
  );
  const given = Buffer.from(header?.trim().toLowerCase() ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The webhook's deliveries of a room's events, each checked: signed, JSON, a chat event. */
async function deliveredAbout(roomId: string): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for (const delivery of await deliveries()) {
    const event = JSON.parse(delivery.raw.toString('utf8')) as ChatEvent;
    if (!aboutRoom(roomId)(event)) continue;
    expect(signatureOk(delivery.raw, delivery.signature), `signature of ${event.id}`).toBe(true);
    expect(delivery.contentType).toMatch(/^application\/json/);
    events.push(event);
  }
  return events;
}

const ids = (events: readonly ChatEvent[]) => events.map((event) => event.id);
const countOf = (events: readonly ChatEvent[], type: ChatEventType) =>
  events.filter((event) => event.type === type).length;

describe('offline e-mail', () => {
  it('a message to an offline user: one e-mail after the delay, naming the sender, the count, the line and the app', async () => {
    const [ann, bob] = await Promise.all([mailUser('Ann'), mailUser('Bob')]);
    const roomId = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const message = await send(annWs, roomId, 'Hello Bob\nsee you at noon');

    const { mails, seenAt } = await awaitMail(bob);
    const sentAt = Date.parse(message.sentAt);
    // Never before the delay; within the delay and the slack.
    expect(seenAt - sentAt).toBeGreaterThanOrEqual(delayMs());
    expect(seenAt - sentAt).toBeLessThanOrEqual(delayMs() + SLACK_MS);
    const [mail] = mails;
    expect(mail?.subject).toBe('1 new message from Ann');
    const text = mail?.body.text ?? '';
    expect(text).toContain('Ann (1 unread message)');
    expect(text).toContain('Ann: Hello Bob see you at noon');
    expect(text).toContain(`Open the chat: ${stack().restUrl}/`);
    expect(mail?.body.html).toContain(`href="${stack().restUrl}/"`);
    expect(mails.map((m) => m.destination.to)).toEqual([[bob.email]]);

    // And no second one: the message is listed once.
    await pastTheChecks();
    expect(await mailsTo(bob)).toHaveLength(1);
    // Ann, the sender, got none.
    expect(await mailsTo(ann)).toEqual([]);
  }, 30_000);

  it('none when the message is read within the delay', async () => {
    const [ann, bob] = await Promise.all([mailUser('Ann'), mailUser('Bob')]);
    const roomId = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const message = await send(annWs, roomId, 'read me soon');
    expectOk(await bob.api.markRead(roomId, { messageId: message.messageId }, false));

    await pastTheChecks();
    expect(await mailsTo(bob)).toEqual([]);
  }, 30_000);

  it('none while online; after leaving without reading, one at the next re-check', async () => {
    const [ann, bob] = await Promise.all([mailUser('Ann'), mailUser('Bob')]);
    const roomId = await startRoom(ann, bob);
    const [annWs, bobWs] = await Promise.all([ann.connect(), bob.connect()]);
    const message = await send(annWs, roomId, 'are you there?');
    await bobWs.next('chat_message', (frame) => frame.message.messageId === message.messageId);

    // The first check runs while Bob is online: no e-mail.
    const sentAt = Date.parse(message.sentAt);
    // Past the first check (its whole second, the invocation) but within the WebSocket's idle limit.
    await new Promise((resolve) => setTimeout(resolve, delayMs() + 2_500 - (Date.now() - sentAt)));
    await bobWs.ping();
    expect(await mailsTo(bob)).toEqual([]);

    await bobWs.close();
    const leftAt = Date.now();
    const { mails, seenAt } = await awaitMail(bob, 1, 2 * delayMs() + SLACK_MS);
    // The re-check one delay after the first check: within a delay (and the slack) of leaving.
    expect(seenAt - leftAt).toBeLessThanOrEqual(delayMs() + SLACK_MS);
    expect(mails[0]?.body.text).toContain('Ann: are you there?');

    await pastTheChecks();
    expect(await mailsTo(bob)).toHaveLength(1);
  }, 40_000);

  it('lists two rooms in one e-mail', async () => {
    const [ann, bob, cid] = await Promise.all([mailUser('Ann'), mailUser('Bob'), mailUser('Cid')]);
    const [annRoom, cidRoom] = await Promise.all([startRoom(ann, bob), startRoom(cid, bob)]);
    const [annWs, cidWs] = await Promise.all([ann.connect(), cid.connect()]);
    await send(annWs, annRoom, 'first from Ann');
    await send(annWs, annRoom, 'second from Ann');
    await send(cidWs, cidRoom, 'one from Cid');

    const { mails } = await awaitMail(bob);
    const [mail] = mails;
    expect(mail?.subject).toBe('3 new messages in 2 chats');
    const text = mail?.body.text ?? '';
    expect(text).toContain('Ann (2 unread messages)');
    expect(text).toContain('Cid (1 unread message)');
    expect(text).toContain('Ann: second from Ann');
    expect(text).toContain('Cid: one from Cid');

    // The other room's check finds everything listed: still one e-mail.
    await pastTheChecks();
    expect(await mailsTo(bob)).toHaveLength(1);
  }, 30_000);

  it('none with e-mail turned off', async () => {
    const [ann, bob] = await Promise.all([mailUser('Ann'), mailUser('Bob')]);
    const off = await request('PUT', '/users/me/notifications', bob.api.token, { json: { email: false } });
    expect(expectOk(off)).toEqual({ email: false, delayMinutes: 5 });
    const roomId = await startRoom(ann, bob);
    const annWs = await ann.connect();
    await send(annWs, roomId, 'nobody will mail this');

    await pastTheChecks();
    expect(await mailsTo(bob)).toEqual([]);
  }, 30_000);
});

describe('GET and PUT /users/me/notifications', () => {
  it('answers the defaults, changes only the fields given, and refuses what is not a preference', async () => {
    const bob = await mailUser('Bob');
    const token = bob.api.token;
    expect(expectOk(await request('GET', '/users/me/notifications', token))).toEqual({
      email: true,
      delayMinutes: 5,
    });
    const put = (body: unknown) => request('PUT', '/users/me/notifications', token, { json: body });
    expect(expectOk(await put({ delayMinutes: 30 }))).toEqual({ email: true, delayMinutes: 30 });
    expect(expectOk(await put({ email: false }))).toEqual({ email: false, delayMinutes: 30 });
    expect(expectOk(await put({ email: true, delayMinutes: 1440 }))).toEqual({
      email: true,
      delayMinutes: 1440,
    });
    expect(expectOk(await request('GET', '/users/me/notifications', token))).toEqual({
      email: true,
      delayMinutes: 1440,
    });

    for (const body of [
      {},
      { delayMinutes: 0 },
      { delayMinutes: 1441 },
      { delayMinutes: 2.5 },
      { delayMinutes: '5' },
      { email: 'yes' },
      { email: true, extra: 1 },
      [true],
      null,
    ]) {
      expectError(await put(body), 400, 'bad_request');
    }
    expectError(
      await request('PUT', '/users/me/notifications', token, { raw: '{"email":' }),
      400,
      'bad_request',
    );
    expectError(await request('PUT', '/users/me/notifications', token), 400, 'bad_request');
    // Nothing refused changed anything.
    expect(expectOk(await request('GET', '/users/me/notifications', token))).toEqual({
      email: true,
      delayMinutes: 1440,
    });
    expectError(await request('GET', '/users/me/notifications', undefined), 401, 'unauthorized');
    expectError(
      await request('PUT', '/users/me/notifications', undefined, { json: { email: false } }),
      401,
      'unauthorized',
    );
  });
});

describe('events', () => {
  it('publishes room.created, message.new, notification.sent and message.read once each, and the webhook delivers each once, signed', async () => {
    const [ann, bob] = await Promise.all([mailUser('Ann'), mailUser('Bob')]);
    const roomId = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const message = await send(annWs, roomId, 'an event or four');
    await awaitMail(bob);
    expectOk(await bob.api.markRead(roomId, { messageId: message.messageId }, false));

    const types: ChatEventType[] = ['room.created', 'message.new', 'notification.sent', 'message.read'];
    const published = await eventually(
      async () => (await busEvents()).filter((envelope) => aboutRoom(roomId)(envelope.detail)),
      (found) => types.every((type) => found.some((envelope) => envelope.detail.type === type)),
      { timeoutMs: 8_000, what: `the four events of ${roomId}` },
    );
    for (const envelope of published) {
      expect(envelope.source).toBe('chat');
      expect(envelope['detail-type']).toBe(envelope.detail.type);
    }
    const events = published.map((envelope) => envelope.detail);
    expect(events.map((event) => event.type).sort()).toEqual([...types].sort());
    expect(new Set(ids(events)).size).toBe(events.length);
    const byType = Object.fromEntries(events.map((event) => [event.type, event]));
    expect(byType['room.created']?.detail).toEqual({
      roomId,
      participants: expect.arrayContaining([ann.userId, bob.userId]),
      createdAt: expect.any(String),
    });
    expect(byType['message.new']).toMatchObject({
      time: message.sentAt,
      detail: {
        roomId,
        messageId: message.messageId,
        senderId: ann.userId,
        recipientIds: [bob.userId],
        sentAt: message.sentAt,
        content: 'an event or four',
      },
    });
    expect(byType['notification.sent']?.detail).toEqual({
      userId: bob.userId,
      channel: 'email',
      rooms: [{ roomId, unreadCount: 1 }],
    });
    expect(byType['message.read']?.detail).toEqual({
      roomId,
      userId: bob.userId,
      messageId: message.messageId,
    });

    // The webhook: each event once, its body the event itself, signed with the stack's key.
    const delivered = await eventually(
      () => deliveredAbout(roomId),
      (found) => found.length >= events.length,
      { timeoutMs: 8_000, what: `the webhook deliveries of ${roomId}` },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const settled = await deliveredAbout(roomId);
    expect(settled.map((event) => event.id).sort()).toEqual(ids(events).sort());
    expect(delivered.length).toBe(settled.length);
    for (const event of settled) expect(event).toEqual(events.find((e) => e.id === event.id));
  }, 30_000);

  it('a consumer failing mid-batch loses nothing and sends nothing twice', async () => {
    const [ann, bob, cat] = await Promise.all([mailUser('Ann'), mailUser('Bob'), mailUser('Cat')]);
    const [catRoom, bobRoom] = await Promise.all([startRoom(ann, cat), startRoom(ann, bob)]);
    // Bob's check cannot be scheduled, once: the SDK's three attempts (its default) all answered 500,
    // so the consumer fails on the record of Bob's message, after Cat's, and answers it as the first
    // not handled. The mapping gives it back, with those after it.
    const faults = `${settings().schedulerUrl}/faults`;
    const armed = await fetch(faults, {
      method: 'POST',
      body: JSON.stringify({ count: 3, match: `"roomId":"${bobRoom}"` }),
    });
    expect(armed.status).toBe(204);
    const annWs = await ann.connect();
    // Sent together, so that the three records come in one batch (or in as few as the polling makes).
    const sent = await Promise.all([
      send(annWs, catRoom, 'to Cat, before'),
      send(annWs, bobRoom, 'to Bob, the failing one'),
      send(annWs, catRoom, 'to Cat, after'),
    ]);

    const [{ mails: toBob }, { mails: toCat }] = await Promise.all([awaitMail(bob), awaitMail(cat)]);
    expect(((await (await fetch(faults)).json()) as { pending: number }).pending).toBe(0);
    expect(toBob[0]?.body.text).toContain('Ann: to Bob, the failing one');
    expect(toCat[0]?.subject).toBe('2 new messages from Ann');

    await pastTheChecks();
    expect(await mailsTo(bob)).toHaveLength(1);
    expect(await mailsTo(cat)).toHaveLength(1);
    for (const roomId of [catRoom, bobRoom]) {
      const published = (await busEvents()).map((envelope) => envelope.detail).filter(aboutRoom(roomId));
      const delivered = await deliveredAbout(roomId);
      // Every event: room.created, its messages, the e-mail's notification.sent; each once.
      const messages = sent.filter((message) => message.roomId === roomId).length;
      for (const events of [published, delivered]) {
        expect(countOf(events, 'room.created'), roomId).toBe(1);
        expect(countOf(events, 'message.new'), roomId).toBe(messages);
        expect(countOf(events, 'notification.sent'), roomId).toBe(1);
        expect(new Set(ids(events)).size, `${roomId}: ${ids(events).join(', ')}`).toBe(events.length);
      }
    }
  }, 40_000);
});
