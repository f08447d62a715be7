import 'aws-sdk-client-mock-vitest/extend';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoChatStore, type TableNames } from '../../../lambdas/adapters/dynamo-store.js';
import type { Message, Room } from '../../../lambdas/domain/model.js';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLES: TableNames = {
  rooms: 'rooms-t',
  messages: 'messages-t',
  connections: 'connections-t',
  users: 'users-t',
};
const NOW_SECONDS = 1_795_000_000;
const store = new DynamoChatStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  TABLES,
  () => NOW_SECONDS,
);

const message: Message = {
  messageId: '01JBQ2N7X0000000000000000A',
  roomId: 'chat_ann_bob',
  senderId: 'ann',
  content: 'hello',
  sentAt: '2026-11-24T10:00:00.000Z',
  clientMessageId: 'c-1',
};

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    $metadata: {},
    message: 'The conditional request failed',
    ...(item === undefined ? {} : { Item: marshall(item) }),
  });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoChatStore.putMessage', () => {
  it("puts the message on condition that the sender's clientMessageId is new", async () => {
    ddb.on(PutCommand).resolves({});

    const result = await store.putMessage(message);

    expect(result).toEqual({ status: 'stored' });
    expect(ddb).toReceiveCommandExactlyOnceWith(PutCommand, {
      TableName: 'messages-t',
      Item: { ...message, dedupKey: 'client#ann#c-1' },
      ConditionExpression: 'attribute_not_exists(dedupKey)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('keys a message without clientMessageId on its own id, so it is never a duplicate', async () => {
    ddb.on(PutCommand).resolves({});
    const { clientMessageId: _dropped, ...withoutClientId } = message;

    await store.putMessage(withoutClientId);

    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: { ...withoutClientId, dedupKey: `id#${message.messageId}` },
    });
  });

  it('answers the stored copy from the marshalled item of a failed condition, without another read', async () => {
    const stored = { ...message, messageId: '01JBQ2N7X0000000000000000B', dedupKey: 'client#ann#c-1' };
    ddb.on(PutCommand).rejects(conditionFailed(stored));

    const result = await store.putMessage(message);

    expect(result).toEqual({
      status: 'duplicate',
      existing: {
        messageId: '01JBQ2N7X0000000000000000B',
        roomId: 'chat_ann_bob',
        senderId: 'ann',
        content: 'hello',
        sentAt: message.sentAt,
        clientMessageId: 'c-1',
      },
    });
    expect(ddb).not.toReceiveCommand(GetCommand);
  });

  it('reads the stored copy consistently when the failed condition carries no item', async () => {
    const stored = { ...message, messageId: '01JBQ2N7X0000000000000000C', dedupKey: 'client#ann#c-1' };
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: stored });

    const result = await store.putMessage(message);

    expect(result).toEqual({
      status: 'duplicate',
      existing: expect.objectContaining({ messageId: stored.messageId }),
    });
    expect(ddb).toReceiveCommandExactlyOnceWith(GetCommand, {
      TableName: 'messages-t',
      Key: { roomId: 'chat_ann_bob', dedupKey: 'client#ann#c-1' },
      ConsistentRead: true,
    });
  });

  it('fails when the duplicate cannot be found', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});

    await expect(store.putMessage(message)).rejects.toThrow('not found');
  });

  it('passes any other error on', async () => {
    ddb.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded'));

    await expect(store.putMessage(message)).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('DynamoChatStore.recordMessage', () => {
  const key = { pk: 'chat_ann_bob', sk: 'room' };
  const names = { '#sender': 'ann', '#r0': 'bob' };
  const increment = 'members.#r0.unread = members.#r0.unread + :one';
  const lastMessageOlder = '(attribute_not_exists(lastMessage) OR lastMessage.messageId < :messageId)';
  const lastSentOlder =
    '(attribute_not_exists(members.#sender.lastSent) OR members.#sender.lastSent < :messageId)';
  const fullUpdate = {
    TableName: 'rooms-t',
    Key: key,
    UpdateExpression: `SET lastMessage = :message, updatedAt = :sentAt, members.#sender.lastSent = :messageId, ${increment}`,
    ConditionExpression: `attribute_exists(pk) AND ${lastMessageOlder} AND ${lastSentOlder}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ':one': 1,
      ':messageId': message.messageId,
      ':message': message,
      ':sentAt': message.sentAt,
    },
  };
  const countAndPointer = {
    TableName: 'rooms-t',
    Key: key,
    UpdateExpression: `SET members.#sender.lastSent = :messageId, ${increment}`,
    ConditionExpression: `attribute_exists(pk) AND ${lastSentOlder}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':one': 1, ':messageId': message.messageId },
  };

  it("records a new message in one update: last message, activity time, sender's pointer, recipient's unread", async () => {
    ddb.on(UpdateCommand).resolves({});

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'new');

    expect(result).toBe('recorded');
    expect(ddb).toReceiveCommandExactlyOnceWith(UpdateCommand, fullUpdate);
  });

  it('only counts a new message (and moves the sender pointer) when a newer one is already the last message', async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'new');

    expect(result).toBe('recorded');
    expect(ddb).toReceiveCommandTimes(UpdateCommand, 2);
    expect(ddb).toReceiveNthCommandWith(UpdateCommand, 2, countAndPointer);
  });

  it("still counts a new message that the sender's own newer message overtook, unless it was this very message", async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).rejectsOnce(conditionFailed()).resolves({});

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'new');

    expect(result).toBe('recorded');
    expect(ddb).toReceiveNthCommandWith(UpdateCommand, 3, {
      TableName: 'rooms-t',
      Key: key,
      UpdateExpression: `SET ${increment}`,
      ConditionExpression: 'attribute_exists(pk) AND members.#sender.lastSent <> :messageId',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':one': 1, ':messageId': message.messageId },
    });
  });

  it('skips a new message that a racing retry already counted', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'new');

    expect(result).toBe('skipped');
    expect(ddb).toReceiveCommandTimes(UpdateCommand, 3);
  });

  it('repairs a message never counted: counts it, then makes it the last message if it is the newest', async () => {
    ddb.on(UpdateCommand).resolves({});

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'repair');

    expect(result).toBe('recorded');
    expect(ddb).toReceiveNthCommandWith(UpdateCommand, 1, countAndPointer);
    expect(ddb).toReceiveNthCommandWith(UpdateCommand, 2, {
      TableName: 'rooms-t',
      Key: key,
      UpdateExpression: 'SET lastMessage = :message, updatedAt = :sentAt',
      ConditionExpression: lastMessageOlder,
      ExpressionAttributeValues: {
        ':messageId': message.messageId,
        ':message': message,
        ':sentAt': message.sentAt,
      },
    });
  });

  it("skips a repair when the sender's pointer shows the message was counted", async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    const result = await store.recordMessage('chat_ann_bob', message, ['bob'], 'repair');

    expect(result).toBe('skipped');
    expect(ddb).toReceiveCommandTimes(UpdateCommand, 1);
  });

  it('passes any other error on', async () => {
    ddb.on(UpdateCommand).rejects(new Error('ValidationException'));

    await expect(store.recordMessage('chat_ann_bob', message, ['bob'], 'new')).rejects.toThrow(
      'ValidationException',
    );
  });
});

describe('DynamoChatStore.advanceReadPointer', () => {
  it('moves the pointer on condition that it is behind, and sets the unread count', async () => {
    ddb.on(UpdateCommand).resolves({});

    const moved = await store.advanceReadPointer('chat_ann_bob', 'ann', message.messageId, 2);

    expect(moved).toBe(true);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pk: 'chat_ann_bob', sk: 'room' },
      UpdateExpression: 'SET members.#u.lastRead = :messageId, members.#u.unread = :unread',
      ConditionExpression:
        'attribute_exists(members.#u) AND (attribute_not_exists(members.#u.lastRead) OR members.#u.lastRead < :messageId)',
      ExpressionAttributeNames: { '#u': 'ann' },
      ExpressionAttributeValues: { ':messageId': message.messageId, ':unread': 2 },
    });
  });

  it('answers false when the pointer is already at or past the message', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    expect(await store.advanceReadPointer('chat_ann_bob', 'ann', message.messageId, 0)).toBe(false);
  });
});

describe('DynamoChatStore.getRoomAndUsers', () => {
  const roomItem = {
    pk: 'chat_ann_bob',
    sk: 'room',
    participants: ['ann', 'bob'],
    createdAt: '2026-11-24T09:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
    lastMessage: message,
    members: { ann: { unread: 0, lastRead: message.messageId }, bob: { unread: 3 } },
  };
  const annItem = {
    userId: 'ann',
    displayName: 'Ann',
    avatarUrl: 'https://example.com/a.png',
    'conn#a1': { expiresAt: NOW_SECONDS + 100 },
    'conn#a2': { expiresAt: NOW_SECONDS + 100, roomId: 'chat_ann_bob' },
  };
  const bobItem = { userId: 'bob', displayName: 'Bob', lastSeenAt: '2026-11-24T08:00:00.000Z' };

  it('reads the room and the profiles in one BatchGet across both tables', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { 'rooms-t': [roomItem], 'users-t': [annItem, bobItem] } });

    const { room, users } = await store.getRoomAndUsers('chat_ann_bob', ['ann', 'bob']);

    expect(ddb).toReceiveCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: {
        'rooms-t': { Keys: [{ pk: 'chat_ann_bob', sk: 'room' }] },
        'users-t': { Keys: [{ userId: 'ann' }, { userId: 'bob' }] },
      },
    });
    expect(room).toEqual<Room>({
      roomId: 'chat_ann_bob',
      participants: ['ann', 'bob'],
      createdAt: roomItem.createdAt,
      updatedAt: roomItem.updatedAt,
      lastMessage: message,
      members: {
        ann: { lastReadMessageId: message.messageId, unreadCount: 0 },
        bob: { lastReadMessageId: null, unreadCount: 3 },
      },
    });
    expect(users.get('ann')).toEqual({
      userId: 'ann',
      displayName: 'Ann',
      avatarUrl: 'https://example.com/a.png',
      lastSeenAt: null,
      connections: [
        { connectionId: 'a1', expiresAt: NOW_SECONDS + 100 },
        { connectionId: 'a2', expiresAt: NOW_SECONDS + 100, roomId: 'chat_ann_bob' },
      ],
    });
    expect(users.get('bob')).toMatchObject({ lastSeenAt: bobItem.lastSeenAt, connections: [] });
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    const unprocessed = { 'users-t': { Keys: [{ userId: 'bob' }] } };
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'rooms-t': [roomItem], 'users-t': [annItem] },
        UnprocessedKeys: unprocessed,
      })
      .resolvesOnce({ Responses: { 'users-t': [bobItem] }, UnprocessedKeys: {} });

    const { room, users } = await store.getRoomAndUsers('chat_ann_bob', ['ann', 'bob']);

    expect(ddb).toReceiveCommandTimes(BatchGetCommand, 2);
    expect(ddb).toReceiveNthCommandWith(BatchGetCommand, 2, { RequestItems: unprocessed });
    expect(room?.roomId).toBe('chat_ann_bob');
    expect([...users.keys()].sort()).toEqual(['ann', 'bob']);
  });

  describe('when DynamoDB keeps leaving keys unprocessed', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gives up with an error after backing off a bounded number of times', async () => {
      const unprocessed = { 'users-t': { Keys: [{ userId: 'bob' }] } };
      ddb.on(BatchGetCommand).resolves({ Responses: {}, UnprocessedKeys: unprocessed });

      const read = store.getRoomAndUsers('chat_ann_bob', ['ann', 'bob']);
      const settled = expect(read).rejects.toThrow('unprocessed');
      await vi.runAllTimersAsync();

      await settled;
      expect(ddb).toReceiveCommandTimes(BatchGetCommand, 9);
    });
  });

  it('answers no room when the room item is missing', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { 'rooms-t': [], 'users-t': [annItem] } });

    const { room, users } = await store.getRoomAndUsers('chat_ann_bob', ['ann', 'bob']);

    expect(room).toBeUndefined();
    expect(users.size).toBe(1);
  });
});

describe('DynamoChatStore.getRooms', () => {
  it('reads nothing for no ids, and batches 100 keys at a time', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { 'rooms-t': [] } });
    const ids = Array.from({ length: 150 }, (_, i) => `chat_ann_u${i}`);

    expect(await store.getRooms([])).toEqual([]);
    expect(ddb).not.toReceiveCommand(BatchGetCommand);
    await store.getRooms(ids);

    expect(ddb).toReceiveCommandTimes(BatchGetCommand, 2);
    const sizes = ddb
      .commandCalls(BatchGetCommand)
      .map((call) => call.args[0].input.RequestItems?.['rooms-t']?.Keys?.length);
    expect(sizes).toEqual([100, 50]);
  });
});

describe('DynamoChatStore.createRoom', () => {
  const room: Room = {
    roomId: 'chat_ann_bob',
    participants: ['ann', 'bob'],
    createdAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
    lastMessage: null,
    members: {},
  };

  it('writes the room, on condition that it is new, and both memberships in one transaction', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    expect(await store.createRoom(room)).toBe('created');
    expect(ddb).toReceiveCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: {
            TableName: 'rooms-t',
            Item: {
              pk: 'chat_ann_bob',
              sk: 'room',
              participants: ['ann', 'bob'],
              createdAt: room.createdAt,
              updatedAt: room.updatedAt,
              members: { ann: { unread: 0 }, bob: { unread: 0 } },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: 'rooms-t',
            Item: { pk: 'member#ann', sk: 'chat_ann_bob', peers: ['bob'], createdAt: room.createdAt },
          },
        },
        {
          Put: {
            TableName: 'rooms-t',
            Item: { pk: 'member#bob', sk: 'chat_ann_bob', peers: ['ann'], createdAt: room.createdAt },
          },
        },
      ],
    });
  });

  it("answers 'exists' when the transaction is cancelled by the room's condition", async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        $metadata: {},
        message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
      }),
    );

    expect(await store.createRoom(room)).toBe('exists');
  });

  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      $metadata: {},
      message: 'Transaction cancelled',
      CancellationReasons: codes.map((Code) => ({ Code })),
    });

  it('tries again after a conflict with a racing start of the same room: created', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('TransactionConflict', 'None', 'None'))
      .resolves({});

    expect(await store.createRoom(room)).toBe('created');
    expect(ddb).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('tries again after a conflict with a racing start of the same room: exists', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None'))
      .rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

    expect(await store.createRoom(room)).toBe('exists');
    expect(ddb).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('passes the conflict on after three attempts', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));

    await expect(store.createRoom(room)).rejects.toThrow('Transaction cancelled');
    expect(ddb).toReceiveCommandTimes(TransactWriteCommand, 3);
  });

  it('passes on a cancellation for another reason, without trying again', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError', 'None'));

    await expect(store.createRoom(room)).rejects.toThrow('Transaction cancelled');
    expect(ddb).toReceiveCommandTimes(TransactWriteCommand, 1);
  });
});

describe('DynamoChatStore.listMemberships', () => {
  it("follows the Query's pages and answers each room with its peers", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ pk: 'member#ann', sk: 'chat_ann_bob', peers: ['bob'] }],
        LastEvaluatedKey: { pk: 'member#ann', sk: 'chat_ann_bob' },
      })
      .resolvesOnce({ Items: [{ pk: 'member#ann', sk: 'chat_ann_cat', peers: ['cat'] }] });

    const memberships = await store.listMemberships('ann');

    expect(memberships).toEqual([
      { roomId: 'chat_ann_bob', peers: ['bob'] },
      { roomId: 'chat_ann_cat', peers: ['cat'] },
    ]);
    expect(ddb).toReceiveNthCommandWith(QueryCommand, 1, {
      TableName: 'rooms-t',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'member#ann' },
    });
    expect(ddb).toReceiveNthCommandWith(QueryCommand, 2, {
      ExclusiveStartKey: { pk: 'member#ann', sk: 'chat_ann_bob' },
    });
  });
});

describe('DynamoChatStore.listMessages', () => {
  const item = (n: number) => ({
    roomId: 'chat_ann_bob',
    dedupKey: `id#${n}`,
    messageId: `01JBQ2N7X000000000000000${String(n).padStart(2, '0')}`,
    senderId: 'ann',
    content: `m${n}`,
    sentAt: '2026-11-24T10:00:00.000Z',
  });
  const contents = (page: { messages: readonly Message[] }) => page.messages.map((m) => m.content);

  it('queries the newest messages by id, one more than asked, and answers them oldest first with hasMore', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item(5), item(4), item(3)] });

    const page = await store.listMessages('chat_ann_bob', { limit: 2 });

    expect(ddb).toReceiveCommandExactlyOnceWith(QueryCommand, {
      TableName: 'messages-t',
      IndexName: 'byMessageId',
      KeyConditionExpression: 'roomId = :roomId',
      ExpressionAttributeValues: { ':roomId': 'chat_ann_bob' },
      ScanIndexForward: false,
      Limit: 3,
    });
    expect(contents(page)).toEqual(['m4', 'm5']);
    expect(page.hasMore).toBe(true);
  });

  it('queries backward from before, answering oldest first and no more when the query runs out', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item(2), item(1)] });

    const page = await store.listMessages('chat_ann_bob', { limit: 2, before: item(3).messageId });

    expect(ddb).toReceiveCommandWith(QueryCommand, {
      KeyConditionExpression: 'roomId = :roomId AND messageId < :bound',
      ExpressionAttributeValues: { ':roomId': 'chat_ann_bob', ':bound': item(3).messageId },
      ScanIndexForward: false,
    });
    expect(contents(page)).toEqual(['m1', 'm2']);
    expect(page.hasMore).toBe(false);
  });

  it('queries forward from after and keeps the order', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item(3), item(4), item(5)] });

    const page = await store.listMessages('chat_ann_bob', { limit: 2, after: item(2).messageId });

    expect(ddb).toReceiveCommandWith(QueryCommand, {
      KeyConditionExpression: 'roomId = :roomId AND messageId > :bound',
      ScanIndexForward: true,
      Limit: 3,
    });
    expect(contents(page)).toEqual(['m3', 'm4']);
    expect(page.hasMore).toBe(true);
  });
});

