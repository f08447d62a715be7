import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachmentCheck,
  httpAuthorizer,
  httpRoutes,
  webSocketAuthorizer,
  webSocketRoutes,
} from '../../definitions/routes.js';
import { tables } from '../../definitions/tables.js';
import { alarmThresholds, ChatMonitoring, maxAlarmMetrics, parseAlarmEmail } from '../../lib/monitoring.js';
import {
  allFunctions,
  type CfnResourceJson,
  findResource,
  logicalIdOf,
  newApp,
  onlyResource,
  resourcesOfType,
  type SynthesizedChat,
  synthesizeChat,
} from './helpers.js';

interface MetricDataQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions: { Name: string; Value: unknown }[];
    };
    readonly Stat: string;
  };
}

describe('monitoring', () => {
  let chat: SynthesizedChat;
  let alarms: Record<string, CfnResourceJson>;
  let topicId: string;
  beforeAll(() => {
    chat = synthesizeChat();
    alarms = resourcesOfType(chat.template, 'AWS::CloudWatch::Alarm');
    [topicId] = onlyResource(chat.template, 'AWS::SNS::Topic');
  });

  /** The alarm whose logical id starts with Monitoring + `name`. */
  function alarm(name: string): Record<string, unknown> {
    const found = Object.entries(alarms).find(([id]) => id.startsWith(`Monitoring${name}`));
    if (found === undefined) throw new Error(`No alarm ${name}`);
    return found[1].Properties;
  }
  function functionRef(functionId: string) {
    const fn = allFunctions(chat.stack).find((candidate) => candidate.definition.functionId === functionId);
    if (fn === undefined) throw new Error(functionId);
    return { Ref: logicalIdOf(fn) };
  }
  /** FunctionName dimensions of the metrics an alarm's math adds up. */
  function summedFunctions(properties: Record<string, unknown>): unknown[] {
    const queries = properties.Metrics as MetricDataQuery[];
    return queries.flatMap((query) =>
      (query.MetricStat?.Metric.Dimensions ?? [])
        .filter((d) => d.Name === 'FunctionName')
        .map((d) => d.Value),
    );
  }

  it('sends every alarm to the one topic, over TLS only', () => {
    // 13 before the events: + the Events group's errors and throttles, + two dead-letter queues.
    expect(Object.keys(alarms).length).toBe(17);
    for (const [id, { Properties }] of Object.entries(alarms)) {
      expect(Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(Properties.TreatMissingData, id).toBe('notBreaching');
      expect(Properties.ComparisonOperator, id).toBe('GreaterThanOrEqualToThreshold');
    }
    chat.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes no one without -c alarmEmail, and the given address with it', () => {
    chat.template.resourceCountIs('AWS::SNS::Subscription', 0);

    const withEmail = synthesizeChat({ alarmEmail: 'ops@example.com' });
    const [topic] = onlyResource(withEmail.template, 'AWS::SNS::Topic');
    withEmail.template.resourceCountIs('AWS::SNS::Subscription', 1);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic },
    });
  });

  it('parses the alarmEmail context value', () => {
    expect(parseAlarmEmail(undefined)).toBeUndefined();
    expect(parseAlarmEmail('')).toBeUndefined();
    expect(parseAlarmEmail(' ops@example.com ')).toBe('ops@example.com');
    expect(() => parseAlarmEmail('ops')).toThrow(/alarmEmail/);
    expect(() => parseAlarmEmail('a@example.com,b@example.com')).toThrow(/alarmEmail/);
  });

  it('alarms on 5xx of the REST API and execution errors of the WebSocket stage', () => {
    const [httpApiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'HTTP',
    );
    const [wsApiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'WEBSOCKET',
    );
    expect(alarm('HttpApi5xx')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: httpApiId } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: alarmThresholds.apiServerErrors,
      EvaluationPeriods: 1,
    });
    expect(alarm('WebSocketApiErrors')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'ExecutionError',
      Dimensions: expect.arrayContaining([
        { Name: 'ApiId', Value: { Ref: wsApiId } },
        { Name: 'Stage', Value: 'prod' },
      ]),
      Statistic: 'Sum',
      Threshold: alarmThresholds.apiServerErrors,
    });
  });

  it('alarms on Lambda errors of every function but the authorizers, whose refusals are errors', () => {
    const authorizers = [httpAuthorizer, webSocketAuthorizer].map((d) => functionRef(d.functionId));
    const counted = [
      ...summedFunctions(alarm('HttpFunctionErrors')),
      ...summedFunctions(alarm('WebSocketFunctionErrors')),
      ...summedFunctions(alarm('FilesFunctionErrors')),
      ...summedFunctions(alarm('EventsFunctionErrors')),
    ];
    expect(counted).toHaveLength(allFunctions(chat.stack).length - 2);
    for (const authorizer of authorizers) expect(counted).not.toContainEqual(authorizer);
    for (const name of [
      'HttpFunctionErrors',
      'WebSocketFunctionErrors',
      'FilesFunctionErrors',
      'EventsFunctionErrors',
    ]) {
      const properties = alarm(name);
      const queries = properties.Metrics as MetricDataQuery[];
      expect(
        queries.every((q) => q.MetricStat === undefined || q.MetricStat.Metric.MetricName === 'Errors'),
      ).toBe(true);
      expect(queries.filter((q) => q.MetricStat !== undefined).length).toBeLessThanOrEqual(10);
      expect(properties.Threshold).toBe(alarmThresholds.functionErrors);
    }
  });

  it('alarms on Lambda throttles of every function, authorizers included', () => {
    const counted = [
      ...summedFunctions(alarm('HttpFunctionThrottles')),
      ...summedFunctions(alarm('WebSocketFunctionThrottles')),
      ...summedFunctions(alarm('FilesFunctionThrottles')),
      ...summedFunctions(alarm('EventsFunctionThrottles')),
    ];
    expect(counted).toHaveLength(allFunctions(chat.stack).length);
    // Each function in one group only.
    expect(new Set(counted.map((ref) => JSON.stringify(ref))).size).toBe(counted.length);
    expect(alarm('HttpFunctionThrottles').Threshold).toBe(alarmThresholds.functionThrottles);
    const stat = (alarm('WebSocketFunctionThrottles').Metrics as MetricDataQuery[]).find(
      (q) => q.MetricStat,
    )?.MetricStat;
    expect(stat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', MetricName: 'Throttles' }, Stat: 'Sum' });
  });

  it('groups the attachment check with the routes that sign upload forms', () => {
    const files = summedFunctions(alarm('FilesFunctionThrottles'));
    const expected = [
      attachmentCheck,
      ...httpRoutes.filter((route) => route.bucket?.PutObject !== undefined),
    ];
    expect(files).toHaveLength(expected.length);
    for (const definition of expected) expect(files).toContainEqual(functionRef(definition.functionId));
  });

  it('refuses a function group larger than one alarm can add up', () => {
    const app = newApp();
    const stack = new Stack(app, 'Big');
    const [fn] = allFunctions(chat.stack);
    if (fn === undefined) throw new Error('no function');
    expect(
      () =>
        new ChatMonitoring(stack, 'Monitoring', {
          httpApi: chat.stack.httpApi.api,
          webSocketStage: chat.stack.webSocketApi.stage,
          functionGroups: {
            Http: Array.from({ length: maxAlarmMetrics + 1 }, () => fn),
            WebSocket: chat.stack.webSocketApi.functions,
            Files: [],
            Events: [],
          },
          tables: chat.stack.tables,
        }),
    ).toThrow(/Http has 11 functions, more than the 10 metrics/);
  });

  it('alarms on read and write throttle events of each table', () => {
    const tableIds = Object.keys(resourcesOfType(chat.template, 'AWS::DynamoDB::Table'));
    for (const definition of Object.values(tables)) {
      const tableId = tableIds.find((id) => id.startsWith(definition.constructId));
      const queries = alarm(`${definition.constructId}Throttles`).Metrics as MetricDataQuery[];
      const metrics = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric] : []));
      expect(metrics.map((m) => m.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
      for (const metric of metrics) {
        expect(metric.Namespace).toBe('AWS/DynamoDB');
        expect(metric.Dimensions).toEqual([{ Name: 'TableName', Value: { Ref: tableId } }]);
      }
      expect(alarm(`${definition.constructId}Throttles`).Threshold).toBe(alarmThresholds.tableThrottles);
    }
  });

  it('alarms on the p99 of the send function’s SendLatency EMF metric, three periods in a row', () => {
    const send = webSocketRoutes.find((route) => route.routeKey === 'sendMessage');
    expect(alarm('SendLatencyP99')).toMatchObject({
      Namespace: 'Chat',
      MetricName: 'SendLatency',
      Dimensions: [{ Name: 'FunctionName', Value: functionRef(send?.functionId ?? '') }],
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: alarmThresholds.sendLatencyP99Ms,
      EvaluationPeriods: 3,
    });
  });

  it('builds one dashboard', () => {
    const [, dashboard] = onlyResource(chat.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const title of [
      'API errors',
      'Send latency (ms)',
      'Sends',
      'Fan-out posts',
      'DynamoDB throttle events',
      'Dead-letter queues',
      'Alarms',
    ]) {
      expect(body).toContain(title);
    }
  });
});
