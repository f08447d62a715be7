/**
 * Files on the client side: the checks made before any request (type, size), the storage form POST
 * (with upload progress where the platform has XMLHttpRequest), and storage's XML errors in words.
 *
 * The allowed types and limits come from definitions/uploads.ts, the same data the server checks
 * against, so a file the client lets through is refused by the server only for what the client
 * cannot see (its real bytes, or a limit set at deploy time).
 */
import { attachmentTypes, avatarTypes, uploadLimits } from '../../definitions/uploads.js';
import type { UploadRequest } from './types.js';

export const ATTACHMENT_TYPES: readonly string[] = Object.keys(attachmentTypes);
export const AVATAR_TYPES: readonly string[] = avatarTypes;
export const DEFAULT_MAX_ATTACHMENT_BYTES = uploadLimits.defaultMaxAttachmentBytes;
export const MAX_AVATAR_BYTES = uploadLimits.maxAvatarBytes;
export const MAX_ATTACHMENTS = uploadLimits.maxAttachments;

export type UploadErrorCode =
  /** Larger than the limit (`limitBytes`). */
  | 'too_large'
  /** A file of 0 bytes: storage and the server refuse those. */
  | 'empty'
  /** Not one of `allowedTypes`. */
  | 'type_not_allowed'
  /** The upload form expired before storage got the file: a new form (a retry) fixes it. */
  | 'expired'
  /** The server or storage said no for another reason; `message` says which. */
  | 'rejected'
  /** No answer at all: offline, or storage unreachable. */
  | 'network_error'
  /** The caller aborted it (its AbortSignal). */
  | 'aborted';

/** An upload that failed, with a message meant to be shown to the user as it is. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
  /** The HTTP status of the answer that refused it; 0 for a client-side check or no answer. */
  readonly status: number;
  readonly limitBytes: number | undefined;
  readonly allowedTypes: readonly string[] | undefined;

  constructor(
    readonly code: UploadErrorCode,
    message: string,
    details: { status?: number; limitBytes?: number; allowedTypes?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? 0;
    this.limitBytes = details.limitBytes;
    this.allowedTypes = details.allowedTypes;
  }

  /** Whether trying the same file again may work (a new form, the network back, a busy server). */
  get retryable(): boolean {
    return (
      this.code === 'expired' || this.code === 'network_error' || this.status === 429 || this.status >= 500
    );
  }
}

/** A file to upload: a browser `File`, or any Blob with a name. */
export type UploadFile = Blob & { readonly name: string };

/** Progress of the bytes sent to storage. */
export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}
export type ProgressListener = (progress: UploadProgress) => void;

// ------------------------------------------------------------------ words

/** Sizes as people read them: "512 B", "340 KB", "1.2 MB", "25 MB" (1024-based, as the limits are). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  for (; unit < units.length - 1; unit++) {
    // Promote once rounding would show 1024 of a unit.
    if (Math.round(value) < 1024) break;
    value /= 1024;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${units[unit]}`;
}

const TYPE_NAMES: Record<string, string> = {
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
  'image/gif': 'GIF image',
  'image/webp': 'WebP image',
  'application/pdf': 'PDF',
  'text/plain': 'Text',
  'application/zip': 'ZIP',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.ms-excel': 'Excel',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'application/vnd.ms-powerpoint': 'PowerPoint',
};

/** A content type in words: "PDF", "Word", "Excel", "PowerPoint", "ZIP", "Text", "PNG image"; "File" otherwise. */
export function fileTypeName(contentType: string): string {
  return TYPE_NAMES[contentType.toLowerCase()] ?? 'File';
}

export const isImageType = (contentType: string) => contentType.toLowerCase().startsWith('image/');

/** A list of content types in words, images grouped: "images (PNG, JPEG, GIF, WebP), PDF, Text, ZIP, …". */
export function typesInWords(types: readonly string[]): string {
  const images = [
    ...new Set(types.filter(isImageType).map((type) => fileTypeName(type).replace(/ image$/, ''))),
  ];
  const others = [...new Set(types.filter((type) => !isImageType(type)).map(fileTypeName))];
  return [images.length > 0 ? `images (${images.join(', ')})` : '', ...others].filter(Boolean).join(', ');
}

// ------------------------------------------------------------------ the content type of a file

/** What browsers report for some allowed types, by platform. */
const TYPE_ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
};

/** For files the browser gives no type (often Office documents on a machine without Office). */
const TYPE_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
};

/**
 * The content type to declare for `file`: the browser's, normalized (Windows reports ZIP files as
 * `application/x-zip-compressed`), or from the extension when the browser has none. The server checks
 * the real bytes either way.
 */
export function contentTypeOf(file: { readonly name: string; readonly type: string }): string {
  const reported = (file.type.split(';')[0] ?? '').trim().toLowerCase();
  const type = TYPE_ALIASES[reported] ?? reported;
  if (type !== '' && type !== 'application/octet-stream') return type;
  const extension = /\.([^.]+)$/.exec(file.name)?.[1]?.toLowerCase() ?? '';
  return TYPE_BY_EXTENSION[extension] ?? type;
}

/** At most `uploadLimits.maxFileName` code points, keeping the extension. */
export function fileNameFor(name: string): string {
  const max = uploadLimits.maxFileName;
  const points = [...name];
  if (points.length <= max) return name === '' ? 'file' : name;
  const extension = /\.[^.]{1,16}$/.exec(name)?.[0] ?? '';
  return points.slice(0, max - [...extension].length).join('') + extension;
}

// ------------------------------------------------------------------ checks before any request

interface Rules {
  readonly types: readonly string[];
  readonly maxBytes: number;
  /** What the user is told when the type is not allowed: what it is for, and what is. */
  readonly typeNotAllowed: (quotedName: string) => string;
}

