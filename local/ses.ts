/**
 * SES v2's SendEmail for the notify function: `aws-ses-v2-local` (in this process, on an internal
 * loopback port) keeps the e-mails and shows them on its page, behind a front of ours that is the
 * endpoint handlers get (AWS_ENDPOINT_URL_SESV2), because the package alone is far more lenient than
 * SES in ways that matter here (read in its dist/: it takes any `Authorization` header starting with
 * "AWS", any From address, no recipient at all, and serves every SES v2 operation):
 *
 * - the request must be signed with the local key (SigV4, signing name `ses`);
 * - only `SendEmail` (POST /v2/email/outbound-emails): the notify function's grant is ses:SendEmail,
 *   so every other operation is AccessDeniedException;
 * - the From address must be the stack's verified identity (`EMAIL_FROM`): another one is refused
 *   with SES's `MessageRejected` "Email address is not verified" (the role's `ses:FromAddress`
 *   condition would refuse it too); a From is required;
 * - at least one recipient, at most 50, each a plausible address; every address (From, recipients,
 *   Reply-To) 7-bit ASCII, as SES requires; Simple content needs a subject (one line) and a text or
 *   HTML body; the message at most 40 MB once base64-encoded; templates and configuration sets do
 *   not exist locally (NotFoundException).
 * - not emulated: the sandbox (recipients would have to be verified too: the Deploy steps leave it
 *   before launch), sending quotas and rates, bounces and complaints.
 *
 * The mailbox page (`/`) and its JSON (`GET /store`) are served unsigned on the same port, so
 * developers and tests read what was sent: `Mail: <endpoint>/` in the banner.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsAnswer, AwsError, type AwsRequest, jsonBody, startAwsEndpoint } from './aws-endpoint.js';
import type { Log } from './log.js';

/** One e-mail as aws-ses-v2-local stores it (its `GET /store`). */
export interface SentEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: string[]; readonly cc: string[]; readonly bcc: string[] };
  readonly subject: string;
  readonly body: { readonly html?: string; readonly text?: string };
  readonly at: number;
}

export interface LocalSes {
  readonly endpoint: string;
  readonly port: number;
  /** The mailbox page. */
  readonly mailUrl: string;
  /** Every e-mail sent since this process started. */
  emails(): Promise<SentEmail[]>;
  /**
   * Puts an e-mail that another AWS service sends with its own SES account (Cognito's codes) in the
   * mailbox, past the front: the stack's verified identity does not apply to it.
   */
  deliver(email: { from: string; to: string; subject: string; text: string }): Promise<void>;
  close(): Promise<void>;
}

const MAX_RECIPIENTS = 50;
/** SES v2's largest message, "40 MB per message (after base64 encoding)" (Service quotas in Amazon SES). */
const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** The request around such a message (base64 in JSON, its escaping): room for the encoding. */
const MAX_REQUEST_BYTES = 56 * 1024 * 1024;
/** What base64 makes of `bytes` bytes: the size SES counts a MIME-encoded part by. */
const base64Size = (bytes: number) => Math.ceil(bytes / 3) * 4;
/** SES does not support SMTPUTF8: every address string must be 7-bit ASCII (an IDN domain in Punycode). */
const ascii = (value: string) => /^[\x20-\x7e]*$/.test(value);
const MAILBOX_PATHS = new Set(['/', '/store', '/get-emlContent', '/health-check', '/clear-store']);

/**
 * The address part of `Name <a@b>` or `a@b`, as written: SES compares an address identity with its
 * case ("Domain names are case-insensitive. Email addresses are case sensitive.", Creating and
 * verifying identities), so `Chat@…` is not the verified `chat@…`.
 */
export function addressOf(value: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(value);
  return (angle?.[1] ?? value).trim();
}

const nonAscii = (address: string) =>
  `Illegal address: ${address}: an address must be 7-bit ASCII (SES does not support SMTPUTF8): a Unicode domain in Punycode, a Unicode display name in MIME encoded-words.`;

const plausible = (address: string) => /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/.test(address);

