/**
 * The file adapters a handler uses. Configuration is read at cold start (a missing variable fails the
 * init by name); the AWS SDK clients behind them are loaded on first use, by dynamic import, so that
 * requests that never touch a file (every text-only send, most list and history pages) do not pay
 * for loading the S3 or Lambda client at cold start.
 */
import type { AttachmentChecker, DownloadSigner } from '../domain/files.js';
import type { UploadTags } from '../domain/profiles.js';
import { attachmentCheckFunction, filesConfig } from './config.js';

const clock = { now: () => new Date() };

/** One value per container, made on first use; a failed attempt is forgotten so the next use retries. */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

const s3Client = lazy(async () => (await import('../adapters/s3/client.js')).makeS3Client());

export function downloadSigner(): DownloadSigner {
  const { bucket } = filesConfig();
  const signer = lazy(async () => {
    const { S3DownloadSigner } = await import('../adapters/s3/downloads.js');
    return new S3DownloadSigner(await s3Client(), bucket, clock);
  });
  return { url: async (target) => (await signer()).url(target) };
}

export function attachmentChecker(): AttachmentChecker {
  const functionName = attachmentCheckFunction();
  const checker = lazy(async () => {
    const [{ LambdaClient }, { LambdaAttachmentChecker }] = await Promise.all([
      import('@aws-sdk/client-lambda'),
      import('../adapters/lambda-checker.js'),
    ]);
    return new LambdaAttachmentChecker(new LambdaClient({}), functionName);
  });
  return { check: async (request) => (await checker()).check(request) };
}

export function uploadTags(): UploadTags {
  const { bucket } = filesConfig();
  const tags = lazy(async () => {
    const { S3ObjectTags } = await import('../adapters/s3/tags.js');
    return new S3ObjectTags(await s3Client(), bucket);
  });
  return { markPending: async (key) => (await tags()).markPending(key) };
}
