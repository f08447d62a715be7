/**
 * Wires the notification and event functions, once per container. Configuration is read at cold
 * start (a missing variable fails the init by name); each AWS client other than DynamoDB's is loaded
 * on first use, since most invocations need few of them: most stream records are room commits that
 * publish nothing, most checks find the recipient online or the messages read, and send nothing.
 */
import { eventEnvVars } from '../../definitions/env.js';
import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoActivityIndex } from '../adapters/dynamo/activity-index.js';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.js';
import {
  DynamoNotificationPrefs,
  DynamoNotifiedMarks,
  DynamoRecipients,
} from '../adapters/dynamo/notification-store.js';
import { DynamoRoomStore } from '../adapters/dynamo/room-store.js';
import { DynamoUserReads } from '../adapters/dynamo/user-reads.js';
import { ChangeConsumer } from '../domain/change-consumer.js';
import { NotifyService } from '../domain/notify-check.js';
import type { CheckScheduler, EventPublisher, Mailer, NotificationStore } from '../domain/ports.js';
import { type RetryQueue, WebhookDeliveries } from '../domain/webhooks.js';
import {
  emailConfig,
  eventBusName,
  notifyFunctionArn,
  type SchedulingConfig,
  schedulingConfig,
  webhookConfig,
} from './config.js';
import { lazy } from './files.js';
import { logger } from './logger.js';
import { clock, methodsOf, type ServiceNeeds, tablesFor } from './wiring.js';

function eventPublisher(): EventPublisher {
  const bus = eventBusName();
  const publisher = lazy(async () => {
    const [{ EventBridgeClient }, { EventBridgePublisher }] = await Promise.all([
      import('@aws-sdk/client-eventbridge'),
      import('../adapters/events/eventbridge.js'),
    ]);
    return new EventBridgePublisher(new EventBridgeClient({}), bus);
  });
  return { publish: async (events) => (await publisher()).publish(events) };
}

/**
 * Schedules checks that invoke `functionArn()` (asked on the first schedule, so inside an invocation),
 * with Scheduler's client and adapter loaded then.
 */
function checkScheduler(config: SchedulingConfig, functionArn: () => string): CheckScheduler {
  const scheduler = lazy(async () => {
    const [{ SchedulerClient }, { EventBridgeCheckScheduler }] = await Promise.all([
      import('@aws-sdk/client-scheduler'),
      import('../adapters/events/scheduler.js'),
    ]);
    return new EventBridgeCheckScheduler(new SchedulerClient({}), {
      functionArn: functionArn(),
      roleArn: config.roleArn,
      deadLetterArn: config.deadLetterArn,
    });
  });
  return { schedule: async (check) => (await scheduler()).schedule(check) };
}

/**
 * For a stack deployed without e-mail (no -c emailFrom), which gives the consumer no scheduling
 * configuration: events are published, and no check is scheduled (one could only fail to send).
 */
const noChecks: CheckScheduler = { schedule: async () => 'exists' };

export function buildChangeConsumer(needs: ServiceNeeds): ChangeConsumer {
  const scheduling = process.env[eventEnvVars.notifyFunctionArn] ? schedulingConfig() : undefined;
  const target = scheduling === undefined ? undefined : notifyFunctionArn();
  return new ChangeConsumer(
    methodsOf(new DynamoRecipients(makeDocumentClient(), tablesFor(needs)), 'getRecipients'),
    eventPublisher(),
    scheduling === undefined || target === undefined ? noChecks : checkScheduler(scheduling, () => target),
    clock,
    logger,
    scheduling?.delayOverrideSeconds === undefined
      ? {}
      : { delayOverrideSeconds: scheduling.delayOverrideSeconds },
  );
}

/** `arn:aws:lambda:<region>:<account>:function:<name>`, without a version or alias after it. */
export function unqualifiedFunctionArn(arn: string): string {
  return arn.split(':').slice(0, 7).join(':');
}

export interface NotifyFunction {
  readonly service: NotifyService;
  /**
   * Tells the wiring the ARN Lambda invoked this function by (the handler's context), which its
   * re-checks invoke: scheduled by the same function they run. Unqualified, as the scheduler role's
   * right names it.
   */
  invokedAs(functionArn: string): void;
}

