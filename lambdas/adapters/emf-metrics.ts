/**
 * The Metrics port as CloudWatch Embedded Metric Format: one JSON line per record, which CloudWatch
 * Logs turns into metrics, so a send makes no extra request for them. Hand-written because
 * aws-embedded-metrics and Powertools Metrics would each cost more than the handlers' 25 KB budget
 * leaves. Written to process.stdout, not console: with Lambda's JSON log format, console output is
 * wrapped in Lambda's own object, and CloudWatch only extracts `_aws` at the top level.
 */
import type { Metrics, MetricValues } from '../domain/ports.js';

export const metricsNamespace = 'Chat';

/**
 * Per function, like AWS/Lambda's own metrics: two stacks in one account stay apart, and the stack
 * knows its functions' names for alarms.
 */
export const metricsDimension = 'FunctionName';

export function makeEmfMetrics(
  functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
  write: (line: string) => void = (line) => process.stdout.write(line),
  now: () => number = Date.now,
): Metrics {
  return {
    record(values: MetricValues): void {
      write(
        `${JSON.stringify({
          _aws: {
            Timestamp: now(),
            CloudWatchMetrics: [
              {
                Namespace: metricsNamespace,
                Dimensions: [[metricsDimension]],
                Metrics: Object.keys(values).map((Name) => ({
                  Name,
                  Unit: Name === 'SendLatency' ? 'Milliseconds' : 'Count',
                })),
              },
            ],
          },
          [metricsDimension]: functionName,
          ...values,
        })}\n`,
      );
    },
  };
}
