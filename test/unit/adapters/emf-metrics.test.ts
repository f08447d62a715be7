import { describe, expect, it } from 'vitest';
import { makeEmfMetrics } from '../../../lambdas/adapters/emf-metrics.js';

describe('EMF metrics', () => {
  it('writes one JSON line per record: the metric directive at `_aws`, the values and the dimension at the top', () => {
    const lines: string[] = [];
    const metrics = makeEmfMetrics(
      'ChatStack-SendMessage',
      (line) => lines.push(line),
      () => 1_700_000_000_000,
    );

    metrics.record({ MessagesSent: 1, SendLatency: 42 });

    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'Chat',
            Dimensions: [['FunctionName']],
            Metrics: [
              { Name: 'MessagesSent', Unit: 'Count' },
              { Name: 'SendLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      FunctionName: 'ChatStack-SendMessage',
      MessagesSent: 1,
      SendLatency: 42,
    });
  });

  it('declares exactly the metrics recorded', () => {
    const lines: string[] = [];
    makeEmfMetrics('f', (line) => lines.push(line)).record({ GoneConnections: 0, ThrottledPosts: 3 });

    const line = JSON.parse(lines[0] ?? '') as {
      _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
      ThrottledPosts: number;
    };
    expect(line._aws.CloudWatchMetrics[0]?.Metrics.map((metric) => metric.Name)).toEqual([
      'GoneConnections',
      'ThrottledPosts',
    ]);
    expect(line.ThrottledPosts).toBe(3);
  });
});
