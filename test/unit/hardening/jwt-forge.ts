/**
 * Token forgery for the auth matrix: RS256 keys of our own, Cognito-shaped claims, and the classic
 * attacks (alg none, HS256 keyed with the public key, an embedded jwk, a jku, a borrowed kid).
 * Pure node:crypto; shared by the unit matrix and the integration matrix.
 */
import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from 'node:crypto';

export const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
export const b64json = (value: unknown) => b64url(JSON.stringify(value));

export interface RsaKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as a JWKS entry (`kid`, `alg` RS256, `use` sig). */
  readonly jwk: JsonWebKey & { kid: string; alg: string; use: string };
}

export function rsaKey(kid: string): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, publicKey, jwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } };
}

export type Header = Record<string, unknown>;
export type Claims = Record<string, unknown>;

const DIGEST: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

/** A JWS signed with `key` (RSA PKCS#1 v1.5) whatever the header says, unless the header says otherwise. */
export function signJwt(header: Header, claims: Claims, key: KeyObject, digest?: string): string {
  const input = `${b64json(header)}.${b64json(claims)}`;
  const alg = typeof header.alg === 'string' ? header.alg : 'RS256';
  const signature = sign(digest ?? DIGEST[alg] ?? 'sha256', Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

/** An unsigned token: `alg: none` and an empty (or given) signature. */
export function unsignedJwt(header: Header, claims: Claims, signature = ''): string {
  return `${b64json(header)}.${b64json(claims)}.${signature}`;
}

/** HS256 keyed with `secret` (the algorithm-confusion attack uses the server's public key). */
export function hmacJwt(header: Header, claims: Claims, secret: string | Buffer): string {
  const input = `${b64json(header)}.${b64json(claims)}`;
  return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`;
}

/** The forms of a public RSA key that an HS256 confusion attack might use as the HMAC secret. */
export function publicKeySecrets(jwk: JsonWebKey): { label: string; secret: string | Buffer }[] {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return [
    { label: 'SPKI PEM', secret: key.export({ type: 'spki', format: 'pem' }) as string },
    { label: 'PKCS#1 PEM', secret: key.export({ type: 'pkcs1', format: 'pem' }) as string },
    { label: 'SPKI DER', secret: key.export({ type: 'spki', format: 'der' }) as Buffer },
    { label: 'JWK JSON', secret: JSON.stringify(jwk) },
  ];
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims of a Cognito ID token for `sub`, valid for an hour. */
export function idClaims(sub: string, issuer: string, clientId: string, extra: Claims = {}): Claims {
  const now = nowSeconds();
  return {
    sub,
    aud: clientId,
    token_use: 'id',
    'cognito:username': sub,
    name: sub,
    iss: issuer,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    ...extra,
  };
}

/** Claims of a Cognito access token for `sub` (client_id instead of aud). */
export function accessClaims(sub: string, issuer: string, clientId: string, extra: Claims = {}): Claims {
  const now = nowSeconds();
  return {
    sub,
    client_id: clientId,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    username: sub,
    iss: issuer,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    ...extra,
  };
}

/** The decoded header and payload of a JWT (no verification). */
export function decodeJwt(token: string): { header: Header; claims: Claims } {
  const [header = '', claims = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Header,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Claims,
  };
}

/** Drops a claim (for "missing exp" and the like). */
export function without(claims: Claims, ...names: string[]): Claims {
  const copy = { ...claims };
  for (const name of names) Reflect.deleteProperty(copy, name);
  return copy;
}
