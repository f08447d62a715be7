/**
 * Issue 6, fault: a send dies after the message is stored and before the room update or the fan-out.
 * The first attempt runs the real send handler in this process on the real DynamoChatStore (on the
 * stack's DynamoDB Local), wrapped so that recordMessage fails once; the client then retries over
 * its WebSocket with the same clientMessageId, as it must without an ack, and the stack's own handler
 * must complete the send: the same message (same messageId), stored once, counted once, delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatStore } from '../../../lambdas/domain/ports.js';
import { failAfterRecordOnce, failBeforeRecordOnce } from '../../unit/faults/support.js';
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
    const stored = (await storedMessages(target, roomId)).find((m) => m.clientMessageId === clientMessageId);
    if (stored === undefined) throw new Error(`${clientMessageId} was not stored by the first attempt`);
    return stored;
  };
  return { target, ann, bob, roomId, annWs, bobWs, firstAttempt };
}

describe('a crash after the message is stored', () => {
  it('before the room update: the retry gets the same message, stored once, counted unread once, delivered', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(failBeforeRecordOnce);
    const stored = await firstAttempt('hello after a crash', 'crash-1');

    const retried = await annWs.sendMessage(roomId, 'hello after a crash', 'crash-1');

    expect(retried).toEqual(stored);
    await bobWs.next('chat_message', (f) => f.message.messageId === stored.messageId, DELIVERY_MS);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([stored.messageId]);
    const entry = await roomEntryOf(target, bob, roomId);
    expect(entry.unreadCount).toBe(1);
    expect(entry.lastMessage?.messageId).toBe(stored.messageId);
    expect((await historyOf(target, bob, roomId)).map((m) => m.messageId)).toEqual([stored.messageId]);
    await bobWs.expectNoFrame('chat_message', (f) => f.message.messageId === stored.messageId);
  });

  it('after the room update, before the fan-out: the retry delivers it to the online recipient', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(failAfterRecordOnce);
    const stored = await firstAttempt('hello after a later crash', 'crash-2');

    const retried = await annWs.sendMessage(roomId, 'hello after a later crash', 'crash-2');

    expect(retried).toEqual(stored);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([stored.messageId]);
    expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(1);
    // Bob was online throughout and has not been told of the message by anyone.
    await bobWs.next('chat_message', (f) => f.message.messageId === stored.messageId, DELIVERY_MS);
  });

  it('before the room update, then a newer message: the retry still counts and delivers the first', async () => {
    const { target, bob, roomId, annWs, bobWs, firstAttempt } = await crashingSend(failBeforeRecordOnce);
    const stored = await firstAttempt('first, crashed', 'crash-3');
    // The user typed the next message before the client's ack timeout sent the first again.
    const newer = await annWs.sendMessage(roomId, 'second', 'crash-4');
    await bobWs.next('chat_message', (f) => f.message.messageId === newer.messageId, DELIVERY_MS);

    const retried = await annWs.sendMessage(roomId, 'first, crashed', 'crash-3');

    expect(retried).toEqual(stored);
    expect((await storedMessages(target, roomId)).map((m) => m.messageId).sort()).toEqual(
      [stored.messageId, newer.messageId].sort(),
    );
    await bobWs.next('chat_message', (f) => f.message.messageId === stored.messageId, DELIVERY_MS);
    expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(2);
  });
});
