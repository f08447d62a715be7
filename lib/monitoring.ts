import { Duration, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { httpAuthorizer, webSocketAuthorizer, webSocketRoutes } from '../definitions/routes.js';
import { metricsDimension, metricsNamespace } from '../lambdas/adapters/emf-metrics.js';
import type { ChatFunction } from './chat-function.js';

/**
 * Parses the `alarmEmail` context value (`-c alarmEmail=ops@example.com`): absent or empty means
 * alarms go to the topic with no subscription.
 */
export function parseAlarmEmail(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim())) {
    throw new Error('Context alarmEmail must be one e-mail address, such as ops@example.com');
  }
  return value.trim();
}

export interface ChatMonitoringProps {
  readonly httpApi: apigwv2.HttpApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Functions by the side they serve; each group stays within the 10 metrics an alarm's math may use. */
  readonly functionGroups: Readonly<
    Record<'Http' | 'WebSocket' | 'Files' | 'Events', readonly ChatFunction[]>
  >;
  /** Dead-letter queues by name: each alarms on its first visible message. */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
  readonly tables: Readonly<Record<string, dynamodb.Table>>;
  readonly alarmEmail?: string;
}

const period = Duration.minutes(5);
/** Metrics one alarm's math expression may use (CloudWatch's limit). */
export const maxAlarmMetrics = 10;

/** Thresholds: a handful of failures in five minutes pages, a single transient one does not. */
export const alarmThresholds = {
  apiServerErrors: 5,
  functionErrors: 5,
  functionThrottles: 1,
  tableThrottles: 1,
  /** Anything in a dead-letter queue is a failure nothing will retry: the first one pages. */
  deadLetters: 1,
  /** p99 of a send, from its first read to its answer, over three five-minute periods in a row. */
  sendLatencyP99Ms: 1000,
} as const;

/**
 * Alarms to one SNS topic, and a dashboard of the same figures: API 5xx, Lambda errors and throttles,
 * DynamoDB throttling, messages in dead-letter queues, and the send path's own EMF metrics
 * (lambdas/adapters/emf-metrics.ts).
 */