export function buildNotifyService(needs: ServiceNeeds): NotifyFunction {
  const { from, appUrl } = emailConfig();
  const scheduling = schedulingConfig();
  const db = makeDocumentClient();
  const tables = tablesFor(needs);
  const mailer = lazy(async () => {
    const [{ SESv2Client }, { SesMailer }] = await Promise.all([
      import('@aws-sdk/client-sesv2'),
      import('../adapters/events/ses.js'),
    ]);
    return new SesMailer(new SESv2Client({}), from);
  });
  const mail: Mailer = { send: async (message) => (await mailer()).send(message) };
  let self: string | undefined;
  const checks = checkScheduler(scheduling, () => {
    if (self === undefined)
      throw new Error('The notify function scheduled a re-check before it knew its ARN');
    return self;
  });
  const service = new NotifyService(
    {
      ...methodsOf(new DynamoRoomStore(db, tables.rooms), 'getRooms'),
      ...methodsOf(new DynamoActivityIndex(db, tables.rooms), 'activityPage'),
      ...methodsOf(new DynamoMessageStore(db, tables.messages), 'listMessages'),
      ...methodsOf(new DynamoUserReads(db, tables, clock), 'getUsers'),
      ...methodsOf(new DynamoRecipients(db, tables), 'getRecipient'),
      ...methodsOf(new DynamoNotifiedMarks(db, tables.rooms), 'notifiedMarks', 'moveNotifiedMarks'),
    },
    mail,
    eventPublisher(),
    checks,
    clock,
    logger,
    {
      appUrl,
      ...(scheduling.delayOverrideSeconds === undefined
        ? {}
        : { delayOverrideSeconds: scheduling.delayOverrideSeconds }),
    },
  );
  return {
    service,
    invokedAs: (functionArn) => {
      self = unqualifiedFunctionArn(functionArn);
    },
  };
}

export type PrefsStore = Pick<NotificationStore, 'getNotificationPrefs' | 'updateNotificationPrefs'>;

export function buildPrefsStore(needs: ServiceNeeds): PrefsStore {
  return new DynamoNotificationPrefs(makeDocumentClient(), tablesFor(needs));
}

/**
 * The webhook's deliveries, for the queue a batch came from (its records name it by ARN; the backoff
 * needs its URL). The secret and the SQS client are loaded once per container.
 */
export function buildWebhookDeliveries(): (queueArn: string) => WebhookDeliveries {
  const { url, secretArn } = webhookConfig();
  const secret = lazy(async () => {
    const [{ SecretsManagerClient }, { SecretsManagerSecret }] = await Promise.all([
      import('@aws-sdk/client-secrets-manager'),
      import('../adapters/events/webhook.js'),
    ]);
    return new SecretsManagerSecret(new SecretsManagerClient({}), secretArn, clock);
  });
  const sqs = lazy(async () => {
    const [{ SQSClient }, webhook] = await Promise.all([
      import('@aws-sdk/client-sqs'),
      import('../adapters/events/webhook.js'),
    ]);
    return { client: new SQSClient({}), webhook };
  });
  const endpoint = lazy(async () => {
    const { HttpWebhookEndpoint } = await import('../adapters/events/webhook.js');
    return new HttpWebhookEndpoint(url);
  });
  const byQueue = new Map<string, WebhookDeliveries>();
  return (queueArn) => {
    let deliveries = byQueue.get(queueArn);
    if (deliveries === undefined) {
      // One per queue, so that its URL is asked once.
      const retries = lazy(async () => {
        const { client, webhook } = await sqs();
        return new webhook.SqsRetryQueue(client, queueArn);
      });
      const queue: RetryQueue = {
        retryLater: async (receiptHandle, delaySeconds) =>
          (await retries()).retryLater(receiptHandle, delaySeconds),
      };
      deliveries = new WebhookDeliveries(
        { post: async (body, signature) => (await endpoint()).post(body, signature) },
        { secret: async () => (await secret()).secret() },
        queue,
        logger,
      );
      byQueue.set(queueArn, deliveries);
    }
    return deliveries;
  };
}
