/**
 * Conditional requests for the local S3's front. s3rver evaluates only `If-None-Match` and
 * `If-Modified-Since` on a GET (and those with a slip); it ignores `If-Match` and `If-Unmodified-Since`,
 * the conditional writes (`If-None-Match: *`, `If-Match` on PutObject and CopyObject) and the copy
 * source's conditions (`x-amz-copy-source-if-*`), and copies or writes regardless. The front evaluates
 * them here, against the object's state read from s3rver just before, with the keys involved locked
 * (`KeyLocks`) so that nothing writes them between the check and the request.
 */
import { S3Error } from './s3-errors.js';

/** What a condition is evaluated against: the object's ETag (quoted, as S3 gives it) and Last-Modified. */
export interface ObjectState {
  readonly etag: string;
  readonly lastModified: Date;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const PRECONDITION_FAILED = 'At least one of the pre-conditions you specified did not hold';
const preconditionFailed = (condition: string) =>
  new S3Error(412, 'PreconditionFailed', PRECONDITION_FAILED, { Condition: condition });
export const notImplementedHeader = (header: string) =>
  new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', {
    Header: header,
  });

/** The read conditions (GetObject, HeadObject), in the order `evaluate` takes them. */
export const READ_CONDITIONS = [
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
] as const;
/** The copy source's conditions (CopyObject), in the same order. */
export const COPY_SOURCE_CONDITIONS = [
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-none-match',
  'x-amz-copy-source-if-modified-since',
  'x-amz-copy-source-if-unmodified-since',
] as const;
/** A conditional write's (PutObject, CopyObject): on the target key. */
export const WRITE_CONDITIONS = ['if-match', 'if-none-match'] as const;
/** Every conditional header the front knows (DeleteObject's last two are for directory buckets). */
const CONDITIONAL_HEADERS: readonly string[] = [
  ...READ_CONDITIONS,
  ...COPY_SOURCE_CONDITIONS,
  'x-amz-if-match-last-modified-time',
  'x-amz-if-match-size',
];

/** The header's name as S3 spells it in errors (`If-Match`, `x-amz-copy-source-If-Match`). */
const display = (name: string) =>
  name.replace(
    /(^|-)(if.*)$/,
    (_all, dash: string, rest: string) =>
      dash + rest.replace(/(^|-)([a-z])/g, (_part, sep: string, c: string) => sep + c.toUpperCase()),
  );

/**
 * Refuses a conditional header the front does not evaluate for this request (DeleteObject's
 * `If-Match`, `If-Modified-Since` on a write, any on a subresource such as `?tagging` or on
 * UploadPartCopy...): s3rver would ignore it and act regardless, so it is 501 NotImplemented here.
 */
export function refuseUnevaluated(headers: Headers, evaluated: readonly string[]): void {
  const name = CONDITIONAL_HEADERS.find((one) => headers[one] !== undefined && !evaluated.includes(one));
  if (name !== undefined) throw notImplementedHeader(display(name));
}

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** True when the request carries any of these headers. */
export const hasAny = (headers: Headers, names: readonly string[]) =>
  names.some((name) => headers[name] !== undefined);

/**
 * Whether an `If-Match` / `If-None-Match` value names this ETag: `*` names any object; otherwise a
 * comma-separated list of ETags, each quoted or not (S3 compares the quoted form; `W/` is dropped, as
 * S3's ETags are all strong).
 */
export function etagMatches(value: string, etag: string): boolean {
  const quoted = (tag: string) => {
    const bare = tag.trim().replace(/^W\//, '');
    return bare.startsWith('"') ? bare : `"${bare}"`;
  };
  const wanted = quoted(etag);
  return value
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '')
    .some((tag) => tag === '*' || quoted(tag) === wanted);
}

/** An HTTP date, or undefined when the value is not one (a condition with an invalid date is ignored, RFC 9110). */
function httpDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Last-Modified has whole seconds; a condition's date is compared at that precision. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The four conditions of a read, or of a copy's source (`names` in the order If-Match,
 * If-None-Match, If-Modified-Since, If-Unmodified-Since), evaluated as S3 documents them (RFC 9110's
 * precedence): If-Match decides over If-Unmodified-Since, If-None-Match over If-Modified-Since.
 * Answers which condition failed, and whether it is a "not modified" one (304 on a read).
 */
function evaluate(
  headers: Headers,
  names: readonly [string, string, string, string],
  state: ObjectState,
): { condition: string; notModified: boolean } | undefined {
  const [ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince] = names;
  const matchValue = header(headers, ifMatch);
  if (matchValue !== undefined) {
    if (!etagMatches(matchValue, state.etag)) return { condition: ifMatch, notModified: false };
  } else {
    const since = httpDate(header(headers, ifUnmodifiedSince));
    if (since !== undefined && seconds(state.lastModified) > seconds(since))
      return { condition: ifUnmodifiedSince, notModified: false };
  }
  const noneMatchValue = header(headers, ifNoneMatch);
  if (noneMatchValue !== undefined) {
    if (etagMatches(noneMatchValue, state.etag)) return { condition: ifNoneMatch, notModified: true };
  } else {
    const since = httpDate(header(headers, ifModifiedSince));
    if (since !== undefined && seconds(state.lastModified) <= seconds(since))
      return { condition: ifModifiedSince, notModified: true };
  }
  return undefined;
}

