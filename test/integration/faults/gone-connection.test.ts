/**
 * Issue 6, fault: API Gateway answers 410 GoneException for one of a participant's connections.
 * The stale connection's record (connections row and `conn#<id>` on the user item) is deleted; the
 * participant's other connections still get the message, which is stored once and acked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/wait.js';
import { closeAllSockets } from '../support/ws.js';
import {
  connectionAttributes,
  connectionRow,
  connectTo,
  onlyConnectionOf,
  openConnectionIds,
  pairInRoom,
  recordVanishedConnection,
  sharedStack,
  storedMessages,
} from './support/stack.js';

afterEach(closeAllSockets);

describe('a 410 on one connection', () => {
  it("deletes the record of a connection the gateway forgot, and still delivers to the participant's live ones", async () => {
    const target = sharedStack();
    const { ann, bob, roomId } = await pairInRoom(target);
    const annWs = await connectTo(target, ann);
    const bobPhone = await connectTo(target, bob, 'bob phone');
    const bobLaptop = await connectTo(target, bob, 'bob laptop');
    await Promise.all([bobPhone.ping(), bobLaptop.ping()]);
    const bobLive = (await openConnectionIds(target, bob.userId)).sort();
    expect(bobLive).toHaveLength(2);
    const stale = 'StaleConnectionId0A=';
    await recordVanishedConnection(target, bob.userId, stale);
    expect(await connectionAttributes(target, bob.userId)).toContain(stale);

    const message = await annWs.sendMessage(roomId, 'are you there?', 'gone-1');

    // An ack means persisted: the item is there, once.
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([message.messageId]);
    await bobPhone.next('chat_message', (f) => f.message.messageId === message.messageId);
    await bobLaptop.next('chat_message', (f) => f.message.messageId === message.messageId);
    const after = await eventually(
      async () => ({
        attributes: await connectionAttributes(target, bob.userId),
        row: await connectionRow(target, stale),
      }),
      ({ attributes, row }) => !attributes.includes(stale) && row === undefined,
      { what: `the record of ${stale} deleted (conn# attribute and connections row)` },
    );
    expect(after.attributes).toEqual(bobLive);
    expect(await connectionRow(target, await onlyConnectionOf(target, ann.userId))).toMatchObject({
      userId: ann.userId,
    });
    await annWs.expectNoFrame('error');
  });

  it('cleans up after a socket destroyed without a close frame, and the next message reaches the live connection once', async () => {
    const target = sharedStack();
    const { ann, bob, roomId } = await pairInRoom(target);
    const annWs = await connectTo(target, ann);
    const bobGone = await connectTo(target, bob, 'bob gone');
    const bobLive = await connectTo(target, bob, 'bob live');
    await Promise.all([bobGone.ping(), bobLive.ping()]);
    const ids = await openConnectionIds(target, bob.userId);
    expect(ids).toHaveLength(2);

    // No close frame: the send may meet the connection as 410 or after its $disconnect; either way ...
    bobGone.vanish();
    const message = await annWs.sendMessage(roomId, 'still there?', 'gone-2');

    await bobLive.next('chat_message', (f) => f.message.messageId === message.messageId);
    const liveId = await onlyConnectionOf(target, bob.userId);
    const goneId = ids.find((id) => id !== liveId) ?? '';
    const after = await eventually(
      async () => ({
        attributes: await connectionAttributes(target, bob.userId),
        row: await connectionRow(target, goneId),
      }),
      ({ attributes, row }) => attributes.length === 1 && row === undefined,
      { what: "Bob's records down to his live connection" },
    );
    expect(after.attributes).toEqual([liveId]);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([message.messageId]);
    await bobLive.expectNoFrame('chat_message', (f) => f.message.messageId === message.messageId);
  });
});
