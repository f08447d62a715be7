/**
 * The local EventBridge Scheduler against the real @aws-sdk/client-scheduler, with a stub notify
 * handler: CreateSchedule's validation and refusals, Conflict, Get and Delete, a schedule firing at
 * its time (asynchronously, with Lambda's retries and on-failure record), deletion after completion,
 * Scheduler's own retries to its dead-letter queue, and persistence across a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerDefinition } from '../../../definitions/routes.js';
import { makeAsyncInvoker } from '../../../local/async-invoke.js';
import { makeDeadLetters, sqsArn } from '../../../local/dead-letters.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import { type LambdaHandler, withOverrides } from '../../../local/lambda.js';
import type { Log } from '../../../local/log.js';
import { type LocalScheduler, startScheduler, zonedTime } from '../../../local/scheduler.js';
import { eventually } from './support.js';

const quiet: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const notify: HandlerDefinition = {
  functionId: 'Notify',
  entry: 'stub/notify.ts',
  tables: {},
  postsToConnections: false,
  verifiesTokens: false,
};
const broken: HandlerDefinition = { ...notify, functionId: 'Broken', entry: 'stub/broken.ts' };
const GROUP = 'chat-notifications';
const ROLE = 'arn:aws:iam::123456789012:role/SchedulerRole';
const NOTIFY_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Notify';

const events: unknown[] = [];
let failNext = 0;
const handler: LambdaHandler = async (event) => {
  if (failNext > 0) {
    failNext -= 1;
    throw new Error('check failed');
  }
  events.push(event);
};

async function startLocal(dataDir?: string, precision?: 'second' | 'minute') {
  const deadLetters = makeDeadLetters(undefined, quiet);
  const resolve = withOverrides({ Notify: handler }, async () => {
    throw new Error('module not found');
  });
  const invoker = makeAsyncInvoker(
    resolve,
    {
      retryAttempts: 2,
      maxEventAgeSeconds: 3600,
      timeoutMs: 1000,
      retryDelaysMs: [50, 100],
      onFailure: 'NotifyDeadLetters',
    },
    deadLetters,
    quiet,
  );
  const scheduler = await startScheduler({
    log: quiet,
    dataDir,
    groupName: GROUP,
    roleArn: ROLE,
    targets: [notify, broken],
    resolve,
    invoker,
    deadLetters,
    retryDelayMs: () => 20,
    ...(precision === undefined ? {} : { precision }),
  });
  return { scheduler, deadLetters, invoker };
}

let local: Awaited<ReturnType<typeof startLocal>>;
let client: SchedulerClient;
const clientFor = (scheduler: LocalScheduler) =>
  new SchedulerClient({
    endpoint: scheduler.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });

beforeAll(async () => {
  local = await startLocal();
  client = clientFor(local.scheduler);
});
afterAll(async () => {
  client?.destroy();
  await local?.scheduler.close();
});

/** `at(...)` in UTC, `ms` from now (seconds precision, rounded up). */
const atIn = (ms: number) =>
  `at(${new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString().slice(0, 19)})`;
const baseTarget: NonNullable<CreateScheduleCommandInput['Target']> = {
  Arn: NOTIFY_ARN,
  RoleArn: ROLE,
  Input: JSON.stringify({ userId: 'ann', roomId: 'r' }),
  RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
  DeadLetterConfig: { Arn: sqsArn('NotifyDeadLetters') },
};
const input = (
  name: string,
  overrides: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput => ({
  Name: name,
  GroupName: GROUP,
  ScheduleExpression: atIn(60_000),
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: {
    Arn: NOTIFY_ARN,
    RoleArn: ROLE,
    Input: JSON.stringify({ userId: 'ann', roomId: name }),
    RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: sqsArn('NotifyDeadLetters') },
  },
  ...overrides,
});