/**
 * Throws the UploadError the server would answer, without asking it. `label` names the file in the
 * message (an avatar request carries no file name).
 */
export function checkUpload(
  request: Pick<UploadRequest, 'contentType' | 'size'>,
  label: string,
  rules: Rules,
): void {
  const name = `“${label}”`;
  if (!rules.types.includes(request.contentType)) {
    throw new UploadError('type_not_allowed', rules.typeNotAllowed(name), { allowedTypes: rules.types });
  }
  if (!(request.size > 0)) throw new UploadError('empty', `${name} is empty.`);
  if (request.size > rules.maxBytes) throw tooLarge(name, request.size, rules.maxBytes);
}

export const attachmentRules = (maxBytes: number): Rules => ({
  types: ATTACHMENT_TYPES,
  maxBytes,
  typeNotAllowed: (name) => `${name} cannot be sent: you can send ${typesInWords(ATTACHMENT_TYPES)}.`,
});

export const avatarRules: Rules = {
  types: AVATAR_TYPES,
  maxBytes: MAX_AVATAR_BYTES,
  typeNotAllowed: (name) => `${name} cannot be a profile photo: choose ${typesInWords(AVATAR_TYPES)}.`,
};

export function tooLarge(
  name: string,
  size: number | undefined,
  limitBytes: number,
  status = 0,
): UploadError {
  // A size that rounds to the limit ("25 MB is larger than the 25 MB limit") would read as a
  // contradiction: name it only when the rounding tells the two apart.
  const shown = size === undefined ? undefined : humanSize(size);
  const sized = shown === undefined || shown === humanSize(limitBytes) ? name : `${name} (${shown})`;
  return new UploadError('too_large', `${sized} is larger than the ${humanSize(limitBytes)} limit.`, {
    status,
    limitBytes,
  });
}

// ------------------------------------------------------------------ storage's answers

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1];
  return match?.replace(/&(amp|lt|gt|quot|apos);/g, (_, entity: string) => XML_ENTITIES[entity] ?? '');
}

/**
 * A storage (S3, or the local S3 server) refusal in words. S3 answers an upload form with an XML
 * `<Error><Code>…</Code><Message>…</Message></Error>`; the policy failures all share the code
 * AccessDenied, so the message tells an expired form from a wrong Content-Type.
 */
export function storageError(status: number, body: string, limitBytes?: number): UploadError {
  const code = xmlText(body, 'Code') ?? '';
  const detail = xmlText(body, 'Message') ?? '';
  if (code === 'EntityTooLarge') {
    return limitBytes === undefined
      ? new UploadError('too_large', 'The file is larger than storage accepts.', { status })
      : tooLarge('The file', undefined, limitBytes, status);
  }
  if (code === 'EntityTooSmall') {
    // The form binds the declared size, so a smaller body means the file changed after it was picked.
    return new UploadError('rejected', 'The file is smaller than when it was picked. Pick it again.', {
      status,
    });
  }
  if (/expired/i.test(detail)) {
    return new UploadError('expired', 'The upload took too long and its form expired. Try again.', {
      status,
    });
  }
  if (code === 'AccessDenied' && /content-type/i.test(detail)) {
    return new UploadError('type_not_allowed', 'Storage refused the type of the file.', { status });
  }
  const why = code === '' ? `HTTP ${status}` : detail === '' ? code : `${code}: ${detail}`;
  return new UploadError('rejected', `Storage refused the file (${why}).`, { status });
}

// ------------------------------------------------------------------ the form POST

/** The part of XMLHttpRequest an upload uses. */
export interface XhrLike {
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: ProgressEvent) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  ontimeout: (() => void) | null;
  open(method: string, url: string): void;
  send(body: FormData): void;
  abort(): void;
}
export type XhrConstructor = new () => XhrLike;

export interface StorageAnswer {
  readonly status: number;
  readonly body: string;
}

const aborted = () => new UploadError('aborted', 'The upload was cancelled.');
const unreachable = (cause?: unknown) =>
  new UploadError(
    'network_error',
    'The upload could not reach storage. Check the connection and try again.',
    {
      cause,
    },
  );

/**
 * POSTs `form` with XMLHttpRequest for its upload progress events. Listening to them makes the browser
 * send a CORS preflight first (the storage's CORS rules allow it).
 */
export function postWithXhr(
  Xhr: XhrConstructor,
  url: string,
  form: FormData,
  onProgress?: ProgressListener,
  signal?: AbortSignal,
): Promise<StorageAnswer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const xhr = new Xhr();
    const onAbort = () => xhr.abort();
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.open('POST', url);
    if (onProgress !== undefined) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress({ loaded: event.loaded, total: event.total });
      };
    }
    xhr.onload = () => {
      done();
      resolve({ status: xhr.status, body: xhr.responseText });
    };
    xhr.onerror = () => {
      done();
      reject(unreachable());
    };
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => {
      done();
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(form);
  });
}

/** POSTs `form` with fetch: no upload progress (Node, or a platform without XMLHttpRequest). */
export async function postWithFetch(
  fetchImpl: (input: string, init?: RequestInit) => Promise<Response>,
  url: string,
  form: FormData,
  signal?: AbortSignal,
): Promise<StorageAnswer> {
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw signal?.aborted ? aborted() : unreachable(error);
  }
  return { status: response.status, body: await response.text().catch(() => '') };
}

/** The multipart body storage expects: every field of the form, in order, then the file last. */
export function uploadBody(fields: Readonly<Record<string, string>>, file: UploadFile, contentType: string) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  // The form's Content-Type field is what storage checks and stores; the part's own type follows it
  // so that nothing on the way sees two different types.
  const blob = file.type === contentType ? file : new Blob([file], { type: contentType });
  form.append('file', blob, file.name);
  return form;
}
