/**
 * The offline notifications and events of the local stack, composed: the EventBridge bus (PutEvents),
 * EventBridge Scheduler with the notify function as the schedules' target, SES, and with a webhook
 * URL the bus's rule, the webhook queue, its sender's mapping and the signing key in Secrets
 * Manager; once the tables exist, the change consumer's stream mappings. Each service is on its own
 * loopback port (on AWS only IAM principals reach them) and is what the handlers' SDK clients call,
 * through the AWS_ENDPOINT_URL_<SERVICE> variables of `env`. Names and ARNs are local stand-ins of the
 * deployed ones (the account is 123456789012).
 */
import {
  changeStreamFilters,
  changeStreamSettings,
  eventSource as chatEventSource,
  eventFunctionTimeoutSeconds,
  notifyAsyncSettings,
  scheduleGroupName,
  webhookAttempts,
  webhookDelivery,
} from '../definitions/notifications.js';
import { changeConsumer, eventEnvVars, notifier, webhookSender } from '../definitions/routes.js';
import { type TableDefinition, tables } from '../definitions/tables.js';
import { makeAsyncInvoker } from './async-invoke.js';
import { LOCAL_ACCOUNT } from './aws-endpoint.js';
import { type DeadLetters, deadLetterQueues, makeDeadLetters, sqsArn } from './dead-letters.js';
import { type BusEvent, startLocalEventBridge } from './eventbridge.js';
import { type HandlerResolver, localFunctionArn } from './lambda.js';
import type { Log } from './log.js';
import { type LocalScheduler, startScheduler } from './scheduler.js';
import { type LocalSecrets, type StoredSecret, startLocalSecrets } from './secrets.js';
import { type SentEmail, startLocalSes } from './ses.js';
import { type LocalSqs, startLocalSqs } from './sqs.js';
import { type StreamMappings, startStreamMappings } from './stream-mappings.js';

export const EVENT_BUS_NAME = 'ChatEventBus';
export const SCHEDULER_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/ChatSchedulerRole`;
export const DEFAULT_EMAIL_FROM = 'chat@localhost.test';

export interface EventsOptions {
  readonly resolve: HandlerResolver;
  readonly log: Log;
  readonly dataDir: string | undefined;
  readonly emailFrom: string;
  /** The web client's URL, which the e-mails link to. */
  readonly appUrl: string;
  readonly notifyDelaySeconds?: number;
  readonly webhookUrl?: string;
  /** Ports of a previous start in this process (the imported handlers keep their endpoints). */
  readonly ports?: EventPorts;
  /** Without a data folder: the webhook key of a previous start in this process. */
  readonly secret?: StoredSecret;
}

export interface EventPorts {
  readonly scheduler: number;
  readonly events: number;
  readonly ses: number;
  readonly sqs?: number;
  readonly secrets?: number;
}

export interface LocalEvents {
  /** What the handlers get (endpoints, names, ARNs). */
  readonly env: Record<string, string>;
  readonly ports: EventPorts;
  readonly schedulerUrl: string;
  readonly eventsUrl: string;
  /** The bus's log as JSON (`GET`, unsigned). */
  readonly eventLogUrl: string;
  readonly mailUrl: string;
  readonly sesUrl: string;
  readonly webhook?: { readonly url: string; readonly secretArn: string; readonly secret: StoredSecret };
  readonly deadLetters: DeadLetters;
  events(): readonly BusEvent[];
  emails(): Promise<SentEmail[]>;
  /** Puts another service's e-mail (Cognito's codes) in the mailbox (ses.ts `deliver`). */
  deliverEmail(email: { from: string; to: string; subject: string; text: string }): Promise<void>;
  scheduler: LocalScheduler;
  /** Starts the stream mappings (the tables must exist). */
  startStreams(dynamoEndpoint: string): Promise<void>;
  /** Waits until the stream mappings have handled what is written so far. */
  drainStreams(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `30s` or `2m`, in seconds (`--notify-delay`). */
export function parseDelay(value: string): number {
  const match = /^(\d{1,6})([sm])$/.exec(value);
  if (match === null)
    throw new Error(`--notify-delay must be seconds or minutes such as 30s or 2m, not ${value}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

/** `https://…`, or `http://` to a loopback host (a receiver on the developer's machine). */
export function checkWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`The webhook URL is not a URL: ${url}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new Error(`The webhook URL must be https (or http://127.0.0.1 locally), not ${url}`);
  }
  return url;
}

