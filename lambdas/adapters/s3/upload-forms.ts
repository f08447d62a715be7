/**
 * Upload forms: presigned POST policies that bind everything the upload may be. S3 refuses any other
 * key, type, size or metadata, and any form used after it expires.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { uploadLimits, uploadMetadata } from '../../../definitions/uploads.js';
import type { UploadForm, UploadFormRequest, UploadFormSigner } from '../../domain/files.js';

/** The form fields a request binds, each also a policy condition (S3 refuses fields the policy does not name). */
export function uploadFields(request: UploadFormRequest): Record<string, string> {
  return {
    'Content-Type': request.contentType,
    [`x-amz-meta-${uploadMetadata.fileName}`]: encodeURIComponent(request.fileName),
    [`x-amz-meta-${uploadMetadata.size}`]: String(request.size),
  };
}

export class S3UploadForms implements UploadFormSigner {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly clock: { now(): Date },
  ) {}

  async form(request: UploadFormRequest): Promise<UploadForm> {
    const fields = uploadFields(request);
    const expiresAt = new Date(this.clock.now().getTime() + uploadLimits.formSeconds * 1000);
    const { url, fields: signed } = await createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: request.key,
      Conditions: [
        ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
        // Exactly the declared size: the check before attaching compares it again.
        ['content-length-range', request.size, request.size],
      ],
      Fields: fields,
      Expires: uploadLimits.formSeconds,
    });
    return { url, fields: signed, expiresAt: expiresAt.toISOString() };
  }
}