export class ChatMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Chat alarms', enforceSSL: true });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and figures, no user data. CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key for this alone costs more than the alarms.',
    });

    const allFunctions = Object.values(props.functionGroups).flat();
    const sendDefinition = webSocketRoutes.find((route) => route.routeKey === 'sendMessage');
    const sendFunction = allFunctions.find((fn) => fn.definition === sendDefinition);
    if (sendFunction === undefined) throw new Error('Monitoring needs the sendMessage function');
    // The authorizers refuse a bad token by throwing "Unauthorized", which Lambda counts as an error:
    // in the error alarms every refused sign-in would page.
    const isAuthorizer = (fn: ChatFunction) =>
      fn.definition === httpAuthorizer || fn.definition === webSocketAuthorizer;

    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      alarms.push(created);
    };

    const httpServerErrors = props.httpApi.metricServerError({ period, statistic: 'Sum' });
    alarm('HttpApi5xx', httpServerErrors, alarmThresholds.apiServerErrors, 'REST API answered 5xx');
    // WebSocket APIs publish no 5xx metric: ExecutionError counts frames API Gateway failed to hand
    // to their function (IntegrationError would also count $connect's 401/403 refusals).
    const webSocketErrors = new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: 'ExecutionError',
      dimensionsMap: {
        ApiId: props.webSocketStage.api.apiId,
        Stage: props.webSocketStage.stageName,
      },
      period,
      statistic: 'Sum',
    });
    alarm(
      'WebSocketApiErrors',
      webSocketErrors,
      alarmThresholds.apiServerErrors,
      'WebSocket API failed to run integrations',
    );

    // Ids unique per expression: a graph holding several sums rejects two different `m0`s.
    const sumOf = (label: string, metrics: cloudwatch.IMetric[]) => {
      const prefix = label.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
      return new cloudwatch.MathExpression({
        expression: metrics.map((_, index) => `${prefix}${index}`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((metric, index) => [`${prefix}${index}`, metric])),
        label,
        period,
      });
    };
    const functionWidgets: cloudwatch.IWidget[] = [];
    for (const [side, functions] of Object.entries(props.functionGroups)) {
      // CloudWatch refuses an alarm whose math uses more than 10 metrics, but only at deploy time.
      if (functions.length > maxAlarmMetrics) {
        throw new Error(
          `${side} has ${functions.length} functions, more than the ${maxAlarmMetrics} metrics one alarm can add up: split the group`,
        );
      }
      const errors = sumOf(
        `${side} function errors`,
        functions
          .filter((fn) => !isAuthorizer(fn))
          .map((fn) => fn.metricErrors({ period, statistic: 'Sum' })),
      );
      const throttles = sumOf(
        `${side} function throttles`,
        functions.map((fn) => fn.metricThrottles({ period, statistic: 'Sum' })),
      );
      alarm(`${side}FunctionErrors`, errors, alarmThresholds.functionErrors, `${side} functions failed`);
      alarm(
        `${side}FunctionThrottles`,
        throttles,
        alarmThresholds.functionThrottles,
        `${side} invocations throttled by Lambda`,
      );
      functionWidgets.push(
        new cloudwatch.GraphWidget({ title: `${side} functions`, left: [errors, throttles], width: 12 }),
      );
    }

    const tableThrottles = Object.entries(props.tables).map(([name, table]) => {
      const throttles = sumOf(`${name} throttle events`, [
        table.metric('ReadThrottleEvents', { period, statistic: 'Sum' }),
        table.metric('WriteThrottleEvents', { period, statistic: 'Sum' }),
      ]);
      alarm(
        `${table.node.id}Throttles`,
        throttles,
        alarmThresholds.tableThrottles,
        `DynamoDB throttled ${name} table requests`,
      );
      return throttles;
    });

    // Maximum, not Sum: the figure is a gauge (messages waiting), sampled every minute.
    const deadLetters = Object.entries(props.deadLetterQueues ?? {}).map(([name, queue]) => {
      const visible = queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });
      alarm(
        `${name}DeadLetters`,
        visible,
        alarmThresholds.deadLetters,
        `${name} dead-letter queue holds failures nothing will retry: look into them, then redrive or delete`,
      );
      // Labelled for the graph only: a label would turn the alarm's metric into a math query.
      return visible.with({ label: `${name} dead letters` });
    });

    const chatMetric = (fn: ChatFunction, metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { [metricsDimension]: fn.functionName },
        period,
        statistic,
      });
    const sendLatencyP99 = chatMetric(sendFunction, 'SendLatency', 'p99');
    // One slow period is noise; three in a row is a trend.
    alarm(
      'SendLatencyP99',
      sendLatencyP99,
      alarmThresholds.sendLatencyP99Ms,
      'p99 send latency (ms) high',
      3,
    );
    this.alarms = alarms;

    const postingFunctions = allFunctions.filter((fn) => fn.definition.postsToConnections);
    const fanOut = (metricName: string) =>
      sumOf(
        metricName,
        postingFunctions.map((fn) => chatMetric(fn, metricName, 'Sum')),
      );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'API errors',
            left: [httpServerErrors, webSocketErrors],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Send latency (ms)',
            left: [chatMetric(sendFunction, 'SendLatency', 'p50'), sendLatencyP99],
            leftAnnotations: [{ value: alarmThresholds.sendLatencyP99Ms, label: 'p99 alarm' }],
            width: 12,
          }),
        ],
        functionWidgets,
        [
          new cloudwatch.GraphWidget({
            title: 'Sends',
            left: [
              chatMetric(sendFunction, 'MessagesSent', 'Sum'),
              chatMetric(sendFunction, 'DuplicateSends', 'Sum'),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Fan-out posts',
            left: [fanOut('FanOutPosts')],
            right: [fanOut('GoneConnections'), fanOut('ThrottledPosts'), fanOut('FailedPosts')],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'DynamoDB throttle events', left: tableThrottles, width: 12 }),
          new cloudwatch.GraphWidget({ title: 'Dead-letter queues', left: deadLetters, width: 12 }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 })],
      ],
    });
  }
}
