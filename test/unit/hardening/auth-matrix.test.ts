/**
 * The auth matrix at the claim level: the real verifier (lambdas/shared/auth.ts, aws-jwt-verify) and
 * both authorizer handlers, with a JWKS served on 127.0.0.1 for a key this test holds, so that tokens
 * with a valid signature and one bad claim (expired, future, wrong issuer or client, wrong token use)
 * can be made. The integration matrix (test/integration/hardening/auth-matrix.test.ts) covers what
 * needs no signing key against the running stack.
 *
 * Every refused token must give: the verifier `undefined`, and both authorizers the exact
 * "Unauthorized" error (API Gateway's 401; any other error would be a 500).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The authorizer modules build their production verifier when imported: give them an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { makeHandler as makeHttpAuthorizer } from '../../../lambdas/http/authorizer.js';
import { makeTokenVerifier, type TokenVerifier } from '../../../lambdas/shared/auth.js';
import { makeHandler as makeWsAuthorizer } from '../../../lambdas/ws/authorizer.js';
import { httpAuthorizerEvent, wsAuthorizerEvent } from '../../fakes/events.js';
import {
  accessClaims,
  b64json,
  type Claims,
  decodeJwt,
  type Header,
  hmacJwt,
  idClaims,
  nowSeconds,
  publicKeySecrets,
  rsaKey,
  signJwt,
  unsignedJwt,
  without,
} from './jwt-forge.js';

const POOL = 'us-east-1_hardening';
const CLIENT = 'hardening-client';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;

const stackKey = rsaKey('stack-kid');
/** Another key published under the stack's kid by nobody: a forger's key. */
const forgerKey = rsaKey('stack-kid');
const strangerKey = rsaKey('stranger-kid');

let server: Server;
let baseUrl: string;
const hits = { jwks: 0, attacker: 0 };
let verify: TokenVerifier;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body: unknown;
    if (req.url === '/jwks.json') {
      hits.jwks++;
      body = { keys: [stackKey.jwk] };
    } else if (req.url === '/attacker/jwks.json') {
      hits.attacker++;
      body = { keys: [forgerKey.jwk, strangerKey.jwk] };
    }
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  verify = makeTokenVerifier({ userPoolId: POOL, clientId: CLIENT, jwksUrl: `${baseUrl}/jwks.json` });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const HEADER: Header = { alg: 'RS256', kid: stackKey.kid, typ: 'JWT' };
const signed = (claims: Claims, header: Header = HEADER) => signJwt(header, claims, stackKey.privateKey);
const ann = (extra: Claims = {}) => idClaims('ann', ISSUER, CLIENT, extra);

async function expectRefused(token: string): Promise<void> {
  await expect(verify(token), 'verifier').resolves.toBeUndefined();
  await expect(
    makeHttpAuthorizer(verify)(httpAuthorizerEvent({ authorization: `Bearer ${token}` })),
    'HTTP authorizer',
  ).rejects.toThrow(/^Unauthorized$/);
  await expect(
    makeWsAuthorizer(verify)(wsAuthorizerEvent({ token })),
    'WebSocket authorizer',
  ).rejects.toThrow(/^Unauthorized$/);
}

describe('control: tokens that must be accepted (so that the refusals below are about the claim)', () => {
  it('accepts an ID token with every claim right, through the verifier and both authorizers', async () => {
    const token = signed(ann());

    await expect(verify(token)).resolves.toEqual({ userId: 'ann', suggestedName: 'ann' });
    await expect(
      makeHttpAuthorizer(verify)(httpAuthorizerEvent({ authorization: `Bearer ${token}` })),
    ).resolves.toEqual({ isAuthorized: true, context: { userId: 'ann', name: 'ann' } });
    await expect(
      makeWsAuthorizer(verify)(wsAuthorizerEvent({ token, room: 'chat_ann_bob' })),
    ).resolves.toMatchObject({
      principalId: 'ann',
      context: { userId: 'ann', roomId: 'chat_ann_bob' },
    });
  });

  it('accepts an access token for the app client (client_id, no aud)', async () => {
    await expect(verify(signed(accessClaims('ann', ISSUER, CLIENT)))).resolves.toMatchObject({
      userId: 'ann',
    });
  });
});

