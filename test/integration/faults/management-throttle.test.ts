/**
 * Issue 6, fault: the management API throttles posts (429 LimitExceededException), through the
 * local gateway's `POST /dev/throttle`. The fan-out retries with backoff and delivers; a throttled
 * connection is never mistaken for a gone one. Issue 9: the fan-out is the only layer that retries
 * (the management client makes one request per attempt), so the requests one post costs are
 * counted here as the throttles it used up: each POST the emulator receives while throttled takes one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_THROTTLE_RETRIES } from '../../../lambdas/domain/deliveries.js';
import type { Message } from '../support/api-types.js';
import { closeAllSockets } from '../support/ws.js';
import {
  connectionAttributes,
  connectTo,
  inProcessSend,
  onlinePair,
  onlyConnectionOf,
  rest,
  sharedStack,
  storedMessages,
  throttlePosts,
  throttlesLeft,
} from './support/stack.js';

afterEach(closeAllSockets);

/** More 429s than one post can meet: what is left over shows how many requests it made. */
const LASTING_THROTTLE = 20;

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

  it("gives up a post throttled past the retries after 1 + MAX_THROTTLE_RETRIES requests; the sender is acked, Bob's other connection told, and the throttled one catches up", async () => {
    const { target, bob, roomId, annWs, bobWs, bobConnection } = await throttledPair();
    const seen = await annWs.sendMessage(roomId, 'before the throttle', 'thr-4');
    await bobWs.next('chat_message', (f) => f.message.messageId === seen.messageId);
    const bobLaptop = await connectTo(target, bob, 'bob laptop');
    await bobLaptop.ping();
    await throttlePosts(target, LASTING_THROTTLE, bobConnection);

    // The ack comes once the fan-out is over, and a message is stored before anyone is told.
    const lost = await annWs.sendMessage(roomId, 'throttled beyond the retries', 'thr-5');

    expect(LASTING_THROTTLE - (await throttlesLeft(target, bobConnection))).toBe(1 + MAX_THROTTLE_RETRIES);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId).sort()).toEqual(
      [seen.messageId, lost.messageId].sort(),
    );
    await bobLaptop.next('chat_message', (f) => f.message.messageId === lost.messageId);
    await bobWs.expectNoFrame('chat_message', (f) => f.message.messageId === lost.messageId);
    await annWs.expectNoFrame('error');
    // Throttled is not gone: the connection is kept, and its client fetches what it missed.
    expect(await connectionAttributes(target, bob.userId)).toContain(bobConnection);
    const { status, body } = await rest<{ messages: Message[] }>(
      target,
      bob,
      'GET',
      `/chat/messages/${roomId}/?after=${seen.messageId}&limit=100`,
    );
    expect(status).toBe(200);
    expect(body.messages.map((m) => m.messageId)).toEqual([lost.messageId]);
    expect(body.messages[0]).toMatchObject(lost);
  });

  it('logs the post it gave up, with the connection and without the content', async () => {
    const { target, ann, roomId, bobWs, bobConnection } = await throttledPair();
    const handler = await inProcessSend(target);
    await throttlePosts(target, LASTING_THROTTLE, bobConnection);

    const answer = await handler.send(
      { userId: ann.userId, connectionId: await onlyConnectionOf(target, ann.userId) },
      { action: 'sendMessage', roomId, content: 'throttled, logged', clientMessageId: 'thr-6' },
    );

    expect(answer).toMatchObject({ type: 'ack', clientMessageId: 'thr-6' });
    expect(LASTING_THROTTLE - (await throttlesLeft(target, bobConnection))).toBe(1 + MAX_THROTTLE_RETRIES);
    expect(handler.logger.entries.filter((entry) => entry.level !== 'info')).toEqual([
      {
        level: 'warn',
        message: 'post to connection failed',
        details: { connectionId: bobConnection, error: expect.stringContaining('ThrottledError') },
      },
    ]);
    expect(JSON.stringify(handler.logger.entries)).not.toContain('throttled, logged');
    await bobWs.expectNoFrame('chat_message');
  });

  it('keeps a connection whose posts stay throttled past the retries, and delivers the next message to it', async () => {
    const { target, bob, roomId, annWs, bobWs, bobConnection } = await throttledPair();
    await throttlePosts(target, 1 + MAX_THROTTLE_RETRIES, bobConnection);

    const throttled = await annWs.sendMessage(roomId, 'throttled beyond the retries', 'thr-2');
    expect(await throttlesLeft(target, bobConnection)).toBe(0);
    const next = await annWs.sendMessage(roomId, 'after the throttle', 'thr-3');

    await bobWs.next('chat_message', (f) => f.message.messageId === next.messageId);
    expect(bobWs.received.filter((f) => f.type === 'chat_message').map((f) => f.message.messageId)).toEqual([
      next.messageId,
    ]);
    expect(await connectionAttributes(target, bob.userId)).toEqual([bobConnection]);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId).sort()).toEqual(
      [throttled.messageId, next.messageId].sort(),
    );
  });
});
