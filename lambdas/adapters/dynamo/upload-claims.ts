/**
 * Which message each upload is attached to: one item per attached upload in the rooms table
 * (`pk` = roomId, `sk` = "upload#" + uploadId, `claim`), written for all of a message's uploads in one
 * transaction whose conditions let only the same claim through. Two sends racing for one upload: one
 * transaction commits, the other is cancelled, whatever the interleaving.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { UploadClaims } from '../../domain/upload-check.js';

export const UPLOAD_PREFIX = 'upload#';
const MAX_ATTEMPTS = 4;

export class DynamoUploadClaims implements UploadClaims {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly roomsTable: string,
    private readonly clock: { now(): Date },
  ) {}

  async claim(roomId: string, uploadIds: readonly string[], claim: string): Promise<{ taken: string[] }> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.tryClaim(roomId, uploadIds, claim);
      // Another transaction on the same items was in flight (the same send retried at once): again.
      if (result !== 'conflict') return result;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`upload claims in ${roomId} kept conflicting`);
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }

  private async tryClaim(
    roomId: string,
    uploadIds: readonly string[],
    claim: string,
  ): Promise<{ taken: string[] } | 'conflict'> {
    const claimedAt = this.clock.now().toISOString();
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: uploadIds.map((uploadId) => ({
            Put: {
              TableName: this.roomsTable,
              Item: { pk: roomId, sk: `${UPLOAD_PREFIX}${uploadId}`, claim, claimedAt },
              ConditionExpression: 'attribute_not_exists(pk) OR #claim = :claim',
              ExpressionAttributeNames: { '#claim': 'claim' },
              ExpressionAttributeValues: { ':claim': claim },
            },
          })),
        }),
      );
      return { taken: [] };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const taken = uploadIds.filter((_, index) => reasons[index]?.Code === 'ConditionalCheckFailed');
      if (taken.length > 0) return { taken };
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return 'conflict';
      throw error;
    }
  }
}