/**
 * GetObject / HeadObject on an existing object: 412 for If-Match / If-Unmodified-Since,
 * 'not-modified' (304) for If-None-Match / If-Modified-Since, undefined to serve it.
 */
export function checkRead(headers: Headers, state: ObjectState): 'not-modified' | undefined {
  const failed = evaluate(headers, READ_CONDITIONS, state);
  if (failed === undefined) return undefined;
  if (failed.notModified) return 'not-modified';
  throw preconditionFailed(display(failed.condition));
}

/** CopyObject's source conditions: every failed one is 412 (never 304), naming the header. */
export function checkCopySource(headers: Headers, state: ObjectState): void {
  const failed = evaluate(headers, COPY_SOURCE_CONDITIONS, state);
  if (failed !== undefined) throw preconditionFailed(display(failed.condition));
}

/** A PutObject's / CopyObject's conditions on its target, checked before anything is read or locked. */
export function validateWrite(headers: Headers): void {
  const ifMatch = header(headers, 'if-match');
  const ifNoneMatch = header(headers, 'if-none-match');
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw notImplementedHeader('If-None-Match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw notImplementedHeader('If-None-Match');
}

/**
 * A conditional write's target (PutObject, CopyObject): `If-None-Match: *` → 412 if the key holds an
 * object; `If-Match` → 412 if its ETag differs, 404 NoSuchKey if there is none. S3 takes nothing but
 * `*` for If-None-Match on a write; that, and both conditions at once, are refused by `validateWrite`
 * as not implemented rather than ignored.
 */
export function checkWrite(headers: Headers, key: string, state: ObjectState | undefined): void {
  const ifMatch = header(headers, 'if-match');
  if (header(headers, 'if-none-match') !== undefined && state !== undefined)
    throw preconditionFailed('If-None-Match');
  if (ifMatch !== undefined) {
    if (state === undefined)
      throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    if (!etagMatches(ifMatch, state.etag)) throw preconditionFailed('If-Match');
  }
}

/** `x-amz-copy-source`: `bucket/key` (a leading `/` allowed), each segment URL-encoded. */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const invalid = () =>
    new S3Error(
      400,
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: value,
      },
    );
  const question = value.indexOf('?');
  if (question !== -1) {
    // `?versionId=`: the bucket is not versioned, and the front does not emulate versions.
    throw new S3Error(
      501,
      'NotImplemented',
      'The local S3 does not take a version id in x-amz-copy-source.',
      {
        Header: 'x-amz-copy-source',
      },
    );
  }
  const path = value.startsWith('/') ? value.slice(1) : value;
  const segments = path.split('/');
  const bucket = segments[0] ?? '';
  if (bucket === '' || segments.length < 2) throw invalid();
  let decoded: string[];
  try {
    decoded = segments.slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    throw invalid();
  }
  if (decoded.some((segment) => segment === '.' || segment === '..')) {
    // S3 takes such keys; s3rver would read outside its folder.
    throw new S3Error(400, 'InvalidRequest', 'The local S3 does not take keys with "." or ".." segments.');
  }
  const key = decoded.join('/');
  if (key === '') throw invalid();
  return { bucket, key };
}

/**
 * Serializes work on object keys within the front: a conditional request checks the object's state
 * and then acts with the keys locked, so that two conditional writes to one key cannot both see it
 * missing (S3: the first to finish wins; the other gets 412). Keys are taken in sorted order, so two
 * requests that lock the same keys cannot wait on each other.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
      return await task();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.tails.set(key, held);
    if (previous !== undefined) await previous;
    return () => {
      if (this.tails.get(key) === held) this.tails.delete(key);
      release();
    };
  }
}

/**
 * `x-amz-tagging` on PutObject / CopyObject (`REPLACE`): URL-encoded `key=value` pairs, as S3 checks
 * them (at most 10 tags, keys 1 to 128 characters, values up to 256, no key twice). The XML for
 * PutObjectTagging.
 */
export function taggingXml(value: string | undefined, xmlEscape: (text: string) => string): string {
  const tags = value === undefined || value === '' ? [] : [...new URLSearchParams(value)];
  if (tags.length > 10) throw new S3Error(400, 'BadRequest', 'Object tags cannot be greater than 10');
  const seen = new Set<string>();
  for (const [key, tagValue] of tags) {
    if (key.length < 1 || key.length > 128)
      throw new S3Error(400, 'InvalidTag', 'The TagKey you have provided is invalid');
    if (tagValue.length > 256)
      throw new S3Error(400, 'InvalidTag', 'The TagValue you have provided is too long, max length is 256');
    if (seen.has(key)) throw new S3Error(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return `<Tagging><TagSet>${tags.map(([key, tagValue]) => `<Tag><Key>${xmlEscape(key)}</Key><Value>${xmlEscape(tagValue)}</Value></Tag>`).join('')}</TagSet></Tagging>`;
}
