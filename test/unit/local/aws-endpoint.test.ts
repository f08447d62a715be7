/**
 * The front every local AWS JSON API shares (aws-endpoint.ts), on its signature checks: the clock
 * skew AWS's services allow (five minutes, not S3's fifteen) and a signature that leaves its own time
 * unsigned. Requests are signed by hand here (a canonical request of a POST to `/`), so each test
 * picks exactly what is signed; a control request signed the normal way shows the signer is right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../local/aws-endpoint.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import type { Log } from '../../../local/log.js';
import { amzDate, hmacHex, sha256Hex, signingKey } from '../../../local/sigv4.js';

const quiet: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
let endpoint: AwsEndpoint;

beforeAll(async () => {
  endpoint = await startAwsEndpoint({
    name: 'Test',
    service: 'events',
    protocol: 'json',
    log: quiet,
    handle: async () => ({ body: { ok: true } }),
  });
});

afterAll(async () => {
  await endpoint?.close();
});

/** POSTs `{}` to `/`, signed for `events` at `at`, with `signed` as SignedHeaders. */
async function post(at: Date, signed: readonly ('host' | 'x-amz-date')[]) {
  const body = '{}';
  const host = new URL(endpoint.endpoint).host;
  const time = amzDate(at);
  const day = time.slice(0, 8);
  const values: Record<string, string> = { host, 'x-amz-date': time };
  const canonical = [
    'POST',
    '/',
    '',
    signed.map((name) => `${name}:${values[name]}\n`).join(''),
    signed.join(';'),
    sha256Hex(body),
  ].join('\n');
  const scope = `${day}/${LOCAL_REGION}/events/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', time, scope, sha256Hex(canonical)].join('\n');
  const signature = hmacHex(
    signingKey(LOCAL_CREDENTIALS.secretAccessKey, day, LOCAL_REGION, 'events'),
    toSign,
  );
  const answer = await fetch(`${endpoint.endpoint}/`, {
    method: 'POST',
    headers: {
      'x-amz-date': time,
      'x-amz-target': 'AWSEvents.PutEvents',
      authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
    },
    body,
  });
  return {
    status: answer.status,
    type: answer.headers.get('x-amzn-errortype'),
    body: (await answer.json()) as { message?: string },
  };
}

describe('the AWS JSON endpoints’ signature checks', () => {
  it('accepts a request signed within five minutes of its clock, either way', async () => {
    expect((await post(new Date(Date.now() - 4 * 60_000), ['host', 'x-amz-date'])).status).toBe(200);
    expect((await post(new Date(Date.now() + 4 * 60_000), ['host', 'x-amz-date'])).status).toBe(200);
  });

  it('refuses a request signed more than five minutes ago or ahead (S3 alone allows fifteen)', async () => {
    const old = await post(new Date(Date.now() - 6 * 60_000), ['host', 'x-amz-date']);
    expect(old).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
    expect(old.body.message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const ahead = await post(new Date(Date.now() + 6 * 60_000), ['host', 'x-amz-date']);
    expect(ahead).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
    expect(ahead.body.message).toMatch(/^Signature not yet current: .* \+ 5 min\.\)$/);
  });

  it('refuses a signature whose SignedHeaders leave out x-amz-date (the time it is bound to)', async () => {
    const answer = await post(new Date(), ['host']);
    expect(answer).toMatchObject({ status: 403, type: 'IncompleteSignatureException' });
  });
});
