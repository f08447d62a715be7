import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// The handler modules build their production services when imported: give them an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { marshall } from '@aws-sdk/util-dynamodb';
import type { RecordChange } from '../../../lambdas/domain/change-consumer.js';
import { ChangeConsumer } from '../../../lambdas/domain/change-consumer.js';
import type { NotifyService } from '../../../lambdas/domain/notify-check.js';
import { makeHandler as makeConsumeChanges } from '../../../lambdas/events/consume-changes.js';
import { makeHandler as makeDeliverWebhook } from '../../../lambdas/events/deliver-webhook.js';
import { makeHandler as makeNotify } from '../../../lambdas/events/notify.js';
import { makeHandler as makeGetNotifications } from '../../../lambdas/http/get-notifications.js';
import { makeHandler as makeUpdateNotifications } from '../../../lambdas/http/update-notifications.js';
import { unqualifiedFunctionArn } from '../../../lambdas/shared/notification-service.js';
import { FixedClock, T0, ulidAt } from '../../fakes/clock.js';
import { httpEvent, parseHttpResult, withoutAuthorizer } from '../../fakes/events.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';
import { RecordingPublisher, RecordingScheduler } from '../../fakes/notifications.js';

const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

let store: MemoryChatStore;
let logger: RecordingLogger;
beforeEach(() => {
  store = new MemoryChatStore(new FixedClock());
  logger = new RecordingLogger();
});

describe('GET /users/me/notifications', () => {
  const get = (callerId: string) =>
    makeGetNotifications(store, logger)(httpEvent({ callerId, routeKey: 'GET /users/me/notifications' }));

  it('answers the defaults until the user changes them, then what they set', async () => {
    expect(parseHttpResult(await get('ann'))).toMatchObject({
      status: 200,
      body: { email: true, delayMinutes: 5 },
    });

    await store.updateNotificationPrefs('ann', { email: false });

    expect(parseHttpResult(await get('ann')).body).toEqual({ email: false, delayMinutes: 5 });
  });

  it('answers 401 without an authorizer context', async () => {
    const result = await makeGetNotifications(
      store,
      logger,
    )(withoutAuthorizer(httpEvent({ callerId: 'ann' })));

    expect(result.statusCode).toBe(401);
  });
});

describe('PUT /users/me/notifications', () => {
  const put = (body: string, callerId = 'ann') =>
    makeUpdateNotifications(
      store,
      logger,
    )(httpEvent({ callerId, routeKey: 'PUT /users/me/notifications', body }));

  it('changes only the fields given and answers the preferences as they stand', async () => {
    expect(parseHttpResult(await put('{"delayMinutes": 30}'))).toMatchObject({
      status: 200,
      body: { email: true, delayMinutes: 30 },
    });
    expect(parseHttpResult(await put('{"email": false}')).body).toEqual({ email: false, delayMinutes: 30 });
    expect(await store.getNotificationPrefs('ann')).toEqual({ email: false, delayMinutes: 30 });
  });

  it.each([
    ['{}'],
    ['{"email": "no"}'],
    ['{"delayMinutes": 0}'],
    ['{"delayMinutes": 1441}'],
    ['{"delayMinutes": 1.5}'],
    ['{"email": true, "push": true}'],
    ['[true]'],
    ['not json'],
  ])('answers 400 to %s and changes nothing', async (body) => {
    const result = parseHttpResult(await put(body));

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
    expect(await store.getNotificationPrefs('ann')).toEqual({ email: true, delayMinutes: 5 });
  });

  it('answers 401 without an authorizer context', async () => {
    const handler = makeUpdateNotifications(store, logger);
    const result = await handler(withoutAuthorizer(httpEvent({ callerId: 'ann', body: '{"email":false}' })));

    expect(result.statusCode).toBe(401);
  });
});

