/**
 * The contract's input rules (shared/API.md and docs/api.md), written out again from the documents and
 * independently of lambdas/domain/validation.ts, so that the oracle predicts from the contract rather
 * than from the code it checks.
 */

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'rate_limited',
  'internal',
];

export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
};

export const KNOWN_ACTIONS = ['sendMessage', 'markRead', 'typing', 'ping'] as const;

/** docs/api.md: letters, digits and `_ . @ + -`, 1 to 128 characters. */
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_.@+-]{1,128}$/.test(value);

/** A ULID as the API writes one: 26 Crockford base-32 characters, the first 0-7 (48-bit time). */
export const isUlid = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(value);

/**
 * The participants a room name can stand for: `chat_{a}_{b}` with a < b, both user ids. With `_` in
 * user ids a name may split more than one way; every valid split counts.
 */
export function roomCandidates(value: unknown): string[] {
  if (typeof value !== 'string' || !value.startsWith('chat_')) return [];
  const rest = value.slice('chat_'.length);
  const ids = new Set<string>();
  for (let i = rest.indexOf('_'); i !== -1; i = rest.indexOf('_', i + 1)) {
    const a = rest.slice(0, i);
    const b = rest.slice(i + 1);
    if (isUserId(a) && isUserId(b) && a < b) {
      ids.add(a);
      ids.add(b);
    }
  }
  return [...ids];
}

export const isRoomName = (value: unknown): value is string => roomCandidates(value).length > 0;

/** The room of two users as API.md names it. */
export const roomOf = (x: string, y: string) => (x < y ? `chat_${x}_${y}` : `chat_${y}_${x}`);

export function hasLoneSurrogate(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return true;
  }
  return false;
}

/**
 * Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) other than tab and the line
 * breaks LF, CR and NEL. VT and FF are never generated: whether they count as line breaks is unsettled.
 */
export function hasForbiddenControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit === 0x09 || unit === 0x0a || unit === 0x0d || unit === 0x85) continue;
    if (unit < 0x20 || unit === 0x7f) return true;
    if (unit >= 0x80 && unit <= 0x9f) return true;
  }
  return false;
}

export const codePoints = (value: string) => [...value].length;

/** API.md: content is 1 to 4,000 code points after trimming; docs/api.md: no control characters. */
export function contentIsValid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  const length = codePoints(trimmed);
  return length >= 1 && length <= 4000 && !hasLoneSurrogate(trimmed) && !hasForbiddenControl(trimmed);
}

/** 1 to 64 characters (a lone surrogate is not a character). */
export function clientMessageIdIsValid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const length = codePoints(value);
  return length >= 1 && length <= 64 && !hasLoneSurrogate(value) && !hasForbiddenControl(value);
}

/** PUT /users/me: a display name of 1 to 80 characters (trimmed). */
export function displayNameIsValid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  const length = codePoints(trimmed);
  return length >= 1 && length <= 80 && !hasLoneSurrogate(trimmed) && !hasForbiddenControl(trimmed);
}

/** PUT /users/me: an https URL (of a sane length). */
export function avatarUrlIsValid(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** `?limit=`: a whole number from 1 to 100, written plainly. */
export const limitIsValid = (value: string) => /^(100|[1-9][0-9]?)$/.test(value);

/** Any text that decodes to a `{updatedAt, roomId}` object could be a cursor the API returned. */
export function cursorCouldBeGenuine(value: string): boolean {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    return (
      typeof decoded === 'object' &&
      decoded !== null &&
      typeof (decoded as { updatedAt?: unknown }).updatedAt === 'string' &&
      typeof (decoded as { roomId?: unknown }).roomId === 'string'
    );
  } catch {
    return false;
  }
}

export function tryDecodeURIComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export const own = (object: Record<string, unknown>, key: string): unknown =>
  Object.hasOwn(object, key) ? object[key] : undefined;

// ------------------------------------------------------------------ files (docs/api.md "Files")

/** The types a message may carry (`contentType`, matched without regard to case). */
export const ATTACHMENT_TYPES: readonly string[] = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
];
export const AVATAR_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/webp'];
/** 25 MB unless the stack says otherwise (MAX_UPLOAD_BYTES). */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
export const MAX_AVATAR_BYTES = 2 * 1024 * 1024;
export const MAX_ATTACHMENTS = 10;

/** An upload id: what the upload routes answer (32 lower-case hex digits). */
export const isUploadId = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);

/**
 * `fileName`: 1 to 255 characters (trimmed), no control characters, no `"` (it would end the quoted
 * name of a Content-Disposition header), no line breaks (NEL included), no `/` or `\`.
 */
export function fileNameIsValid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  const length = codePoints(trimmed);
  return (
    length >= 1 &&
    length <= 255 &&
    !hasLoneSurrogate(trimmed) &&
    !hasForbiddenControl(trimmed) &&
    !/[/\\"\t\r\n\u0085]/.test(trimmed)
  );
}

/** `contentType`, case-insensitive (and trimmed), one of `allowed`. */
export const contentTypeOf = (value: unknown, allowed: readonly string[]): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const type = value.trim().toLowerCase();
  return allowed.includes(type) ? type : undefined;
};

/**
 * `size`: what is wrong with it, if anything: not a whole number of bytes or 0 → 400, over the limit
 * → 413. A whole number too large to be exact in JSON (over 2^53) may be either.
 */
export function sizeProblem(value: unknown, maxBytes: number): ErrorCode[] | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) return ['bad_request'];
  if (!Number.isSafeInteger(value)) return ['bad_request', 'too_large'];
  return value > maxBytes ? ['too_large'] : undefined;
}

/** The `attachments` of sendMessage: 1 to 10 distinct `{"uploadId"}` objects, nothing else. */
export function attachmentIdsOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ATTACHMENTS) return undefined;
  const ids: string[] = [];
  for (const entry of value) {
    if (!isPlainObject(entry) || Object.keys(entry).join() !== 'uploadId') return undefined;
    const id = entry.uploadId;
    if (!isUploadId(id)) return undefined;
    ids.push(id);
  }
  return new Set(ids).size === ids.length ? ids : undefined;
}
