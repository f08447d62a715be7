import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  type BucketAction,
  envVars,
  eventEnvVars,
  type FunctionTrigger,
  type HandlerDefinition,
  type TableAction,
  type TriggeredFunctionDefinition,
} from '../definitions/routes.js';
import { type TableName, tables as tableDefinitions } from '../definitions/tables.js';
import { type BucketFolder, bucketFolders } from '../definitions/uploads.js';
import { acknowledgeWildcardResource } from './acknowledge.js';
import { chatArchitecture, chatBundling, chatMemorySizeMb, chatRuntime } from './chat-bundling.js';

/** The deployed resources a handler definition may ask for. */
export interface ChatFunctionResources {
  readonly tables: Readonly<Record<TableName, dynamodb.Table>>;
  /** Required by definitions with `verifiesTokens`. */
  readonly auth?: { readonly userPoolId: string; readonly userPoolClientId: string };
  /** Required by definitions with `postsToConnections`. */
  readonly webSocketStage?: apigwv2.WebSocketStage;
  /** Required by definitions with a `bucket` list or `invokesAttachmentCheck`. */
  readonly files?: ChatFilesResources;
  /** Required by definitions with `publishesEvents`, `schedulesNotifications` or `signsWebhooks`. */
  readonly events?: ChatEventsResources;
}

export interface ChatEventsResources {
  /** The bus the chat's events go to (`publishesEvents`). */
  readonly bus: events.IEventBus;
  /** Required by definitions with `schedulesNotifications`. */
  readonly notifications?: ChatNotificationResources;
  /** Absent: no e-mail is sent (no `-c emailFrom`), and functions with `sendsEmail` get no SES right. */
  readonly email?: { readonly from: string; readonly appUrl: string };
  /** Required by definitions with `signsWebhooks` (which are only built with `-c webhookUrl`). */
  readonly webhook?: { readonly url: string; readonly secret: secretsmanager.ISecret };
}

export interface ChatNotificationResources {
  /**
   * What every notification schedule invokes. Absent while the notify function itself is built (its
   * re-checks): its environment cannot name its own ARN (a circular dependency in CloudFormation), so
   * it schedules the ARN it was invoked by, and gets no NOTIFY_FUNCTION_ARN.
   */
  readonly notifyFunction?: lambda.IFunction;
  /** The role Scheduler invokes it with: the only role a scheduling function may pass. */
  readonly schedulerRole: iam.IRole;
  /** The schedule group every notification schedule is created in. */
  readonly scheduleGroupName: string;
  /** Where a schedule's dead-letter events go (the schedule's Target.DeadLetterConfig). */
  readonly deadLetterQueue: sqs.IQueue;
  /** Every notification delay, for demos (`-c notifyDelaySeconds`); absent: the users' preferences. */
  readonly delaySeconds?: number;
}

export interface ChatFilesResources {
  readonly bucket: s3.IBucket;
  /** Largest attachment in bytes, handed to every function that uses the bucket. */
  readonly maxUploadBytes: number;
  /**
   * Required by definitions with `invokesAttachmentCheck`. Absent only while the check function itself
   * is built, which uses the bucket but invokes nothing.
   */
  readonly checkFunction?: lambda.IFunction;
}

const WRITE_ACTIONS: ReadonlySet<TableAction> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
]);

/** The key pattern of each bucket folder: each grant on objects names its folders and nothing else. */
export const folderKeyPatterns: Readonly<Record<BucketFolder, string>> = {
  uploads: `${bucketFolders.uploads}/*`,
  avatars: `${bucketFolders.avatars}/*`,
  files: `${bucketFolders.files}/*`,
  profiles: `${bucketFolders.profiles}/*`,
};

/**
 * The IAM action behind each `BucketAction`: one each. `PutObject` authorizes both a presigned POST
 * (the form signer's right) and a server-side copy's target; `GetObject` authorizes HeadObject, a
 * ranged GET, a copy's source and a presigned GET. No `s3:ListBucket` anywhere: it would name every
 * upload in the bucket. Without it, S3 answers a read of a missing key with 403 AccessDenied rather
 * than 404: handlers take that as not found.
 */
export const bucketActionGrants: Readonly<Record<BucketAction, string>> = {
  PutObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
};

export interface ChatFunctionProps {
  readonly definition: HandlerDefinition;
  readonly resources: ChatFunctionResources;
  /** Absolute path of the repository root; the definition's entry is relative to it. */
  readonly repoRoot: string;
  /** Authorizers and the Cognito trigger sit in front of a caller that waits: keep them short. */
  readonly timeout?: Duration;
}