describe('DynamoChatStore.getMessage and countMessagesAfter', () => {
  it('finds a message by id through the index', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ ...message, dedupKey: 'client#ann#c-1' }] });

    expect(await store.getMessage('chat_ann_bob', message.messageId)).toEqual(message);
    expect(ddb).toReceiveCommandWith(QueryCommand, {
      IndexName: 'byMessageId',
      KeyConditionExpression: 'roomId = :roomId AND messageId = :messageId',
      ExpressionAttributeValues: { ':roomId': 'chat_ann_bob', ':messageId': message.messageId },
    });
  });

  it('answers undefined for an unknown message', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    expect(await store.getMessage('chat_ann_bob', message.messageId)).toBeUndefined();
  });

  it("counts other senders' messages after the given one across pages, up to the cap", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Count: 3, LastEvaluatedKey: { roomId: 'chat_ann_bob', dedupKey: 'x' } })
      .resolvesOnce({ Count: 2 });

    expect(await store.countMessagesAfter('chat_ann_bob', message.messageId, 'ann', 1000)).toBe(5);
    expect(ddb).toReceiveNthCommandWith(QueryCommand, 1, {
      KeyConditionExpression: 'roomId = :roomId AND messageId > :after',
      FilterExpression: 'senderId <> :me',
      ExpressionAttributeValues: { ':roomId': 'chat_ann_bob', ':after': message.messageId, ':me': 'ann' },
      Select: 'COUNT',
    });
  });

  it('stops counting at the cap', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Count: 700, LastEvaluatedKey: { roomId: 'chat_ann_bob', dedupKey: 'x' } });

    expect(await store.countMessagesAfter('chat_ann_bob', message.messageId, 'ann', 1000)).toBe(1000);
    expect(ddb).toReceiveCommandTimes(QueryCommand, 2);
  });
});

