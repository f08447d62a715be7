/**
 * The requests behind the notification ports, built against mocked AWS clients: what the bus, the
 * scheduler, SES, DynamoDB and Secrets Manager are asked, and how their answers are read.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  AccountSuspendedException,
  BadRequestException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  SendingPausedException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ChatEvent, scheduleRetry } from '../../../definitions/notifications.js';
import {
  DynamoNotificationPrefs,
  DynamoNotifiedMarks,
} from '../../../lambdas/adapters/dynamo/notification-store.js';
import { changeOf } from '../../../lambdas/adapters/dynamo/stream-images.js';
import { EventBridgePublisher } from '../../../lambdas/adapters/events/eventbridge.js';
import { EventBridgeCheckScheduler } from '../../../lambdas/adapters/events/scheduler.js';
import { SesMailer } from '../../../lambdas/adapters/events/ses.js';
import {
  HttpWebhookEndpoint,
  queueOf,
  SecretsManagerSecret,
  SqsRetryQueue,
} from '../../../lambdas/adapters/events/webhook.js';
import { PublishError } from '../../../lambdas/domain/ports.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';

const REGION = { region: 'us-east-1' };
const events = (n: number): ChatEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `room.created:chat_a_${i}`,
    type: 'room.created',
    time: T0,
    detail: { roomId: `chat_a_${i}`, participants: ['a', String(i)], createdAt: T0 },
  }));

describe('EventBridge publisher', () => {
  const eb = mockClient(EventBridgeClient);
  const noPause = { attempts: 3, pause: async () => {} };
  const publisher = new EventBridgePublisher(new EventBridgeClient(REGION), 'chat-bus', noPause);
  beforeEach(() => eb.reset());

  it('puts the events in batches of 10: source chat, the type as detail-type, the whole event as Detail', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const sent = events(12);

    await publisher.publish(sent);

    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 2]);
    expect(calls[0]?.args[0].input.Entries?.[0]).toEqual({
      EventBusName: 'chat-bus',
      Source: 'chat',
      DetailType: 'room.created',
      Detail: JSON.stringify(sent[0]),
      Time: new Date(T0),
    });
  });

  it('sends again only the entries PutEvents reports failed', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'e0' }, { ErrorCode: 'ThrottlingException' }, { EventId: 'e2' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    const sent = events(3);

    await publisher.publish(sent);

    const second = eb.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries ?? [];
    expect(second.map((entry) => entry.Detail)).toEqual([JSON.stringify(sent[1])]);
  });

  it('throws a PublishError naming the events still failed after its attempts, and those after them', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, i) =>
        i === 0 && input.Entries.length === 10 ? { EventId: 'ok' } : { ErrorCode: 'InternalFailure' },
      ),
    }));

    const error = await publisher.publish(events(12)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect(Math.min(...(error as PublishError).failed)).toBe(1);
    expect((error as PublishError).failed).toContain(11);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});

describe('Scheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  const checks = new EventBridgeCheckScheduler(new SchedulerClient(REGION), {
    functionArn: 'arn:aws:lambda:us-east-1:1:function:Notify',
    roleArn: 'arn:aws:iam::1:role/Scheduler',
    deadLetterArn: 'arn:aws:sqs:us-east-1:1:NotifyDeadLetters',
  });
  const check = {
    name: 'notify-abc',
    at: new Date('2026-11-24T10:05:00.000Z'),
    target: { userId: 'bob', roomId: 'chat_ann_bob' },
  };
  beforeEach(() => scheduler.reset());

  it('creates a one-time schedule (UTC) that invokes the notify function with the target, retried then dead-lettered, and deletes itself', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    expect(await checks.schedule(check)).toBe('created');
    expect(scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'notify-abc',
      GroupName: 'chat-notifications',
      ScheduleExpression: 'at(2026-11-24T10:05:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:1:function:Notify',
        RoleArn: 'arn:aws:iam::1:role/Scheduler',
        Input: '{"userId":"bob","roomId":"chat_ann_bob"}',
        RetryPolicy: {
          MaximumRetryAttempts: scheduleRetry.maximumRetryAttempts,
          MaximumEventAgeInSeconds: scheduleRetry.maximumEventAgeSeconds,
        },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:1:NotifyDeadLetters' },
      },
    });
  });

  it('answers exists for a name already taken, and throws anything else', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejectsOnce(new ConflictException({ $metadata: {}, message: 'exists', Message: 'exists' }))
      .rejects(new Error('throttled'));

    expect(await checks.schedule(check)).toBe('exists');
    await expect(checks.schedule(check)).rejects.toThrow('throttled');
  });
});

describe('SES mailer', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => ses.reset());

  it('sends one simple UTF-8 e-mail with text and HTML from the configured address', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm' });

    await new SesMailer(new SESv2Client(REGION), 'chat@example.com').send({
      to: 'bob@example.com',
      subject: '1 new message from Ann',
      text: 'text',
      html: '<p>html</p>',
    });

    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: 'chat@example.com',
      Destination: { ToAddresses: ['bob@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: '1 new message from Ann', Charset: 'UTF-8' },
          Body: { Text: { Data: 'text', Charset: 'UTF-8' }, Html: { Data: '<p>html</p>', Charset: 'UTF-8' } },
        },
      },
    });
  });
  it('answers refused when SES rejects the recipient for good (sandbox: an unverified recipient)', async () => {
    const mailer = new SesMailer(new SESv2Client(REGION), 'chat@example.com');
    const mail = { to: 'bob@example.com', subject: 's', text: 't', html: 'h' };
    ses.on(SendEmailCommand).rejects(
      new MessageRejected({
        $metadata: {},
        message:
          'Email address is not verified. The following identities failed the check in region US-EAST-1: bob@example.com',
      }),
    );
    expect(await mailer.send(mail)).toBe('refused');
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm' });
    expect(await mailer.send(mail)).toBe('sent');
  });

  it('sends to a Unicode domain in its Punycode form, and refuses a non-ASCII local part without asking SES', async () => {
    const mailer = new SesMailer(new SESv2Client(REGION), 'chat@example.com');
    ses.on(SendEmailCommand).resolves({ MessageId: 'm' });
    const mail = (to: string) => ({ to, subject: 's', text: 't', html: 'h' });

    expect(await mailer.send(mail('bob@exämple.com'))).toBe('sent');
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Destination: { ToAddresses: ['bob@xn--exmple-cua.com'] },
    });
    expect(await mailer.send(mail('bøb@example.com'))).toBe('refused');
    expect(ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
  });

  it('throws what a retry may get past or the operator must fix: the From identity rejected, a bad request, throttling, a paused or suspended account', async () => {
    const mailer = new SesMailer(new SESv2Client(REGION), 'chat@example.com');
    const mail = { to: 'bob@example.com', subject: 's', text: 't', html: 'h' };
    for (const error of [
      // The sender's identity, not the recipient: every e-mail stops, so the operator must hear of it.
      new MessageRejected({
        $metadata: {},
        message:
          'Email address is not verified. The following identities failed the check in region US-EAST-1: chat@example.com',
      }),
      new BadRequestException({ $metadata: {}, message: 'Illegal address' }),
      new TooManyRequestsException({ $metadata: {}, message: 'Too many requests' }),
      new SendingPausedException({ $metadata: {}, message: 'Sending paused' }),
      new AccountSuspendedException({ $metadata: {}, message: 'Suspended' }),
      new MailFromDomainNotVerifiedException({ $metadata: {}, message: 'MAIL FROM not verified' }),
    ]) {
      ses.reset();
      ses.on(SendEmailCommand).rejects(error);
      await expect(mailer.send(mail)).rejects.toThrow(error.message);
    }
  });
});

describe('DynamoDB notification stores', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(REGION));
  const marks = new DynamoNotifiedMarks(db, 'rooms-t');
  const prefs = new DynamoNotificationPrefs(db, { users: 'users-t' });
  const m1 = ulidAt(T0, 1);
  const m2 = ulidAt(T0, 2);
  beforeEach(() => ddb.reset());

  it('moves the marks in one transaction, each on condition that it stands where it was read', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    expect(
      await marks.moveNotifiedMarks('bob', [
        { roomId: 'chat_ann_bob', from: null, to: m1 },
        { roomId: 'chat_bob_carol', from: m1, to: m2 },
      ]),
    ).toBe(true);

    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: {
            TableName: 'rooms-t',
            Item: { pk: 'notified#bob', sk: 'chat_ann_bob', messageId: m1 },
            ConditionExpression: 'attribute_not_exists(pk) OR messageId = :none',
            ExpressionAttributeValues: { ':none': '' },
          },
        },
        {
          Put: {
            TableName: 'rooms-t',
            Item: { pk: 'notified#bob', sk: 'chat_bob_carol', messageId: m2 },
            ConditionExpression: 'messageId = :from',
            ExpressionAttributeValues: { ':from': m1 },
          },
        },
      ],
    });
  });

  it('answers false when a condition fails or another transaction holds the marks, and throws anything else', async () => {
    const cancelled = (Code: string) =>
      new TransactionCanceledException({
        $metadata: {},
        message: 'cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code }],
      });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('ConditionalCheckFailed'))
      .rejectsOnce(cancelled('TransactionConflict'))
      .rejects(cancelled('ValidationError'));
    const move = [{ roomId: 'chat_ann_bob', from: null, to: m1 }];

    expect(await marks.moveNotifiedMarks('bob', move)).toBe(false);
    expect(await marks.moveNotifiedMarks('bob', move)).toBe(false);
    await expect(marks.moveNotifiedMarks('bob', move)).rejects.toThrow('cancelled');
  });

  it('writes a mark moved back to none as "", which reads as no mark', async () => {
    ddb.on(TransactWriteCommand).resolves({});

    await marks.moveNotifiedMarks('bob', [{ roomId: 'chat_ann_bob', from: m1, to: null }]);

    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Put?.Item).toEqual({
      pk: 'notified#bob',
      sk: 'chat_ann_bob',
      messageId: '',
    });
  });

  it('sets only the given preference inside the notify map, or creates the map when there is none', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ $metadata: {}, message: 'no map' }))
      .resolves({});

    expect(await prefs.updateNotificationPrefs('bob', { delayMinutes: 30 })).toEqual({
      email: true,
      delayMinutes: 30,
    });

    const [first, second] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(first).toMatchObject({
      UpdateExpression: 'SET #notify.#f0 = :f0',
      ConditionExpression: 'attribute_exists(#notify)',
      ExpressionAttributeNames: { '#notify': 'notify', '#f0': 'delayMinutes' },
      ExpressionAttributeValues: { ':f0': 30 },
    });
    expect(second).toMatchObject({
      UpdateExpression: 'SET #notify = :notify',
      ConditionExpression: 'attribute_not_exists(#notify)',
      ExpressionAttributeValues: { ':notify': { email: true, delayMinutes: 30 } },
    });
  });

  it('reads the preferences alone from the users item', async () => {
    ddb.on(GetCommand).resolves({ Item: { notify: { email: false } } });

    expect(await prefs.getNotificationPrefs('bob')).toEqual({ email: false, delayMinutes: 5 });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      ProjectionExpression: '#notify',
      Key: { userId: 'bob' },
    });
  });
});

describe('stream images', () => {
  const record = (
    eventName: DynamoDBRecord['eventName'],
    keys: Record<string, unknown>,
    newImage?: Record<string, unknown>,
    oldImage?: Record<string, unknown>,
  ): DynamoDBRecord =>
    ({
      eventName,
      dynamodb: {
        Keys: marshall(keys),
        SequenceNumber: '1',
        ApproximateCreationDateTime: Date.parse(T0) / 1000,
        ...(newImage === undefined ? {} : { NewImage: marshall(newImage, { removeUndefinedValues: true }) }),
        ...(oldImage === undefined ? {} : { OldImage: marshall(oldImage, { removeUndefinedValues: true }) }),
      },
    }) as DynamoDBRecord;
  const roomItem = (lastRead?: string) => ({
    pk: 'chat_ann_bob',
    sk: 'room',
    participants: ['ann', 'bob'],
    createdAt: T0,
    updatedAt: T0,
    members: {
      ann: { sent: 1, read: 0 },
      bob: { sent: 0, read: 1, ...(lastRead === undefined ? {} : { lastRead }) },
    },
    recent: {},
  });
  const messageItem = {
    roomId: 'chat_ann_bob',
    dedupKey: 'client#ann#c1',
    messageId: ulidAt(T0, 1),
    senderId: 'ann',
    content: 'Hi',
    sentAt: T0,
    clientMessageId: 'c1',
    counts: { ann: 1, bob: 0 },
    attempt: 'x',
  };

  it('reads a message inserted, with its room’s participants from its counts', () => {
    expect(
      changeOf(record('INSERT', { roomId: 'chat_ann_bob', dedupKey: 'client#ann#c1' }, messageItem)),
    ).toEqual({
      kind: 'message',
      message: {
        messageId: messageItem.messageId,
        roomId: 'chat_ann_bob',
        senderId: 'ann',
        content: 'Hi',
        sentAt: T0,
        clientMessageId: 'c1',
      },
      participants: ['ann', 'bob'],
    });
  });

  it('reads the room item inserted and modified, at the record’s time', () => {
    const inserted = changeOf(record('INSERT', { pk: 'chat_ann_bob', sk: 'room' }, roomItem()));
    const modified = changeOf(
      record('MODIFY', { pk: 'chat_ann_bob', sk: 'room' }, roomItem(ulidAt(T0, 1)), roomItem()),
    );

    expect(inserted).toMatchObject({
      kind: 'room',
      before: undefined,
      after: { roomId: 'chat_ann_bob' },
      time: T0,
    });
    expect(modified).toMatchObject({
      kind: 'room',
      before: { members: { bob: { lastReadMessageId: null } } },
      after: { members: { bob: { lastReadMessageId: ulidAt(T0, 1) } } },
    });
  });

  it('ignores every other item and change', () => {
    expect(
      changeOf(
        record('INSERT', { pk: 'member#ann', sk: 'chat_ann_bob' }, { pk: 'member#ann', sk: 'chat_ann_bob' }),
      ),
    ).toBeUndefined();
    expect(
      changeOf(record('INSERT', { pk: 'activity#ann', sk: '2026-11-24T10#chat_ann_bob' }, {})),
    ).toBeUndefined();
    expect(changeOf(record('INSERT', { pk: 'notified#bob', sk: 'chat_ann_bob' }, {}))).toBeUndefined();
    expect(
      changeOf(record('REMOVE', { pk: 'chat_ann_bob', sk: 'room' }, undefined, roomItem())),
    ).toBeUndefined();
    expect(
      changeOf(record('MODIFY', { roomId: 'chat_ann_bob', dedupKey: 'x' }, messageItem, messageItem)),
    ).toBeUndefined();
  });

  it('calls a room change without its old image unreadable, rather than a new room', () => {
    expect(changeOf(record('MODIFY', { pk: 'chat_ann_bob', sk: 'room' }, roomItem()))).toEqual({
      unreadable: expect.any(Error),
    });
  });
});

describe('webhook adapters', () => {
  it('POSTs JSON with the signature header, refusing redirects, and fails on anything but 2xx', async () => {
    const requests: [string, RequestInit][] = [];
    const answers = [204, 302, 500];
    const fetcher = (async (url: string, init: RequestInit) => {
      requests.push([url, init]);
      return new Response(null, { status: answers.shift() ?? 500 });
    }) as typeof fetch;
    const endpoint = new HttpWebhookEndpoint('https://backend.example.com/hook', fetcher, 1000);

    await endpoint.post('{"a":1}', 'sha256=00');
    await expect(endpoint.post('{}', 'sha256=00')).rejects.toThrow('webhook answered 302');
    await expect(endpoint.post('{}', 'sha256=00')).rejects.toThrow('webhook answered 500');

    const [url, init] = requests[0] ?? [];
    expect(url).toBe('https://backend.example.com/hook');
    expect(init).toMatchObject({
      method: 'POST',
      body: '{"a":1}',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', 'X-Chat-Signature': 'sha256=00' },
    });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('reads the secret once per container, again after a while, and not a failed read', async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).rejectsOnce(new Error('denied')).resolves({ SecretString: 's3cret' });
    const clock = new FixedClock();
    const secret = new SecretsManagerSecret(new SecretsManagerClient(REGION), 'arn:secret', clock);

    await expect(secret.secret()).rejects.toThrow('denied');
    expect(await secret.secret()).toBe('s3cret');
    expect(await secret.secret()).toBe('s3cret');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    clock.advance(11 * 60_000);
    await secret.secret();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'arn:secret' });
  });

  it('holds a failed delivery back by changing its visibility, on the queue its ARN names, asking its URL once', async () => {
    const sqs = mockClient(SQSClient);
    const url = 'http://127.0.0.1:4566/123456789012/chat-webhook';
    sqs.on(GetQueueUrlCommand).rejectsOnce(new Error('throttled')).resolves({ QueueUrl: url });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const queue = new SqsRetryQueue(new SQSClient(REGION), 'arn:aws:sqs:eu-west-1:123456789012:chat-webhook');

    // A failed look-up fails this backoff (the delivery comes back anyway) and is asked again.
    await expect(queue.retryLater('rh-0', 60)).rejects.toThrow('throttled');
    await queue.retryLater('rh-1', 120);
    await queue.retryLater('rh-2', 240);

    expect(sqs).toHaveReceivedCommandTimes(GetQueueUrlCommand, 2);
    expect(sqs).toHaveReceivedCommandWith(GetQueueUrlCommand, {
      QueueName: 'chat-webhook',
      QueueOwnerAWSAccountId: '123456789012',
    });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: url,
      ReceiptHandle: 'rh-1',
      VisibilityTimeout: 120,
    });
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 2);
    expect(() => queueOf('arn:aws:sns:eu-west-1:123456789012:topic')).toThrow(/Not an SQS queue ARN/);
  });
});
