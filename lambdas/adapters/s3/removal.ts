/** Deleting a kept object (a replaced avatar). Apart so that the profile route bundles only this. */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AvatarRemoval } from '../../domain/profiles.js';

export class S3ObjectRemoval implements AvatarRemoval {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async remove(key: string): Promise<void> {
    // Deleting a missing key succeeds (204): a repeated removal is harmless.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
