import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { WebhookDeliveries } from '../domain/webhooks.js';
import { buildWebhookDeliveries } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';

/**
 * The webhook (definitions/routes.ts `webhookSender`): each message of its queue is an event from the
 * bus, POSTed signed to the app's URL. The failed ones are answered (ReportBatchItemFailures) and come
 * back after their backoff; the others are deleted.
 */
export const makeHandler =
  (deliveriesFor: (queueArn: string) => Pick<WebhookDeliveries, 'deliver'>) =>
  async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const byQueue = new Map<string, SQSEvent['Records']>();
    for (const record of event.Records) {
      byQueue.set(record.eventSourceARN, [...(byQueue.get(record.eventSourceARN) ?? []), record]);
    }
    const failed: string[] = [];
    for (const [queueArn, records] of byQueue) {
      failed.push(
        ...(await deliveriesFor(queueArn).deliver(
          records.map((record) => ({
            id: record.messageId,
            body: record.body,
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
            receiptHandle: record.receiptHandle,
          })),
        )),
      );
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };

export const needs: ServiceNeeds = { tables: [], posts: false };

export const handler = makeHandler(buildWebhookDeliveries());