describe('DynamoChatStore users', () => {
  it('answers no profile for an item without a display name', async () => {
    ddb.on(GetCommand).resolves({ Item: { userId: 'ann', 'conn#a1': { expiresAt: NOW_SECONDS + 10 } } });

    expect(await store.getUser('ann')).toBeUndefined();
  });

  it('creates a missing profile without overwriting an existing name', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { userId: 'ann', displayName: 'Ann' } });

    const profile = await store.createProfileIfMissing('ann', 'Suggested');

    expect(profile).toMatchObject({ userId: 'ann', displayName: 'Ann' });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      TableName: 'users-t',
      Key: { userId: 'ann' },
      UpdateExpression:
        'SET displayName = if_not_exists(displayName, :name), createdAt = if_not_exists(createdAt, :now)',
      ReturnValues: 'ALL_NEW',
    });
  });

  it('updates only the fields given', async () => {
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { userId: 'ann', displayName: 'Ann', avatarUrl: 'https://a/b' } });

    await store.updateProfile('ann', { avatarUrl: 'https://a/b' }, 'Default');

    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      UpdateExpression:
        'SET createdAt = if_not_exists(createdAt, :now), displayName = if_not_exists(displayName, :name), avatarUrl = :avatar',
      ExpressionAttributeValues: expect.objectContaining({ ':name': 'Default', ':avatar': 'https://a/b' }),
    });
  });
});