const defaultTimeout = Duration.seconds(10);
/** For authorizers and the Cognito trigger: a caller is waiting on them. */
export const waitedOnTimeout = Duration.seconds(5);

/**
 * A Lambda function built from a `HandlerDefinition`, with every default set once. The construct id
 * is the definition's `functionId` (part of the contract), and each grant the definition lists is
 * applied together with the environment variable the handler reads, so permission and configuration
 * cannot drift apart.
 */
export class ChatFunction extends NodejsFunction {
  readonly definition: HandlerDefinition;
  private readonly executionRole: iam.Role;

  constructor(scope: Construct, props: ChatFunctionProps) {
    const { definition, repoRoot } = props;
    const id = definition.functionId;
    // Own log group (retention, no log-group creation right) and own role (no AWS managed policy).
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: path.join(repoRoot, definition.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: chatRuntime,
      architecture: chatArchitecture,
      memorySize: chatMemorySizeMb,
      timeout: props.timeout ?? defaultTimeout,
      role,
      logGroup,
      // Off rather than Active: no client is instrumented (aws-xray-sdk-core would not fit the 25 KB
      // bundle budget), so traces would show one opaque segment per invocation and nothing more.
      tracing: lambda.Tracing.DISABLED,
      // Lambda's JSON lines carry its requestId and level around each entry the handlers log
      // (adapters/console-logger.ts), and the application level filters them: one knob on AWS.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: chatBundling,
    });
    this.definition = definition;
    this.executionRole = role;

