import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { notifiedMarkKeyPrefix } from '../../definitions/keys.js';
import {
  attachmentCheck,
  changeConsumer,
  envVars,
  eventEnvVars,
  type HandlerDefinition,
  httpAuthorizer,
  httpRoutes,
  notifier,
  postConfirmationTrigger,
  webSocketAuthorizer,
  webSocketRoutes,
} from '../../definitions/routes.js';
import { type TableName, tables } from '../../definitions/tables.js';
import { RECENT_SEND_SECONDS } from '../../lambdas/domain/room-commit.js';
import { chatBundling, chatRuntime } from '../../lib/chat-bundling.js';
import { SETTLE_CATCH_UP_MS } from '../../web/sdk/connection.js';
import {
  allFunctions,
  type CfnResourceJson,
  chatLambdas,
  findResource,
  functionFor,
  logicalIdOf,
  onlyResource,
  policyStatements,
  resourcesOfType,
  type StatementJson,
  type SynthesizedChat,
  siteFunctionIds,
  synthesizeChat,
} from './helpers.js';

const definitions: HandlerDefinition[] = [
  ...httpRoutes,
  httpAuthorizer,
  ...webSocketRoutes,
  webSocketAuthorizer,
  postConfirmationTrigger,
  attachmentCheck,
  // Not the webhook sender: it only exists with -c webhookUrl (test/infra/events.test.ts).
  changeConsumer,
  notifier,
];
const cases = definitions.map((definition) => [definition.functionId, definition] as const);
const baseEnv = ['NODE_OPTIONS'];

