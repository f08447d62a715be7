/**
 * The attachment check (run by lambdas/files/check-uploads.ts): an upload may be attached when it is
 * in the sender's folder of the room, its stored size and type are what its form declared, its first
 * bytes are of that type, and no other message has claimed it. Claims are all or nothing, so a refused
 * send changes nothing; the same send retried (same claim) passes again and gets the same attachments.
 */
import {
  attachmentTypes,
  type DetectedType,
  isAttachmentType,
  isAvatarType,
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
  /** Tags the object attached, so the lifecycle rule for unattached uploads leaves it. */
  markAttached(key: string): Promise<void>;
}

export interface UploadClaims {
  /**
   * Claims every upload for `claim` in one atomic write, unless one is claimed by another: then
   * nothing is written and the answer names those uploads.
   */
  claim(roomId: string, uploadIds: readonly string[], claim: string): Promise<{ readonly taken: string[] }>;
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
      const key = uploadKey.avatar(request.userId, request.uploadId);
      const inspected = await this.inspect(key, request.uploadId, 'avatar');
      if (typeof inspected === 'string') return { ok: false, message: inspected };
      await this.objects.markAttached(key);
      return { ok: true, attachments: await signAttachments(this.signer, [inspected]) };
    }

    const { roomId, senderId, uploadIds } = request;
    const inspected = await Promise.all(
      uploadIds.map((id) => this.inspect(uploadKey.attachment(roomId, senderId, id), id, 'attachment')),
    );
    const refusals = inspected.filter((result) => typeof result === 'string');
    if (refusals.length > 0) return { ok: false, message: refusals.join('; ') };
    const attachments = inspected.filter((result) => typeof result !== 'string');

    const { taken } = await this.claims.claim(roomId, uploadIds, request.claim);
    if (taken.length > 0) {
      return { ok: false, message: `Upload ${taken.join(', ')} is already attached to another message` };
    }
    // After the claim: an object is tagged only once it belongs to a message (or to this send's retry).
    await Promise.all(attachments.map((attachment) => this.objects.markAttached(attachment.key)));
    return { ok: true, attachments: await signAttachments(this.signer, attachments) };
  }

  /** The stored attachment, or why the upload cannot be used. */
  private async inspect(
    key: string,
    uploadId: string,
    kind: 'attachment' | 'avatar',
  ): Promise<StoredAttachment | string> {
    const inspection = await this.objects.inspect(key);
    if (inspection === undefined) {
      return `Upload ${uploadId} was not found: an upload can be used only by its uploader${kind === 'attachment' ? ', in the room it was made for,' : ''} after the file was posted, and for a day`;
    }
    const refusal = refusalOf(inspection, kind, this.maxAttachmentBytes);
    if (refusal !== null) return `Upload ${uploadId} cannot be used: ${refusal}`;
    return storedAttachment(uploadId, key, inspection);
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