    // Function makes itself depend on its role construct, so that the role's DefaultPolicy (the grants
    // below) exists before the function can run. That lists the Role in DependsOn too, which the Role
    // GetAtt already implies: cfn-lint W3005, harmless, and the dependency is not ours to split.
    (this.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });

    const runtimeReason =
      'Node 22, not the newest runtime: the closest Lambda has to the Node 20 on which the local stack and the tests run these handlers, and what the bundles target (lib/chat-bundling.ts); moving on goes with moving local tooling to Node 22.';
    Validations.of(this).acknowledge(
      { id: 'AwsSolutions-L1', reason: runtimeReason },
      { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is off on purpose: no DynamoDB or management API client is instrumented (aws-xray-sdk-core would break the 25 KB bundle budget), so tracing would cost without showing the calls. Send latency and fan-out figures come from EMF metrics instead.',
      },
      { id: 'Serverless-LambdaDLQ', reason: noDeadLetterConfigReason(definition) },
    );

    for (const [table, actions] of Object.entries(definition.tables) as [TableName, TableAction[]][]) {
      this.useTable(
        table,
        props.resources.tables[table],
        actions,
        definition.writesOnlyKeysStartingWith?.[table],
      );
    }
    if (definition.verifiesTokens) {
      const { auth } = props.resources;
      if (auth === undefined) throw new Error(`${id} verifies tokens but no user pool was given`);
      this.addEnvironment(envVars.userPoolId, auth.userPoolId);
      this.addEnvironment(envVars.userPoolClientId, auth.userPoolClientId);
    }
    if (definition.postsToConnections) {
      const stage = props.resources.webSocketStage;
      if (stage === undefined) throw new Error(`${id} posts to connections but no WebSocket stage was given`);
      this.allowPostingToConnections(stage);
    }
    if (definition.bucket !== undefined) {
      const { files } = props.resources;
      if (files === undefined) throw new Error(`${id} uses the files bucket but no bucket was given`);
      this.useBucket(files, definition.bucket);
    }
    if (definition.invokesAttachmentCheck === true) {
      const checkFunction = props.resources.files?.checkFunction;
      if (checkFunction === undefined) {
        throw new Error(`${id} invokes the attachment check but no check function was given`);
      }
      this.allowInvokingAttachmentCheck(checkFunction);
    }
    const eventResources = props.resources.events;
    if (definition.publishesEvents === true) {
      if (eventResources === undefined) throw new Error(`${id} publishes events but no bus was given`);
      this.allowPublishingEvents(eventResources.bus);
    }
    // Without e-mail (no -c emailFrom) nothing schedules checks: a check could only fail to send, and
    // every one would end in the notification dead-letter queue and its alarm. The consumer then
    // publishes events only (it gets no scheduling right nor the variables it would read).
    if (definition.schedulesNotifications === true && eventResources?.email !== undefined) {
      const notifications = eventResources?.notifications;
      if (notifications === undefined) {
        throw new Error(`${id} schedules notifications but no notify function and scheduler role were given`);
      }
      this.allowSchedulingNotifications(notifications);
    }
    // E-mail is optional for the stack (no -c emailFrom: none is sent), so a function that sends it is
    // still built without it, with neither the SES right nor the address: the handler must check.
    if (definition.sendsEmail === true && eventResources?.email !== undefined) {
      this.allowSendingEmail(eventResources.email);
    }
    if (definition.signsWebhooks === true) {
      const webhook = eventResources?.webhook;
      if (webhook === undefined) throw new Error(`${id} signs webhooks but no webhook was given`);
      this.allowSigningWebhooks(webhook);
    }
  }

  /**
   * Grants events:PutEvents on the chat's bus only, and hands its name to the handler. Not
   * grantPutEventsTo's wider forms: no other bus, not the default one.
   */
  private allowPublishingEvents(bus: events.IEventBus): void {
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [bus.eventBusArn] }),
    );
    this.addEnvironment(eventEnvVars.eventBusName, bus.eventBusName);
  }

  /**
   * Grants creating schedules in the notification group only (schedule names hold ids only known at run
   * time, hence the wildcard after the group), and passing the scheduler role, that role only and to
   * Scheduler only; hands the handler what a schedule's Target names: the notify function (unless it is
   * this one), the role and the dead-letter queue (and the demo delay, when one is set). No
   * UpdateSchedule, DeleteSchedule or GetSchedule: each check is created once under a name that makes
   * a second create fail (ConflictException), and removes itself after it ran (ActionAfterCompletion
   * DELETE).
   */
  private allowSchedulingNotifications(notifications: ChatNotificationResources): void {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${notifications.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule'], resources: [schedules] }),
    );
    acknowledgeWildcardResource(
      this.executionRole,
      schedules,
      `Schedule names hold the recipient and room ids, only known at run time; the wildcard covers the ${notifications.scheduleGroupName} schedule group only, for scheduler:CreateSchedule only.`,
    );
    this.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [notifications.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    if (notifications.notifyFunction !== undefined) {
      this.addEnvironment(eventEnvVars.notifyFunctionArn, notifications.notifyFunction.functionArn);
    }
    this.addEnvironment(eventEnvVars.schedulerRoleArn, notifications.schedulerRole.roleArn);
    this.addEnvironment(eventEnvVars.notifyDlqArn, notifications.deadLetterQueue.queueArn);
    if (notifications.delaySeconds !== undefined) {
      this.addEnvironment(eventEnvVars.notifyDelaySeconds, String(notifications.delaySeconds));
    }
  }

  /**
   * Grants ses:SendEmail from the configured address only: on that address's identity and its domain's
   * (SES authorizes a send against whichever of the two is verified), and only when the From address
   * is that address. No ses:SendRawEmail: the SES v2 SendEmail call is authorized as ses:SendEmail
   * whatever its content type. Hands the address and the app's URL to the handler.
   */
  private allowSendingEmail(email: { readonly from: string; readonly appUrl: string }): void {
    const domain = email.from.slice(email.from.lastIndexOf('@') + 1);
    const identity = (name: string) =>
      Stack.of(this).formatArn({
        service: 'ses',
        resource: 'identity',
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    this.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [identity(email.from), identity(domain)],
        conditions: { StringEquals: { 'ses:FromAddress': email.from } },
      }),
    );
    this.addEnvironment(eventEnvVars.emailFrom, email.from);
    this.addEnvironment(eventEnvVars.appUrl, email.appUrl);
  }

  /**
   * Grants reading the webhook's signing secret, that secret only, and hands its ARN and the URL to the
   * handler. Not grantRead: that adds secretsmanager:DescribeSecret, which the handler does not call.
   */
  private allowSigningWebhooks(webhook: {
    readonly url: string;
    readonly secret: secretsmanager.ISecret;
  }): void {
    this.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [webhook.secret.secretArn],
      }),
    );
    this.addEnvironment(eventEnvVars.webhookUrl, webhook.url);
    this.addEnvironment(eventEnvVars.webhookSecretArn, webhook.secret.secretArn);
  }

  /**
   * Grants exactly the listed actions on a table (and its indexes) and hands its name to the handler
   * in the same call. Not grantReadData/grantReadWriteData: those add Scan, BatchWriteItem,
   * DeleteItem and more, which no handler needs.
   */
  private useTable(
    name: TableName,
    table: dynamodb.Table,
    actions: readonly TableAction[],
    writeKeyPrefix: string | undefined,
  ): void {
    const limited = writeKeyPrefix === undefined ? [] : actions.filter((action) => WRITE_ACTIONS.has(action));
    const free = actions.filter((action) => !limited.includes(action));
    if (free.length > 0) table.grant(this, ...free.map((action) => `dynamodb:${action}`));
    if (limited.length > 0) {
      this.addToRolePolicy(
        new iam.PolicyStatement({
          actions: limited.map((action) => `dynamodb:${action}`),
          resources: [table.tableArn],
          // ForAllValues: every item a request writes (each one of a batch or transaction) has such a key.
          // It also holds when a request carries no key at all, hence the Null test.
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${writeKeyPrefix}*`] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      );
    }
    this.addEnvironment(tableDefinitions[name].envVar, table.tableName);

    const indexes = [...tableDefinitions[name].globalIndexes, ...tableDefinitions[name].localIndexes];
    if (indexes.length > 0) {
      acknowledgeWildcardResource(
        this.executionRole,
        `${table.tableArn}/index/*`,
        `Queries on the ${name} table go through its indexes (${indexes.map((index) => index.indexName).join(', ')}); the wildcard covers this table's indexes only.`,
      );
    }
  }

  /**
   * Grants exactly the IAM actions behind the listed bucket actions, on the upload key patterns only,
   * and hands the bucket's name and the attachment limit to the handler. Not grantRead/grantPut: they
   * add s3:List*, s3:GetBucket*, version, retention and legal-hold actions, which no handler needs.
   */
  private useBucket(
    files: ChatFilesResources,
    bucketActions: Readonly<Partial<Record<BucketAction, readonly BucketFolder[]>>>,
  ): void {
    for (const [bucketAction, folders] of Object.entries(bucketActions) as [BucketAction, BucketFolder[]][]) {
      const actions = [bucketActionGrants[bucketAction]];
      const resources = folders.map((folder) => files.bucket.arnForObjects(folderKeyPatterns[folder]));
      this.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
      for (const resource of resources) {
        acknowledgeWildcardResource(
          this.executionRole,
          resource,
          `Upload keys hold ids only known at run time (room, user, upload); the wildcard covers one upload folder of the files bucket, for ${actions.join(', ')} only (definitions/routes.ts: ${bucketAction} on ${folders.join(', ')}).`,
        );
      }
    }
    this.addEnvironment(envVars.filesBucket, files.bucket.bucketName);
    this.addEnvironment(envVars.maxUploadBytes, String(files.maxUploadBytes));
  }

  /**
   * Grants invoking the attachment check function, that function only, and hands its name to the
   * handler. Not grantInvoke: that also allows every version and alias (`<arn>:*`), a wildcard nobody
   * calls.
   */
  private allowInvokingAttachmentCheck(checkFunction: lambda.IFunction): void {
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [checkFunction.functionArn] }),
    );
    this.addEnvironment(envVars.attachmentCheckFunction, checkFunction.functionName);
  }

  /**
   * Grants POST on the `@connections` management API of the stage and hands its URL to the handler.
   * Not grantManagementApiAccess: that also allows GET (read any connection's identity) and DELETE
   * (close anyone's socket), which no handler does.
   */
  private allowPostingToConnections(stage: apigwv2.WebSocketStage): void {
    const connections = `${Stack.of(stage).formatArn({ service: 'execute-api', resource: stage.api.apiId })}/${stage.stageName}/POST/@connections/*`;
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }),
    );
    this.addEnvironment(envVars.callbackUrl, stage.callbackUrl);
    acknowledgeWildcardResource(
      this.executionRole,
      connections,
      'Connection ids are only known at run time; the grant is execute-api:ManageConnections for POST on the @connections API of this one stage.',
    );
  }
}

