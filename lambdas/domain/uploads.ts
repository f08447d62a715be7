/**
 * Upload forms: the first step of sending a file or setting an avatar. The form binds the object's key
 * (in the uploader's folder of the room, or of their avatars), its type, its exact size and the
 * `pending` tag; nothing is written anywhere until the browser posts the file.
 */
import {
  attachmentTypes,
  avatarTypes,
  isAttachmentType,
  isAvatarType,
  type UploadKind,
  uploadKey,
  uploadLimits,
} from '../../definitions/uploads.js';
import { badRequest, ChatError } from './errors.js';
import type { UploadFormSigner } from './files.js';
import type { UserId } from './model.js';
import type { RoomStore } from './ports.js';
import { loadRoom } from './room-access.js';
import { assertCleanText } from './validation.js';

export interface UploadOffer {
  readonly uploadId: string;
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly expiresAt: string;
  readonly maxBytes: number;
}

export class UploadService {
  constructor(
    private readonly store: Pick<RoomStore, 'getRoom'>,
    private readonly forms: UploadFormSigner,
    private readonly maxAttachmentBytes: number,
  ) {}

  /** Only participants may upload into a room (403, or 404 for a room never started). */
  async attachmentUpload(callerId: UserId, roomId: string, request: UploadRequest): Promise<UploadOffer> {
    await loadRoom(this.store, callerId, roomId);
    const uploadId = newUploadId();
    const form = await this.forms.form({ key: uploadKey.attachment(roomId, callerId, uploadId), ...request });
    return { uploadId, ...form, maxBytes: this.maxAttachmentBytes };
  }

  async avatarUpload(callerId: UserId, request: UploadRequest): Promise<UploadOffer> {
    const uploadId = newUploadId();
    const form = await this.forms.form({ key: uploadKey.avatar(callerId, uploadId), ...request });
    return { uploadId, ...form, maxBytes: uploadLimits.maxAvatarBytes };
  }
}

export interface UploadRequest {
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
}

/** Room for the encoded name in S3's 2 KB of user metadata, beside the declared size. */
const MAX_ENCODED_FILE_NAME = 1024;

/** The characters that mean "folder" or would break a Content-Disposition header's quoted name. */
const PATH_OR_QUOTE = /[/\\"\t\r\n\u0085]/;

function parseFileName(value: unknown): string {
  if (typeof value !== 'string') throw badRequest('fileName must be a string');
  const name = value.trim();
  const length = [...name].length;
  if (length === 0 || length > uploadLimits.maxFileName) {
    throw badRequest(`fileName must be 1 to ${uploadLimits.maxFileName} characters`);
  }
  assertCleanText(name, 'fileName');
  // The name travels as object metadata, percent-encoded, and S3 takes at most 2 KB of it in all.
  if (encodeURIComponent(name).length > MAX_ENCODED_FILE_NAME) {
    throw badRequest(
      `fileName is too long for storage: at most ${MAX_ENCODED_FILE_NAME} bytes once percent-encoded (fewer characters outside ASCII)`,
    );
  }
  if (PATH_OR_QUOTE.test(name))
    throw badRequest('fileName must not contain quotes, line breaks, tabs, / or \\');
  return name;
}

function parseSize(value: unknown, maxBytes: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest('size must be the file size in bytes (a whole number)');
  }
  if (value === 0) throw badRequest('The file is empty');
  if (value > maxBytes) {
    throw new ChatError('too_large', `The file is larger than the limit of ${maxBytes} bytes`);
  }
  return value;
}

function parseContentType(value: unknown, kind: UploadKind): string {
  if (typeof value !== 'string') throw badRequest('contentType must be a string');
  const type = value.trim().toLowerCase();
  if (kind === 'avatar' ? !isAvatarType(type) : !isAttachmentType(type)) {
    const allowed = kind === 'avatar' ? avatarTypes : Object.keys(attachmentTypes);
    throw badRequest(`contentType ${JSON.stringify(value)} is not allowed; allowed: ${allowed.join(', ')}`);
  }
  return type;
}

function assertOnly(body: Record<string, unknown>, fields: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !fields.includes(key));
  if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.join(', ')}`);
}

/** `POST /chat/uploads/{roomId}` body. */
export function parseAttachmentUpload(body: Record<string, unknown>, maxBytes: number): UploadRequest {
  assertOnly(body, ['fileName', 'contentType', 'size']);
  return {
    fileName: parseFileName(body.fileName),
    contentType: parseContentType(body.contentType, 'attachment'),
    size: parseSize(body.size, maxBytes),
  };
}

/** `POST /users/me/avatar` body. */
export function parseAvatarUpload(body: Record<string, unknown>): UploadRequest {
  assertOnly(body, ['contentType', 'size']);
  return {
    fileName: 'avatar',
    contentType: parseContentType(body.contentType, 'avatar'),
    size: parseSize(body.size, uploadLimits.maxAvatarBytes),
  };
}

/** 128 random bits in hex: an upload id (`UPLOAD_ID`). */
export function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