export async function startLocalSes(options: {
  readonly emailFrom: string;
  readonly log: Log;
  readonly port?: number;
}): Promise<LocalSes> {
  const { log } = options;
  // CommonJS with a default export: Node's ESM interop gives module.exports as `default`.
  const imported = (await import('aws-ses-v2-local')) as unknown as {
    default: ((config: { host: string; port: number }) => Promise<import('node:http').Server>) & {
      default?: (config: { host: string; port: number }) => Promise<import('node:http').Server>;
    };
  };
  const startMailbox = imported.default.default ?? imported.default;
  const mailbox = await startMailbox({ host: '127.0.0.1', port: 0 });
  const inner = `http://127.0.0.1:${(mailbox.address() as AddressInfo).port}`;
  const verified = addressOf(options.emailFrom);

  /** The page and its JSON: passed through unsigned (they are not part of the SES API). */
  function open(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!MAILBOX_PATHS.has(path) || (req.method !== 'GET' && path !== '/clear-store')) return false;
    fetch(`${inner}${req.url ?? '/'}`, { method: req.method ?? 'GET' })
      .then(async (answer) => {
        const body = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
          'content-length': body.length,
        });
        res.end(body);
      })
      .catch((error: unknown) => {
        log.error('The mailbox page failed', error);
        res.writeHead(502).end();
      });
    return true;
  }

  function checkSend(body: Record<string, unknown>): void {
    const bad = (message: string) => new AwsError(400, 'BadRequestException', message);
    if (typeof body.ConfigurationSetName === 'string') {
      throw new AwsError(
        404,
        'NotFoundException',
        `Configuration set <${body.ConfigurationSetName}> does not exist.`,
      );
    }
    const content = (body.Content ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const kinds = (['Simple', 'Raw', 'Template'] as const).filter((kind) => content[kind] !== undefined);
    if (kinds.length !== 1) throw bad('Exactly one of Simple, Raw or Template content must be given.');
    if (kinds[0] === 'Template') throw new AwsError(404, 'NotFoundException', 'Template does not exist.');
    let from = typeof body.FromEmailAddress === 'string' ? body.FromEmailAddress : undefined;
    let size: number;
    if (kinds[0] === 'Simple') {
      const simple = content.Simple as {
        Subject?: { Data?: unknown };
        Body?: { Text?: { Data?: unknown }; Html?: { Data?: unknown } };
      };
      const subject = simple.Subject?.Data;
      if (typeof subject !== 'string') throw bad('Missing required parameter Content.Simple.Subject.');
      // SES writes the subject into the message's headers itself; a line break there is refused
      // here rather than passed on (SES's handling is not documented: stricter, see the README).
      if (/[\p{Cc}\u2028\u2029]/u.test(subject))
        throw bad('Content.Simple.Subject must not contain line breaks or control characters.');
      const parts = [simple.Body?.Text?.Data, simple.Body?.Html?.Data].filter(
        (part): part is string => typeof part === 'string',
      );
      if (parts.length === 0) {
        throw bad('Missing required parameter Content.Simple.Body: a Text or Html part is required.');
      }
      size = [subject, ...parts].reduce((sum, part) => sum + base64Size(Buffer.byteLength(part)), 0);
    } else {
      const raw = Buffer.from(String((content.Raw as { Data?: unknown }).Data ?? ''), 'base64');
      size = raw.length;
      from ??= /^From:\s*(.+)$/im.exec(raw.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '')?.[1];
    }
    if (size > MAX_MESSAGE_BYTES) {
      throw new AwsError(
        400,
        'MessageRejected',
        `Message length is more than ${MAX_MESSAGE_BYTES} bytes long.`,
      );
    }
    if (from === undefined || from.trim() === '') throw bad('Missing required parameter FromEmailAddress.');
    if (!ascii(from)) throw bad(nonAscii(from));
    if (addressOf(from) !== verified) {
      throw new AwsError(
        400,
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region US-EAST-1: ${addressOf(from)}`,
      );
    }
    const destination = (body.Destination ?? {}) as Record<string, unknown>;
    const recipients = (['ToAddresses', 'CcAddresses', 'BccAddresses'] as const).flatMap((field) => {
      const list = destination[field];
      if (list === undefined) return [];
      if (!Array.isArray(list)) throw bad(`Destination.${field} must be a list.`);
      return list as unknown[];
    });
    if (kinds[0] !== 'Raw' && recipients.length === 0)
      throw bad('Missing required parameter Destination: at least one recipient.');
    if (recipients.length > MAX_RECIPIENTS)
      throw new AwsError(400, 'MessageRejected', 'Recipient count exceeds 50.');
    const replyTo = Array.isArray(body.ReplyToAddresses) ? (body.ReplyToAddresses as unknown[]) : [];
    for (const recipient of [...recipients, ...replyTo]) {
      if (typeof recipient === 'string' && !ascii(recipient)) throw bad(nonAscii(recipient));
      if (typeof recipient !== 'string' || !plausible(addressOf(recipient))) {
        throw bad(`Illegal address: ${String(recipient)}`);
      }
    }
  }

  async function handle(request: AwsRequest): Promise<AwsAnswer> {
    const path = `/${request.segments.join('/')}`;
    if (request.method !== 'POST' || path !== '/v2/email/outbound-emails') {
      throw new AwsError(
        403,
        'AccessDeniedException',
        `Not authorized: the local SES serves SendEmail only (${request.method} ${path}).`,
      );
    }
    const body = jsonBody(request);
    checkSend(body);
    const answer = await fetch(`${inner}/v2/email/outbound-emails`, {
      method: 'POST',
      // The package only looks for an "AWS…" Authorization header; the real check was done above.
      headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 local-front' },
      body: new Uint8Array(request.body),
    });
    const text = await answer.text();
    if (!answer.ok) {
      // A refusal the front did not foresee: SES's generic shape, with the package's reason.
      throw new AwsError(answer.status, 'BadRequestException', text.slice(0, 500));
    }
    return { body: JSON.parse(text) as unknown };
  }

  const front = await startAwsEndpoint({
    name: 'SES',
    service: 'ses',
    protocol: 'rest-json',
    log,
    handle,
    open,
    maxBodyBytes: MAX_REQUEST_BYTES,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint: front.endpoint,
    port: front.port,
    mailUrl: `${front.endpoint}/`,
    async emails() {
      const answer = await fetch(`${inner}/store`);
      return ((await answer.json()) as { emails: SentEmail[] }).emails;
    },
    async deliver(email) {
      const answer = await fetch(`${inner}/v2/email/outbound-emails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 local-cognito' },
        body: JSON.stringify({
          FromEmailAddress: email.from,
          Destination: { ToAddresses: [email.to] },
          Content: { Simple: { Subject: { Data: email.subject }, Body: { Text: { Data: email.text } } } },
        }),
      });
      if (!answer.ok)
        throw new Error(`The mailbox refused the e-mail: ${answer.status} ${await answer.text()}`);
    },
    close() {
      closed ??= (async () => {
        await front.close();
        await new Promise<void>((resolve) => {
          mailbox.close(() => resolve());
          mailbox.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