describe('Lambda functions', () => {
  let chat: SynthesizedChat;
  let lambdas: Record<string, CfnResourceJson>;
  let policies: CfnResourceJson[];
  beforeAll(() => {
    chat = synthesizeChat();
    lambdas = chatLambdas(chat);
    policies = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'));
  });

  function lambdaOf(definition: HandlerDefinition): CfnResourceJson {
    const resource = lambdas[logicalIdOf(functionFor(chat.stack, definition))];
    if (resource === undefined) throw new Error(`No function ${definition.functionId}`);
    return resource;
  }
  function envOf(definition: HandlerDefinition): Record<string, unknown> {
    return (lambdaOf(definition).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  }
  /** Every statement of the execution role's policies. */
  function statementsOf(definition: HandlerDefinition): StatementJson[] {
    const roleId = (lambdaOf(definition).Properties.Role as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    return policies
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policyStatements(policy));
  }
  function tableArn(table: TableName): string {
    const logicalId = Object.keys(resourcesOfType(chat.template, 'AWS::DynamoDB::Table')).find((id) =>
      id.startsWith(tables[table].constructId),
    );
    return JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  }

  it('builds one function per handler definition, and no other besides the web site’s two', () => {
    const all = resourcesOfType(chat.template, 'AWS::Lambda::Function');
    expect(Object.keys(all)).toHaveLength(definitions.length + siteFunctionIds.length);
    const others = Object.keys(all).filter((id) => !(id in lambdas));
    expect(others).toHaveLength(siteFunctionIds.length);
    for (const id of siteFunctionIds) expect(others.filter((other) => id.test(other))).toHaveLength(1);
    expect(
      allFunctions(chat.stack)
        .map((fn) => fn.definition.functionId)
        .sort(),
    ).toEqual(definitions.map((definition) => definition.functionId).sort());
  });

  it('gives every function the same defaults: Node.js 22 on arm64, 512 MB, JSON logs to its own log group', () => {
    for (const [, fn] of Object.entries(lambdas)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Handler: 'index.handler',
        LoggingConfig: {
          LogGroup: { Ref: expect.any(String) },
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          SystemLogLevel: 'INFO',
        },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    }
  });

  it('turns X-Ray off (no client is instrumented) and grants no X-Ray rights', () => {
    for (const fn of Object.values(lambdas)) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
    }
    const actions = policies.flatMap((policy) =>
      policyStatements(policy).flatMap((statement) => [statement.Action]),
    );
    expect(actions.flat().filter((action) => action.startsWith('xray:'))).toEqual([]);
  });

  it('bundles for the Node version the runtime runs, and no newer', () => {
    expect(chatBundling.target).toBe(`node${/^nodejs(\d+)\.x$/.exec(chatRuntime.name)?.[1]}`);
  });

  it('keeps a recent send on the room, and the SDK catches up again, past the send function’s lifetime', () => {
    const sendMessageRoute = webSocketRoutes.find((route) => route.routeKey === 'sendMessage');
    if (sendMessageRoute === undefined) throw new Error('route table changed');
    const sendTimeout = Number(lambdaOf(sendMessageRoute).Properties.Timeout);
    // A retry and its first attempt each run at most one send-function lifetime past the commit.
    expect(RECENT_SEND_SECONDS).toBeGreaterThanOrEqual(2 * sendTimeout + 5);
    expect(SETTLE_CATCH_UP_MS).toBeGreaterThan(sendTimeout * 1000);
  });

  it('keeps timeouts short: 10 s for handlers, 5 s for authorizers, the Cognito trigger and the attachment check, 30 s for batches nobody waits on', () => {
    for (const definition of definitions) {
      const short = [httpAuthorizer, webSocketAuthorizer, postConfirmationTrigger, attachmentCheck].includes(
        definition,
      );
      const background = definition === changeConsumer || definition === notifier;
      expect(lambdaOf(definition).Properties.Timeout, definition.functionId).toBe(
        short ? 5 : background ? 30 : 10,
      );
    }
  });

  it('creates each function after its role’s policy, and suppresses only cfn-lint’s W3005 for the role', () => {
    for (const [id, fn] of Object.entries(lambdas)) {
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const [policyId] = Object.entries(resourcesOfType(chat.template, 'AWS::IAM::Policy')).find(
        ([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
      ) ?? [undefined];
      // Without it, the first invocations after a deploy could run before their grants exist.
      expect(fn.DependsOn, id).toContain(policyId);
      expect(fn.DependsOn, id).toContain(roleId);
      expect(fn.Metadata?.['cfn-lint'], id).toEqual({ config: { ignore_checks: ['W3005'] } });
    }
  });

  it('keeps function logs for a month', () => {
    for (const fn of Object.values(lambdas)) {
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(
        resourcesOfType(chat.template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays,
      ).toBe(30);
    }
  });

  it('uses no AWS managed policy on execution roles (log rights come from each function’s own log group)', () => {
    const roles = resourcesOfType(chat.template, 'AWS::IAM::Role');
    for (const fn of Object.values(lambdas)) {
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(roles[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it.each(cases)('%s gets exactly the environment its definition asks for', (_, definition) => {
    const expected = [
      ...baseEnv,
      ...(Object.keys(definition.tables) as TableName[]).map((table) => tables[table].envVar),
      ...(definition.verifiesTokens ? [envVars.userPoolId, envVars.userPoolClientId] : []),
      ...(definition.postsToConnections ? [envVars.callbackUrl] : []),
      ...(definition.bucket === undefined ? [] : [envVars.filesBucket, envVars.maxUploadBytes]),
      ...(definition.invokesAttachmentCheck === true ? [envVars.attachmentCheckFunction] : []),
      ...(definition.publishesEvents === true ? [eventEnvVars.eventBusName] : []),
      // No e-mail without -c emailFrom, hence no scheduling either: test/infra/events.test.ts has the
      // e-mail and scheduling variables of a stack with e-mail.
    ];
    expect(Object.keys(envOf(definition)).sort()).toEqual(expected.sort());
  });

  it.each(cases)(
    '%s may touch exactly the tables of its definition, with exactly the actions it lists',
    (_, definition) => {
      const statements = statementsOf(definition);
      for (const table of Object.keys(tables) as TableName[]) {
        const listed = definition.tables[table];
        const onTable = statements.filter((statement) =>
          JSON.stringify(statement.Resource).includes(tableArn(table)),
        );
        const actions = onTable.flatMap((statement) => [statement.Action].flat());
        if (listed === undefined) {
          expect(onTable, `${definition.functionId} on ${table}`).toEqual([]);
          continue;
        }
        expect(actions.sort(), `${definition.functionId} on ${table}`).toEqual(
          listed.map((action) => `dynamodb:${action}`).sort(),
        );
        // The same actions on the table's indexes, if it has any (queries on an index need them there).
        for (const statement of onTable) {
          const resources = [statement.Resource].flat().map((resource) => JSON.stringify(resource));
          expect(resources[0]).toBe(tableArn(table));
          const indexes = [...tables[table].globalIndexes, ...tables[table].localIndexes];
          expect(resources.length).toBe(indexes.length > 0 ? 2 : 1);
        }
        expect(envOf(definition)[tables[table].envVar]).toEqual({
          Ref: JSON.parse(tableArn(table))['Fn::GetAtt'][0],
        });
      }
    },
  );

  it.each(cases)(
    '%s writes a table it declares writing under one key prefix only on that condition (dynamodb:LeadingKeys)',
    (_, definition) => {
      for (const table of Object.keys(tables) as TableName[]) {
        const prefix = definition.writesOnlyKeysStartingWith?.[table];
        const writes = statementsOf(definition).filter(
          (statement) =>
            JSON.stringify(statement.Resource).includes(tableArn(table)) &&
            [statement.Action]
              .flat()
              .some((action) =>
                /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(String(action)),
              ),
        );
        for (const statement of writes) {
          const condition = (statement as { Condition?: unknown }).Condition;
          if (prefix === undefined) expect(condition, `${definition.functionId} on ${table}`).toBeUndefined();
          else
            expect(condition, `${definition.functionId} on ${table}`).toEqual({
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] },
              Null: { 'dynamodb:LeadingKeys': 'false' },
            });
        }
      }
    },
  );

  it('limits the notify function’s writes to the notified marks', () => {
    const puts = statementsOf(notifier).filter((statement) =>
      [statement.Action].flat().includes('dynamodb:PutItem'),
    );
    expect(puts).toHaveLength(1);
    expect((puts[0] as { Condition?: unknown }).Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${notifiedMarkKeyPrefix}*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
  });

  it.each(cases)(
    '%s may POST to the @connections API only if its definition posts, and never GET or DELETE',
    (_, definition) => {
      const manage = statementsOf(definition).filter((statement) =>
        [statement.Action].flat().includes('execute-api:ManageConnections'),
      );
      expect(manage.length > 0).toBe(definition.postsToConnections);
      for (const statement of manage) {
        expect([statement.Action].flat()).toEqual(['execute-api:ManageConnections']);
        const resources = [statement.Resource].flat().map((resource) => JSON.stringify(resource));
        expect(resources).toHaveLength(1);
        expect(resources[0]).toMatch(/\/prod\/POST\/@connections\/\*"/);
      }
    },
  );

  it('points posting functions at the prod stage’s callback URL', () => {
    const [apiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'WEBSOCKET',
    );
    const sendMessage = webSocketRoutes.find((route) => route.routeKey === 'sendMessage');
    const ping = webSocketRoutes.find((route) => route.routeKey === 'ping');
    if (sendMessage === undefined || ping === undefined) throw new Error('route table changed');
    const env = envOf(sendMessage);
    expect(env.MESSAGES_TABLE).toBeDefined();
    expect(env.WS_CALLBACK_URL).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: apiId },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/prod',
        ],
      ],
    });
    expect(envOf(ping).MESSAGES_TABLE).toBeUndefined();
    expect(envOf(ping).WS_CALLBACK_URL).toBeUndefined();
    chat.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'execute-api:ManageConnections',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/prod/POST/@connections/*'])] },
          }),
        ]),
      },
    });
  });

  it('hands the authorizers the user pool and client ids', () => {
    const [poolId] = onlyResource(chat.template, 'AWS::Cognito::UserPool');
    const [clientId] = onlyResource(chat.template, 'AWS::Cognito::UserPoolClient');
    for (const definition of [httpAuthorizer, webSocketAuthorizer]) {
      expect(envOf(definition)).toMatchObject({
        [envVars.userPoolId]: { Ref: poolId },
        [envVars.userPoolClientId]: { Ref: clientId },
      });
    }
  });
});
