/**
 * Files for domain tests: the real attachment check (UploadCheck, with the real type detection) over
 * an in-memory bucket and claim table, and a signer whose URLs name what they were signed for. Tests
 * put objects as a browser's form post would leave them (`post`), or anything else (`putObject`).
 */
import { uploadKey, uploadMetadata } from '../../definitions/uploads.js';
import type {
  AttachmentChecker,
  CheckAnswer,
  CheckRequest,
  DownloadSigner,
  DownloadTarget,
} from '../../lambdas/domain/files.js';
import type { AvatarRemoval } from '../../lambdas/domain/profiles.js';
import {
  UploadCheck,
  type UploadClaims,
  type UploadInspection,
  type UploadObjects,
} from '../../lambdas/domain/upload-check.js';
import { detectType, imageSize } from '../../lambdas/files/detect.js';

export interface StoredObject {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** A new version on every post, as S3's ETag. */
  readonly etag: string;
}

/** A 1×1 PNG, and other small real files by type, for uploads in tests. */
export const sampleFiles = {
  png: Uint8Array.from(
    Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    ),
  ),
  pdf: new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'),
  text: new TextEncoder().encode('Brief: a logo, three colours, by Friday.\n'),
  html: new TextEncoder().encode('<!DOCTYPE html><script>alert(1)</script>'),
  exe: Uint8Array.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]),
} as const;

let versions = 0;

export class MemoryBucket implements UploadObjects, AvatarRemoval {
  readonly objects = new Map<string, StoredObject>();
  /** Runs between a keep's conditions and its copy: tests replace an upload there. */
  beforeCopy: (() => void) | undefined;

  /** What a browser's post of an upload form leaves: the declared type, name and size, tagged pending. */
  post(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    fileName = 'file',
    declaredSize = bytes.length,
  ): void {
    this.objects.set(key, {
      bytes,
      contentType,
      metadata: {
        [uploadMetadata.fileName]: encodeURIComponent(fileName),
        [uploadMetadata.size]: String(declaredSize),
      },
      etag: `"${++versions}"`,
    });
  }

  async inspect(key: string): Promise<UploadInspection | undefined> {
    const object = this.objects.get(key);
    if (!object) return undefined;
    const sample = object.bytes.subarray(0, 64 * 1024);
    const detected = detectType(sample);
    const size = detected === undefined ? undefined : imageSize(detected, sample);
    const declared = object.metadata[uploadMetadata.size];
    return {
      etag: object.etag,
      size: object.bytes.length,
      contentType: object.contentType,
      declaredSize: declared === undefined ? undefined : Number(declared),
      fileName: decodeURIComponent(object.metadata[uploadMetadata.fileName] ?? 'file'),
      detected,
      ...size,
    };
  }

  /** S3's conditional copy: the source still at `etag`, the target absent (else kept, if it exists). */
  async keep(source: string, etag: string, target: string): Promise<'kept' | 'changed'> {
    this.beforeCopy?.();
    if (this.objects.has(target)) return 'kept';
    const object = this.objects.get(source);
    if (object?.etag !== etag) return 'changed';
    this.objects.set(target, object);
    return 'kept';
  }

  async remove(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

export class MemoryClaims implements UploadClaims {
  readonly claims = new Map<string, string>();

  async claim(roomId: string, uploadIds: readonly string[], claim: string): Promise<{ taken: string[] }> {
    const taken = uploadIds.filter((id) => {
      const holder = this.claims.get(`${roomId}/${id}`);
      return holder !== undefined && holder !== claim;
    });
    if (taken.length === 0) for (const id of uploadIds) this.claims.set(`${roomId}/${id}`, claim);
    return { taken };
  }
}

/** URLs that say what they were signed for, so tests can check the key and the disposition. */
export const fakeSigner: DownloadSigner = {
  url: async (target: DownloadTarget) =>
    `https://files.test/${target.key}?disposition=${target.inline ? 'inline' : 'attachment'}&name=${encodeURIComponent(target.fileName)}`,
};

export interface FakeFiles {
  readonly bucket: MemoryBucket;
  readonly claims: MemoryClaims;
  readonly signer: DownloadSigner;
  readonly checker: AttachmentChecker & { readonly requests: CheckRequest[] };
  readonly avatars: AvatarRemoval;
  /** Posts a file as the uploader's form for the room would, and answers its upload id. */
  upload(
    roomId: string,
    uploaderId: string,
    bytes: Uint8Array,
    contentType: string,
    fileName?: string,
  ): string;
}

let nextUpload = 0;

export function makeFiles(maxAttachmentBytes = 25 * 1024 * 1024): FakeFiles {
  const bucket = new MemoryBucket();
  const claims = new MemoryClaims();
  const check = new UploadCheck(bucket, claims, fakeSigner, maxAttachmentBytes);
  const requests: CheckRequest[] = [];
  return {
    bucket,
    claims,
    signer: fakeSigner,
    avatars: bucket,
    checker: {
      requests,
      check: (request: CheckRequest): Promise<CheckAnswer> => {
        requests.push(request);
        // A JSON round trip, as the invocation's payload would be.
        return check
          .check(JSON.parse(JSON.stringify(request)) as CheckRequest)
          .then((answer) => JSON.parse(JSON.stringify(answer)));
      },
    },
    upload(roomId, uploaderId, bytes, contentType, fileName = 'file') {
      const uploadId = (++nextUpload).toString(16).padStart(32, '0');
      bucket.post(uploadKey.attachment(roomId, uploaderId, uploadId), bytes, contentType, fileName);
      return uploadId;
    },
  };
}
