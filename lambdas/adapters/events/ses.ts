/** The Mailer on SES (v2): one simple e-mail, text and HTML, in UTF-8, from the configured address. */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Mail, Mailer } from '../../domain/ports.js';

const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' });

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [mail.to] },
        Content: {
          Simple: {
            Subject: utf8(mail.subject),
            Body: { Text: utf8(mail.text), Html: utf8(mail.html) },
          },
        },
      }),
    );
  }
}
