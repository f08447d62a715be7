/**
 * Local sign-in: RS256 tokens shaped like Cognito ID tokens, so the handlers verify them with the same
 * aws-jwt-verify code path as on AWS; only the JWKS comes from here instead of Cognito.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public key as a JWK with `kid`, `alg` and `use`, as Cognito's JWKS lists it. */
  readonly publicJwk: Readonly<Record<string, string>>;
}

export interface TokenClaims {
  readonly userId: string;
  readonly displayName: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
  readonly lifetimeSeconds: number;
  readonly now?: Date;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function toSigningKey(privateKey: KeyObject): SigningKey {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const { n, e } = jwk;
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('Signing key is not an RSA key');
  // RFC 7638 thumbprint: stable across restarts for the same key.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return { kid, privateKey, publicJwk: { alg: 'RS256', e, kid, kty: 'RSA', n, use: 'sig' } };
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return toSigningKey(privateKey);
}

/**
 * The key kept in `file` (PKCS#8 PEM), created on first use: tokens stay valid across restarts of a
 * stack whose data is on disk, so a browser tab does not have to sign in again.
 */
export function loadOrCreateSigningKey(file: string): SigningKey {
  if (existsSync(file)) return toSigningKey(createPrivateKey(readFileSync(file)));
  const key = generateSigningKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return key;
}

export function jwks(key: SigningKey): { keys: Record<string, string>[] } {
  return { keys: [{ ...key.publicJwk }] };
}

export function issuerOf(region: string, userPoolId: string): string {
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/** A Cognito-shaped ID token for `claims.userId`. */
export function signIdToken(key: SigningKey, claims: TokenClaims): string {
  const iat = Math.floor((claims.now ?? new Date()).getTime() / 1000);
  const header = { kid: key.kid, alg: 'RS256', typ: 'JWT' };
  const payload = {
    sub: claims.userId,
    aud: claims.clientId,
    token_use: 'id',
    'cognito:username': claims.userId,
    name: claims.displayName,
    iss: issuerOf(claims.region, claims.userPoolId),
    auth_time: iat,
    iat,
    exp: iat + claims.lifetimeSeconds,
    jti: createHash('sha256').update(`${claims.userId}:${iat}:${Math.random()}`).digest('hex').slice(0, 32),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${base64url(signature)}`;
}