const now = nowSeconds();

/** Valid signature by the key the JWKS serves; one claim wrong. */
const CLAIM_CASES: [string, () => string][] = [
  ['expired a minute ago', () => signed(ann({ iat: now - 3660, auth_time: now - 3660, exp: now - 60 }))],
  ['expired a day ago', () => signed(ann({ iat: now - 90_000, auth_time: now - 90_000, exp: now - 86_400 }))],
  ['not yet valid (nbf in an hour)', () => signed(ann({ nbf: now + 3600 }))],
  [
    'issued in the future (iat in an hour, no nbf)',
    () => signed(ann({ iat: now + 3600, auth_time: now + 3600, exp: now + 7200 })),
  ],
  ['without exp (never expires)', () => signed(without(ann(), 'exp'))],
  ['with exp not a number', () => signed(ann({ exp: String(now + 3600) }))],
  [
    'wrong issuer: another user pool',
    () => signed(ann({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other' })),
  ],
  [
    'wrong issuer: the same pool id in another region',
    () => signed(ann({ iss: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}` })),
  ],
  [
    'wrong issuer: http instead of https',
    () => signed(ann({ iss: `http://cognito-idp.us-east-1.amazonaws.com/${POOL}` })),
  ],
  ['wrong issuer: a trailing slash', () => signed(ann({ iss: `${ISSUER}/` }))],
  ['no issuer', () => signed(without(ann(), 'iss'))],
  ['wrong audience: an ID token of another app client', () => signed(ann({ aud: 'other-client' }))],
  [
    'wrong audience: an array without the client',
    () => signed(ann({ aud: ['other-client', 'third-client'] })),
  ],
  ['no audience on an ID token', () => signed(without(ann(), 'aud'))],
  ['token_use access with another client_id', () => signed(accessClaims('ann', ISSUER, 'other-client'))],
  [
    'token_use access with the client only in aud',
    () => signed(without(accessClaims('ann', ISSUER, CLIENT, { aud: CLIENT }), 'client_id')),
  ],
  ['token_use refresh', () => signed(ann({ token_use: 'refresh' }))],
  ['token_use "ID" (case)', () => signed(ann({ token_use: 'ID' }))],
  ['no token_use', () => signed(without(ann(), 'token_use'))],
  ['no sub', () => signed(without(ann(), 'sub'))],
  ['sub that is not a user id (a#b)', () => signed(ann({ sub: 'a#b' }))],
  ['sub with a slash', () => signed(ann({ sub: 'a/b' }))],
  ['empty sub', () => signed(ann({ sub: '' }))],
  ['sub of 129 characters', () => signed(ann({ sub: 'a'.repeat(129) }))],
  ['sub that is a number', () => signed(ann({ sub: 42 }))],
];

/** Signature and header attacks. */
const SIGNATURE_CASES: [string, () => string][] = [
  ['bad signature: another key under the stack kid', () => signJwt(HEADER, ann(), forgerKey.privateKey)],
  [
    'unknown kid: a key the JWKS does not list',
    () => signJwt({ ...HEADER, kid: strangerKey.kid }, ann(), strangerKey.privateKey),
  ],
  ['no kid', () => signed(ann(), { alg: 'RS256', typ: 'JWT' })],
  ['kid path traversal', () => signed(ann(), { ...HEADER, kid: '../../jwks.json' })],
  ['alg none, empty signature', () => unsignedJwt({ alg: 'none', kid: stackKey.kid, typ: 'JWT' }, ann())],
  [
    'alg none keeping a valid signature',
    () => {
      const [, , signature = ''] = signed(ann()).split('.');
      return unsignedJwt({ alg: 'none', kid: stackKey.kid, typ: 'JWT' }, ann(), signature);
    },
  ],
  ['alg NONE', () => unsignedJwt({ alg: 'NONE', kid: stackKey.kid }, ann())],
  ...publicKeySecrets(stackKey.jwk).map(({ label, secret }): [string, () => string] => [
    `HS256 keyed with the stack's public key (${label})`,
    () => hmacJwt({ alg: 'HS256', kid: stackKey.kid, typ: 'JWT' }, ann(), secret),
  ]),
  [
    'RS512 by the stack key (the JWK says RS256)',
    () => signJwt({ ...HEADER, alg: 'RS512' }, ann(), stackKey.privateKey),
  ],
  [
    "an embedded jwk header with the forger's key",
    () =>
      signJwt(
        { ...HEADER, kid: 'forged', jwk: { ...forgerKey.jwk, kid: 'forged' } },
        ann(),
        forgerKey.privateKey,
      ),
  ],
  [
    "a jku header pointing at the forger's JWKS",
    () =>
      signJwt(
        { ...HEADER, kid: strangerKey.kid, jku: `${baseUrl}/attacker/jwks.json` },
        ann(),
        strangerKey.privateKey,
      ),
  ],
  [
    'a payload changed after signing (sub bob)',
    () => {
      const [header, , signature] = signed(ann()).split('.');
      return `${header}.${b64json(ann({ sub: 'bob' }))}.${signature}`;
    },
  ],
  [
    "another token's signature",
    () => {
      const [header, payload] = signed(ann({ sub: 'bob' })).split('.');
      const [, , signature] = signed(ann()).split('.');
      return `${header}.${payload}.${signature}`;
    },
  ],
];

const MALFORMED_CASES: [string, () => string][] = [
  ['not a JWT', () => 'not-a-jwt'],
  ['two segments', () => signed(ann()).split('.').slice(0, 2).join('.')],
  ['four segments', () => `${signed(ann())}.extra`],
  [
    'bad base64 in the payload',
    () => {
      const [header, , signature] = signed(ann()).split('.');
      return `${header}.!!!$$$.${signature}`;
    },
  ],
  ['a header that is not JSON', () => `${Buffer.from('nope').toString('base64url')}.${b64json(ann())}.c2ln`],
  [
    'a payload that is not JSON',
    () => `${b64json(HEADER)}.${Buffer.from('nope').toString('base64url')}.c2ln`,
  ],
  ['a payload that is a JSON array', () => signed([ann()] as unknown as Claims)],
];

describe('claim-level refusals (valid signature, one claim wrong)', () => {
  it.each(CLAIM_CASES)('refuses a token %s', async (_label, make) => {
    await expectRefused(make());
  });
});

describe('signature and header attacks', () => {
  it.each(SIGNATURE_CASES)('refuses %s', async (_label, make) => {
    await expectRefused(make());
  });

  it("never fetches a JWKS a token's jku names", async () => {
    const before = hits.attacker;
    await expectRefused(
      signJwt(
        { ...HEADER, kid: strangerKey.kid, jku: `${baseUrl}/attacker/jwks.json` },
        ann(),
        strangerKey.privateKey,
      ),
    );
    expect(hits.attacker).toBe(before);
    expect(hits.attacker).toBe(0);
    expect(hits.jwks).toBeGreaterThan(0);
  });
});

describe('malformed tokens', () => {
  it.each(MALFORMED_CASES)('refuses %s', async (_label, make) => {
    await expectRefused(make());
  });
});

describe('the forged tokens are what they claim to be', () => {
  it('carry the stack kid, or the claims they are said to carry', () => {
    expect(decodeJwt(signJwt(HEADER, ann(), forgerKey.privateKey)).header.kid).toBe(stackKey.kid);
    expect(decodeJwt(signed(ann({ nbf: now + 3600 }))).claims.nbf).toBe(now + 3600);
    expect(decodeJwt(signed(without(ann(), 'exp'))).claims).not.toHaveProperty('exp');
  });
});
