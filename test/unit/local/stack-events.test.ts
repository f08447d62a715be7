/**
 * `startLocalStack` with the events services: the handlers' environment names every endpoint and
 * ARN, the services answer the real SDK clients at those endpoints, the rooms and messages tables
 * stream, and `stop()` leaves no port listening and no DynamoDB Local process behind.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleGroupName } from '../../../definitions/notifications.js';
import { dynamoLocalPids, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';
import { localDynamoClient } from '../../../local/tables.js';

const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
const receiver = createServer((_req, res) => res.end());
let stack: LocalStack;
let startMs = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const started = performance.now();
  stack = await startLocalStack({
    port: 0,
    inMemory: true,
    quiet: true,
    webRoot: '/nonexistent',
    notifyDelaySeconds: 2,
    webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
  });
  startMs = performance.now() - started;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  receiver.close();
});

describe('the local stack with events', () => {
  it('gives the handlers every endpoint, name and ARN of the events pipeline', () => {
    expect(stack.env).toMatchObject({
      AWS_ENDPOINT_URL_SCHEDULER: stack.schedulerUrl,
      AWS_ENDPOINT_URL_EVENTBRIDGE: stack.eventsUrl,
      AWS_ENDPOINT_URL_SESV2: stack.sesUrl,
      AWS_ENDPOINT_URL_SQS: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      EVENT_BUS_NAME: 'ChatEventBus',
      NOTIFY_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/ChatSchedulerRole',
      NOTIFY_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:NotifyDeadLetters',
      NOTIFY_DELAY_SECONDS: '2',
      EMAIL_FROM: 'chat@localhost.test',
      APP_URL: stack.webUrl,
      WEBHOOK_URL: stack.webhook?.url,
      WEBHOOK_SECRET_ARN: stack.webhook?.secretArn,
    });
    // Start-up time with the events services (recorded in local/README.md).
    console.log(`startLocalStack with events: ${Math.round(startMs)} ms`);
  });

  it('streams the rooms and messages tables as their definitions say', async () => {
    const client = localDynamoClient(stack.dynamoEndpoint);
    const views = await Promise.all(
      ['RoomsTable', 'MessagesTable', 'UsersTable'].map(
        async (TableName) =>
          (await client.send(new DescribeTableCommand({ TableName }))).Table?.StreamSpecification,
      ),
    );
    client.destroy();
    expect(views).toEqual([
      { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      undefined,
    ]);
  });

  it('answers the SDK clients at the endpoints it hands out', async () => {
    const scheduler = new SchedulerClient({ ...config, endpoint: stack.env.AWS_ENDPOINT_URL_SCHEDULER });
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'stack-check',
        GroupName: scheduleGroupName,
        ScheduleExpression: 'at(2099-01-01T00:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: stack.env.NOTIFY_FUNCTION_ARN, RoleArn: stack.env.SCHEDULER_ROLE_ARN, Input: '{}' },
      }),
    );
    await scheduler.send(new DeleteScheduleCommand({ Name: 'stack-check', GroupName: scheduleGroupName }));
    scheduler.destroy();

    const events = new EventBridgeClient({ ...config, endpoint: stack.env.AWS_ENDPOINT_URL_EVENTBRIDGE });
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: stack.env.EVENT_BUS_NAME,
            Source: 'chat',
            DetailType: 'room.created',
            Detail: '{}',
          },
        ],
      }),
    );
    events.destroy();
    expect(stack.events().map((event) => event.id)).toContain(put.Entries?.[0]?.EventId);

    const ses = new SESv2Client({ ...config, endpoint: stack.env.AWS_ENDPOINT_URL_SESV2 });
    const sent = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: stack.env.EMAIL_FROM,
        Destination: { ToAddresses: ['ann@example.com'] },
        Content: { Simple: { Subject: { Data: 'hi' }, Body: { Text: { Data: 'hi' } } } },
      }),
    );
    ses.destroy();
    expect((await stack.emails()).map((email) => email.messageId)).toContain(sent.MessageId);

    const secrets = new SecretsManagerClient({
      ...config,
      endpoint: stack.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    });
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: stack.env.WEBHOOK_SECRET_ARN }));
    secrets.destroy();
    expect(secret.SecretString).toBe(stack.webhook?.secret);
  });

  it('stops every service: no port answers, no DynamoDB Local process is left', async () => {
    const urls = [
      stack.restUrl,
      stack.filesUrl,
      stack.lambdaUrl,
      stack.schedulerUrl,
      stack.eventsUrl,
      stack.sesUrl,
      stack.env.AWS_ENDPOINT_URL_SQS as string,
      stack.env.AWS_ENDPOINT_URL_SECRETS_MANAGER as string,
      stack.dynamoEndpoint,
    ];
    const dynamoPort = Number(new URL(stack.dynamoEndpoint).port);
    await stack.stop();
    for (const url of urls) {
      await expect(fetch(url, { signal: AbortSignal.timeout(2000) }), url).rejects.toThrow();
    }
    expect(dynamoLocalPids(dynamoPort)).toEqual([]);
  });
});