describe('DynamoChatStore connections', () => {
  it('records the connection in both tables and counts the live ones from the updated profile', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({
      Attributes: {
        userId: 'ann',
        displayName: 'Ann',
        'conn#a1': { expiresAt: NOW_SECONDS + 7500 },
        'conn#a2': { expiresAt: NOW_SECONDS + 10, roomId: 'chat_ann_bob' },
        'conn#old': { expiresAt: NOW_SECONDS - 5 },
        'conn#edge': { expiresAt: NOW_SECONDS },
      },
    });

    const live = await store.addConnection(
      'ann',
      { connectionId: 'a1', expiresAt: NOW_SECONDS + 7500, roomId: 'chat_ann_bob' },
      '2026-11-24T10:00:00.000Z',
      'Ann',
    );

    expect(live).toBe(2);
    expect(ddb).toReceiveCommandWith(PutCommand, {
      TableName: 'connections-t',
      Item: {
        connectionId: 'a1',
        userId: 'ann',
        connectedAt: '2026-11-24T10:00:00.000Z',
        expiresAt: NOW_SECONDS + 7500,
        roomId: 'chat_ann_bob',
      },
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      TableName: 'users-t',
      Key: { userId: 'ann' },
      ExpressionAttributeNames: { '#connection': 'conn#a1' },
      ExpressionAttributeValues: {
        ':connection': { expiresAt: NOW_SECONDS + 7500, roomId: 'chat_ann_bob' },
        ':name': 'Ann',
        ':now': '2026-11-24T10:00:00.000Z',
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('forgets the connection in both tables, notes when the user was last seen and counts what is left', async () => {
    ddb.on(DeleteCommand).resolves({});
    ddb.on(UpdateCommand).resolves({
      Attributes: { userId: 'ann', displayName: 'Ann', 'conn#a2': { expiresAt: NOW_SECONDS + 60 } },
    });

    const left = await store.removeConnection('ann', 'a1', '2026-11-24T10:05:00.000Z');

    expect(left).toBe(1);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      TableName: 'connections-t',
      Key: { connectionId: 'a1' },
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      TableName: 'users-t',
      Key: { userId: 'ann' },
      UpdateExpression: 'SET lastSeenAt = :lastSeenAt REMOVE #connection',
      ConditionExpression: 'attribute_exists(userId)',
      ExpressionAttributeNames: { '#connection': 'conn#a1' },
      ExpressionAttributeValues: { ':lastSeenAt': '2026-11-24T10:05:00.000Z' },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('removes a stale connection without touching lastSeenAt', async () => {
    ddb.on(DeleteCommand).resolves({});
    ddb.on(UpdateCommand).resolves({ Attributes: { userId: 'ann', displayName: 'Ann' } });

    expect(await store.removeConnection('ann', 'a1', null)).toBe(0);
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toBe('REMOVE #connection');
    expect(update?.ExpressionAttributeValues).toBeUndefined();
  });

  it('answers 0 for a user who has no profile, without creating one', async () => {
    ddb.on(DeleteCommand).resolves({});
    ddb.on(UpdateCommand).rejects(conditionFailed());

    expect(await store.removeConnection('ghost', 'g1', '2026-11-24T10:05:00.000Z')).toBe(0);
  });
});