describe('EventBridge Scheduler', () => {
  it('creates, gets and deletes a schedule, and answers Conflict for a name taken in the group', async () => {
    const created = await client.send(new CreateScheduleCommand(input('later')));
    expect(created.ScheduleArn).toBe(
      'arn:aws:scheduler:us-east-1:123456789012:schedule/chat-notifications/later',
    );
    await expect(client.send(new CreateScheduleCommand(input('later')))).rejects.toBeInstanceOf(
      ConflictException,
    );
    const got = await client.send(new GetScheduleCommand({ Name: 'later', GroupName: GROUP }));
    expect(got).toMatchObject({
      Name: 'later',
      GroupName: GROUP,
      State: 'ENABLED',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: NOTIFY_ARN, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 5 } },
    });
    expect(got.CreationDate).toBeInstanceOf(Date);
    await client.send(new DeleteScheduleCommand({ Name: 'later', GroupName: GROUP }));
    await expect(
      client.send(new GetScheduleCommand({ Name: 'later', GroupName: GROUP })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new DeleteScheduleCommand({ Name: 'later', GroupName: GROUP })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('takes a CreateSchedule sent again with its ClientToken (an SDK retry) as done, another with the name as a conflict', async () => {
    const first = await client.send(new CreateScheduleCommand(input('retried', { ClientToken: 'token-1' })));
    const again = await client.send(new CreateScheduleCommand(input('retried', { ClientToken: 'token-1' })));
    expect(again.ScheduleArn).toBe(first.ScheduleArn);
    await expect(
      client.send(new CreateScheduleCommand(input('retried', { ClientToken: 'token-2' }))),
    ).rejects.toBeInstanceOf(ConflictException);
    await client.send(new DeleteScheduleCommand({ Name: 'retried', GroupName: GROUP }));
  });

  it('fails the CreateSchedules a fault test asks for (500, nothing stored), by name or input, then serves again', async () => {
    const faults = `${local.scheduler.endpoint}/faults`;
    const armed = await fetch(faults, {
      method: 'POST',
      body: JSON.stringify({ count: 2, match: 'faulty' }),
    });
    expect(armed.status).toBe(204);
    expect(await (await fetch(faults)).json()).toEqual({ pending: 2 });
    // Another schedule goes through untouched.
    await client.send(new CreateScheduleCommand(input('healthy')));
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(client.send(new CreateScheduleCommand(input('faulty')))).rejects.toMatchObject({
        name: 'InternalServerException',
        $metadata: { httpStatusCode: 500 },
      });
    }
    await expect(
      client.send(new GetScheduleCommand({ Name: 'faulty', GroupName: GROUP })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    // By the target's input too, through the process's own switch.
    local.scheduler.failNext(1, '"roomId":"by-input"');
    await expect(
      client.send(
        new CreateScheduleCommand(input('x', { Target: { ...baseTarget, Input: '{"roomId":"by-input"}' } })),
      ),
    ).rejects.toMatchObject({ name: 'InternalServerException' });
    await client.send(new CreateScheduleCommand(input('faulty')));
    expect(await (await fetch(faults)).json()).toEqual({ pending: 0 });
    expect((await fetch(faults, { method: 'POST', body: '{"count": 0}' })).status).toBe(400);
    for (const name of ['healthy', 'faulty'])
      await client.send(new DeleteScheduleCommand({ Name: name, GroupName: GROUP }));
  });

  it('refuses bad input with ValidationException, other groups and roles like AWS and IAM would', async () => {
    // Scheduler's model has no AccessDeniedException (IAM answers it): the SDK gives its name only.
    const refusals: [CreateScheduleCommandInput, string][] = [
      [input('bad name!'), 'ValidationException'],
      [input('x'.repeat(65)), 'ValidationException'],
      [input('cron', { ScheduleExpression: 'cron(0 12 * * ? *)' }), 'ValidationException'],
      [input('garbled', { ScheduleExpression: 'at(2030-13-01T00:00:00)' }), 'ValidationException'],
      [input('april31', { ScheduleExpression: 'at(2030-04-31T00:00:00)' }), 'ValidationException'],
      [input('feb29', { ScheduleExpression: 'at(2031-02-29T00:00:00)' }), 'ValidationException'],
      [input('token', { ClientToken: 't'.repeat(65) }), 'ValidationException'],
      [input('longzone', { ScheduleExpressionTimezone: `America/${'x'.repeat(43)}` }), 'ValidationException'],
      [input('zone', { ScheduleExpressionTimezone: 'Mars/Olympus' }), 'ValidationException'],
      [input('window', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }), 'ValidationException'],
      [
        input('retries', { Target: { ...baseTarget, RetryPolicy: { MaximumRetryAttempts: 186 } } }),
        'ValidationException',
      ],
      [
        input('age', { Target: { ...baseTarget, RetryPolicy: { MaximumEventAgeInSeconds: 59 } } }),
        'ValidationException',
      ],
      [
        input('target', {
          Target: { ...baseTarget, Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Other' },
        }),
        'ValidationException',
      ],
      [
        input('role', { Target: { ...baseTarget, RoleArn: 'arn:aws:iam::123456789012:role/Other' } }),
        'AccessDeniedException',
      ],
      [input('nogroup', { GroupName: 'other' }), 'ResourceNotFoundException'],
      [input('default', { GroupName: undefined }), 'AccessDeniedException'],
    ];
    for (const [request, type] of refusals) {
      await expect(client.send(new CreateScheduleCommand(request)), request.Name).rejects.toMatchObject({
        name: type,
        $metadata: {
          httpStatusCode: type === 'ValidationException' ? 400 : type === 'AccessDeniedException' ? 403 : 404,
        },
      });
    }
    // A missing RoleArn never reaches the service: the SDK refuses it; the raw API does too (not tested here).
  });

  it('invokes the target with the Input at its time, asynchronously, then deletes the schedule (DELETE)', async () => {
    events.length = 0;
    const started = Date.now();
    await client.send(new CreateScheduleCommand(input('soon', { ScheduleExpression: atIn(1500) })));
    await eventually(() => (events.length > 0 ? true : undefined), 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(events).toEqual([{ userId: 'ann', roomId: 'soon' }]);
    await eventually(() => (local.scheduler.list().some((s) => s.Name === 'soon') ? undefined : true));
  });

  it('keeps a NONE schedule, completed, and evaluates the time in its time zone', async () => {
    events.length = 0;
    const utc = new Date(Math.ceil((Date.now() + 1000) / 1000) * 1000);
    // The same instant as wall time in Tokyo (UTC+9, no daylight saving).
    const tokyo = new Date(utc.getTime() + 9 * 3600_000).toISOString().slice(0, 19);
    expect(zonedTime(tokyo.split(/[-T:]/).map(Number), 'Asia/Tokyo')).toBe(utc.getTime());
    await client.send(
      new CreateScheduleCommand(
        input('kept', {
          ScheduleExpression: `at(${tokyo})`,
          ScheduleExpressionTimezone: 'Asia/Tokyo',
          ActionAfterCompletion: 'NONE',
        }),
      ),
    );
    await eventually(() => (events.length > 0 ? true : undefined), 5000);
    await eventually(() =>
      local.scheduler.list().find((s) => s.Name === 'kept')?.completed ? true : undefined,
    );
    expect((await client.send(new GetScheduleCommand({ Name: 'kept', GroupName: GROUP }))).Name).toBe('kept');
  });

  it('retries a failing check as Lambda does (twice), then records it for the on-failure destination', async () => {
    events.length = 0;
    failNext = 3;
    await client.send(new CreateScheduleCommand(input('failing', { ScheduleExpression: atIn(0) })));
    const letter = await eventually(() => local.deadLetters.list('NotifyDeadLetters')[0], 5000);
    expect(letter.body).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { roomId: 'failing' },
      responsePayload: { errorMessage: 'check failed' },
    });
    expect(events).toEqual([]);
  });

  it('puts the Input in the schedule’s dead-letter queue when the target cannot be invoked at all', async () => {
    await client.send(
      new CreateScheduleCommand(
        input('unreachable', {
          ScheduleExpression: atIn(0),
          Target: {
            ...baseTarget,
            Arn: 'arn:aws:lambda:us-east-1:123456789012:function:Broken',
            RetryPolicy: { MaximumRetryAttempts: 2 },
          },
        }),
      ),
    );
    const letter = await eventually(
      () =>
        local.deadLetters
          .list('NotifyDeadLetters')
          .find((l) => l.attributes?.TARGET_ARN?.endsWith(':Broken')),
      5000,
    );
    expect(letter.body).toBe(JSON.stringify({ userId: 'ann', roomId: 'r' }));
    expect(letter.attributes).toMatchObject({
      RETRY_ATTEMPTS: '2',
      SCHEDULE_ARN: expect.stringContaining('/unreachable'),
    });
  });

  it('fires at the first second of the schedule’s minute with minute precision (AWS: anywhere in that minute)', async () => {
    // A time 10 s or more ahead in the current minute: AWS may invoke as early as the minute's start.
    if (new Date().getUTCSeconds() > 45) await new Promise((resolve) => setTimeout(resolve, 16_000));
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const at = `at(${new Date(minute + 59_000).toISOString().slice(0, 19)})`;
    const early = await startLocal(undefined, 'minute');
    const earlyClient = clientFor(early.scheduler);
    try {
      events.length = 0;
      const started = Date.now();
      await earlyClient.send(new CreateScheduleCommand(input('early', { ScheduleExpression: at })));
      await eventually(() => (events.length > 0 ? true : undefined), 3000);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(events).toEqual([{ userId: 'ann', roomId: 'early' }]);
      // With second precision (the default) the same time is still to come.
      await client.send(new CreateScheduleCommand(input('exact', { ScheduleExpression: at })));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(local.scheduler.list().find((s) => s.Name === 'exact')?.completed).toBeUndefined();
      expect(events).toHaveLength(1);
      await client.send(new DeleteScheduleCommand({ Name: 'exact', GroupName: GROUP }));
    } finally {
      earlyClient.destroy();
      await early.scheduler.close();
    }
  }, 30_000);

  it('keeps schedules in the data folder: one due while stopped fires on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'scheduler-'));
    const first = await startLocal(dataDir);
    const firstClient = clientFor(first.scheduler);
    await firstClient.send(new CreateScheduleCommand(input('across', { ScheduleExpression: atIn(1000) })));
    firstClient.destroy();
    await first.scheduler.close();
    events.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(events).toEqual([]);
    const second = await startLocal(dataDir);
    try {
      await eventually(() => (events.length > 0 ? true : undefined), 3000);
      expect(events).toEqual([{ userId: 'ann', roomId: 'across' }]);
    } finally {
      await second.scheduler.close();
    }
  });
});
