/** API.md: `GET /chat/messages/{roomId}/`: pages, cursors, `hasMore`, `read` flags, errors. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from './support/api-types.js';
import { expectError, expectOk } from './support/rest.js';
import { at, expectMessage, withoutRead } from './support/shapes.js';
import { freshUsers, roomOf, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets } from './support/ws.js';

afterEach(closeAllSockets);

const ids = (messages: readonly { messageId: string }[]) => messages.map((m) => m.messageId);

describe('message pages', () => {
  let ann: TestUser;
  let bob: TestUser;
  let room: string;
  const sent: Message[] = [];

  beforeAll(async () => {
    [ann, bob] = (await freshUsers(2)) as [TestUser, TestUser];
    room = await startRoom(ann, bob);
    const ws = await ann.connect();
    for (let i = 0; i < 7; i++) sent.push(await ws.sendMessage(room, `message ${i}`, `m-${i}`));
    await ws.close();
  });

  const m = (i: number) => at(sent, i).messageId;

  it('answers the newest messages, oldest first, each with its read flag', async () => {
    const page = expectOk(await ann.api.messages(room));
    expect(page.hasMore).toBe(false);
    expect(ids(page.messages)).toEqual(ids(sent));
    page.messages.forEach((message, i) => {
      expectMessage(message, true);
      expect(withoutRead(message)).toEqual(at(sent, i));
      expect(message.clientMessageId).toBe(`m-${i}`);
      // Bob has read nothing yet.
      expect(message.read).toBe(false);
    });
    expect(ids(expectOk(await ann.api.messages(room, undefined, false)).messages)).toEqual(ids(sent));
  });

  it('answers the newest `limit` messages with hasMore, and scrolls back with before=', async () => {
    const newest = expectOk(await ann.api.messages(room, { limit: 3 }));
    expect(ids(newest.messages)).toEqual([m(4), m(5), m(6)]);
    expect(newest.hasMore).toBe(true);

    const middle = expectOk(await ann.api.messages(room, { limit: 3, before: m(4) }));
    expect(ids(middle.messages)).toEqual([m(1), m(2), m(3)]);
    expect(middle.hasMore).toBe(true);

    const oldest = expectOk(await ann.api.messages(room, { limit: 3, before: m(1) }));
    expect(ids(oldest.messages)).toEqual([m(0)]);
    expect(oldest.hasMore).toBe(false);

    const rest = expectOk(await ann.api.messages(room, { before: m(4) }));
    expect(ids(rest.messages)).toEqual([m(0), m(1), m(2), m(3)]);
    expect(rest.hasMore).toBe(false);

    expect(expectOk(await ann.api.messages(room, { before: m(0) }))).toMatchObject({
      messages: [],
      hasMore: false,
    });
  });

  it('catches up with after=, oldest first', async () => {
    const all = expectOk(await ann.api.messages(room, { after: m(2) }));
    expect(ids(all.messages)).toEqual([m(3), m(4), m(5), m(6)]);
    expect(all.hasMore).toBe(false);

    // With a limit, the oldest messages after the cursor come first; hasMore says more follow.
    const firstTwo = expectOk(await ann.api.messages(room, { after: m(2), limit: 2 }));
    expect(ids(firstTwo.messages)).toEqual([m(3), m(4)]);
    expect(firstTwo.hasMore).toBe(true);

    const nextTwo = expectOk(await ann.api.messages(room, { after: m(4), limit: 2 }));
    expect(ids(nextTwo.messages)).toEqual([m(5), m(6)]);
    expect(nextTwo.hasMore).toBe(false);

    expect(expectOk(await ann.api.messages(room, { after: m(6) }))).toMatchObject({
      messages: [],
      hasMore: false,
    });
  });

  it('accepts limit 1 and 100, and answers 400 for a bad limit or cursor', async () => {
    expect(ids(expectOk(await ann.api.messages(room, { limit: 1 })).messages)).toEqual([m(6)]);
    expect(ids(expectOk(await ann.api.messages(room, { limit: 100 })).messages)).toEqual(ids(sent));
    for (const limit of ['0', '101', '-1', 'abc', '2.5']) {
      expectError(await ann.api.messages(room, { limit }), 400, 'bad_request');
    }
    for (const cursor of ['not-a-ulid', '123', `${m(3)}X`]) {
      expectError(await ann.api.messages(room, { before: cursor }), 400, 'bad_request');
      expectError(await ann.api.messages(room, { after: cursor }), 400, 'bad_request');
    }
  });
});

describe('read flags', () => {
  it("are true once the other participant's read pointer is at or past the message", async () => {
    const [ann, bob] = (await freshUsers(2)) as [TestUser, TestUser];
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const sent: Message[] = [];
    for (let i = 0; i < 4; i++) sent.push(await annWs.sendMessage(room, `a${i}`, `a${i}`));

    expectOk(await bob.api.markRead(room, { messageId: at(sent, 1).messageId }));
    const partly = expectOk(await ann.api.messages(room));
    expect(partly.messages.map((msg) => msg.read)).toEqual([true, true, false, false]);
    // Bob sees the same flags on Ann's messages: they say whether Bob (the one recipient) has read them.
    const bobView = expectOk(await bob.api.messages(room, { before: at(sent, 3).messageId }));
    expect(bobView.messages.map((msg) => msg.read)).toEqual([true, true, false]);

    // Bob opens the room: everything Ann sent is read.
    expectOk(await bob.api.messages(room));
    expect(expectOk(await ann.api.messages(room)).messages.map((msg) => msg.read)).toEqual([
      true,
      true,
      true,
      true,
    ]);

    // Bob's reply is unread until Ann's pointer reaches it.
    const bobWs = await bob.connect();
    const reply = await bobWs.sendMessage(room, 'b0', 'b0');
    const before = expectOk(await bob.api.messages(room, { after: at(sent, 3).messageId }));
    expect(before.messages.map((msg) => [msg.messageId, msg.read])).toEqual([[reply.messageId, false]]);
    expectOk(await ann.api.markRead(room, { messageId: reply.messageId }));
    const after = expectOk(await bob.api.messages(room, { after: at(sent, 3).messageId }));
    expect(after.messages.map((msg) => [msg.messageId, msg.read])).toEqual([[reply.messageId, true]]);
  });
});

describe('access', () => {
  it('answers 403 for a room of others and 404 for a room of the caller that was never started', async () => {
    const [ann, bob, cid] = (await freshUsers(3)) as [TestUser, TestUser, TestUser];
    const roomAB = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const sent = await annWs.sendMessage(roomAB, 'private', 'p-1');

    expectError(await cid.api.messages(roomAB), 403, 'forbidden');
    expectError(await cid.api.messages(roomAB, { after: sent.messageId }), 403, 'forbidden');
    expectError(await cid.api.markRead(roomAB, { messageId: sent.messageId }), 403, 'forbidden');

    const neverStarted = roomOf(ann.userId, cid.userId);
    expectError(await ann.api.messages(neverStarted), 404, 'not_found');
    expectError(await cid.api.messages(neverStarted, undefined, false), 404, 'not_found');
    expectError(await ann.api.markRead(neverStarted, { messageId: sent.messageId }), 404, 'not_found');

    // Cid's attempt did not touch the room: Ann's message is still unread by Bob.
    expect(at(expectOk(await ann.api.messages(roomAB)).messages, 0).read).toBe(false);
  });
});
