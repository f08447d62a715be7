import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  changeStreamFilters,
  changeStreamSettings,
  eventFunctionTimeoutSeconds,
  eventSource,
  notifyAsyncSettings,
  scheduleGroupName,
  webhookAttempts,
  webhookDeadLetterSeconds,
  webhookDelivery,
} from '../definitions/notifications.js';
import { changeConsumer, notifier, webhookSender } from '../definitions/routes.js';
import { acknowledgeWildcardResource } from './acknowledge.js';
import { type ChatEventsResources, ChatFunction } from './chat-function.js';
import type { ChatTables } from './chat-tables.js';
import type { EmailSettings } from './context.js';

export interface ChatEventsProps {
  readonly tables: ChatTables;
  readonly repoRoot: string;
  /** From address and app URL of the e-mails; absent: the notify function sends none. */
  readonly email?: Required<EmailSettings>;
  /** Where events are POSTed (https); absent: no webhook resource at all. */
  readonly webhookUrl?: string;
  /** Every notification delay, for demos; absent: the users' preferences. */
  readonly notifyDelaySeconds?: number;
}

/**
 * How long a dead-letter queue keeps what reaches it: SQS's longest, so that a failure noticed after a
 * holiday can still be looked into. A standard queue keeps a moved message's first enqueue time, so this
 * must also outlast the source queue's retention (the webhook queue's is far shorter).
 */
export const deadLetterRetention = Duration.days(14);

/** The webhook function's timeout: definitions/notifications.ts `webhookDelivery` says why. */
export const webhookTimeout = Duration.seconds(webhookDelivery.timeoutSeconds);

/**
 * The webhook queue keeps a delivery a day past the moment its retries send it to the dead-letter queue
 * (definitions/notifications.ts `webhookDeadLetterSeconds`, a little past 24 hours after the first
 * attempt): a backlog (the sender runs a few at once) delays the attempts, and SQS counts retention
 * from the enqueue. Still well within the dead-letter queue's 14 days, which a moved message keeps
 * counting from that same enqueue.
 */
export const webhookQueueRetention = Duration.seconds(webhookDeadLetterSeconds() + 24 * 60 * 60);

/**
 * The chat's events and what follows from them: the EventBridge bus, the consumer of the tables'
 * streams, the schedule group, the role Scheduler runs notification checks with and the notify
 * function, and the webhook (only with a webhook URL). Construct ids are part of the contract: `Bus`,
 * `ScheduleGroup`, `SchedulerRole`, `ChangeDeadLetters`, `NotifyDeadLetters`, `Webhook` and the
 * functions' `functionId`s, under the stack's `Events`.
 */
