import type { CfnEventBus } from 'aws-cdk-lib/aws-events';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  changeStreamSettings,
  eventSource,
  scheduleGroupName,
  signatureHeader,
  webhookAttempts,
  webhookDeadLetterSeconds,
  webhookDelivery,
  webhookRetry,
} from '../../definitions/notifications.js';
import {
  allHandlers,
  changeConsumer,
  eventEnvVars,
  type HandlerDefinition,
  notifier,
  webhookSender,
} from '../../definitions/routes.js';
import { type TableName, tables } from '../../definitions/tables.js';
import { deadLetterRetention, webhookTimeout } from '../../lib/chat-events.js';
import type { ChatFunction } from '../../lib/chat-function.js';
import { alarmThresholds, maxAlarmMetrics } from '../../lib/monitoring.js';
import {
  allFunctions,
  type CfnResourceJson,
  findResource,
  logicalIdOf,
  onlyResource,
  policyStatements,
  resourcesOfType,
  type StatementJson,
  type SynthesizedChat,
  synthesizeChat,
} from './helpers.js';

const webhookUrl = 'https://hooks.example.com/chat';
const emailFrom = 'chat@mail.example.com';
const appUrl = 'https://chat.example.com';

/** What one synthesized stack says about its functions, roles and queues. */
function inspect(chat: SynthesizedChat) {
  const lambdas = resourcesOfType(chat.template, 'AWS::Lambda::Function');
  const policies = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'));
  const fnOf = (definition: HandlerDefinition): ChatFunction | undefined =>
    allFunctions(chat.stack).find((fn) => fn.definition === definition);
  const lambdaOf = (definition: HandlerDefinition): CfnResourceJson => {
    const fn = fnOf(definition);
    const resource = fn === undefined ? undefined : lambdas[logicalIdOf(fn)];
    if (resource === undefined) throw new Error(`No function ${definition.functionId}`);
    return resource;
  };
  const statementsOfRole = (roleId: string): StatementJson[] =>
    policies
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policyStatements(policy));
  const roleOf = (definition: HandlerDefinition): string =>
    (lambdaOf(definition).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return {
    lambdaOf,
    fnIdOf: (definition: HandlerDefinition) => {
      const fn = fnOf(definition);
      if (fn === undefined) throw new Error(`No function ${definition.functionId}`);
      return logicalIdOf(fn);
    },
    envOf: (definition: HandlerDefinition) =>
      (lambdaOf(definition).Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    statementsOf: (definition: HandlerDefinition) => statementsOfRole(roleOf(definition)),
    statementsOfRole,
    /** Every statement of every policy in the stack whose actions include one starting with the prefix. */
    allowing: (prefix: string) =>
      policies.flatMap((policy) =>
        policyStatements(policy).filter((statement) =>
          [statement.Action].flat().some((action) => action.startsWith(prefix)),
        ),
      ),
    /** Statements with the prefix's actions, by the role they are in. */
    rolesAllowing: (prefix: string) =>
      policies
        .filter((policy) =>
          policyStatements(policy).some((statement) =>
            [statement.Action].flat().some((action) => action.startsWith(prefix)),
          ),
        )
        .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref)),
    roleOf,
  };
}

const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });
const actionsOf = (statement: StatementJson) => [statement.Action].flat();

