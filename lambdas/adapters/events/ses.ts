/** The Mailer on SES (v2): one simple e-mail, text and HTML, in UTF-8, from the configured address. */
import { domainToASCII } from 'node:url';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Mail, Mailer, MailResult } from '../../domain/ports.js';

const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' });

/**
 * Whether SES refused this recipient for good: MessageRejected naming the recipient and not the
 * sender ("Email address is not verified. The following identities failed the check in region ...:
 * bob@example.com", an unverified recipient while the account is in the SES sandbox). Retried, it
 * would only fill the dead-letter queue and page the operator for each such user. Everything else
 * throws, and the failure alarm is how the operator hears of it: throttling, outages, account-wide
 * states (SendingPausedException, AccountSuspendedException, MailFromDomainNotVerifiedException),
 * MessageRejected about the From identity (a lapsed verification stops every e-mail), and
 * BadRequestException (any invalid request, not only a bad address).
 */
function refusesRecipient(error: unknown, to: string, from: string): boolean {
  if (!(error instanceof Error) || error.name !== 'MessageRejected') return false;
  const text = error.message.toLowerCase();
  return text.includes(to.toLowerCase()) && !text.includes(from.toLowerCase());
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<MailResult> {
    const to = sesAddress(mail.to);
    if (to === undefined) return 'refused';
    try {
      await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [to] },
          Content: {
            Simple: {
              Subject: utf8(mail.subject),
              Body: { Text: utf8(mail.text), Html: utf8(mail.html) },
            },
          },
        }),
      );
      return 'sent';
    } catch (error) {
      if (refusesRecipient(error, to, this.from)) return 'refused';
      throw error;
    }
  }
}

/**
 * The address as SES takes it: 7-bit ASCII only (SES has no SMTPUTF8), so a Unicode domain in its
 * Punycode form; undefined when that cannot be (a non-ASCII local part), which no retry changes.
 */
export function sesAddress(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = address.slice(0, at);
  const domain = domainToASCII(address.slice(at + 1));
  if (domain === '' || !/^[\x21-\x7e]+$/.test(local)) return undefined;
  return `${local}@${domain}`;
}