export class ChatEvents extends Construct {
  readonly bus: events.EventBus;
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly changeConsumer: ChatFunction;
  readonly notifyFunction: ChatFunction;
  /** Where stream records the consumer kept failing on are recorded. */
  readonly changeDeadLetters: sqs.Queue;
  /** Where failed notification checks go: the notify function's and Scheduler's own failures. */
  readonly notifyDeadLetters: sqs.Queue;
  readonly webhook?: ChatWebhook;
  /** Every function built here, for monitoring. */
  readonly functions: readonly ChatFunction[];
  /** Every dead-letter queue here, by a name for its alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;

  constructor(scope: Construct, id: string, props: ChatEventsProps) {
    super(scope, id);

    // No archive: every event carries message text, and an archive would be one more copy of it to
    // protect and to delete on request. Replays come from the tables instead.
    this.bus = new events.EventBus(this, 'Bus', { description: 'Chat events (source "chat")' });

    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: scheduleGroupName });

    this.notifyDeadLetters = deadLetterQueue(this, 'NotifyDeadLetters', {
      usedBy:
        'the notify function’s asynchronous invocations (on-failure destination) and the notification schedules (their Target.DeadLetterConfig)',
    });
    const eventResources: ChatEventsResources = {
      bus: this.bus,
      ...(props.email === undefined ? {} : { email: props.email }),
    };
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description:
        'What EventBridge Scheduler runs notification checks with: invokes the notify function only',
      // Only Scheduler acting for this account (confused deputy: another account's schedule cannot use it).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    const notifications = {
      schedulerRole: this.schedulerRole,
      scheduleGroupName,
      deadLetterQueue: this.notifyDeadLetters,
      ...(props.notifyDelaySeconds === undefined ? {} : { delaySeconds: props.notifyDelaySeconds }),
    };
    this.notifyFunction = new ChatFunction(this, {
      definition: notifier,
      // Its re-checks invoke itself, by the ARN it was invoked with: no notifyFunction here.
      resources: { tables: props.tables, events: { ...eventResources, notifications } },
      repoRoot: props.repoRoot,
      timeout: Duration.seconds(eventFunctionTimeoutSeconds.notifier),
    });
    // Its grant names the group by name: schedules created before the group exists would fail.
    this.notifyFunction.node.addDependency(this.scheduleGroup);
    // Not grantInvoke: that adds every version and alias (`<arn>:*`), which no schedule targets.
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.notifyFunction.functionArn],
      }),
    );
    // Scheduler writes a schedule's dead-letter events with the schedule's role.
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.notifyDeadLetters.queueArn] }),
    );
    this.notifyFunction.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.notifyDeadLetters),
      retryAttempts: notifyAsyncSettings.retryAttempts,
      maxEventAge: Duration.seconds(notifyAsyncSettings.maxEventAgeSeconds),
    });
    if (props.email === undefined) {
      Annotations.of(this).addWarningV2(
        'chat:emailOff',
        'No -c emailFrom: the notify function is deployed without SES rights and sends no e-mail.',
      );
    }

    this.changeDeadLetters = deadLetterQueue(this, 'ChangeDeadLetters', {
      usedBy: 'the change consumer’s stream mappings (their on-failure destination)',
    });
    this.changeConsumer = new ChatFunction(this, {
      definition: changeConsumer,
      resources: {
        tables: props.tables,
        events: {
          ...eventResources,
          notifications: { ...notifications, notifyFunction: this.notifyFunction },
        },
      },
      repoRoot: props.repoRoot,
      timeout: Duration.seconds(eventFunctionTimeoutSeconds.changeConsumer),
    });
    // Its grant names the group by name: schedules created before the group exists would fail.
    this.changeConsumer.node.addDependency(this.scheduleGroup);
    if (changeConsumer.trigger.kind !== 'streams') throw new Error('changeConsumer must read streams');
    for (const table of changeConsumer.trigger.tables) {
      const filters = changeStreamFilters[table];
      if (filters === undefined) throw new Error(`No stream filter for the ${table} table`);
      // Stream rights come with the mapping: DescribeStream, GetRecords, GetShardIterator on this
      // table's stream, and ListStreams, which has no resource to name (acknowledged below).
      this.changeConsumer.addEventSource(
        new DynamoEventSource(props.tables[table], {
          startingPosition: lambda.StartingPosition[changeStreamSettings.startingPosition],
          batchSize: changeStreamSettings.batchSize,
          retryAttempts: changeStreamSettings.retryAttempts,
          maxRecordAge: Duration.seconds(changeStreamSettings.maxRecordAgeSeconds),
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          onFailure: new SqsDlq(this.changeDeadLetters),
          filters: filters.map((pattern) => lambda.FilterCriteria.filter(pattern)),
        }),
      );
    }
    acknowledgeWildcardResource(
      this.changeConsumer.role ?? this.changeConsumer,
      '*',
      'dynamodb:ListStreams only (what CDK’s DynamoEventSource grants, as the AWSLambdaDynamoDBExecutionRole policy does): it lists stream ARNs, reads no record, and takes no stream resource; every record-reading stream action is on the two tables’ streams only.',
    );

    const deadLetterQueues: Record<string, sqs.IQueue> = {
      Change: this.changeDeadLetters,
      Notify: this.notifyDeadLetters,
    };
    const functions = [this.changeConsumer, this.notifyFunction];
    if (props.webhookUrl !== undefined) {
      this.webhook = new ChatWebhook(this, 'Webhook', {
        bus: this.bus,
        url: props.webhookUrl,
        tables: props.tables,
        repoRoot: props.repoRoot,
      });
      deadLetterQueues.Webhook = this.webhook.deadLetters;
      functions.push(this.webhook.function);
    }
    this.functions = functions;
    this.deadLetterQueues = deadLetterQueues;
  }
}

interface ChatWebhookProps {
  readonly bus: events.IEventBus;
  readonly url: string;
  readonly tables: ChatTables;
  readonly repoRoot: string;
}

/**
 * Every chat event, POSTed to one URL and signed: the signing key (generated at deploy), a rule sending
 * the bus's chat events to a queue, and the function that delivers them with backoff; what still fails
 * after a day goes to a dead-letter queue. Construct ids: `Secret`, `Rule`, `Queue`, `DeadLetters` and
 * the function's `functionId`, under `Events/Webhook`.
 */
export class ChatWebhook extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly rule: events.Rule;
  readonly function: ChatFunction;

