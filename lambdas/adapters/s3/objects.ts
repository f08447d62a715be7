/** Uploaded objects: what the check reads of them (headers, first bytes), and keeping one that passed. */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { uploadLimits, uploadMetadata } from '../../../definitions/uploads.js';
import type { UploadInspection, UploadObjects } from '../../domain/upload-check.js';
import { detectType, imageSize } from '../../files/detect.js';

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * A missing object. Without s3:ListBucket (which no function has: it would list everyone's uploads)
 * S3 answers a missing key with 403, not 404; either way the upload is not there for this caller.
 */
const isNotFound = (error: unknown) => {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || status === 404 || status === 403;
};

function decodeName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export class S3UploadObjects implements UploadObjects {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async inspect(key: string): Promise<UploadInspection | undefined> {
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const size = head.ContentLength ?? 0;
    // Every object S3 stores has one; without it (a broken store) the upload cannot be pinned.
    if (head.ETag === undefined) return undefined;
    const sample =
      size === 0
        ? new Uint8Array()
        : await this.firstBytes(key, Math.min(size, uploadLimits.sniffBytes), head.ETag);
    if (sample === undefined) return undefined;
    const detected = detectType(sample);
    const dimensions = detected === undefined ? undefined : imageSize(detected, sample);
    const declared = head.Metadata?.[uploadMetadata.size];
    return {
      etag: head.ETag,
      size,
      contentType: head.ContentType ?? '',
      declaredSize: declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined,
      fileName: decodeName(head.Metadata?.[uploadMetadata.fileName]),
      detected,
      ...dimensions,
    };
  }

  /**
   * The object's first bytes, from the same version HeadObject described (If-Match): an upload
   * replaced in between (the same form posted again) is read as the one whose size was checked.
   */
  private async firstBytes(
    key: string,
    length: number,
    etag: string | undefined,
  ): Promise<Uint8Array | undefined> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: `bytes=0-${length - 1}`,
          ...(etag === undefined ? {} : { IfMatch: etag }),
        }),
      );
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * A server-side copy on two conditions: the source is still the checked version (If-Match on the
   * copy source) and the target does not exist (If-None-Match: *), so a kept file never changes.
   * 412 is either: a target that exists was kept by an earlier attempt (kept); otherwise the source
   * changed (nothing copied). 409 is a concurrent copy to the same target: tried again.
   */
  async keep(source: string, etag: string, target: string): Promise<'kept' | 'changed'> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: target,
            CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: etag,
            IfNoneMatch: '*',
            MetadataDirective: 'COPY',
          }),
        );
        return 'kept';
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 && attempt < 3) continue;
        if (status !== 412) throw error;
        return (await this.exists(target)) ? 'kept' : 'changed';
      }
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
