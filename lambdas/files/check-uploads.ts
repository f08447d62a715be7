/**
 * The attachment check (definitions/routes.ts `attachmentCheck`), invoked synchronously by the
 * functions that attach uploads. Answers refusals as `{ ok: false, message }` for the caller to pass on
 * as `bad_request`; throws only on a failure of its own (then the caller answers `internal`).
 */

import { makeDocumentClient } from '../adapters/clients.js';
import { DynamoUploadClaims } from '../adapters/dynamo/upload-claims.js';
import { makeS3Client } from '../adapters/s3/client.js';
import { S3DownloadSigner } from '../adapters/s3/downloads.js';
import { S3UploadObjects } from '../adapters/s3/objects.js';
import type { CheckAnswer, CheckRequest } from '../domain/files.js';
import { UploadCheck } from '../domain/upload-check.js';
import { filesConfig, tableName } from '../shared/config.js';
import type { ServiceNeeds } from '../shared/service.js';

export const makeHandler =
  (check: Pick<UploadCheck, 'check'>) =>
  (request: CheckRequest): Promise<CheckAnswer> =>
    check.check(request);

export const needs: ServiceNeeds = { tables: ['rooms'], posts: false };

const clock = { now: () => new Date() };

function build(): UploadCheck {
  const { bucket, maxUploadBytes } = filesConfig();
  const s3 = makeS3Client();
  return new UploadCheck(
    new S3UploadObjects(s3, bucket),
    new DynamoUploadClaims(makeDocumentClient(), tableName('rooms'), clock),
    new S3DownloadSigner(s3, bucket, clock),
    maxUploadBytes,
  );
}

export const handler = makeHandler(build());
