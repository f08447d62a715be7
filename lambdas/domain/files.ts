/**
 * Files in the chat: what a message stores of an attachment, how answers present it (a presigned
 * download URL, never the storage key), the upload requests and the checks an upload must pass before
 * it is attached. No AWS here: storage and signing are ports.
 */
import { MAX_ATTACHMENTS, UPLOAD_ID } from '../../definitions/uploads.js';
import { badRequest } from './errors.js';

/** An attachment as a message stores it: `key` locates the object and never leaves the server. */
export interface StoredAttachment {
  readonly attachmentId: string;
  readonly key: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly width?: number;
  readonly height?: number;
}

/** An attachment as answers carry it (API.md "Attachments"). */
export interface AttachmentView extends Omit<StoredAttachment, 'key'> {
  readonly url: string;
}

/**
 * An object a download URL is signed for. Its stored Content-Type is the checked one; `inline` says
 * whether the browser shows it (images) or saves it under `fileName`.
 */
export interface DownloadTarget {
  readonly key: string;
  readonly fileName: string;
  readonly inline: boolean;
}

/** Signs download URLs locally (no request per URL). */
export interface DownloadSigner {
  url(target: DownloadTarget): Promise<string>;
}

/** What an upload form binds (the object's key, type, exact size and metadata) and what it answers. */
export interface UploadFormRequest {
  readonly key: string;
  readonly contentType: string;
  readonly size: number;
  readonly fileName: string;
}

export interface UploadForm {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly expiresAt: string;
}

export interface UploadFormSigner {
  form(request: UploadFormRequest): Promise<UploadForm>;
}

/** A stored attachment with a fresh download URL: what the attachment check answers. */
export interface SignedAttachment extends StoredAttachment {
  readonly url: string;
}

/**
 * What the attachment check (lambdas/files) is asked, and answers. It also signs the URLs of the
 * attachments it passes (and of a stored message's, `sign`), so that the send function, whose bundle
 * has no room for the S3 signer, carries them in its ack and fan-out without signing anything.
 */
export type CheckRequest =
  | {
      readonly kind: 'attachments';
      readonly roomId: string;
      readonly senderId: string;
      readonly uploadIds: readonly string[];
      /** Who attaches: the same send retried carries the same claim and may attach the same uploads again. */
      readonly claim: string;
    }
  | { readonly kind: 'avatar'; readonly userId: string; readonly uploadId: string }
  | { readonly kind: 'sign'; readonly attachments: readonly StoredAttachment[] };

export type CheckAnswer =
  | { readonly ok: true; readonly attachments: readonly SignedAttachment[] }
  | { readonly ok: false; readonly message: string };

/** The attachment check, as the functions that attach see it (a synchronous invocation on AWS). */
export interface AttachmentChecker {
  check(request: CheckRequest): Promise<CheckAnswer>;
}

const noFile = () => Promise.reject(new Error('this service was built without file access'));

/**
 * For services that never meet a file (tools, text-only benches, the handlers that answer no
 * messages): a file reaching them is a bug, failed loudly rather than answered without its URL.
 */
export const noFileAccess = {
  signer: { url: noFile },
  checker: { check: noFile },
  avatars: { remove: noFile },
} as const satisfies {
  signer: DownloadSigner;
  checker: AttachmentChecker;
  avatars: { remove(key: string): Promise<void> };
};

/** Checks and claims; a refusal is the client's `bad_request` with the check's reason. */
export async function checkedAttachments(
  checker: AttachmentChecker,
  request: CheckRequest,
): Promise<readonly SignedAttachment[]> {
  const answer = await checker.check(request);
  if (!answer.ok) throw badRequest(answer.message);
  return answer.attachments;
}

/** Every stored type under image/ is one of the allowed images (definitions/uploads.ts); no other is shown. */
const isImage = (contentType: string) => contentType.startsWith('image/');

/** The answer's view of signed attachments: the storage key stays on the server. */
export const viewsOf = (signed: readonly SignedAttachment[]): AttachmentView[] =>
  signed.map(({ key: _key, ...view }) => view);

/** The attachments as a message stores them: without the URLs, which are signed per answer. */
export const storedOf = (signed: readonly SignedAttachment[]): StoredAttachment[] =>
  signed.map(({ url: _url, ...stored }) => stored);

/**
 * The answer's view of stored attachments: each with a fresh download URL. Images open in the
 * browser; anything else downloads under its name, so no file can run script on the storage origin.
 */
export async function signAttachments(
  signer: DownloadSigner,
  attachments: readonly StoredAttachment[],
): Promise<SignedAttachment[]> {
  return Promise.all(
    attachments.map(async (attachment) => ({
      ...attachment,
      url: await signer.url({
        key: attachment.key,
        fileName: attachment.fileName,
        inline: isImage(attachment.contentType),
      }),
    })),
  );
}

/** A message as an answer carries it: attachments with URLs. Messages without files pass unchanged. */
export async function presentMessage<M extends { readonly attachments?: readonly StoredAttachment[] }>(
  signer: DownloadSigner,
  message: M,
): Promise<Omit<M, 'attachments'> & { readonly attachments?: AttachmentView[] }> {
  const { attachments, ...rest } = message;
  return attachments === undefined
    ? rest
    : { ...rest, attachments: viewsOf(await signAttachments(signer, attachments)) };
}

/** A profile's avatar as others see it: a signed URL for an uploaded avatar, else the URL they gave. */
export async function avatarUrlOf(
  signer: DownloadSigner,
  user: { readonly avatarKey: string | null; readonly avatarUrl: string | null } | undefined,
): Promise<string | null> {
  if (user?.avatarKey == null) return user?.avatarUrl ?? null;
  return signer.url({ key: user.avatarKey, fileName: 'avatar', inline: true });
}

export function parseUploadId(value: unknown, field = 'uploadId'): string {
  if (typeof value !== 'string' || !UPLOAD_ID.test(value)) {
    throw badRequest(`${field} must be an uploadId from an upload form`);
  }
  return value;
}

/** The `attachments` field of sendMessage: 1 to 10 distinct uploads, or absent. */
export function parseAttachmentRefs(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ATTACHMENTS) {
    throw badRequest(`attachments must be a list of 1 to ${MAX_ATTACHMENTS} {"uploadId"} objects`);
  }
  const ids = value.map((entry) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw badRequest('Each attachment must be an object {"uploadId": "..."}');
    }
    const { uploadId, ...rest } = entry as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw badRequest('An attachment has only an uploadId');
    return parseUploadId(uploadId, 'attachments[].uploadId');
  });
  if (new Set(ids).size !== ids.length) throw badRequest('The same upload is attached twice');
  return ids;
}
