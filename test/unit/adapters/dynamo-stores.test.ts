/**
 * The DynamoDB requests behind what the store contract (test/contract) cannot see on DynamoDB Local:
 * read consistency, the commit's condition, partial batches and the rare failed condition without
 * its item. Everything observable through the ports is the contract's job.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoChatStore, type TableNames } from '../../../lambdas/adapters/dynamo/chat-store.js';
import type { Message, Room } from '../../../lambdas/domain/model.js';
import { planCommit } from '../../../lambdas/domain/room-commit.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLES: TableNames = {
  rooms: 'rooms-t',
  messages: 'messages-t',
  connections: 'connections-t',
  users: 'users-t',
};
const clock = new FixedClock();
const store = dynamoChatStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  TABLES,
  clock,
);

const ROOM_ID = 'chat_ann_bob';
const message = (sequence: number, clientMessageId?: string): Message => ({
  messageId: ulidAt(T0, sequence),
  roomId: ROOM_ID,
  senderId: 'ann',
  content: `m${sequence}`,
  sentAt: T0,
  ...(clientMessageId === undefined ? {} : { clientMessageId }),
});
const emptyRoom: Room = {
  roomId: ROOM_ID,
  participants: ['ann', 'bob'],
  createdAt: T0,
  updatedAt: T0,
  lastMessage: null,
  members: {
    ann: { lastReadMessageId: null, sent: 0, read: 0 },
    bob: { lastReadMessageId: null, sent: 0, read: 0 },
  },
  recentSends: {},
};
const roomItem = { pk: ROOM_ID, sk: 'room', participants: ['ann', 'bob'], createdAt: T0, updatedAt: T0 };

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    $metadata: {},
    message: 'The conditional request failed',
    ...(item === undefined ? {} : { Item: marshall(item) }),
  });

/** The RequestItems of the nth BatchGetItem (0-based), as sent. */
const batchGetRequest = (n: number) => ddb.commandCalls(BatchGetCommand)[n]?.args[0].input.RequestItems;

beforeEach(() => {
  ddb.reset();
});

describe("the send's read", () => {
  it("reads the sender's message key strongly consistently, and the room and users eventually", async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: {} });

    await store.loadSend(ROOM_ID, ['ann', 'bob'], 'ann', 'c-1');

    expect(ddb).toReceiveCommandTimes(BatchGetCommand, 1);
    expect(batchGetRequest(0)).toEqual({
      'rooms-t': { Keys: [{ pk: ROOM_ID, sk: 'room' }] },
      'users-t': { Keys: [{ userId: 'ann' }, { userId: 'bob' }] },
      'messages-t': { Keys: [{ roomId: ROOM_ID, dedupKey: 'client#ann#c-1' }], ConsistentRead: true },
    });
  });

  it('reads no message key for a send without clientMessageId', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: {} });

    await store.loadSend(ROOM_ID, ['ann', 'bob'], 'ann', undefined);

    expect(Object.keys(batchGetRequest(0) ?? {}).sort()).toEqual(['rooms-t', 'users-t']);
  });
});