describe('events', () => {
  // Default: no e-mail, no webhook, no demo delay. Full: all three.
  let bare: SynthesizedChat;
  let full: SynthesizedChat;
  beforeAll(() => {
    bare = synthesizeChat();
    full = synthesizeChat({ emailFrom, appUrl, webhookUrl, notifyDelaySeconds: 60 });
  });
  const queueId = (chat: SynthesizedChat, queue: unknown) =>
    chat.stack.getLogicalId((queue as { node: { defaultChild: CfnQueue } }).node.defaultChild);

  describe('table streams', () => {
    it.each(Object.entries(tables))('%s has the stream its definition names, or none', (_, definition) => {
      const [, table] = findResource(bare.template, 'AWS::DynamoDB::Table', (__, id) =>
        id.startsWith(definition.constructId),
      );
      expect(table.Properties.StreamSpecification).toEqual(
        definition.stream === undefined ? undefined : { StreamViewType: definition.stream },
      );
    });

    it('streams the rooms with both images and the messages with the new one (what the consumer reads)', () => {
      expect(tables.rooms.stream).toBe('NEW_AND_OLD_IMAGES');
      expect(tables.messages.stream).toBe('NEW_IMAGE');
    });
  });

  describe('the change consumer', () => {
    let mappings: [string, CfnResourceJson][];
    let dlqId: string;
    beforeAll(() => {
      mappings = Object.entries(resourcesOfType(bare.template, 'AWS::Lambda::EventSourceMapping'));
      dlqId = queueId(bare, bare.stack.events.changeDeadLetters);
    });
    const tableId = (table: TableName) =>
      Object.keys(resourcesOfType(bare.template, 'AWS::DynamoDB::Table')).find((id) =>
        id.startsWith(tables[table].constructId),
      ) ?? '';
    const mappingOf = (table: TableName) => {
      const found = mappings.filter(
        ([, mapping]) =>
          JSON.stringify(mapping.Properties.EventSourceArn) ===
          JSON.stringify(getAtt(tableId(table), 'StreamArn')),
      );
      expect(found, table).toHaveLength(1);
      return (found[0] as [string, CfnResourceJson])[1].Properties;
    };

    it('reads the streams of its trigger’s tables, one mapping each, and nothing else reads a stream', () => {
      if (changeConsumer.trigger.kind !== 'streams') throw new Error('trigger changed');
      expect([...changeConsumer.trigger.tables].sort()).toEqual(['messages', 'rooms']);
      // Without a webhook, the stream mappings are the only ones.
      expect(mappings).toHaveLength(changeConsumer.trigger.tables.length);
      const consumerId = inspect(bare).fnIdOf(changeConsumer);
      for (const table of changeConsumer.trigger.tables) {
        expect(mappingOf(table).FunctionName).toEqual({ Ref: consumerId });
      }
    });

    it.each(['rooms', 'messages'] as const)(
      '%s: from the stream’s start, batches of 100, bisected, partial failures, bounded retries, failures to the dead-letter queue',
      (table) => {
        expect(mappingOf(table)).toMatchObject({
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 100,
          BisectBatchOnFunctionError: true,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          MaximumRetryAttempts: changeStreamSettings.retryAttempts,
          MaximumRecordAgeInSeconds: changeStreamSettings.maxRecordAgeSeconds,
          DestinationConfig: { OnFailure: { Destination: getAtt(dlqId) } },
        });
        // Bounded: -1 (the default) retries until the record expires, holding up its shard a day.
        expect(changeStreamSettings.retryAttempts).toBeGreaterThanOrEqual(0);
        expect(changeStreamSettings.retryAttempts).toBeLessThanOrEqual(10);
        expect(changeStreamSettings.maxRecordAgeSeconds).toBeLessThan(24 * 60 * 60);
      },
    );

    it('receives only the room items of rooms (created or changed) and new messages', () => {
      const patterns = (table: TableName) =>
        (mappingOf(table).FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((filter) =>
          JSON.parse(filter.Pattern),
        );
      expect(patterns('rooms')).toEqual([
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: ['room'] } } } },
      ]);
      expect(patterns('messages')).toEqual([{ eventName: ['INSERT'] }]);
      expect(tables.rooms.sortKey?.name).toBe('sk');
    });

    it('may read those two streams only; its one "*" is dynamodb:ListStreams, which names no resource', () => {
      const statements = inspect(bare).statementsOf(changeConsumer);
      const streamReads = statements.filter((statement) =>
        actionsOf(statement).some((action) =>
          ['dynamodb:GetRecords', 'dynamodb:GetShardIterator'].includes(action),
        ),
      );
      const json = (values: unknown[]) => values.map((value) => JSON.stringify(value)).sort();
      expect(json(streamReads.map((statement) => statement.Resource))).toEqual(
        json([getAtt(tableId('messages'), 'StreamArn'), getAtt(tableId('rooms'), 'StreamArn')]),
      );
      for (const statement of streamReads) {
        expect(actionsOf(statement).sort()).toEqual([
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
        ]);
      }
      const wildcards = statements.filter((statement) => JSON.stringify(statement.Resource) === '"*"');
      expect(wildcards).toEqual([{ Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' }]);
      // No other role reads a stream.
      expect(inspect(bare).rolesAllowing('dynamodb:GetRecords')).toEqual([
        inspect(bare).roleOf(changeConsumer),
      ]);
    });

    it('may send to its dead-letter queue (the mappings’ failure records)', () => {
      const sends = inspect(bare)
        .statementsOf(changeConsumer)
        .filter((statement) => actionsOf(statement).includes('sqs:SendMessage'));
      expect(sends.map((statement) => statement.Resource)).toEqual([getAtt(dlqId)]);
    });
  });

  describe('dead-letter queues', () => {
    it.each([
      ['Change', (chat: SynthesizedChat) => chat.stack.events.changeDeadLetters],
      ['Notify', (chat: SynthesizedChat) => chat.stack.events.notifyDeadLetters],
      ['Webhook', (chat: SynthesizedChat) => chat.stack.events.webhook?.deadLetters],
    ])('%s: encrypted, TLS only, kept 14 days, with an alarm on its first message', (name, queueOf) => {
      const queue = queueOf(full);
      if (queue === undefined) throw new Error(`no ${name} queue`);
      const id = queueId(full, queue);
      const resource = resourcesOfType(full.template, 'AWS::SQS::Queue')[id];
      expect(resource?.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: deadLetterRetention.toSeconds(),
      });
      expect(deadLetterRetention.toSeconds()).toBe(14 * 24 * 60 * 60);
      const [, policy] = findResource(full.template, 'AWS::SQS::QueuePolicy', (candidate) =>
        JSON.stringify(candidate.Properties.Queues).includes(`"${id}"`),
      );
      expect(policyStatements(policy)).toContainEqual({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: getAtt(id),
      });
      const [topicId] = onlyResource(full.template, 'AWS::SNS::Topic');
      const [, alarm] = findResource(full.template, 'AWS::CloudWatch::Alarm', (_, alarmId) =>
        alarmId.startsWith(`Monitoring${name}DeadLetters`),
      );
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(id, 'QueueName') }],
        Statistic: 'Maximum',
        Threshold: alarmThresholds.deadLetters,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    });
  });

  describe('the bus', () => {
    let busId: string;
    beforeAll(() => {
      busId = full.stack.getLogicalId(full.stack.events.bus.node.defaultChild as CfnEventBus);
    });

    it('is one bus under Events, named in the EventBusName output, with no archive', () => {
      expect(full.stack.events.bus.node.path).toBe('ChatStack/Events/Bus');
      full.template.resourceCountIs('AWS::Events::EventBus', 1);
      full.template.resourceCountIs('AWS::Events::Archive', 0);
      expect(full.template.toJSON().Outputs.EventBusName.Value).toEqual({ Ref: busId });
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s may put events on that bus only, and only if its definition publishes',
      (_, definition) => {
        const puts = inspect(full)
          .statementsOf(definition)
          .filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:')));
        const env = inspect(full).envOf(definition);
        if (definition.publishesEvents !== true) {
          expect(puts).toEqual([]);
          expect(env[eventEnvVars.eventBusName]).toBeUndefined();
          return;
        }
        expect(puts).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt(busId) }]);
        expect(env[eventEnvVars.eventBusName]).toEqual({ Ref: busId });
      },
    );

    it('is published to by the change consumer and the notify function', () => {
      expect(
        allHandlers.filter((definition) => definition.publishesEvents === true).map((d) => d.functionId),
      ).toEqual([changeConsumer.functionId, notifier.functionId]);
    });
  });

  describe('notification schedules', () => {
    let roleId: string;
    let notifyId: string;
    let dlqId: string;
    beforeAll(() => {
      roleId = full.stack.getLogicalId(full.stack.events.schedulerRole.node.defaultChild as CfnRole);
      notifyId = inspect(full).fnIdOf(notifier);
      dlqId = queueId(full, full.stack.events.notifyDeadLetters);
    });

    it('go in the schedule group the definitions name', () => {
      const [, group] = onlyResource(full.template, 'AWS::Scheduler::ScheduleGroup');
      expect(group.Properties).toEqual({ Name: scheduleGroupName });
      // The infra creates no schedule: the consumer does, one per check.
      full.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    });

    it('run with a role only Scheduler, for this account, may assume', () => {
      const role = resourcesOfType(full.template, 'AWS::IAM::Role')[roleId];
      expect(role?.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
      expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('which may invoke the notify function (not its versions) and write dead letters, nothing else', () => {
      expect(inspect(full).statementsOfRole(roleId)).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt(notifyId) },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(dlqId) },
      ]);
      // No function may invoke the notify function itself: only schedules run it.
      const invokesNotify = inspect(full)
        .allowing('lambda:')
        .filter((statement) => JSON.stringify(statement.Resource).includes(`"${notifyId}"`));
      expect(invokesNotify).toHaveLength(1);
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s may create schedules in the group and pass that role to Scheduler only if its definition schedules',
      (_, definition) => {
        const statements = inspect(full).statementsOf(definition);
        const creates = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')));
        const passes = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('iam:')));
        const env = inspect(full).envOf(definition);
        const scheduleEnv = [
          eventEnvVars.notifyFunctionArn,
          eventEnvVars.schedulerRoleArn,
          eventEnvVars.notifyDlqArn,
        ];
        if (definition.schedulesNotifications !== true) {
          expect([...creates, ...passes]).toEqual([]);
          for (const name of [...scheduleEnv, eventEnvVars.notifyDelaySeconds])
            expect(env[name]).toBeUndefined();
          return;
        }
        expect(creates).toEqual([
          {
            Effect: 'Allow',
            Action: 'scheduler:CreateSchedule',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':scheduler:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  `:schedule/${scheduleGroupName}/*`,
                ],
              ],
            },
          },
        ]);
        expect(passes).toEqual([
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: getAtt(roleId),
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          },
        ]);
        expect(env).toMatchObject({
          [eventEnvVars.schedulerRoleArn]: getAtt(roleId),
          [eventEnvVars.notifyDlqArn]: getAtt(dlqId),
          [eventEnvVars.notifyDelaySeconds]: '60',
        });
        // The notify function's re-checks invoke the ARN it was invoked by: its environment cannot name
        // itself (CloudFormation would find a circular dependency).
        expect(env[eventEnvVars.notifyFunctionArn]).toEqual(
          definition === notifier ? undefined : getAtt(notifyId),
        );
      },
    );

    it('are created by the change consumer and the notify function (its re-checks) only, with the users’ delays unless a demo delay is given', () => {
      expect(
        allHandlers
          .filter((definition) => definition.schedulesNotifications === true)
          .map((d) => d.functionId),
      ).toEqual([changeConsumer.functionId, notifier.functionId]);
      for (const definition of [changeConsumer, notifier]) {
        expect(inspect(bare).envOf(definition)[eventEnvVars.notifyDelaySeconds]).toBeUndefined();
      }
    });

    it('come after the schedule group, which both functions’ grants name', () => {
      const groupId = full.stack.getLogicalId(full.stack.events.scheduleGroup);
      for (const definition of [changeConsumer, notifier]) {
        expect(inspect(full).lambdaOf(definition).DependsOn ?? []).toContain(groupId);
      }
    });

    it('invoke the notify function asynchronously: two retries within an hour, then the dead-letter queue', () => {
      const [, config] = onlyResource(full.template, 'AWS::Lambda::EventInvokeConfig');
      expect(config.Properties).toEqual({
        FunctionName: { Ref: notifyId },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: getAtt(dlqId) } },
      });
      expect(inspect(full).lambdaOf(notifier).Properties.Timeout).toBe(30);
    });
  });

  describe('e-mail', () => {
    const identity = (name: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:identity/${name}`,
        ],
      ],
    });

    it('lets the functions that send e-mail send from the configured address only', () => {
      for (const definition of allHandlers) {
        const ses = inspect(full)
          .statementsOf(definition)
          .filter((statement) => actionsOf(statement).some((action) => action.startsWith('ses:')));
        const env = inspect(full).envOf(definition);
        if (definition.sendsEmail !== true) {
          expect(ses, definition.functionId).toEqual([]);
          expect(env[eventEnvVars.emailFrom], definition.functionId).toBeUndefined();
          continue;
        }
        expect(ses).toEqual([
          {
            Effect: 'Allow',
            Action: 'ses:SendEmail',
            Resource: [identity(emailFrom), identity('mail.example.com')],
            Condition: { StringEquals: { 'ses:FromAddress': emailFrom } },
          },
        ]);
        expect(env).toMatchObject({ [eventEnvVars.emailFrom]: emailFrom, [eventEnvVars.appUrl]: appUrl });
      }
      expect(allHandlers.filter((d) => d.sendsEmail === true).map((d) => d.functionId)).toEqual([
        notifier.functionId,
      ]);
      expect(full.template.toJSON().Outputs.EmailNotifications.Value).toBe(`from ${emailFrom}`);
    });

    it('links the e-mails to the stack’s own web client (WebUrl) when no -c appUrl is given', () => {
      const webOnly = synthesizeChat({ emailFrom });
      const link = inspect(webOnly).envOf(notifier)[eventEnvVars.appUrl];
      expect(link).toEqual(webOnly.template.toJSON().Outputs.WebUrl.Value);
      expect(JSON.stringify(link)).toContain('DomainName');
    });

    it('is off without -c emailFrom: the notify function is deployed with no SES right and no address, and the stack says so', () => {
      expect(inspect(bare).allowing('ses:')).toEqual([]);
      expect(inspect(bare).envOf(notifier)[eventEnvVars.emailFrom]).toBeUndefined();
      expect(inspect(bare).envOf(notifier)[eventEnvVars.appUrl]).toBeUndefined();
      expect(bare.template.toJSON().Outputs.EmailNotifications.Value).toMatch(/^off/);
      const warnings = bare.stack.events.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning');
      expect(JSON.stringify(warnings)).toMatch(/sends no e-mail/);
    });

    it('schedules no check without -c emailFrom: no function may create schedules, none gets their variables', () => {
      expect(inspect(bare).allowing('scheduler:')).toEqual([]);
      expect(inspect(bare).allowing('iam:PassRole')).toEqual([]);
      for (const definition of [changeConsumer, notifier]) {
        expect(inspect(bare).envOf(definition)[eventEnvVars.notifyFunctionArn]).toBeUndefined();
        expect(inspect(bare).envOf(definition)[eventEnvVars.schedulerRoleArn]).toBeUndefined();
      }
      // The consumer still publishes the events.
      expect(inspect(bare).envOf(changeConsumer)[eventEnvVars.eventBusName]).toBeDefined();
    });

    it('refuses an appUrl without emailFrom, or bad values, at synth', () => {
      expect(() => synthesizeChat({ appUrl })).toThrow(/emailFrom/);
      expect(() => synthesizeChat({ emailFrom: 'chat', appUrl })).toThrow(/emailFrom/);
      expect(() => synthesizeChat({ emailFrom, appUrl: 'http://chat.example.com' })).toThrow(/https/);
    });
  });

  describe('the webhook', () => {
    it('does not exist without -c webhookUrl', () => {
      expect(bare.stack.events.webhook).toBeUndefined();
      bare.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      bare.template.resourceCountIs('AWS::Events::Rule', 0);
      bare.template.resourceCountIs('AWS::SQS::Queue', 2);
      expect(allFunctions(bare.stack).some((fn) => fn.definition === webhookSender)).toBe(false);
      expect(bare.template.toJSON().Outputs.WebhookSecretArn).toBeUndefined();
      expect(inspect(bare).allowing('secretsmanager:')).toEqual([]);
      expect(
        Object.keys(resourcesOfType(bare.template, 'AWS::CloudWatch::Alarm')).some((id) =>
          id.startsWith('MonitoringWebhookDeadLetters'),
        ),
      ).toBe(false);
    });

    describe('with -c webhookUrl', () => {
      let secretId: string;
      let queue: string;
      let dlq: string;
      beforeAll(() => {
        const webhook = full.stack.events.webhook;
        if (webhook === undefined) throw new Error('no webhook');
        [secretId] = onlyResource(full.template, 'AWS::SecretsManager::Secret');
        queue = queueId(full, webhook.queue);
        dlq = queueId(full, webhook.deadLetters);
      });

      it('generates its signing key at deploy and outputs the secret’s ARN', () => {
        const [, secret] = onlyResource(full.template, 'AWS::SecretsManager::Secret');
        expect(secret.Properties.GenerateSecretString).toMatchObject({
          PasswordLength: 64,
          ExcludePunctuation: true,
        });
        expect(secret.Properties.SecretString).toBeUndefined();
        expect(full.template.toJSON().Outputs.WebhookSecretArn).toEqual({
          Description: `Secrets Manager secret holding the HMAC key of the ${signatureHeader} header`,
          Value: { Ref: secretId },
        });
      });

      it('sends every chat event on the bus to its queue, and what EventBridge cannot queue to the dead letters', () => {
        const [, rule] = onlyResource(full.template, 'AWS::Events::Rule');
        const busId = full.stack.getLogicalId(full.stack.events.bus.node.defaultChild as CfnEventBus);
        expect(rule.Properties).toMatchObject({
          EventBusName: { Ref: busId },
          EventPattern: { source: [eventSource] },
          Targets: [{ Arn: getAtt(queue), DeadLetterConfig: { Arn: getAtt(dlq) } }],
        });
      });

      it('queues deliveries encrypted, TLS only, kept past a day of retries, then to the dead letters', () => {
        const properties = resourcesOfType(full.template, 'AWS::SQS::Queue')[queue]?.Properties;
        const functionTimeout = Number(inspect(full).lambdaOf(webhookSender).Properties.Timeout);
        expect(properties).toMatchObject({
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: getAtt(dlq), maxReceiveCount: webhookAttempts() },
        });
        expect(properties?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionTimeout);
        // The retries send a delivery to the dead letters a little past 24 hours; the queue keeps it a day longer.
        expect(properties?.MessageRetentionPeriod).toBe(webhookDeadLetterSeconds() + 24 * 3600);
        expect(properties?.MessageRetentionPeriod).toBeLessThan(deadLetterRetention.toSeconds());
        const [, policy] = findResource(full.template, 'AWS::SQS::QueuePolicy', (candidate) =>
          JSON.stringify(candidate.Properties.Queues).includes(`"${queue}"`),
        );
        expect(policyStatements(policy)).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      });

      it('retries a delivery for a day of backoff: 30 attempts at 30 s doubling to 1 h, none later than 24 h', () => {
        expect(webhookAttempts()).toBe(30);
        const wait = (n: number) =>
          Math.min(webhookRetry.firstDelaySeconds * 2 ** (n - 1), webhookRetry.maxDelaySeconds);
        const waited = (n: number) =>
          Array.from({ length: n }, (_, i) => wait(i + 1)).reduce((a, b) => a + b, 0);
        // The last attempt comes after attempts - 1 waits, within the period; one more wait passes it.
        const waits = webhookAttempts() - 1;
        expect(waited(waits)).toBeLessThanOrEqual(webhookRetry.maxAgeSeconds);
        expect(waited(waits + 1)).toBeGreaterThan(webhookRetry.maxAgeSeconds);
        expect(webhookDeadLetterSeconds()).toBe(waited(waits + 1));
      });

      it('is delivered by the sender: small batches, partial failures, few at once, time for each POST', () => {
        const [, mapping] = findResource(
          full.template,
          'AWS::Lambda::EventSourceMapping',
          (candidate) =>
            JSON.stringify(candidate.Properties.EventSourceArn) === JSON.stringify(getAtt(queue)),
        );
        expect(mapping.Properties).toMatchObject({
          FunctionName: { Ref: inspect(full).fnIdOf(webhookSender) },
          BatchSize: webhookDelivery.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: webhookDelivery.maxConcurrency },
        });
        expect(webhookDelivery.batchSize).toBeLessThanOrEqual(10);
        expect(webhookTimeout.toSeconds()).toBeGreaterThanOrEqual(
          (webhookDelivery.batchSize * webhookRetry.timeoutMs) / 1000,
        );
        expect(inspect(full).lambdaOf(webhookSender).Properties.Timeout).toBe(webhookTimeout.toSeconds());
      });

      it('lets the sender alone read the secret, and nothing else of Secrets Manager', () => {
        const reads = inspect(full).allowing('secretsmanager:');
        expect(reads).toEqual([
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } },
        ]);
        expect(inspect(full).rolesAllowing('secretsmanager:')).toEqual([inspect(full).roleOf(webhookSender)]);
        expect(inspect(full).envOf(webhookSender)).toEqual({
          NODE_OPTIONS: '--enable-source-maps',
          [eventEnvVars.webhookUrl]: webhookUrl,
          [eventEnvVars.webhookSecretArn]: { Ref: secretId },
        });
      });

      it('gives the sender only the queue rights of its mapping besides the secret', () => {
        const actions = inspect(full)
          .statementsOf(webhookSender)
          .flatMap((statement) => actionsOf(statement))
          .filter((action) => !action.startsWith('logs:'));
        expect(actions.sort()).toEqual(
          [
            'secretsmanager:GetSecretValue',
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ].sort(),
        );
      });

      it('refuses a webhook URL that is not https', () => {
        expect(() => synthesizeChat({ webhookUrl: 'http://hooks.example.com/chat' })).toThrow(/https/);
      });
    });
  });

  describe('routes and monitoring', () => {
    it('serves the notification preferences on GET and PUT /users/me/notifications, behind the authorizer', () => {
      const routes = Object.values(resourcesOfType(bare.template, 'AWS::ApiGatewayV2::Route')).filter(
        (route) => String(route.Properties.RouteKey).endsWith(' /users/me/notifications'),
      );
      expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
        'GET /users/me/notifications',
        'PUT /users/me/notifications',
      ]);
      for (const route of routes) expect(route.Properties.AuthorizationType).toBe('CUSTOM');
    });

    it('watches every new function in the Events group, within one alarm’s metrics', () => {
      const [, alarm] = findResource(full.template, 'AWS::CloudWatch::Alarm', (_, id) =>
        id.startsWith('MonitoringEventsFunctionThrottles'),
      );
      const counted = (
        alarm.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Value: unknown }[] } } }[]
      ).flatMap((query) => query.MetricStat?.Metric.Dimensions.map((dimension) => dimension.Value) ?? []);
      const expected = [
        changeConsumer,
        notifier,
        webhookSender,
        ...allHandlers.filter((d) => (d as { path?: string }).path === '/users/me/notifications'),
      ].map((definition) => ({ Ref: inspect(full).fnIdOf(definition) }));
      expect(expected).toHaveLength(5);
      expect(counted).toHaveLength(expected.length);
      for (const ref of expected) expect(counted).toContainEqual(ref);
      expect(counted.length).toBeLessThanOrEqual(maxAlarmMetrics);
    });
  });
});
