/**
 * The S3 adapters a handler uses: configuration read at cold start, the S3 client loaded on first use
 * (files.ts says why).
 */
import type { DownloadSigner } from '../domain/files.js';
import type { AvatarRemoval } from '../domain/profiles.js';
import { filesConfig } from './config.js';
import { lazy } from './files.js';

const clock = { now: () => new Date() };

// Pure: a handler that uses neither the signer nor the tags bundles no S3 client code.
const s3Client = /* @__PURE__ */ lazy(async () => (await import('../adapters/s3/client.js')).makeS3Client());

export function downloadSigner(): DownloadSigner {
  const { bucket } = filesConfig();
  const signer = lazy(async () => {
    const { S3DownloadSigner } = await import('../adapters/s3/downloads.js');
    return new S3DownloadSigner(await s3Client(), bucket, clock);
  });
  return { url: async (target) => (await signer()).url(target) };
}

export function avatarRemoval(): AvatarRemoval {
  const { bucket } = filesConfig();
  const removal = lazy(async () => {
    const { S3ObjectRemoval } = await import('../adapters/s3/removal.js');
    return new S3ObjectRemoval(await s3Client(), bucket);
  });
  return { remove: async (key) => (await removal()).remove(key) };
}
