/**
 * The S3 client. Its endpoint is the one the function's configuration names at cold start
 * (`s3Endpoint()`: AWS_ENDPOINT_URL_S3 on the local stack, nothing on AWS), handed in explicitly:
 * a client built later from the environment as it then stands could reach another local stack's S3
 * in a test run that hosts two. A custom endpoint serves buckets by path, since a bucket-named host
 * (virtual-hosted style) does not resolve on a developer's machine.
 */
import { S3Client } from '@aws-sdk/client-s3';

export function makeS3Client(endpoint: string | undefined): S3Client {
  return new S3Client(endpoint ? { endpoint, forcePathStyle: true } : {});
}

/** The URL of an object: virtual-hosted on AWS, path-style under a custom endpoint. */
export function objectUrl(bucket: string, key: string, region: string, endpoint: string | undefined): URL {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (endpoint) return new URL(`${endpoint.replace(/\/+$/, '')}/${bucket}/${path}`);
  return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${path}`);
}
