/**
 * Issue 6, fault: DynamoDB throttles the send path's requests. The real send handler runs in this
 * process on a DynamoDB client whose middleware answers the first attempts of BatchGetItem, PutItem
 * and UpdateItem with throttle errors, in front of the stack's DynamoDB Local; the SDK's default
 * retry strategy must carry the send through, and the ack must come only once it is stored.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAllSockets } from '../support/ws.js';
import { DynamoThrottles } from './support/dynamo-throttles.js';
import {
  dynamoClient,
  inProcessSend,
  onlinePair,
  onlyConnectionOf,
  roomEntryOf,
  sharedStack,
  storedMessages,
} from './support/stack.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await closeAllSockets();
});

// Even with the jitter pinned below, a loaded machine may take a while for a few round trips.
const SLOW = 60_000;

async function throttledSender() {
  const target = sharedStack();
  const { ann, bob, roomId, annWs, bobWs } = await onlinePair(target);
  const annConnection = await onlyConnectionOf(target, ann.userId);
  const throttles = new DynamoThrottles();
  const client = throttles.install(dynamoClient(target));
  const handler = await inProcessSend(target, { client });
  const maxAttempts = await client.config.maxAttempts();
  // The SDK waits a random share of 1 s, 2 s, 4 s... after a throttle (full jitter). Pinned at 5%
  // of that, the waits stay well inside the stack's 4 s idle and 10 s connection limits; the
  // strategy and its attempt count are the SDK's own.
  vi.spyOn(Math, 'random').mockReturnValue(0.05);
  return { target, ann, bob, roomId, annWs, bobWs, annConnection, throttles, handler, maxAttempts };
}

describe('DynamoDB throttling on the send path', () => {
  it(
    'retries each throttled request (BatchGetItem, PutItem, UpdateItem) and the send succeeds: ack, stored once, delivered',
    async () => {
      const { target, ann, bob, roomId, bobWs, annConnection, throttles, handler } = await throttledSender();
      throttles.throttle('BatchGetItem', 1, 'ThrottlingException');
      throttles.throttle('PutItem', 1);
      throttles.throttle('UpdateItem', 1);

      const answer = await handler.send(
        { userId: ann.userId, connectionId: annConnection },
        { action: 'sendMessage', roomId, content: 'through the throttles', clientMessageId: 'ddb-1' },
      );

      expect(answer).toMatchObject({ type: 'ack', clientMessageId: 'ddb-1', message: { roomId } });
      const message = answer.type === 'ack' ? answer.message : undefined;
      expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([message?.messageId]);
      for (const operation of ['BatchGetItem', 'PutItem', 'UpdateItem']) {
        expect(throttles.injectedInto(operation), operation).toBe(1);
        expect(throttles.attemptsOf(operation), operation).toBe(2);
      }
      await bobWs.next('chat_message', (f) => f.message.messageId === message?.messageId);
      expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(1);
    },
    SLOW,
  );

  it(
    'carries a PutItem through every retry the default strategy allows',
    async () => {
      const { target, ann, roomId, bobWs, annConnection, throttles, handler, maxAttempts } =
        await throttledSender();
      throttles.throttle('PutItem', maxAttempts - 1);

      const answer = await handler.send(
        { userId: ann.userId, connectionId: annConnection },
        { action: 'sendMessage', roomId, content: 'persistent throttle', clientMessageId: 'ddb-2' },
      );

      expect(answer.type).toBe('ack');
      expect(throttles.attemptsOf('PutItem')).toBe(maxAttempts);
      const stored = await storedMessages(target, roomId);
      expect(stored).toHaveLength(1);
      await bobWs.next('chat_message', (f) => f.message.messageId === stored[0]?.messageId);
    },
    SLOW,
  );

  it(
    'answers an error frame, not an ack, when the retries run out; the client retry then stores it once',
    async () => {
      const { target, ann, roomId, annWs, bobWs, annConnection, throttles, handler, maxAttempts } =
        await throttledSender();
      throttles.throttle('PutItem', maxAttempts);
      const frame = {
        action: 'sendMessage',
        roomId,
        content: 'given up, then retried',
        clientMessageId: 'ddb-3',
      };

      const answer = await handler.send({ userId: ann.userId, connectionId: annConnection }, frame);

      expect(answer).toMatchObject({ type: 'error', action: 'sendMessage', clientMessageId: 'ddb-3' });
      expect(await storedMessages(target, roomId)).toEqual([]);
      // The error frame carries no internal detail; the log line carries no message content.
      expect(JSON.stringify(answer)).not.toMatch(/Throughput|Exception|stack/);
      expect(JSON.stringify(handler.logger.entries)).not.toContain('given up, then retried');

      annWs.send(frame);
      const ack = await annWs.next('ack', (f) => f.clientMessageId === 'ddb-3');
      await bobWs.next('chat_message', (f) => f.message.messageId === ack.message.messageId);
      expect((await storedMessages(target, roomId)).map((m) => m.messageId)).toEqual([ack.message.messageId]);
    },
    SLOW,
  );
});
