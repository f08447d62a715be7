/**
 * The S3 adapters a handler uses: configuration read at cold start (the endpoint included, see
 * adapters/s3/client.ts), the S3 client loaded on first use (files.ts says why).
 */
import type { DownloadSigner } from '../domain/files.js';
import type { AvatarRemoval } from '../domain/profiles.js';
import { filesConfig } from './config.js';
import { lazy } from './files.js';

const clock = { now: () => new Date() };

const s3ClientFor = (endpoint: string | undefined) =>
  lazy(async () => (await import('../adapters/s3/client.js')).makeS3Client(endpoint));

export function downloadSigner(): DownloadSigner {
  const { bucket, s3Endpoint } = filesConfig();
  const s3Client = s3ClientFor(s3Endpoint);
  const signer = lazy(async () => {
    const { S3DownloadSigner } = await import('../adapters/s3/downloads.js');
    return new S3DownloadSigner(await s3Client(), bucket, s3Endpoint, clock);
  });
  return { url: async (target) => (await signer()).url(target) };
}

export function avatarRemoval(): AvatarRemoval {
  const { bucket, s3Endpoint } = filesConfig();
  const s3Client = s3ClientFor(s3Endpoint);
  const removal = lazy(async () => {
    const { S3ObjectRemoval } = await import('../adapters/s3/removal.js');
    return new S3ObjectRemoval(await s3Client(), bucket);
  });
  return { remove: async (key) => (await removal()).remove(key) };
}
