/**
 * Issue 6, fault: DynamoDB throttles the send path's requests (ProvisionedThroughputExceededException,
 * ThrottlingException). The adapter leaves retries to the SDK's default strategy; these tests put
 * the real DynamoDBClient (its middleware, deserializer and retry strategy) in front of a fake HTTP
 * endpoint and throttle inside the retry loop (../../integration/faults/support/dynamo-throttles.ts).
 */
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeDocumentClient } from '../../../lambdas/adapters/clients.js';
import { dynamoChatStore } from '../../../lambdas/adapters/dynamo/chat-store.js';
import type { Message, Room } from '../../../lambdas/domain/model.js';
import { countsAfter, planCommit } from '../../../lambdas/domain/room-commit.js';
import { DynamoThrottles, type ThrottleError } from '../../integration/faults/support/dynamo-throttles.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const TABLES = { rooms: 'Rooms', messages: 'Messages', connections: 'Connections', users: 'Users' };
const MESSAGE: Message = {
  messageId: '01JD0000000000000000000001',
  roomId: 'chat_ann_bob',
  senderId: 'ann',
  content: 'hello',
  sentAt: '2026-11-24T10:00:00.000Z',
  clientMessageId: 'c-1',
};
const ROOM: Room = {
  roomId: 'chat_ann_bob',
  participants: ['ann', 'bob'],
  createdAt: MESSAGE.sentAt,
  updatedAt: MESSAGE.sentAt,
  lastMessage: null,
  members: {
    ann: { lastReadMessageId: null, sent: 0, read: 0 },
    bob: { lastReadMessageId: null, sent: 0, read: 0 },
  },
  recentSends: {},
};
const PLAN = planCommit(ROOM, MESSAGE, new Date(MESSAGE.sentAt));
const ROOM_ITEM = {
  pk: ROOM.roomId,
  sk: 'room',
  participants: ROOM.participants,
  createdAt: ROOM.createdAt,
  updatedAt: ROOM.updatedAt,
  members: { ann: { sent: 0, read: 0 }, bob: { sent: 0, read: 0 } },
  recent: {},
};

/** An endpoint that answers every request that gets through with an empty success (`{}`). */
function fakeEndpoint() {
  const operations: string[] = [];
  const handler = {
    async handle(request: { headers: Record<string, string> }) {
      const operation = (request.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
      operations.push(operation);
      // A commit answers the room as it stood (ALL_OLD); every other request an empty success.
      const body = operation === 'UpdateItem' ? { Attributes: marshall(ROOM_ITEM) } : {};
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: new TextEncoder().encode(JSON.stringify(body)),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
  };
  return { handler, operations };
}

function storeWithThrottles() {
  // The SDK's jittered backoff draws from Math.random: 0 makes every wait 0 ms, nothing else changes.
  vi.spyOn(Math, 'random').mockReturnValue(0);
  const endpoint = fakeEndpoint();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://dynamodb.invalid',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: endpoint.handler as never,
  });
  const throttles = new DynamoThrottles();
  throttles.install(client);
  const store = dynamoChatStore(makeDocumentClient(client), TABLES, { now: () => new Date(MESSAGE.sentAt) });
  return { client, store, throttles, endpoint };
}

describe('DynamoDB throttling on the send path', () => {
  for (const error of ['ProvisionedThroughputExceededException', 'ThrottlingException'] as ThrottleError[]) {
    it(`retries a PutItem throttled with ${error} until it succeeds, within the default attempts`, async () => {
      const { client, store, throttles, endpoint } = storeWithThrottles();
      const maxAttempts = await client.config.maxAttempts();
      throttles.throttle('PutItem', maxAttempts - 1, error);

      await expect(store.putMessage(MESSAGE, countsAfter(ROOM, MESSAGE), 'attempt-1')).resolves.toEqual({
        status: 'stored',
      });

      expect(throttles.attemptsOf('PutItem')).toBe(maxAttempts);
      expect(throttles.injectedInto('PutItem')).toBe(maxAttempts - 1);
      expect(endpoint.operations).toEqual(['PutItem']);
    });
  }

  it('retries a throttled room commit (UpdateItem) and the BatchGetItem read the same way', async () => {
    const { store, throttles, endpoint } = storeWithThrottles();
    throttles.throttle('UpdateItem', 2);
    throttles.throttle('BatchGetItem', 2, 'ThrottlingException');

    await expect(store.commitMessage(ROOM, MESSAGE, PLAN)).resolves.toMatchObject({ status: 'committed' });
    await store.loadSend(MESSAGE.roomId, ['ann', 'bob'], 'ann', 'c-1');

    expect(throttles.attemptsOf('UpdateItem')).toBe(3);
    expect(throttles.attemptsOf('BatchGetItem')).toBe(3);
    expect(endpoint.operations).toEqual(['UpdateItem', 'BatchGetItem']);
  });

  it('gives up after the default attempts with the throttle error, and nothing reached DynamoDB', async () => {
    const { client, store, throttles, endpoint } = storeWithThrottles();
    const maxAttempts = await client.config.maxAttempts();
    throttles.throttle('PutItem', maxAttempts);

    const failure = await store.putMessage(MESSAGE, countsAfter(ROOM, MESSAGE), 'attempt-1').then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((failure as ProvisionedThroughputExceededException).$metadata.attempts).toBe(maxAttempts);
    expect(throttles.attemptsOf('PutItem')).toBe(maxAttempts);
    expect(endpoint.operations).toEqual([]);
  });
});
