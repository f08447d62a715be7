/**
 * Issue 6, fault: the management API throttles posts (429 LimitExceededException), through the
 * local gateway's `POST /dev/throttle`. The fan-out retries with backoff and delivers; a throttled
 * connection is never mistaken for a gone one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets } from '../support/ws.js';
import {
  connectionAttributes,
  connectTo,
  onlyConnectionOf,
  sharedStack,
  signInAs,
  startRoomOf,
  storedMessages,
  throttlePosts,
  throttlesLeft,
} from './support/stack.js';

afterEach(closeAllSockets);

/** Ann and Bob online, Bob's presence frame for Ann already delivered (no post to him pending). */
async function onlinePair() {
  const target = sharedStack();
  const ann = await signInAs(target, 'ann');
  const bob = await signInAs(target, 'bob');
  const roomId = await startRoomOf(target, ann, bob);
  const bobWs = await connectTo(target, bob);
  const annWs = await connectTo(target, ann);
  await bobWs.next('presence', (f) => f.userId === ann.userId && f.online);
  const bobConnection = await onlyConnectionOf(target, bob.userId);
  return { target, ann, bob, roomId, annWs, bobWs, bobConnection };
}

describe('429 from the management API', () => {
  it("retries the throttled posts to the recipient's connection and delivers the message, stored once", async () => {
    const { target, roomId, annWs, bobWs, bobConnection } = await onlinePair();
    await throttlePosts(target, 3, bobConnection);
    expect(await throttlesLeft(target, bobConnection)).toBe(3);

    const message = await annWs.sendMessage(roomId, 'through the throttle', 'thr-1');

    const frame = await bobWs.next('chat_message', (f) => f.message.messageId === message.messageId);
    expect(frame.message).toEqual(message);
    // The three 429s were met (and so retried): none is left.
    expect(await throttlesLeft(target, bobConnection)).toBe(0);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([message.messageId]);
    await annWs.expectNoFrame('error');
  });

  it('keeps a connection whose posts stay throttled past the retries, and delivers the next message to it', async () => {
    const { target, bob, roomId, annWs, bobWs, bobConnection } = await onlinePair();
    await throttlePosts(target, 5, bobConnection);

    const throttled = await annWs.sendMessage(roomId, 'throttled beyond the retries', 'thr-2');
    expect(await throttlesLeft(target, bobConnection)).toBe(0);
    const next = await annWs.sendMessage(roomId, 'after the throttle', 'thr-3');

    await bobWs.next('chat_message', (f) => f.message.messageId === next.messageId);
    expect(await connectionAttributes(target, bob.userId)).toEqual([bobConnection]);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId).sort()).toEqual(
      [throttled.messageId, next.messageId].sort(),
    );
  });
});
