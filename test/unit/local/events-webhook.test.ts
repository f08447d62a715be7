/**
 * The local EventBridge (PutEvents), the webhook queue with its Lambda mapping and SQS API, and
 * Secrets Manager, against the real @aws-sdk clients, with a stub webhook sender: validation and
 * answers of PutEvents, the envelope on the queue, partial batch failures, visibility backoff through
 * ChangeMessageVisibility, the redrive to the dead letters, and the signing key.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerDefinition } from '../../../definitions/routes.js';
import { makeDeadLetters } from '../../../local/dead-letters.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import { type BusEvent, type LocalEventBridge, startLocalEventBridge } from '../../../local/eventbridge.js';
import { type LambdaHandler, withOverrides } from '../../../local/lambda.js';
import type { Log } from '../../../local/log.js';
import { type LocalSecrets, startLocalSecrets } from '../../../local/secrets.js';
import { type LocalSqs, startLocalSqs } from '../../../local/sqs.js';
import { eventually } from './support.js';

const quiet: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sender: HandlerDefinition = {
  functionId: 'Webhook',
  entry: 'stub/webhook.ts',
  tables: {},
  postsToConnections: false,
  verifiesTokens: false,
};
const BUS = 'ChatBus';
const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };

interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string };
  eventSourceARN: string;
}
/**
 * What the stub sender does with each delivery: 'ok', 'fail' (partial failure), 'backoff' (fail +
 * visibility 0), 'hold' (extends its visibility, then past 12 hours from the receive: the errors go
 * to `holdErrors`), 'invalid' (answers a batchItemFailures that is not a list).
 */
let behaviour: (event: BusEvent, receiveCount: number) => 'ok' | 'fail' | 'backoff' | 'hold' | 'invalid' =
  () => 'ok';
const holdErrors: string[] = [];
const delivered: { event: BusEvent; receiveCount: number }[] = [];
let sqsClient: SQSClient;

const webhook: LambdaHandler = async (event) => {
  const records = (event as { Records: SqsRecord[] }).Records;
  const failures: { itemIdentifier: string }[] = [];
  let invalid = false;
  for (const record of records) {
    const bus = JSON.parse(record.body) as BusEvent;
    const count = Number(record.attributes.ApproximateReceiveCount);
    delivered.push({ event: bus, receiveCount: count });
    const outcome = behaviour(bus, count);
    if (outcome === 'ok') continue;
    if (outcome === 'invalid') invalid = true;
    const name = record.eventSourceARN.slice(record.eventSourceARN.lastIndexOf(':') + 1);
    const visibility = async (VisibilityTimeout: number) => {
      const { QueueUrl } = await sqsClient.send(
        new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: '123456789012' }),
      );
      await sqsClient.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout,
        }),
      );
    };
    if (outcome === 'hold') {
      await visibility(100);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      // Two seconds after the receive, 43 199 more would end past 12 hours from it.
      await visibility(43_199).catch((error: Error) => holdErrors.push(`${error.name}: ${error.message}`));
      await visibility(43_000);
      await visibility(0);
      continue;
    }
    failures.push({ itemIdentifier: record.messageId });
    if (outcome === 'backoff') await visibility(0);
  }
  if (invalid) return { batchItemFailures: { itemIdentifier: failures[0]?.itemIdentifier } };
  return { batchItemFailures: failures };
};

let bridge: LocalEventBridge;
let sqs: LocalSqs;
let secrets: LocalSecrets;
let events: EventBridgeClient;
const deadLetters = makeDeadLetters(undefined, quiet);

