/**
 * AWS Signature Version 4, checked the way the services check it, for the local emulators that stand
 * in for IAM-protected endpoints (the S3 front, the Lambda Invoke endpoint). No AWS SDK here: the
 * emulators verify what the SDK signs, so they must not share its code.
 *
 * Covers the Authorization header and (for S3) the presigned query string. What each service answers
 * to a failure differs, so a failure is returned as data and the caller maps it to its own error.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { exactUtcDate } from './utc.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/**
 * How far a signed request's time may be from the server's clock: five minutes for AWS's services
 * ("a request must reach AWS within five minutes of the time stamp in the request", IAM User Guide,
 * Signing AWS API requests), fifteen for S3 (its RequestTimeTooSkewed answer names 900000 ms).
 */
export const MAX_SKEW_MS = 5 * 60 * 1000;
export const S3_MAX_SKEW_MS = 15 * 60 * 1000;
const maxSkewMs = (service: string) => (service === 's3' ? S3_MAX_SKEW_MS : MAX_SKEW_MS);
/** A presigned URL lives at most a week (SigV4 signing keys are valid for seven days). */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Scope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminal: string;
}

/** Why a signature was refused; the caller turns it into its service's error. */
export type SigV4Failure =
  | { readonly reason: 'malformed'; readonly message: string }
  | { readonly reason: 'region'; readonly region: string; readonly expected: string }
  | { readonly reason: 'service'; readonly service: string; readonly expected: string }
  | { readonly reason: 'unknownKey'; readonly accessKeyId: string }
  | {
      readonly reason: 'mismatch';
      readonly accessKeyId: string;
      readonly stringToSign: string;
      readonly canonicalRequest: string;
      readonly signatureProvided: string;
    }
  | {
      readonly reason: 'skewed';
      readonly requestTime: string;
      readonly serverTime: Date;
      readonly maxSkewMs: number;
    }
  | {
      readonly reason: 'expired';
      readonly expiresSeconds: string;
      readonly expires: Date;
      readonly serverTime: Date;
    }
  | { readonly reason: 'notYetValid' }
  | { readonly reason: 'unsignedHeaders'; readonly headers: readonly string[] };

export type SigV4Result =
  | { readonly ok: true; readonly scope: Scope }
  | { readonly ok: false; readonly failure: SigV4Failure };

/** Percent-encoding as SigV4 wants it (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const dateKey = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const regionKey = createHmac('sha256', dateKey).update(region).digest();
  const serviceKey = createHmac('sha256', regionKey).update(service).digest();
  return createHmac('sha256', serviceKey).update('aws4_request').digest();
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures (a mismatch in length is a mismatch). */
export function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `yyyyMMddTHHmmssZ`, the only date format SigV4 takes; undefined when it is not one. */
/** `yyyyMMddTHHmmssZ`, SigV4's time format. */
export const amzDate = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

export function parseAmzDate(value: string | undefined): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (match === null) return undefined;
  return exactUtcDate(match.slice(1).map(Number));
}

/** `AK/yyyyMMdd/region/service/aws4_request`. */
export function parseCredential(value: string): Scope | undefined {
  const parts = value.split('/');
  if (parts.length !== 5) return undefined;
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminal };
}

/**
 * The checks on a credential scope that come before the signature, in the order the services answer
 * them: form, then region and service (the signature is valid only within its scope), then the key.
 */
export function checkScope(
  scope: Scope | undefined,
  expected: { readonly region: string; readonly service: string; readonly credentials: Credentials },
  amzDate: string,
): SigV4Failure | undefined {
  if (scope === undefined || scope.accessKeyId === '') {
    return {
      reason: 'malformed',
      message: 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    };
  }
  if (!/^\d{8}$/.test(scope.date) || scope.date !== amzDate.slice(0, 8)) {
    return {
      reason: 'malformed',
      message: `incorrect date format "${scope.date}". This date in the credential must be in the format "yyyyMMdd" and be the day of X-Amz-Date.`,
    };
  }
  if (scope.terminal !== 'aws4_request') {
    return {
      reason: 'malformed',
      message: `incorrect terminal "${scope.terminal}". This endpoint uses "aws4_request".`,
    };
  }
  if (scope.region !== expected.region) {
    return { reason: 'region', region: scope.region, expected: expected.region };
  }
  if (scope.service !== expected.service) {
    return { reason: 'service', service: scope.service, expected: expected.service };
  }
  if (scope.accessKeyId !== expected.credentials.accessKeyId) {
    return { reason: 'unknownKey', accessKeyId: scope.accessKeyId };
  }
  return undefined;
}