describe('the change consumer handler', () => {
  const messageRecord = (sequence: number): DynamoDBRecord =>
    ({
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: `seq-${sequence}`,
        Keys: marshall({ roomId: 'chat_ann_bob', dedupKey: `id#${sequence}` }),
        NewImage: marshall({
          roomId: 'chat_ann_bob',
          dedupKey: `id#${sequence}`,
          messageId: ulidAt(T0, sequence),
          senderId: 'ann',
          content: `m${sequence}`,
          sentAt: T0,
          counts: { ann: sequence, bob: 0 },
        }),
      },
    }) as DynamoDBRecord;
  const stream = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

  it('answers no failure when every record is handled', async () => {
    const publisher = new RecordingPublisher();
    const handler = makeConsumeChanges(
      new ChangeConsumer(store, publisher, new RecordingScheduler(), new FixedClock(), logger),
    );

    expect(await handler(stream(messageRecord(1), messageRecord(2)))).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map((e) => e.id)).toEqual([
      `message.new:chat_ann_bob:${ulidAt(T0, 1)}`,
      `message.new:chat_ann_bob:${ulidAt(T0, 2)}`,
    ]);
  });

  it('answers the sequence number of the first record not handled', async () => {
    const publisher = new RecordingPublisher();
    publisher.failNextFrom(1);
    const handler = makeConsumeChanges(
      new ChangeConsumer(store, publisher, new RecordingScheduler(), new FixedClock(), logger),
    );

    expect(await handler(stream(messageRecord(1), messageRecord(2), messageRecord(3)))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'seq-2' }],
    });
  });

  it('hands the consumer one change per record, in order', async () => {
    const seen: RecordChange[][] = [];
    const handler = makeConsumeChanges({
      consume: async (changes) => {
        seen.push([...changes]);
        return undefined;
      },
    });

    await handler(
      stream(messageRecord(1), { eventName: 'REMOVE', dynamodb: { SequenceNumber: 's' } } as DynamoDBRecord),
    );

    expect(
      seen[0]?.map((change) => (change !== undefined && 'kind' in change ? change.kind : change)),
    ).toEqual(['message', undefined]);
  });
});

describe('the notify handler', () => {
  const context = { invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:Notify' };
  const notifyWith = (check: NotifyService['check'], invokedAs: string[] = []) =>
    makeNotify({ service: { check }, invokedAs: (arn) => invokedAs.push(arn) }, logger);

  it('runs the check of a valid input and answers its outcome, having said which function it is', async () => {
    const checked: unknown[] = [];
    const invokedAs: string[] = [];
    const handler = notifyWith(async (target) => {
      checked.push(target);
      return 'sent';
    }, invokedAs);

    expect(await handler({ userId: 'bob', roomId: 'chat_ann_bob' }, context)).toEqual({ outcome: 'sent' });
    expect(checked).toEqual([{ userId: 'bob', roomId: 'chat_ann_bob' }]);
    expect(invokedAs).toEqual([context.invokedFunctionArn]);
  });

  it('runs nothing for an input that names no participant of a room', async () => {
    const handler = notifyWith(async () => 'sent');

    expect(await handler({ userId: 'eve', roomId: 'chat_ann_bob' }, context)).toEqual({ outcome: 'invalid' });
    expect(await handler({}, context)).toEqual({ outcome: 'invalid' });
    expect(logger.entries.map((e) => e.level)).toEqual(['error', 'error']);
  });

  it('throws when the check fails, so the invocation is retried', async () => {
    const handler = notifyWith(async () => Promise.reject(new Error('SES refused')));

    await expect(handler({ userId: 'bob', roomId: 'chat_ann_bob' }, context)).rejects.toThrow('SES refused');
  });

  it('schedules its re-checks to invoke itself, unqualified', () => {
    expect(unqualifiedFunctionArn('arn:aws:lambda:us-east-1:1:function:Notify:live')).toBe(
      'arn:aws:lambda:us-east-1:1:function:Notify',
    );
    expect(unqualifiedFunctionArn(context.invokedFunctionArn)).toBe(context.invokedFunctionArn);
  });
});

describe('the webhook handler', () => {
  it('hands each queue its deliveries and answers the failed ones', async () => {
    const asked: { queue: string; ids: string[]; counts: number[] }[] = [];
    const handler = makeDeliverWebhook((queue) => ({
      deliver: async (deliveries) => {
        asked.push({
          queue,
          ids: deliveries.map((d) => d.id),
          counts: deliveries.map((d) => d.receiveCount),
        });
        return deliveries.filter((d) => d.body === 'fail').map((d) => d.id);
      },
    }));
    const record = (messageId: string, body: string, count: string) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: { ApproximateReceiveCount: count },
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:hook',
    });

    const result = await handler({
      Records: [record('a', 'ok', '1'), record('b', 'fail', '4')],
    } as unknown as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(asked).toEqual([{ queue: 'arn:aws:sqs:us-east-1:1:hook', ids: ['a', 'b'], counts: [1, 4] }]);
  });
});