describe('commitMessage', () => {
  it('asks for an id after the newest and a key not recorded yet, adds one to the sender, and reads the room as it stood', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: roomItem });
    const plan = planCommit(emptyRoom, message(1, 'c-1'), clock.now());

    const result = await store.commitMessage(emptyRoom, message(1, 'c-1'), plan);

    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pk: ROOM_ID, sk: 'room' },
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(lastMessage) OR lastMessage.messageId < :messageId) ' +
        'AND attribute_not_exists(#recent.#key)',
      ExpressionAttributeNames: expect.objectContaining({ '#sender': 'ann', '#key': plan.key }),
      ExpressionAttributeValues: expect.objectContaining({
        ':messageId': message(1).messageId,
        ':entry': `0${message(1).messageId}`,
      }),
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toContain(
      'members.#sender.#sent = if_not_exists(members.#sender.#sent, :zero) + :one',
    );
    expect(input?.ExpressionAttributeValues?.[':message']).not.toHaveProperty('roomId');
    expect(result).toEqual({ status: 'committed', before: emptyRoom });
  });

  it('answers stale with the room decoded from the item of the failed condition', async () => {
    const current = {
      ...roomItem,
      updatedAt: message(3).sentAt,
      lastMessage: message(3, 'c-3'),
      members: { ann: { sent: 2, read: 1, lastRead: message(2).messageId }, bob: { sent: 1, read: 0 } },
      recent: { k3: `0${message(3).messageId}` },
    };
    ddb.on(UpdateCommand).rejects(conditionFailed(current));

    const result = await store.commitMessage(
      emptyRoom,
      message(1),
      planCommit(emptyRoom, message(1), clock.now()),
    );

    expect(result).toEqual({
      status: 'stale',
      room: {
        ...emptyRoom,
        lastMessage: message(3, 'c-3'),
        members: {
          ann: { lastReadMessageId: message(2).messageId, sent: 2, read: 1 },
          bob: { lastReadMessageId: null, sent: 1, read: 0 },
        },
        recentSends: { k3: { messageId: message(3).messageId, senderId: 'ann' } },
      },
    });
  });

  it('adds the recent map to a room written before the counting scheme, then commits', async () => {
    const invalidPath = Object.assign(
      new Error('The document path provided in the update expression is invalid for update'),
      {
        name: 'ValidationException',
      },
    );
    ddb.on(UpdateCommand).rejectsOnce(invalidPath).resolvesOnce({}).resolvesOnce({ Attributes: roomItem });

    const result = await store.commitMessage(
      emptyRoom,
      message(1),
      planCommit(emptyRoom, message(1), clock.now()),
    );

    expect(ddb.commandCalls(UpdateCommand)[1]?.args[0].input.UpdateExpression).toBe(
      'SET #recent = if_not_exists(#recent, :empty)',
    );
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 3);
    expect(result.status).toBe('committed');
  });

  it('passes any other error on', async () => {
    ddb.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceeded'));

    await expect(
      store.commitMessage(emptyRoom, message(1), planCommit(emptyRoom, message(1), clock.now())),
    ).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('partial batches', () => {
  it('asks BatchGetItem again for the keys it left unprocessed', async () => {
    const unprocessed = { 'users-t': { Keys: [{ userId: 'bob' }] } };
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'rooms-t': [roomItem], 'users-t': [{ userId: 'ann', displayName: 'Ann' }] },
        UnprocessedKeys: unprocessed,
      })
      .resolvesOnce({
        Responses: { 'users-t': [{ userId: 'bob', displayName: 'Bob' }] },
        UnprocessedKeys: {},
      });

    const { room, users } = await store.getRoomAndUsers(ROOM_ID, ['ann', 'bob']);

    expect(ddb).toReceiveCommandTimes(BatchGetCommand, 2);
    expect(batchGetRequest(1)).toEqual(unprocessed);
    expect(room?.roomId).toBe(ROOM_ID);
    expect([...users.keys()].sort()).toEqual(['ann', 'bob']);
  });

  it('writes again the items BatchWriteItem left unprocessed, before deleting the old entries', async () => {
    const newEntry = (userId: string) => ({
      PutRequest: { Item: { pk: `activity#${userId}`, sk: `2026-11-24T11#${ROOM_ID}`, roomId: ROOM_ID } },
    });
    const unprocessed = { 'rooms-t': [newEntry('bob')] };
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: unprocessed })
      .resolves({ UnprocessedItems: {} });

    await store.moveActivity(ROOM_ID, ['ann', 'bob'], '2026-11-24T10', '2026-11-24T11');

    const requests = ddb.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems);
    expect(requests).toEqual([
      { 'rooms-t': [newEntry('ann'), newEntry('bob')] },
      unprocessed,
      {
        'rooms-t': ['ann', 'bob'].map((userId) => ({
          DeleteRequest: { Key: { pk: `activity#${userId}`, sk: `2026-11-24T10#${ROOM_ID}` } },
        })),
      },
    ]);
  });
});

describe('putMessage', () => {
  it('reads the stored copy consistently when the failed condition carries no item', async () => {
    const first = { ...message(1, 'c-1'), dedupKey: 'client#ann#c-1', counts: { ann: 1, bob: 0 } };
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: first });

    const result = await store.putMessage(message(2, 'c-1'), { ann: 2, bob: 0 }, 'attempt-1');

    expect(result).toEqual({
      status: 'duplicate',
      existing: { message: message(1, 'c-1'), counts: { ann: 1, bob: 0 } },
    });
    expect(ddb).toReceiveCommandExactlyOnceWith(GetCommand, {
      TableName: 'messages-t',
      Key: { roomId: ROOM_ID, dedupKey: 'client#ann#c-1' },
      ConsistentRead: true,
    });
  });

  it("answers stored when the item the condition met is this attempt's own (the SDK retried a put that was applied)", async () => {
    const mine = {
      ...message(1, 'c-1'),
      dedupKey: 'client#ann#c-1',
      counts: { ann: 1, bob: 0 },
      attempt: 'attempt-1',
    };
    ddb.on(PutCommand).rejects(conditionFailed(mine));

    expect(await store.putMessage(message(1, 'c-1'), { ann: 1, bob: 0 }, 'attempt-1')).toEqual({
      status: 'stored',
    });
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({ attempt: 'attempt-1', counts: { ann: 1, bob: 0 } }),
    });
  });

  it('fails when the duplicate the condition reported cannot be read', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});

    await expect(store.putMessage(message(2, 'c-1'), { ann: 2, bob: 0 }, 'attempt-1')).rejects.toThrow(
      'not found',
    );
  });
});
