import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { changeOf } from '../adapters/dynamo/stream-images.js';
import type { ChangeConsumer } from '../domain/change-consumer.js';
import { buildChangeConsumer } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';

/**
 * The rooms and messages tables' streams (definitions/routes.ts `changeConsumer`): publishes the
 * chat's events and schedules the e-mail checks of recipients with e-mail on. A failure answers the first
 * record not fully handled (ReportBatchItemFailures), so Lambda reads the shard again from it: the
 * records before it are not handled twice, and those after it are harmless to handle again.
 */
export const makeHandler =
  (consumer: Pick<ChangeConsumer, 'consume'>) =>
  async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const failedAt = await consumer.consume(event.Records.map(changeOf));
    const failed = failedAt === undefined ? undefined : event.Records[failedAt];
    if (failed === undefined) return { batchItemFailures: [] };
    // A record always has its sequence number; without one, "" fails the whole batch, losing nothing.
    return { batchItemFailures: [{ itemIdentifier: failed.dynamodb?.SequenceNumber ?? '' }] };
  };

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildChangeConsumer(needs));
