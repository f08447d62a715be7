/**
 * makeTokenVerifier against real RS256 tokens: a key pair made here, a Cognito-shaped JWT signed with
 * it, and the JWKS served from 127.0.0.1 (what the local stack does through JWKS_URL).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTokenVerifier, type TokenVerifier } from '../../../lambdas/shared/auth.js';

const USER_POOL_ID = 'us-east-1_test';
const CLIENT_ID = 'client';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL_ID}`;
const KID = 'test-key-1';

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

let server: Server;
let jwksUrl: string;
let jwksRequests = 0;

beforeAll(async () => {
  const jwks = JSON.stringify({
    keys: [{ ...signingKey.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }],
  });
  server = createServer((_request, response) => {
    jwksRequests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(claims: Record<string, unknown>, options: { kid?: string; key?: KeyObject } = {}): string {
  const header = base64url({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? KID });
  const body = base64url(claims);
  const signature = sign(
    'RSA-SHA256',
    Buffer.from(`${header}.${body}`),
    options.key ?? signingKey.privateKey,
  );
  return `${header}.${body}.${signature.toString('base64url')}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The claims of a Cognito ID token that is valid for another hour. */
const idToken = (overrides: Record<string, unknown> = {}) => ({
  sub: '3f0e1c2a-7b6d-4e5f-8a9b-0c1d2e3f4a5b',
  iss: ISSUER,
  aud: CLIENT_ID,
  token_use: 'id',
  auth_time: nowSeconds() - 60,
  iat: nowSeconds() - 60,
  exp: nowSeconds() + 3600,
  name: 'Ann',
  ...overrides,
});

const verifier = (): TokenVerifier =>
  makeTokenVerifier({ userPoolId: USER_POOL_ID, clientId: CLIENT_ID, jwksUrl });

describe('makeTokenVerifier', () => {
  it("accepts a valid Cognito ID token with the caller's sub and name, fetching the JWKS from the configured URL", async () => {
    const before = jwksRequests;

    const caller = await verifier()(jwt(idToken()));

    expect(caller).toEqual({ userId: '3f0e1c2a-7b6d-4e5f-8a9b-0c1d2e3f4a5b', suggestedName: 'Ann' });
    expect(jwksRequests).toBe(before + 1);
  });

  it('fetches the JWKS once per verifier, not once per token', async () => {
    const verify = verifier();
    const before = jwksRequests;

    await verify(jwt(idToken()));
    await verify(jwt(idToken({ sub: 'bob' })));

    expect(jwksRequests).toBe(before + 1);
  });

  it('accepts a Cognito access token for the app client', async () => {
    const { aud: _aud, name: _name, ...claims } = idToken();

    const caller = await verifier()(
      jwt({ ...claims, token_use: 'access', client_id: CLIENT_ID, username: 'ann.user' }),
    );

    expect(caller).toEqual({ userId: claims.sub, suggestedName: 'ann.user' });
  });

  it.each([
    ['an expired token', () => jwt(idToken({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }))],
    ['a token for another app client', () => jwt(idToken({ aud: 'someone-else' }))],
    [
      'a token from another user pool',
      () => jwt(idToken({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other' })),
    ],
    ['a token from another issuer', () => jwt(idToken({ iss: 'https://evil.example.com' }))],
    [
      'a token signed with another key under the same kid',
      () => jwt(idToken(), { key: otherKey.privateKey }),
    ],
    [
      'a token with a tampered payload',
      () => {
        const [header, , signature] = jwt(idToken()).split('.');
        return `${header}.${base64url(idToken({ sub: 'admin' }))}.${signature}`;
      },
    ],
    ['a token whose key id the JWKS does not have', () => jwt(idToken(), { kid: 'unknown-key' })],
    ['a token whose sub is not a valid user id', () => jwt(idToken({ sub: 'a#b' }))],
    ['a token that is not a JWT', () => 'not-a-jwt'],
  ])('rejects %s', async (_label, token) => {
    // A fresh verifier each time: a failed key lookup puts the JWKS URL in a penalty box.
    expect(await verifier()(token())).toBeUndefined();
  });
});
