/**
 * The tag that decides whether an object is kept: the bucket's lifecycle rule deletes `pending` ones
 * after a day (definitions/uploads.ts `uploadTag`). Apart from objects.ts so that the functions that
 * only tag do not bundle the type detection.
 */
import { PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { uploadTag } from '../../../definitions/uploads.js';
import type { UploadTags } from '../../domain/profiles.js';
import type { UploadObjects } from '../../domain/upload-check.js';

export class S3ObjectTags implements UploadTags, Pick<UploadObjects, 'markAttached'> {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  markAttached(key: string): Promise<void> {
    return this.tag(key, uploadTag.attached);
  }

  markPending(key: string): Promise<void> {
    return this.tag(key, uploadTag.pending);
  }

  private async tag(key: string, value: string): Promise<void> {
    await this.client.send(
      new PutObjectTaggingCommand({
        Bucket: this.bucket,
        Key: key,
        Tagging: { TagSet: [{ Key: uploadTag.key, Value: value }] },
      }),
    );
  }
}