beforeAll(async () => {
  sqs = await startLocalSqs({
    queue: {
      name: 'WebhookQueue',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 3,
      deadLetterQueue: 'WebhookDeadLetters',
    },
    consumer: {
      definition: sender,
      resolve: withOverrides({ Webhook: webhook }),
      batchSize: 5,
      maxConcurrency: 5,
      timeoutMs: 5000,
    },
    deadLetters,
    log: quiet,
    pollIntervalMs: 20,
  });
  bridge = await startLocalEventBridge({
    busName: BUS,
    log: quiet,
    rules: [
      { name: 'Webhook', pattern: { source: ['chat'] }, deliver: (event) => sqs.send(JSON.stringify(event)) },
    ],
  });
  secrets = await startLocalSecrets({ dataDir: undefined, log: quiet });
  events = new EventBridgeClient({ ...config, endpoint: bridge.endpoint });
  sqsClient = new SQSClient({ ...config, endpoint: sqs.endpoint });
});
afterAll(async () => {
  events?.destroy();
  sqsClient?.destroy();
  await Promise.all([bridge?.close(), sqs?.close(), secrets?.close()]);
});

const entry = (
  type: string,
  detail: unknown,
  extra: Partial<PutEventsRequestEntry> = {},
): PutEventsRequestEntry => ({
  EventBusName: BUS,
  Source: 'chat',
  DetailType: type,
  Detail: JSON.stringify(detail),
  ...extra,
});

