/**
 * The attachment check (run by lambdas/files/check-uploads.ts): an upload may be attached when it is
 * in the sender's folder of the room, its stored size and type are what its form declared, its first
 * bytes are of that type, and no other message has claimed it. The checked object is then copied to
 * the kept folder, on the condition that it is still the version that was checked (definitions/
 * uploads.ts `bucketFolders` says why). Claims are all or nothing and come last, so a refused send
 * claims nothing; the same send retried (same claim) passes again and gets the same attachments.
 */
import {
  attachmentTypes,
  type DetectedType,
  isAttachmentType,
  isAvatarType,
  keptKey,
  type UploadKind,
  uploadKey,
  uploadLimits,
} from '../../definitions/uploads.js';
import {
  type CheckAnswer,
  type CheckRequest,
  type DownloadSigner,
  type StoredAttachment,
  signAttachments,
} from './files.js';

export interface UploadObjects {
  /** The object's headers and first bytes; undefined when there is no such object. */
  inspect(key: string): Promise<UploadInspection | undefined>;
  /**
   * Copies `source` to `target` if `source` is still the version `etag` names and `target` does not
   * exist yet: 'kept' when `target` now holds a checked copy (this one, or an earlier attempt's),
   * 'changed' when the upload was replaced since it was inspected (nothing copied).
   */
  keep(source: string, etag: string, target: string): Promise<'kept' | 'changed'>;
}

export interface UploadClaims {
  /**
   * Claims every upload for `claim` in one atomic write, unless one is claimed by another: then
   * nothing is written and the answer names those uploads.
   */
  claim(roomId: string, uploadIds: readonly string[], claim: string): Promise<{ readonly taken: string[] }>;
}

/** An upload that passed the check: where it was inspected, and what the message stores. */
interface Checked {
  readonly source: string;
  readonly etag: string;
  readonly attachment: StoredAttachment;
}

export class UploadCheck {
  constructor(
    private readonly objects: UploadObjects,
    private readonly claims: UploadClaims,
    private readonly signer: DownloadSigner,
    private readonly maxAttachmentBytes: number,
  ) {}

  async check(request: CheckRequest): Promise<CheckAnswer> {
    if (request.kind === 'sign') {
      return { ok: true, attachments: await signAttachments(this.signer, request.attachments) };
    }
    if (request.kind === 'avatar') {
      const { userId, uploadId } = request;
      const checked = await this.inspect(
        uploadKey.avatar(userId, uploadId),
        keptKey.avatar(userId, uploadId),
        uploadId,
        'avatar',
      );
      if (typeof checked === 'string') return { ok: false, message: checked };
      const changed = await this.keep([checked]);
      if (changed !== null) return { ok: false, message: changed };
      return { ok: true, attachments: await signAttachments(this.signer, [checked.attachment]) };
    }

    const { roomId, senderId, uploadIds } = request;
    const inspected = await Promise.all(
      uploadIds.map((id) =>
        this.inspect(
          uploadKey.attachment(roomId, senderId, id),
          keptKey.attachment(roomId, senderId, id),
          id,
          'attachment',
        ),
      ),
    );
    const refusals = inspected.filter((result) => typeof result === 'string');
    if (refusals.length > 0) return { ok: false, message: refusals.join('; ') };
    const checked = inspected.filter((result) => typeof result !== 'string');

    // Kept before the claim: a copy whose source changed claims nothing. A copy whose claim then
    // fails is the copy the claim's holder keeps too (same upload id, same kept key).
    const changed = await this.keep(checked);
    if (changed !== null) return { ok: false, message: changed };
    const { taken } = await this.claims.claim(roomId, uploadIds, request.claim);
    if (taken.length > 0) {
      return { ok: false, message: `Upload ${taken.join(', ')} is already attached to another message` };
    }
    const attachments = checked.map((one) => one.attachment);
    return { ok: true, attachments: await signAttachments(this.signer, attachments) };
  }

  /** Copies each checked upload to its kept key; the refusal when one was replaced meanwhile. */
  private async keep(checked: readonly Checked[]): Promise<string | null> {
    const results = await Promise.all(
      checked.map((one) => this.objects.keep(one.source, one.etag, one.attachment.key)),
    );
    const changed = checked.filter((_, index) => results[index] === 'changed');
    if (changed.length === 0) return null;
    return `Upload ${changed.map((one) => one.attachment.attachmentId).join(', ')} was replaced while it was being attached; send it again`;
  }

  /** The checked upload, or why it cannot be used. */
  private async inspect(
    source: string,
    target: string,
    uploadId: string,
    kind: UploadKind,
  ): Promise<Checked | string> {
    const inspection = await this.objects.inspect(source);
    if (inspection === undefined) {
      return `Upload ${uploadId} was not found: an upload can be used only by its uploader${kind === 'attachment' ? ', in the room it was made for,' : ''} after the file was posted, and for a day`;
    }
    const refusal = refusalOf(inspection, kind, this.maxAttachmentBytes);
    if (refusal !== null) return `Upload ${uploadId} cannot be used: ${refusal}`;
    return { source, etag: inspection.etag, attachment: storedAttachment(uploadId, target, inspection) };
  }
}

function storedAttachment(uploadId: string, key: string, inspection: UploadInspection): StoredAttachment {
  const { width, height } = inspection;
  return {
    attachmentId: uploadId,
    key,
    fileName: inspection.fileName ?? 'file',
    contentType: inspection.contentType,
    size: inspection.size,
    ...(width !== undefined && height !== undefined ? { width, height } : {}),
  };
}

/** What storage says of an upload: its stored headers and what its first bytes are. */
export interface UploadInspection {
  /** The version inspected: keeping it copies this version or nothing. */
  readonly etag: string;
  readonly size: number;
  /** The Content-Type it was stored with (bound by the form). */
  readonly contentType: string;
  /** The size and file name the form declared (object metadata bound by the form). */
  readonly declaredSize: number | undefined;
  readonly fileName: string | undefined;
  /** What the first bytes are, when recognised. */
  readonly detected: DetectedType | undefined;
  readonly width?: number;
  readonly height?: number;
}

/**
 * Whether an inspected upload may be attached (or set as avatar): the reason it may not, or null.
 * Storage enforces the form on AWS; this is what enforces it where storage does not (and what catches
 * a file whose bytes are not what its declared type says).
 */
export function refusalOf(inspection: UploadInspection, kind: UploadKind, maxBytes: number): string | null {
  const { contentType } = inspection;
  const expected =
    kind === 'avatar'
      ? isAvatarType(contentType)
        ? attachmentTypes[contentType].detected
        : undefined
      : isAttachmentType(contentType)
        ? attachmentTypes[contentType].detected
        : undefined;
  if (expected === undefined) return `its type ${contentType} is not allowed`;
  if (inspection.size === 0) return 'it is empty';
  const limit = kind === 'avatar' ? uploadLimits.maxAvatarBytes : maxBytes;
  if (inspection.size > limit) return `it is larger than ${limit} bytes`;
  if (inspection.declaredSize !== inspection.size) {
    return `its size (${inspection.size} bytes) is not the declared ${inspection.declaredSize ?? '?'}`;
  }
  if (inspection.detected !== expected) {
    return `its content is ${inspection.detected === undefined ? 'not recognised' : `a ${inspection.detected} file`}, not ${contentType}`;
  }
  return null;
}
