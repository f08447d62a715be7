import { notificationLimits } from '../definitions/notifications.js';
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

/**
 * An absolute https URL with no credentials in it: what a value that ends up in a function's
 * environment (and so in the template, readable by anyone who can read the stack) may be.
 */
function httpsUrl(name: string, value: string, example: string): string {
  const trimmed = value.trim();
  if (!URL.canParse(trimmed)) throw new Error(`Context ${name}: "${value}" is not a URL such as ${example}`);
  const url = new URL(trimmed);
  if (url.protocol !== 'https:') throw new Error(`Context ${name}: "${value}" must use https`);
  if (url.username !== '' || url.password !== '') {
    throw new Error(`Context ${name}: "${value}" must not hold credentials (they would be in the template)`);
  }
  return trimmed;
}

/**
 * Parses the `webhookUrl` context value (`-c webhookUrl=https://hooks.example.com/chat`): where every
 * event on the bus is POSTed, signed. Absent or empty: no webhook, and none of its resources. https
 * only: the body carries message text, and the signature proves who sent it, not that nobody read it.
 */
export function parseWebhookUrl(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error('Context webhookUrl must be a string');
  return httpsUrl('webhookUrl', value, 'https://hooks.example.com/chat');
}

/** What the notify function needs to send e-mail. */
export interface EmailSettings {
  /** The From address: an SES identity (the address, or its verified domain). */
  readonly from: string;
  /** The app's URL, which every e-mail links to; absent: the stack's own web client (`WebUrl`). */
  readonly appUrl?: string;
}

/**
 * Parses the `emailFrom` and `appUrl` context values (`-c emailFrom=chat@example.com
 * -c appUrl=https://chat.example.com`). No emailFrom: no e-mail (the notify function is deployed
 * without SES rights, and the stack says so), and an appUrl then fails the synth (a link nobody is
 * sent is a mistake rather than a choice). No appUrl: the e-mails link to the stack's own web client.
 * The address is one bare address (no display name): it is the `ses:FromAddress` the grant is
 * conditioned on.
 */
export function parseEmailSettings(emailFrom: unknown, appUrl: unknown): EmailSettings | undefined {
  const absent = (value: unknown) => value === undefined || value === null || value === '';
  if (absent(emailFrom) && absent(appUrl)) return undefined;
  if (absent(emailFrom)) throw new Error('Context appUrl is only used in e-mails: give emailFrom too');
  if (typeof emailFrom !== 'string' || !/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(emailFrom.trim())) {
    throw new Error('Context emailFrom must be one e-mail address, such as chat@example.com');
  }
  // SES takes 7-bit ASCII addresses only (no SMTPUTF8); a Unicode domain goes in its Punycode form.
  if (!/^[\x21-\x7e]+$/.test(emailFrom.trim())) {
    throw new Error(
      'Context emailFrom must be ASCII (SES has no SMTPUTF8): write a Unicode domain in its Punycode form (xn--...)',
    );
  }
  if (absent(appUrl)) return { from: emailFrom.trim() };
  if (typeof appUrl !== 'string') throw new Error('Context appUrl must be a string');
  return { from: emailFrom.trim(), appUrl: httpsUrl('appUrl', appUrl, 'https://chat.example.com') };
}

/** The longest notification delay a user may choose (definitions/notifications.ts), in seconds. */
export const maxNotifyDelaySeconds = notificationLimits.maxDelayMinutes * 60;

/**
 * Parses the `notifyDelaySeconds` context value (`-c notifyDelaySeconds=60`): for demos, every
 * e-mail check runs this many seconds after the message instead of after the recipient's chosen
 * delay. Absent or empty: undefined, and the functions get no such variable (the preferences rule).
 * A whole number of minutes in seconds (60, 120, ...) up to the longest delay a user may choose;
 * digits only, as maxUploadBytes. Whole minutes because EventBridge Scheduler runs a schedule within
 * the minute of its time, possibly before it: a delay of seconds cannot be kept on AWS (and a check
 * running before its window ended could miss a message; lambdas/domain/notifications.ts).
 */
export function parseNotifyDelaySeconds(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const digits = typeof value === 'string' && /^\d+$/.test(value);
  const seconds = typeof value === 'number' ? value : digits ? Number(value) : Number.NaN;
  if (
    !Number.isSafeInteger(seconds) ||
    seconds < 60 ||
    seconds > maxNotifyDelaySeconds ||
    seconds % 60 !== 0
  ) {
    throw new Error(
      `Context notifyDelaySeconds must be a whole number of minutes in seconds (60, 120, ...) up to ${maxNotifyDelaySeconds}, not ${JSON.stringify(value)}: EventBridge Scheduler keeps one-minute precision`,
    );
  }
  return seconds;
}