describe('EventBridge PutEvents', () => {
  it('answers an EventId per entry and a failure per bad entry, and logs the envelopes', async () => {
    const before = bridge.events().length;
    const answer = await events.send(
      new PutEventsCommand({
        Entries: [
          entry('message.new', { id: 'e1' }),
          entry('message.new', { id: 'e2' }, { Source: undefined }),
          entry('message.new', { id: 'e3' }, { Detail: '[1,2]' }),
          entry('message.new', { id: 'e4' }, { Detail: 'not json' }),
          entry('room.created', { id: 'e5' }, { EventBusName: bridge.busArn }),
          entry('message.new', { id: 'e6' }, { Source: 'aws.chat' }),
        ],
      }),
    );
    expect(answer.FailedEntryCount).toBe(4);
    expect(answer.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ok',
      'NotAuthorizedForSourceException',
    ]);
    const logged = bridge.events().slice(before);
    expect(logged.map((e) => e.id)).toEqual([answer.Entries?.[0]?.EventId, answer.Entries?.[4]?.EventId]);
    expect(logged[0]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'message.new',
      source: 'chat',
      account: '123456789012',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: { id: 'e1' },
    });
    // The same log, unsigned, for a process that does not hold the stack (an integration test).
    const served = (await (await fetch(bridge.logUrl)).json()) as { events: unknown[] };
    expect(served.events.slice(before)).toEqual(logged);
    expect((await fetch(bridge.logUrl, { method: 'POST' })).status).toBe(403);
  });

  it('refuses the whole request for more than 10 entries, over 256 KB, or another bus', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => entry('message.new', { i }));
    await expect(events.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const big = entry('message.new', { text: 'x'.repeat(256 * 1024) });
    await expect(events.send(new PutEventsCommand({ Entries: [big] }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    // "Less than 256KB": Source (4) + DetailType (11) + Detail ({"text":"…"}, 11 + n) bytes. Source
    // "test", which the webhook's rule does not take: nothing reaches the queue.
    const sized = (total: number) =>
      entry('message.new', { text: 'x'.repeat(total - 26) }, { Source: 'test' });
    await expect(events.send(new PutEventsCommand({ Entries: [sized(256 * 1024)] }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const under = await events.send(new PutEventsCommand({ Entries: [sized(256 * 1024 - 1)] }));
    expect(under.FailedEntryCount).toBe(0);
    await expect(
      events.send(new PutEventsCommand({ Entries: [entry('message.new', {}, { EventBusName: undefined })] })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      events.send(new PutEventsCommand({ Entries: [entry('message.new', {}, { EventBusName: 'other' })] })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses a request signed with another key', async () => {
    const wrong = new EventBridgeClient({
      ...config,
      endpoint: bridge.endpoint,
      credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' },
    });
    await expect(wrong.send(new PutEventsCommand({ Entries: [entry('x', {})] }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
  });
});

describe('the webhook queue', () => {
  it('delivers each chat event’s envelope to the sender as an SQS record, once when it succeeds', async () => {
    behaviour = () => 'ok';
    delivered.length = 0;
    const answer = await events.send(new PutEventsCommand({ Entries: [entry('message.read', { n: 1 })] }));
    await eventually(() => (delivered.length > 0 && sqs.depth() === 0 ? true : undefined));
    expect(delivered).toEqual([
      {
        event: expect.objectContaining({ id: answer.Entries?.[0]?.EventId, detail: { n: 1 } }),
        receiveCount: 1,
      },
    ]);
  });

  it('redelivers only the failed records, after their visibility (changed by the sender), then moves them to the dead letters', async () => {
    delivered.length = 0;
    behaviour = (event) => ((event.detail as { n: number }).n === 2 ? 'backoff' : 'ok');
    await events.send(
      new PutEventsCommand({ Entries: [entry('message.new', { n: 2 }), entry('message.new', { n: 3 })] }),
    );
    await eventually(() => (sqs.depth() === 0 ? true : undefined), 5000);
    const counts = (n: number) =>
      delivered.filter((d) => (d.event.detail as { n: number }).n === n).map((d) => d.receiveCount);
    // maxReceiveCount 3: three deliveries, then the fourth receive moves it.
    expect(counts(2)).toEqual([1, 2, 3]);
    expect(counts(3)).toEqual([1]);
    const letters = deadLetters.list('WebhookDeadLetters');
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]?.body as string)).toMatchObject({ detail: { n: 2 } });
  });

  it('lets a failed record wait for the queue’s visibility timeout when the sender does not change it', async () => {
    delivered.length = 0;
    let first = true;
    behaviour = () => {
      const outcome = first ? 'fail' : 'ok';
      first = false;
      return outcome;
    };
    await events.send(new PutEventsCommand({ Entries: [entry('message.new', { n: 4 })] }));
    await eventually(() => (delivered.length === 1 ? true : undefined));
    const failedAt = Date.now();
    await eventually(() => (delivered.length === 2 ? true : undefined), 3000);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(900);
  });

  it('takes a batchItemFailures that is not a list as the whole batch failing (an invalid response)', async () => {
    delivered.length = 0;
    behaviour = (_event, count) => (count === 1 ? 'invalid' : 'ok');
    await events.send(new PutEventsCommand({ Entries: [entry('message.new', { n: 5 })] }));
    await eventually(() => (delivered.length === 2 ? true : undefined), 3000);
    expect(delivered.map((d) => d.receiveCount)).toEqual([1, 2]);
  });

  it('refuses a visibility timeout that would end more than 12 hours after the receive', async () => {
    delivered.length = 0;
    holdErrors.length = 0;
    behaviour = (_event, count) => (count === 1 ? 'hold' : 'ok');
    await events.send(new PutEventsCommand({ Entries: [entry('message.new', { n: 6 })] }));
    await eventually(() => (delivered.length === 1 && sqs.depth() === 0 ? true : undefined), 6000);
    expect(holdErrors).toEqual([
      'InvalidParameterValue: Value 43199 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].',
    ]);
  }, 10_000);

  it('answers the SQS errors the sender may meet', async () => {
    const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: 'WebhookQueue' }));
    expect(QueueUrl).toBe(sqs.queueUrl);
    await expect(sqsClient.send(new GetQueueUrlCommand({ QueueName: 'Other' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
    await expect(
      sqsClient.send(
        new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: 'nope', VisibilityTimeout: 10 }),
      ),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  });
});

describe('Secrets Manager', () => {
  it('answers the webhook key by name or ARN, and nothing else', async () => {
    const client = new SecretsManagerClient({ ...config, endpoint: secrets.endpoint });
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: secrets.secretArn }));
    expect(byArn.SecretString).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(byArn.SecretString).toBe(secrets.secretValue);
    expect(byArn.VersionStages).toEqual(['AWSCURRENT']);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'ChatWebhookSecret' }))).ARN).toBe(
      secrets.secretArn,
    );
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'other' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    client.destroy();
  });
});
