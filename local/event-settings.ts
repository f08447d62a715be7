/**
 * What lib/chat-events.ts configures on AWS for the events pipeline, as plain data the local stack can
 * load: lib/ imports aws-cdk-lib (seconds of start-up) and lambdas/, so the values are repeated here and
 * `test/unit/local/event-settings.test.ts` holds each one equal to lib's. They belong in
 * definitions/notifications.ts (plain data both runtimes read); until they move there, that test is
 * what keeps the two from drifting.
 */

import { webhookRetry } from '../definitions/notifications.js';
import type { TableName } from '../definitions/tables.js';

/** lib's `changeStreamSettings` (+ bisect and partial batch responses, both on). */
export const changeStreamMapping = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  retryAttempts: 5,
  maxRecordAgeSeconds: 60 * 60,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
} as const;

/** lib's `changeStreamFilters`: the FilterCriteria patterns of each table's mapping. */
export const changeStreamFilters: Readonly<Partial<Record<TableName, readonly Record<string, unknown>[]>>> = {
  rooms: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: ['room'] } } } }],
  messages: [{ eventName: ['INSERT'] }],
};

/** lib's `notifyAsyncSettings`: the notify function's asynchronous invocations. */
export const notifyAsync = { retryAttempts: 2, maxEventAgeSeconds: 60 * 60 } as const;

/** lib's `webhookDelivery` and the webhook queue (visibility timeout 6 × the function's timeout). */
export const webhookQueue = {
  batchSize: 5,
  maxConcurrency: 5,
  functionTimeoutSeconds: (5 * webhookRetry.timeoutMs) / 1000 + 10,
  visibilityTimeoutSeconds: 6 * ((5 * webhookRetry.timeoutMs) / 1000 + 10),
  maxReceiveCount: webhookMaxReceives(),
} as const;

/** lib's `webhookMaxReceives` (the arithmetic is explained there). */
export function webhookMaxReceives(retry: typeof webhookRetry = webhookRetry): number {
  let waited = 0;
  let waits = 0;
  while (waited < retry.maxAgeSeconds) {
    waited += Math.min(retry.firstDelaySeconds * 2 ** waits, retry.maxDelaySeconds);
    waits += 1;
  }
  return waits + 1;
}

/** The change consumer's and the notify function's timeouts in lib (30 s each). */
export const functionTimeoutMs = { changeConsumer: 30_000, notifier: 30_000 } as const;