/**
 * Why a function has no DeadLetterConfig (cdk-nag Serverless-LambdaDLQ), by what runs it: Lambda's
 * dead-letter queue only ever receives failed asynchronous invocations.
 */
function noDeadLetterConfigReason(definition: HandlerDefinition): string {
  const trigger: FunctionTrigger | undefined = (definition as Partial<TriggeredFunctionDefinition>).trigger;
  switch (trigger?.kind) {
    case undefined:
      return 'Invoked synchronously only (API Gateway, Cognito, or another of these functions waiting on the attachment check): the caller gets the error, and Lambda sends nothing to a dead-letter queue for synchronous invocations.';
    case 'streams':
      return 'Run by DynamoDB stream event source mappings, which invoke synchronously: records that keep failing go to the mappings’ on-failure destination (an SQS queue with an alarm), which a function dead-letter queue would never receive.';
    case 'queue':
      return 'Run by an SQS event source mapping, which invokes synchronously: messages that keep failing move to the queue’s own dead-letter queue by its redrive policy (with an alarm), which a function dead-letter queue would never receive.';
    case 'schedule':
      return 'Invoked asynchronously by EventBridge Scheduler: failed invocations go to the on-failure destination of its asynchronous invocation config (an SQS queue with an alarm), which records more than a dead-letter queue (the error and the request context).';
  }
}
