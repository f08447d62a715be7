/**
 * The file adapters a handler uses. Configuration is read at cold start (a missing variable fails the
 * init by name); the AWS SDK clients behind them are loaded on first use, by dynamic import, so that
 * requests that never touch a file (every text-only send, most list and history pages) do not pay
 * for loading the S3 or Lambda client at cold start. S3's are in s3-files.ts, so that the send
 * function, which only invokes the attachment check, bundles none of them.
 */
import { LambdaAttachmentChecker } from '../adapters/lambda-checker.js';
import type { AttachmentChecker } from '../domain/files.js';
import { attachmentCheckConfig } from './config.js';

/** One value per container, made on first use; a failed attempt is forgotten so the next use retries. */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

export function attachmentChecker(): AttachmentChecker {
  const { functionName, lambdaEndpoint } = attachmentCheckConfig();
  return new LambdaAttachmentChecker(functionName, lambdaEndpoint);
}
