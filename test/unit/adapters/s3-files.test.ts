/**
 * The S3 adapters' requests, built without a network: upload forms bind every condition the chat
 * relies on, download URLs are signed locally for the right object, with the right disposition and
 * lifetime. (That storage honours them is tested against the local S3 server in the integration suite.)
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { uploadLimits } from '../../../definitions/uploads.js';
import { objectUrl } from '../../../lambdas/adapters/s3/client.js';
import { contentDisposition, S3DownloadSigner } from '../../../lambdas/adapters/s3/downloads.js';
import { S3UploadForms } from '../../../lambdas/adapters/s3/upload-forms.js';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const clock = { now: () => NOW };

/** A client that fails any request it would send: signing must not need one. */
function offlineClient(endpoint?: string): S3Client {
  return new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    requestHandler: {
      handle: () => Promise.reject(new Error('no request may be sent')),
    },
  });
}

describe('upload forms', () => {
  it('bind the key, the type, the exact size and the metadata, for five minutes', async () => {
    const forms = new S3UploadForms(offlineClient(), 'files-bucket', clock);
    const form = await forms.form({
      key: 'uploads/chat_ann_bob/ann/0123',
      contentType: 'application/pdf',
      size: 1234,
      fileName: 'brief ü.pdf',
    });

    expect(form.url).toBe('https://files-bucket.s3.eu-west-1.amazonaws.com/');
    expect(form.fields).toMatchObject({
      key: 'uploads/chat_ann_bob/ann/0123',
      'Content-Type': 'application/pdf',
      'x-amz-meta-filename': 'brief%20%C3%BC.pdf',
      'x-amz-meta-size': '1234',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    });
    const policy = JSON.parse(Buffer.from(String(form.fields.Policy), 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket: 'files-bucket' },
        { key: 'uploads/chat_ann_bob/ann/0123' },
        { 'Content-Type': 'application/pdf' },
        { 'x-amz-meta-filename': 'brief%20%C3%BC.pdf' },
        { 'x-amz-meta-size': '1234' },
        ['content-length-range', 1234, 1234],
      ]),
    );
    // Every field the form carries is named by a condition (S3 refuses the others).
    const named = new Set(
      policy.conditions.flatMap((condition) =>
        Array.isArray(condition)
          ? [String(condition[1]).replace(/^\$/, '')]
          : Object.keys(condition as object),
      ),
    );
    for (const field of Object.keys(form.fields).filter(
      (name) => !['Policy', 'X-Amz-Signature'].includes(name),
    )) {
      expect(named.has(field) || named.has(field.toLowerCase()), field).toBe(true);
    }
    const lifetime = Date.parse(policy.expiration) - Date.now();
    expect(lifetime).toBeGreaterThan((uploadLimits.formSeconds - 10) * 1000);
    expect(lifetime).toBeLessThanOrEqual(uploadLimits.formSeconds * 1000);
    expect(form.expiresAt).toBe(new Date(NOW.getTime() + uploadLimits.formSeconds * 1000).toISOString());
  });
});

describe('download URLs', () => {
  it('name the object on AWS (virtual-hosted) and under a custom endpoint (path-style)', () => {
    expect(objectUrl('b', 'uploads/chat_a_b/a@x.com/01', 'eu-west-1', {}).href).toBe(
      'https://b.s3.eu-west-1.amazonaws.com/uploads/chat_a_b/a%40x.com/01',
    );
    expect(
      objectUrl('b', 'avatars/ann/01', 'us-east-1', { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000/' }).href,
    ).toBe('http://127.0.0.1:9000/b/avatars/ann/01');
  });

  it('are signed locally for two hours, with the file name for a download and inline for an image', async () => {
    const signer = new S3DownloadSigner(offlineClient(), 'files-bucket', clock);

    const document = new URL(
      await signer.url({ key: 'uploads/r/u/1', fileName: 'brief ü.pdf', inline: false }),
    );
    const image = new URL(await signer.url({ key: 'uploads/r/u/2', fileName: 'dot.png', inline: true }));

    expect(document.origin + document.pathname).toBe(
      'https://files-bucket.s3.eu-west-1.amazonaws.com/uploads/r/u/1',
    );
    expect(document.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="brief _.pdf"; filename*=UTF-8''brief%20%C3%BC.pdf`,
    );
    expect(image.searchParams.get('response-content-disposition')).toMatch(/^inline; filename="dot.png"/);
    expect(document.searchParams.get('X-Amz-Expires')).toBe(String(uploadLimits.downloadSeconds));
    expect(uploadLimits.downloadSeconds).toBeGreaterThanOrEqual(3600);
    expect(document.searchParams.get('X-Amz-Date')).toBe('20261126T100000Z');
    expect(document.searchParams.get('X-Amz-Credential')).toBe(
      'AKIDEXAMPLE/20261126/eu-west-1/s3/aws4_request',
    );
    expect(document.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(document.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    // Encoded as SigV4 canonicalises it (RFC 3986), so no agent has to re-encode the URL.
    expect(document.search).not.toMatch(/[!'()*]/);
  });
});

describe('contentDisposition', () => {
  it('keeps an ASCII name and encodes any other in UTF-8 (RFC 6266), never breaking out of the quotes', () => {
    expect(contentDisposition('a.pdf', false)).toBe(`attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`);
    expect(contentDisposition('Résumé (final)*.docx', false)).toBe(
      `attachment; filename="R_sum_ (final)*.docx"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%28final%29%2A.docx`,
    );
    expect(contentDisposition('a"b\\c%d.txt', true)).toBe(
      `inline; filename="a_b_c_d.txt"; filename*=UTF-8''a%22b%5Cc%25d.txt`,
    );
  });
});
