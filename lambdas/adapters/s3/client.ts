/**
 * The S3 client, built once per container. The endpoint comes from the SDK's own configuration
 * (AWS_ENDPOINT_URL_S3 on the local stack); a custom endpoint serves buckets by path, since a
 * bucket-named host (virtual-hosted style) does not resolve on a developer's machine.
 */
import { S3Client } from '@aws-sdk/client-s3';

export function makeS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) });
}

/** The URL of an object: virtual-hosted on AWS, path-style under a custom endpoint. */
export function objectUrl(
  bucket: string,
  key: string,
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): URL {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  if (endpoint) return new URL(`${endpoint.replace(/\/+$/, '')}/${bucket}/${path}`);
  return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${path}`);
}
