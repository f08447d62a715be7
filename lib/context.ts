import { uploadLimits } from '../definitions/uploads.js';

/**
 * Parses the `allowedOrigins` context value (`-c allowedOrigins=https://a.example,https://b.example`)
 * into CORS origins. Absent or empty: no origin, hence no CORS configuration. A value that is not a
 * bare origin (scheme, host, optional port; no path) fails the synth rather than the browser.
 * Origins are https: a page served over plain http can be altered on the way and then call the API
 * with its user's token. Plain http is accepted for the loopback host only, for a frontend in
 * development against a deployed stack.
 */
export function parseAllowedOrigins(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string') throw new Error('Context allowedOrigins must be a comma-separated string');
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new Error(
        `Context allowedOrigins: "${origin}" is not an origin such as https://chat.example.com`,
      );
    }
    const { protocol, hostname } = new URL(origin);
    const loopback = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
    if (protocol !== 'https:' && !(protocol === 'http:' && loopback)) {
      throw new Error(
        `Context allowedOrigins: "${origin}" must use https (plain http only for localhost, 127.0.0.1 or [::1])`,
      );
    }
  }
  return origins;
}

/**
 * Parses an on/off context value. `-c name=true` arrives as the string "true", cdk.json may hold a
 * boolean; absent means off. Anything else fails the synth instead of silently meaning off.
 */
export function parseFlag(name: string, value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 'false') {
    return false;
  }
  if (value === true || value === 'true') return true;
  throw new Error(`Context ${name} must be true or false, not ${JSON.stringify(value)}`);
}

/**
 * Parses the `maxUploadBytes` context value (`-c maxUploadBytes=26214400`): the largest attachment,
 * in bytes. Absent or empty means `uploadLimits.defaultMaxAttachmentBytes`. `-c` hands over a
 * string and cdk.json may hold a number; either must be a whole number from 1 byte to
 * `uploadLimits.maxAttachmentBytesLimit` (100 MiB: what the attachment check can copy while the sender
 * waits), so that a limit the stack cannot serve fails the synth instead of every large upload. Digits only: "25MB" or "2.5e7" is refused rather than read as something else.
 */
export function parseMaxUploadBytes(value: unknown): number {
  if (value === undefined || value === null || value === '') return uploadLimits.defaultMaxAttachmentBytes;
  const digits = typeof value === 'string' && /^\d+$/.test(value);
  const bytes = typeof value === 'number' ? value : digits ? Number(value) : Number.NaN;
  const limit = uploadLimits.maxAttachmentBytesLimit;
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > limit) {
    throw new Error(
      `Context maxUploadBytes must be a whole number of bytes from 1 to ${limit} (100 MiB: the attachment check copies each file while the sender waits), not ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}