  constructor(scope: Construct, id: string, props: ChatWebhookProps) {
    super(scope, id);

    // The HMAC key: 64 letters and digits (about 380 bits), made by Secrets Manager at deploy, so it is
    // in no template, no log and no repository. The receiver reads it from the WebhookSecretArn output.
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'HMAC-SHA256 key signing the chat webhook deliveries',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key is shared with the webhook receiver, which verifies signatures with it: an automatic rotation would break every delivery until the receiver has the new key, and the signature header carries no key id to verify against two. Rotate by hand, with the receiver.',
    });

    this.deadLetters = deadLetterQueue(this, 'DeadLetters', {
      usedBy: 'the webhook queue (redrive policy) and the rule’s target (events EventBridge could not queue)',
      detectedAsDeadLetterQueue: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(webhookDelivery.visibilityTimeoutSeconds),
      retentionPeriod: webhookQueueRetention,
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: webhookAttempts() },
    });

    this.rule = new events.Rule(this, 'Rule', {
      description: 'Every chat event, to the webhook queue',
      eventBus: props.bus,
      eventPattern: { source: [eventSource] },
      // EventBridge retries a failed SendMessage for up to 24 hours by default, then gives up on the event:
      // into the dead-letter queue instead, where the alarm sees it.
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetters })],
    });

    this.function = new ChatFunction(this, {
      definition: webhookSender,
      resources: {
        tables: props.tables,
        events: { bus: props.bus, webhook: { url: props.url, secret: this.secret } },
      },
      repoRoot: props.repoRoot,
      timeout: webhookTimeout,
    });
    // Queue rights come with the mapping: receive, delete, change visibility (the backoff), attributes.
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: webhookDelivery.batchSize,
        maxConcurrency: webhookDelivery.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    for (const mapping of this.function.node.children.filter((c) => c instanceof lambda.EventSourceMapping)) {
      Validations.of(mapping).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'An SQS mapping takes no on-failure destination (Lambda supports them for streams and Kafka only): a delivery that keeps failing moves to the queue’s dead-letter queue by its redrive policy, which has an alarm.',
      });
    }
  }
}

/**
 * A dead-letter queue: encrypted (SSE-SQS: the records name users and rooms, and the webhook's hold
 * whole events), TLS only, kept 14 days. Its own failures have nowhere further to go.
 */
function deadLetterQueue(
  scope: Construct,
  id: string,
  options: { readonly usedBy: string; readonly detectedAsDeadLetterQueue?: boolean },
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: deadLetterRetention,
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This is the dead-letter queue of ${options.usedBy}: what lands here is for an operator (an alarm fires on the first message), and a queue behind it would only move the same messages again.`,
  });
  if (options.detectedAsDeadLetterQueue !== true) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This is the dead-letter queue of ${options.usedBy}, which cdk-nag does not recognize as one (it only looks at redrive policies and function DeadLetterConfigs).`,
    });
  }
  return queue;
}