/** Query parameters as sent, percent-decoded (`+` is a plus: SigV4 clients encode spaces as %20). */
export function rawQueryPairs(search: string): [string, string][] {
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    return [safeDecode(name), safeDecode(value)];
  });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function canonicalQuery(pairs: readonly [string, string][]): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * S3 signs the path as the URI-encoded object key, encoded once; other services encode the already
 * encoded path a second time.
 */
function canonicalPath(rawPath: string, service: string): string {
  const segments = rawPath.split('/');
  if (service === 's3') return segments.map((segment) => uriEncode(safeDecode(segment))).join('/');
  return segments.map((segment) => uriEncode(segment)).join('/');
}

function canonicalHeaderValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.map((one) => one.trim().replace(/\s+/g, ' ')).join(',');
}

export interface RequestToVerify {
  readonly method: string;
  /** The path as it came on the wire, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** Decoded query parameters in wire order. */
  readonly query: readonly [string, string][];
  readonly headers: IncomingHttpHeaders;
}

export interface Expectation {
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  readonly now?: Date;
}

function signatureCheck(
  request: RequestToVerify,
  expected: Expectation,
  scope: Scope,
  amzDate: string,
  signedHeaders: readonly string[],
  query: readonly [string, string][],
  payloadHash: string,
  signatureProvided: string,
): SigV4Result {
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(request.headers, name)}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalPath(request.rawPath, expected.service),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/${scope.terminal}`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const key = signingKey(expected.credentials.secretAccessKey, scope.date, scope.region, scope.service);
  if (!sameSignature(hmacHex(key, stringToSign), signatureProvided)) {
    return {
      ok: false,
      failure: {
        reason: 'mismatch',
        accessKeyId: scope.accessKeyId,
        stringToSign,
        canonicalRequest,
        signatureProvided,
      },
    };
  }
  return { ok: true, scope };
}

/** Signed headers must be lower-case, sorted, unique, and include `host`. */
function parseSignedHeaders(value: string): string[] | undefined {
  const names = value.split(';');
  const sorted = [...names].sort();
  if (names.some((name, i) => name === '' || name !== name.toLowerCase() || name !== sorted[i]))
    return undefined;
  if (new Set(names).size !== names.length || !names.includes('host')) return undefined;
  return names;
}

/** S3 refuses `x-amz-*` headers that the signature does not cover: anyone on the way could add them. */
function unsignedAmzHeaders(request: RequestToVerify, signedHeaders: readonly string[]): string[] {
  return Object.keys(request.headers).filter(
    (name) => name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signedHeaders.includes(name),
  );
}

/**
 * Verifies an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
 * header. `payloadHash` is what the canonical request ends with: S3's `x-amz-content-sha256` header,
 * or the hash of the body for the other services.
 */
export function verifyHeaderSignature(
  request: RequestToVerify,
  expected: Expectation,
  payloadHash: string,
): SigV4Result {
  const authorization = String(request.headers.authorization ?? '');
  const space = authorization.indexOf(' ');
  if (space < 0 || authorization.slice(0, space) !== ALGORITHM) {
    return {
      ok: false,
      failure: { reason: 'malformed', message: `the authorization mechanism must be ${ALGORITHM}` },
    };
  }
  const components = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) components.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = components.get('Credential');
  const signedHeaderList = components.get('SignedHeaders');
  const signature = components.get('Signature');
  if (credential === undefined || signedHeaderList === undefined || signature === undefined) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message:
          'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
      },
    };
  }
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      },
    };
  }
  const scope = parseCredential(credential);
  const scopeFailure = checkScope(scope, expected, amzDate);
  if (scopeFailure !== undefined || scope === undefined) {
    return { ok: false, failure: scopeFailure ?? { reason: 'malformed', message: 'bad credential' } };
  }
  const signedHeaders = parseSignedHeaders(signedHeaderList);
  if (signedHeaders === undefined) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message: 'SignedHeaders must be sorted, lower-case, unique and include host.',
      },
    };
  }
  // The time the signature is bound to must be signed itself: unsigned, anyone on the way could
  // re-date a captured request and replay it past the skew window.
  if (!signedHeaders.includes('x-amz-date')) {
    return {
      ok: false,
      failure: { reason: 'malformed', message: 'SignedHeaders must include x-amz-date.' },
    };
  }
  const now = expected.now ?? new Date();
  const skew = maxSkewMs(expected.service);
  if (Math.abs(now.getTime() - requestTime.getTime()) > skew) {
    return {
      ok: false,
      failure: { reason: 'skewed', requestTime: amzDate, serverTime: now, maxSkewMs: skew },
    };
  }
  if (expected.service === 's3') {
    const unsigned = unsignedAmzHeaders(request, signedHeaders);
    if (unsigned.length > 0) return { ok: false, failure: { reason: 'unsignedHeaders', headers: unsigned } };
  }
  return signatureCheck(
    request,
    expected,
    scope,
    amzDate,
    signedHeaders,
    request.query,
    payloadHash,
    signature,
  );
}

/** The presigned-URL parameters, in the order S3 names them when one is missing. */
const PRESIGNED_PARAMETERS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

/** Verifies an S3 presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...`). */
export function verifyQuerySignature(request: RequestToVerify, expected: Expectation): SigV4Result {
  const get = (name: string) => request.query.find(([key]) => key === name)?.[1];
  if (get('X-Amz-Algorithm') !== ALGORITHM) {
    return {
      ok: false,
      failure: { reason: 'malformed', message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"' },
    };
  }
  if (PRESIGNED_PARAMETERS.some((name) => get(name) === undefined)) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message:
          'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      },
    };
  }
  const amzDate = get('X-Amz-Date') ?? '';
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      },
    };
  }
  const expiresText = get('X-Amz-Expires') ?? '';
  if (!/^\d+$/.test(expiresText)) {
    return { ok: false, failure: { reason: 'malformed', message: 'X-Amz-Expires should be a number' } };
  }
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds > MAX_PRESIGNED_SECONDS) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message:
          'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      },
    };
  }
  const scope = parseCredential(get('X-Amz-Credential') ?? '');
  const scopeFailure = checkScope(scope, expected, amzDate);
  if (scopeFailure !== undefined || scope === undefined) {
    return { ok: false, failure: scopeFailure ?? { reason: 'malformed', message: 'bad credential' } };
  }
  const signedHeaders = parseSignedHeaders(get('X-Amz-SignedHeaders') ?? '');
  if (signedHeaders === undefined) {
    return {
      ok: false,
      failure: {
        reason: 'malformed',
        message: 'X-Amz-SignedHeaders must be sorted, lower-case, unique and include host.',
      },
    };
  }
  const now = expected.now ?? new Date();
  if (requestTime.getTime() - now.getTime() > maxSkewMs(expected.service))
    return { ok: false, failure: { reason: 'notYetValid' } };
  const expires = new Date(requestTime.getTime() + expiresSeconds * 1000);
  if (now.getTime() > expires.getTime()) {
    return {
      ok: false,
      failure: { reason: 'expired', expiresSeconds: expiresText, expires, serverTime: now },
    };
  }
  const unsigned = unsignedAmzHeaders(request, signedHeaders);
  if (unsigned.length > 0) return { ok: false, failure: { reason: 'unsignedHeaders', headers: unsigned } };
  const query = request.query.filter(([name]) => name !== 'X-Amz-Signature');
  const payloadHash = get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  return signatureCheck(
    request,
    expected,
    scope,
    amzDate,
    signedHeaders,
    query,
    payloadHash,
    get('X-Amz-Signature') ?? '',
  );
}
