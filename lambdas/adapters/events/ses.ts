/** The Mailer on SES (v2): one simple e-mail, text and HTML, in UTF-8, from the configured address. */
import { domainToASCII } from 'node:url';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Mail, Mailer, MailResult } from '../../domain/ports.js';

const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' });

/**
 * SendEmail's errors that no retry of the same e-mail can get past: MessageRejected (in the SES
 * sandbox, every recipient not verified; also content SES will not send) and BadRequestException
 * (an address SES cannot send to). Retried, they would only fill the dead-letter queue and page the
 * operator for each user. Throttling, outages and account-wide states (SendingPausedException,
 * AccountSuspendedException, MailFromDomainNotVerifiedException) still throw: they are the
 * operator's to fix, and the failure alarm is how they hear of it.
 */
const REFUSALS = new Set(['MessageRejected', 'BadRequestException']);

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
      if (error instanceof Error && REFUSALS.has(error.name)) return 'refused';
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
