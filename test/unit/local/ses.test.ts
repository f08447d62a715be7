/**
 * The local SES (aws-ses-v2-local behind our front) against the real @aws-sdk/client-sesv2: a send
 * from the verified address is stored and read back from the mailbox's JSON, and the front refuses
 * what SES refuses for what the notify function sends (no or another From, no recipient, no subject
 * or body, another operation, a bad signature).
 */
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import type { Log } from '../../../local/log.js';
import { type LocalSes, startLocalSes } from '../../../local/ses.js';

const quiet: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
let ses: LocalSes;
let client: SESv2Client;

beforeAll(async () => {
  ses = await startLocalSes({ emailFrom: 'chat@localhost.test', log: quiet });
  client = new SESv2Client({
    endpoint: ses.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await ses?.close();
});

const send = (overrides: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
  FromEmailAddress: 'Chat <chat@localhost.test>',
  Destination: { ToAddresses: ['ann@example.com'] },
  Content: {
    Simple: {
      Subject: { Data: 'You have 2 unread messages' },
      Body: { Text: { Data: 'Bob: hi' }, Html: { Data: '<p>Bob: hi</p>' } },
    },
  },
  ...overrides,
});

describe('SES v2 SendEmail', () => {
  it('stores an e-mail from the verified address, readable from the mailbox', async () => {
    const answer = await client.send(new SendEmailCommand(send()));
    expect(answer.MessageId).toEqual(expect.any(String));
    const emails = await ses.emails();
    expect(emails.find((e) => e.messageId === answer.MessageId)).toMatchObject({
      destination: { to: ['ann@example.com'] },
      subject: 'You have 2 unread messages',
      body: { text: 'Bob: hi', html: '<p>Bob: hi</p>' },
    });
    const page = await fetch(ses.mailUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });

  it('refuses what SES refuses', async () => {
    const cases: [SendEmailCommandInput, string][] = [
      [send({ FromEmailAddress: 'someone@else.test' }), 'MessageRejected'],
      // An address identity is verified with its case: "Email addresses are case sensitive."
      [send({ FromEmailAddress: 'Chat <Chat@localhost.test>' }), 'MessageRejected'],
      [send({ FromEmailAddress: undefined }), 'BadRequestException'],
      [send({ Destination: {} }), 'BadRequestException'],
      [send({ Destination: undefined }), 'BadRequestException'],
      [send({ Destination: { ToAddresses: ['not an address'] } }), 'BadRequestException'],
      [
        send({ Destination: { ToAddresses: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) } }),
        'MessageRejected',
      ],
      [send({ Content: { Simple: { Subject: { Data: 's' }, Body: {} } } }), 'BadRequestException'],
      [send({ Content: {} }), 'BadRequestException'],
      [send({ Content: { Template: { TemplateName: 'digest' } } }), 'NotFoundException'],
      [send({ ConfigurationSetName: 'tracking' }), 'NotFoundException'],
      // Not 7-bit ASCII: a raw Unicode display name, local part or domain (SES has no SMTPUTF8).
      [send({ FromEmailAddress: 'Chät <chat@localhost.test>' }), 'BadRequestException'],
      [send({ Destination: { ToAddresses: ['ann@exämple.com'] } }), 'BadRequestException'],
      [send({ ReplyToAddresses: ['zoë@example.com'] }), 'BadRequestException'],
      // A subject that would end its header line.
      [
        send({
          Content: {
            Simple: { Subject: { Data: 'Hi\r\nBcc: eve@example.com' }, Body: { Text: { Data: 'x' } } },
          },
        }),
        'BadRequestException',
      ],
    ];
    for (const [input, name] of cases) {
      await expect(
        client.send(new SendEmailCommand(input)),
        JSON.stringify(input).slice(0, 80),
      ).rejects.toMatchObject({ name });
    }
  });

  it('takes a Unicode display name in MIME encoded-words, and a Unicode domain in Punycode', async () => {
    const answer = await client.send(
      new SendEmailCommand(
        send({
          FromEmailAddress: '=?UTF-8?B?Q2jDpHQ=?= <chat@localhost.test>',
          Destination: { ToAddresses: ['ann@xn--exmple-cua.com'] },
        }),
      ),
    );
    expect(answer.MessageId).toEqual(expect.any(String));
  });

  it('refuses a message over 40 MB once base64-encoded with MessageRejected', async () => {
    const text = 'a'.repeat(31 * 1024 * 1024);
    await expect(
      client.send(
        new SendEmailCommand(
          send({ Content: { Simple: { Subject: { Data: 'big' }, Body: { Text: { Data: text } } } } }),
        ),
      ),
    ).rejects.toMatchObject({ name: 'MessageRejected' });
  }, 30_000);

  it('refuses unsigned or wrongly signed requests, and every other operation', async () => {
    const unsigned = await fetch(`${ses.endpoint}/v2/email/outbound-emails`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(403);
    const wrong = new SESv2Client({
      endpoint: ses.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    await expect(wrong.send(new SendEmailCommand(send()))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
    const { GetAccountCommand } = await import('@aws-sdk/client-sesv2');
    await expect(client.send(new GetAccountCommand({}))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
  });
});
