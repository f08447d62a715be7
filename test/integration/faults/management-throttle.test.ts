/**
 * Issue 6, fault: the management API throttles posts (429 LimitExceededException), through the
 * local gateway's `POST /dev/throttle`. The fan-out retries with backoff and delivers; a throttled
 * connection is never mistaken for a gone one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets } from '../support/ws.js';
import {
  connectionAttributes,
  onlinePair,
  onlyConnectionOf,
  sharedStack,
  storedMessages,
  throttlePosts,
  throttlesLeft,
} from './support/stack.js';

afterEach(closeAllSockets);

/** With Bob's connection, which the tests throttle. */
async function throttledPair() {
  const target = sharedStack();
  const pair = await onlinePair(target);
  return { target, ...pair, bobConnection: await onlyConnectionOf(target, pair.bob.userId) };
}

describe('429 from the management API', () => {
  it("retries the throttled posts to the recipient's connection and delivers the message, stored once", async () => {
    const { target, roomId, annWs, bobWs, bobConnection } = await throttledPair();
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
    const { target, bob, roomId, annWs, bobWs, bobConnection } = await throttledPair();
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