export async function startEvents(options: EventsOptions): Promise<LocalEvents> {
  const { log, resolve } = options;
  const deadLetters = makeDeadLetters(options.dataDir, log);
  const started: { close(): Promise<void> }[] = [];
  let mappings: StreamMappings | undefined;
  let sqs: LocalSqs | undefined;
  let secrets: LocalSecrets | undefined;
  const invoker = makeAsyncInvoker(
    resolve,
    {
      retryAttempts: notifyAsyncSettings.retryAttempts,
      maxEventAgeSeconds: notifyAsyncSettings.maxEventAgeSeconds,
      timeoutMs: eventFunctionTimeoutSeconds.notifier * 1000,
      onFailure: deadLetterQueues.notify,
    },
    deadLetters,
    log,
  );
  try {
    if (options.webhookUrl !== undefined) {
      checkWebhookUrl(options.webhookUrl);
      [sqs, secrets] = await Promise.all([
        startLocalSqs({
          queue: {
            name: 'WebhookQueue',
            visibilityTimeoutSeconds: webhookDelivery.visibilityTimeoutSeconds,
            maxReceiveCount: webhookAttempts(),
            deadLetterQueue: deadLetterQueues.webhook,
          },
          consumer: {
            definition: webhookSender,
            resolve,
            batchSize: webhookDelivery.batchSize,
            maxConcurrency: webhookDelivery.maxConcurrency,
            timeoutMs: webhookDelivery.timeoutSeconds * 1000,
          },
          deadLetters,
          log,
          ...(options.ports?.sqs === undefined ? {} : { port: options.ports.sqs }),
        }),
        startLocalSecrets({
          dataDir: options.dataDir,
          log,
          ...(options.secret === undefined ? {} : { secret: options.secret }),
          ...(options.ports?.secrets === undefined ? {} : { port: options.ports.secrets }),
        }),
      ]);
      started.push(sqs, secrets);
    }
    const queue = sqs;
    const [bridge, scheduler, ses] = await Promise.all([
      startLocalEventBridge({
        busName: EVENT_BUS_NAME,
        log,
        // The webhook's rule (lib: every chat event to the queue); none without a webhook.
        rules:
          queue === undefined
            ? []
            : [
                {
                  name: 'Webhook',
                  pattern: { source: [chatEventSource] },
                  deliver: (event) => queue.send(JSON.stringify(event)),
                },
              ],
        ...(options.ports === undefined ? {} : { port: options.ports.events }),
      }),
      startScheduler({
        log,
        dataDir: options.dataDir,
        groupName: scheduleGroupName,
        roleArn: SCHEDULER_ROLE_ARN,
        targets: [notifier],
        resolve,
        invoker,
        deadLetters,
        // AWS's 60-second precision (checks may run up to 59 s early) wherever the delays are whole
        // minutes, as the users' preferences are; a sub-minute --notify-delay (demos, the integration
        // suite's 3 s) is something AWS cannot honour at all, and keeps the second it names.
        precision:
          options.notifyDelaySeconds === undefined || options.notifyDelaySeconds % 60 === 0
            ? 'minute'
            : 'second',
        ...(options.ports === undefined ? {} : { port: options.ports.scheduler }),
      }),
      startLocalSes({
        emailFrom: options.emailFrom,
        log,
        ...(options.ports === undefined ? {} : { port: options.ports.ses }),
      }),
    ]).catch(async (error: unknown) => {
      await Promise.allSettled(started.map((server) => server.close()));
      throw error;
    });
    started.push(bridge, scheduler, ses);

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_EVENTBRIDGE: bridge.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      [eventEnvVars.eventBusName]: EVENT_BUS_NAME,
      [eventEnvVars.notifyFunctionArn]: localFunctionArn(notifier.functionId),
      [eventEnvVars.schedulerRoleArn]: SCHEDULER_ROLE_ARN,
      [eventEnvVars.notifyDlqArn]: sqsArn(deadLetterQueues.notify),
      [eventEnvVars.emailFrom]: options.emailFrom,
      [eventEnvVars.appUrl]: options.appUrl,
      ...(options.notifyDelaySeconds === undefined
        ? {}
        : { [eventEnvVars.notifyDelaySeconds]: String(options.notifyDelaySeconds) }),
      ...(sqs === undefined || secrets === undefined || options.webhookUrl === undefined
        ? {}
        : {
            AWS_ENDPOINT_URL_SQS: sqs.endpoint,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
            [eventEnvVars.webhookUrl]: options.webhookUrl,
            [eventEnvVars.webhookSecretArn]: secrets.secretArn,
          }),
    };
    let stopped: Promise<void> | undefined;
    return {
      env,
      ports: {
        scheduler: scheduler.port,
        events: bridge.port,
        ses: ses.port,
        ...(sqs === undefined ? {} : { sqs: sqs.port }),
        ...(secrets === undefined ? {} : { secrets: secrets.port }),
      },
      schedulerUrl: scheduler.endpoint,
      eventsUrl: bridge.endpoint,
      eventLogUrl: bridge.logUrl,
      sesUrl: ses.endpoint,
      mailUrl: ses.mailUrl,
      ...(secrets === undefined || options.webhookUrl === undefined
        ? {}
        : {
            webhook: {
              url: options.webhookUrl,
              secretArn: secrets.secretArn,
              secret: secrets.stored,
            },
          }),
      deadLetters,
      events: () => bridge.events(),
      emails: () => ses.emails(),
      deliverEmail: (email) => ses.deliver(email),
      scheduler,
      async startStreams(dynamoEndpoint) {
        if (changeConsumer.trigger.kind !== 'streams') throw new Error('changeConsumer must read streams');
        mappings = await startStreamMappings({
          dynamoEndpoint,
          definition: changeConsumer,
          sources: changeConsumer.trigger.tables.map((name) => ({
            tableName: (tables[name] as TableDefinition).constructId,
            filters: changeStreamFilters[name] ?? [],
          })),
          // lib turns both on for every stream mapping.
          settings: {
            ...changeStreamSettings,
            bisectBatchOnFunctionError: true,
            reportBatchItemFailures: true,
          },
          resolve,
          deadLetters,
          log,
          dataDir: options.dataDir,
          timeoutMs: eventFunctionTimeoutSeconds.changeConsumer * 1000,
        });
      },
      drainStreams: (timeoutMs) => mappings?.drain(timeoutMs) ?? Promise.resolve(),
      stop() {
        stopped ??= (async () => {
          // Streams first (they feed the scheduler and the bus), then what accepts requests, then
          // the asynchronous invocations already accepted (their retries are dropped).
          await mappings?.stop();
          invoker.cancel();
          await Promise.allSettled(started.map((server) => server.close()));
          await invoker.settle();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw error;
  }
}
