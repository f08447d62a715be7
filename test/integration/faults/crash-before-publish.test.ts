/**
 * Fault: a send dies between its writes: after the room commit, before the message is stored; or
 * after storing it, before the fan-out. The first attempt runs the real send handler in this process
 * on the real DynamoDB stores (on the stack's DynamoDB Local), wrapped so that one step fails once;
 * the client then retries over its WebSocket with the same clientMessageId, as it must without an
 * ack, and the stack's own handler completes the send: the committed message (same messageId),
 * stored once, counted once, delivered by the attempt that stored it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatStore } from '../../../lambdas/domain/ports.js';
import { failAfterOnce } from '../../unit/faults/support.js';
import { closeAllSockets } from '../support/ws.js';
import {
  historyOf,
  inProcessSend,
  onlinePair,
  onlyConnectionOf,
  roomEntryOf,
  sharedStack,
  storedMessages,
} from './support/stack.js';

afterEach(closeAllSockets);

/** Bob waits this long for a frame: after the ack its fan-out is done, and it stays under the 4 s idle limit. */
const DELIVERY_MS = 3_000;

async function crashingSend(wrapStore: (store: ChatStore) => ChatStore) {
  const target = sharedStack();
  const { ann, bob, roomId, annWs, bobWs } = await onlinePair(target);
  const annConnection = await onlyConnectionOf(target, ann.userId);
  const handler = await inProcessSend(target, { wrapStore });
  /** The first attempt, on the crashing store: it must answer an error frame, never an ack. */
  const firstAttempt = async (content: string, clientMessageId: string) => {
    const answer = await handler.send(
      { userId: ann.userId, connectionId: annConnection },
      { action: 'sendMessage', roomId, content, clientMessageId },
    );
    expect(answer).toMatchObject({ type: 'error', code: 'internal', clientMessageId });
  };
  return { target, ann, bob, roomId, annWs, bobWs, firstAttempt };
}

describe('a send that dies between its writes', () => {
  it('after the commit, before the put: the retry stores the committed message once, counted once, delivered', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(
      failAfterOnce('commitMessage'),
    );
    await firstAttempt('hello after a crash', 'crash-1');
    expect(await storedMessages(target, roomId)).toEqual([]);
    const committed = (await roomEntryOf(target, bob, roomId)).lastMessage;

    const retried = await annWs.sendMessage(roomId, 'hello after a crash', 'crash-1');

    expect(retried.messageId).toBe(committed?.messageId);
    await bobWs.next('chat_message', (f) => f.message.messageId === retried.messageId, DELIVERY_MS);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([retried.messageId]);
    const entry = await roomEntryOf(target, bob, roomId);
    expect(entry.unreadCount).toBe(1);
    expect(entry.lastMessage?.messageId).toBe(retried.messageId);
    expect((await historyOf(target, bob, roomId)).map((m) => m.messageId)).toEqual([retried.messageId]);
    await bobWs.expectNoFrame('chat_message', (f) => f.message.messageId === retried.messageId);
  });

  it('after storing, before the fan-out: the retry answers the same ack and does not deliver it again', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(
      failAfterOnce('putMessage'),
    );
    await firstAttempt('hello after a later crash', 'crash-2');
    const [stored] = await storedMessages(target, roomId);
    if (stored === undefined) throw new Error('the first attempt stored nothing');

    const retried = await annWs.sendMessage(roomId, 'hello after a later crash', 'crash-2');

    expect(retried).toEqual(stored);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([stored.messageId]);
    expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(1);
    // Only the attempt that stores a message delivers it: Bob finds it in history.
    await bobWs.expectNoFrame('chat_message', (f) => f.message.messageId === stored.messageId);
    expect((await historyOf(target, bob, roomId)).map((m) => m.messageId)).toEqual([stored.messageId]);
  });

  it('after the commit, then a newer message: the retry still stores, counts and delivers the first', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(
      failAfterOnce('commitMessage'),
    );
    await firstAttempt('first, crashed', 'crash-3');
    // The user typed the next message before the client's ack timeout sent the first again.
    const newer = await annWs.sendMessage(roomId, 'second', 'crash-4');
    await bobWs.next('chat_message', (f) => f.message.messageId === newer.messageId, DELIVERY_MS);

    const retried = await annWs.sendMessage(roomId, 'first, crashed', 'crash-3');

    expect(retried.messageId < newer.messageId).toBe(true);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId).sort()).toEqual(
      [retried.messageId, newer.messageId].sort(),
    );
    await bobWs.next('chat_message', (f) => f.message.messageId === retried.messageId, DELIVERY_MS);
    expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(2);
  });
});
