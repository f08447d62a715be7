/**
 * The local S3: s3rver (a small S3 emulator, in this process) on an internal port, and in front of it
 * our own HTTP server that makes it as strict as S3 for what the chat does. The front's URL is the
 * endpoint: handlers get it as AWS_ENDPOINT_URL_S3, browsers post upload forms to it and load
 * presigned URLs from it, path-style (`http://127.0.0.1:PORT/<bucket>/<key>`).
 *
 * What s3rver lacks and the front adds (local/README.md has the whole list): it lets anonymous
 * requests through (the bucket is private: the front refuses them); it checks signatures only against
 * its own fixed key and with a few slips (the front verifies SigV4 itself, against LOCAL_CREDENTIALS,
 * and then forwards without the signature); it does not check POST policies at all (the front
 * handles upload forms itself, local/s3-post.ts); its CORS answers every preflight with `*`; and
 * it ignores most conditional requests (`If-Match` on a read, `If-None-Match: *` on a write, the copy
 * source's `x-amz-copy-source-if-*`), which the front evaluates with the keys locked
 * (local/s3-conditions.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bucketCors } from '../definitions/uploads.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo-local.js';
import { listenOn } from './http-util.js';
import type { Log } from './log.js';
import {
  COPY_SOURCE_CONDITIONS,
  checkCopySource,
  checkRead,
  checkWrite,
  hasAny,
  KeyLocks,
  type ObjectState,
  parseCopySource,
  READ_CONDITIONS,
  refuseUnevaluated,
  taggingXml,
  validateWrite,
  WRITE_CONDITIONS,
} from './s3-conditions.js';
import { accessDenied, requestIds, S3Error, sendS3Error, sigV4Error, xmlEscape } from './s3-errors.js';
import { handlePostUpload, type UploadToStore } from './s3-post.js';
import {
  type Credentials,
  type RequestToVerify,
  rawQueryPairs,
  sha256Hex,
  verifyHeaderSignature,
  verifyQuerySignature,
} from './sigv4.js';

export interface LocalS3Options {
  /** The bucket to create (if missing). */
  readonly bucket: string;
  /** Keep objects in `<dataDir>/s3`; undefined: a fresh temporary folder, removed on stop. */
  readonly dataDir?: string | undefined;
  /** Origins given CORS by the bucket's rule (the web client's own, and the stack's `allowedOrigins`). */
  readonly allowedOrigins: readonly string[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Port of the front; default 0 (any free port). */
  readonly port?: number;
  readonly log?: Log;
  readonly credentials?: Credentials;
  readonly region?: string;
}

export interface LocalS3 {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The part of s3rver's API used here (it ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const require = createRequire(import.meta.url);

/** Query parameters that override response headers of a signed GET (GetObject's `response-*`). */
const RESPONSE_OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
/** What the front consumes itself and does not pass on to s3rver. */
const isAuthParameter = (name: string) => name.startsWith('X-Amz-') || name in RESPONSE_OVERRIDES;
const CORS_DENIED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
/** What the front takes off a write it forwards: the conditions it evaluated, and the tags it sets itself. */
const WRITE_HEADERS_HANDLED = [
  ...WRITE_CONDITIONS,
  ...COPY_SOURCE_CONDITIONS,
  'x-amz-tagging',
  'x-amz-tagging-directive',
];
/** The hash of an empty body, which is what a body-less request signs. */
const EMPTY_SHA256 = sha256Hex('');

/** The path of an object in s3rver (each key segment encoded). */
const objectPath = (bucket: string, key: string) =>
  `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/** `host` as it goes into a URL (IPv6 literals in brackets; the wildcard becomes loopback). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const credentials = options.credentials ?? LOCAL_CREDENTIALS;
  const region = options.region ?? LOCAL_REGION;
  const host = options.host ?? '127.0.0.1';
  const { bucket } = options;
  // Spool files never live in s3rver's folder: it takes every entry there for a bucket.
  const scratch = await mkdtemp(join(tmpdir(), 'local-s3-'));
  const spoolDir = join(scratch, 'spool');
  const directory = options.dataDir === undefined ? join(scratch, 'data') : join(options.dataDir, 's3');
  await Promise.all([mkdir(spoolDir, { recursive: true }), mkdir(directory, { recursive: true })]);

  const S3rver = require('@20minutes/s3rver') as S3rverConstructor;
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let backendPort: number;
  try {
    backendPort = (await s3rver.run()).port;
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }

  let endpoint = '';
  const locks = new KeyLocks();
  const corsOrigins = new Set(options.allowedOrigins);
  const allowedMethods: readonly string[] = bucketCors.methods;

  /** The bucket's CORS rule applied to a request (none when the origin or method does not match). */
  function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
    const origin = req.headers.origin;
    if (origin === undefined || !corsOrigins.has(origin) || !allowedMethods.includes(req.method ?? ''))
      return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': allowedMethods.join(', '),
      'access-control-expose-headers': bucketCors.exposedHeaders.join(', '),
      'access-control-max-age': String(bucketCors.maxAgeSeconds),
      'access-control-allow-credentials': 'true',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    };
  }

  function preflight(req: IncomingMessage, res: ServerResponse, resourceType: string): void {
    const origin = req.headers.origin;
    const method = req.headers['access-control-request-method'];
    if (origin === undefined) {
      throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    }
    if (method === undefined)
      throw new S3Error(400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
    if (corsOrigins.size === 0)
      throw new S3Error(403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '');
    const headersAllowed =
      (bucketCors.allowedHeaders as readonly string[]).includes('*') ||
      requested.every((name) => (bucketCors.allowedHeaders as readonly string[]).includes(name));
    if (!corsOrigins.has(origin) || !allowedMethods.includes(method) || !headersAllowed) {
      throw new S3Error(403, 'AccessForbidden', CORS_DENIED, { Method: method, ResourceType: resourceType });
    }
    res.writeHead(200, {
      ...requestIds(),
      'access-control-allow-origin': origin,
      'access-control-allow-methods': allowedMethods.join(', '),
      ...(requested.length > 0 ? { 'access-control-allow-headers': requested.join(', ') } : {}),
      'access-control-expose-headers': bucketCors.exposedHeaders.join(', '),
      'access-control-max-age': String(bucketCors.maxAgeSeconds),
      'access-control-allow-credentials': 'true',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
      'content-length': 0,
    });
    res.end();
  }

  /** A request straight to s3rver, unsigned (it lets anonymous requests through; only the front reaches it). */
  function backend(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    body?: NodeJS.ReadableStream,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port: backendPort, method, path, headers }, resolve);
      outgoing.on('error', reject);
      if (body === undefined) outgoing.end();
      else pipeline(body, outgoing).catch(reject);
    });
  }

  async function readAll(stream: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Stores an accepted upload form's object in s3rver: the bytes with their headers, then the tags. */
  function store(upload: UploadToStore): Promise<string> {
    return locks.run([lockKey(bucket, upload.key)], () => storeLocked(upload));
  }

  async function storeLocked(upload: UploadToStore): Promise<string> {
    const path = objectPath(bucket, upload.key);
    const headers: OutgoingHttpHeaders = { ...upload.headers, 'content-length': upload.size };
    for (const [name, value] of Object.entries(upload.metadata)) headers[`x-amz-meta-${name}`] = value;
    if (upload.storageClass !== undefined) headers['x-amz-storage-class'] = upload.storageClass;
    const put = await backend('PUT', path, headers, createReadStream(upload.path));
    const putBody = await readAll(put);
    if (put.statusCode !== 200) throw new Error(`s3rver refused the upload (${put.statusCode}): ${putBody}`);
    // s3rver ignores x-amz-tagging on a PUT, so the tags follow as their own request. Both finish
    // before the form is answered, so nobody who was told of the upload sees it untagged.
    const tags = upload.tags ?? [];
    const xml = `<Tagging><TagSet>${tags.map((tag) => `<Tag><Key>${xmlEscape(tag.key)}</Key><Value>${xmlEscape(tag.value)}</Value></Tag>`).join('')}</TagSet></Tagging>`;
    await putTagging(path, xml);
    return String(put.headers.etag ?? '');
  }

  /** Replaces an object's tags in s3rver (an empty TagSet removes them). */
  async function putTagging(path: string, xml: string): Promise<void> {
    const tagged = await backend(
      'PUT',
      `${path}?tagging`,
      { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) },
      streamOf(xml),
    );
    const tagBody = await readAll(tagged);
    if (tagged.statusCode !== 200)
      throw new Error(`s3rver refused the tags (${tagged.statusCode}): ${tagBody}`);
  }

  /** An object's tags as s3rver keeps them (PutObjectTagging's XML). */
  async function getTagging(path: string): Promise<string> {
    const answer = await backend('GET', `${path}?tagging`, {});
    const xml = await readAll(answer);
    if (answer.statusCode !== 200) throw new Error(`s3rver refused the tags (${answer.statusCode}): ${xml}`);
    return xml;
  }

  /** An object's ETag and Last-Modified from s3rver; undefined when there is none (or no such bucket). */
  async function objectState(bucketName: string, key: string): Promise<ObjectState | undefined> {
    const head = await backend('HEAD', objectPath(bucketName, key), {});
    head.resume();
    if (head.statusCode === 404) return undefined;
    if (head.statusCode !== 200) throw new Error(`s3rver answered HEAD ${key} with ${head.statusCode}`);
    return {
      etag: String(head.headers.etag ?? ''),
      lastModified: new Date(String(head.headers['last-modified'] ?? '')),
    };
  }

  /** Checks the signature of a request that is not an upload form; throws S3's error when it fails. */
  async function authenticate(
    req: IncomingMessage,
    url: URL,
    query: [string, string][],
  ): Promise<NodeJS.ReadableStream | undefined> {
    const header = req.headers.authorization !== undefined;
    const queryV4 = query.some(([name]) => name === 'X-Amz-Algorithm');
    const queryV2 = query.some(([name]) => name === 'Signature' || name === 'AWSAccessKeyId');
    const mechanisms = [header, queryV4, queryV2].filter(Boolean).length;
    if (mechanisms === 0) throw accessDenied();
    if (mechanisms > 1) {
      throw new S3Error(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        { ArgumentName: 'Authorization', ArgumentValue: String(req.headers.authorization ?? '') },
      );
    }
    if (queryV2 || (header && !String(req.headers.authorization).startsWith('AWS4-'))) {
      throw new S3Error(
        400,
        'InvalidRequest',
        'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      );
    }
    const toVerify: RequestToVerify = {
      method: req.method ?? 'GET',
      rawPath: url.pathname,
      query,
      headers: req.headers,
    };
    const expected = { region, service: 's3', credentials };
    if (queryV4) {
      const result = verifyQuerySignature(toVerify, expected);
      if (!result.ok) throw sigV4Error(result.failure, 'query');
      return hasBody(req) ? req : undefined;
    }
    const contentHash = req.headers['x-amz-content-sha256'];
    if (typeof contentHash !== 'string') {
      throw new S3Error(
        400,
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
      );
    }
    const hex = /^[0-9a-f]{64}$/.test(contentHash);
    if (!hex && contentHash !== 'UNSIGNED-PAYLOAD' && contentHash !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') {
      if (contentHash.startsWith('STREAMING-')) {
        throw new S3Error(
          501,
          'NotImplemented',
          'A header you provided implies functionality that is not implemented',
          {
            Header: 'x-amz-content-sha256',
          },
        );
      }
      throw new S3Error(
        400,
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentHash },
      );
    }
    const result = verifyHeaderSignature(toVerify, expected, contentHash);
    if (!result.ok) throw sigV4Error(result.failure, 'header');
    if (!hex) return hasBody(req) ? req : undefined;
    return verifiedBody(req, contentHash);
  }

  /**
   * A body whose hash was signed is spooled while it is hashed, and passed on only if it matches:
   * s3rver writes an object in place, so a body refused half-way would leave half an object.
   */
  async function verifiedBody(
    req: IncomingMessage,
    signedHash: string,
  ): Promise<NodeJS.ReadableStream | undefined> {
    if (!hasBody(req)) {
      if (signedHash !== EMPTY_SHA256) throw contentHashMismatch(signedHash, EMPTY_SHA256);
      return undefined;
    }
    const spool = join(spoolDir, `body-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    await pipeline(
      req,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      }),
      createWriteStream(spool),
    );
    const computed = hash.digest('hex');
    if (computed !== signedHash) {
      await rm(spool, { force: true });
      throw contentHashMismatch(signedHash, computed);
    }
    const body = createReadStream(spool);
    body.on('close', () => {
      rm(spool, { force: true }).catch(() => undefined);
    });
    return body;
  }

  /**
   * Forwards a verified request to s3rver without its signature, and its answer back. `headers`
   * replaces the request's own; `afterSuccess` runs on a 2xx answer before it is passed on (the
   * answer is then read whole first: only for small ones).
   */
  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: [string, string][],
    body: NodeJS.ReadableStream | undefined,
    options: { headers?: IncomingHttpHeaders; afterSuccess?: () => Promise<void> } = {},
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const overrides: Record<string, string> = {};
    for (const [name, value] of query) {
      if (!name.startsWith('response-')) continue;
      const header = RESPONSE_OVERRIDES[name];
      if (header === undefined) {
        throw new S3Error(
          400,
          'InvalidArgument',
          `${name} is not in the set of overridable response headers. Please refer to the S3 API documentation for a complete list of overridable response headers.`,
          { ArgumentName: name, ArgumentValue: value },
        );
      }
      overrides[header] = value;
    }
    const passed = query.filter(([name]) => !isAuthParameter(name));
    const search = passed
      .map(([name, value]) =>
        value === '' ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
      )
      .join('&');
    const headers: IncomingHttpHeaders = { ...(options.headers ?? req.headers) };
    delete headers.authorization;
    delete headers.origin;
    const range = await suffixRange(method, url.pathname, headers);
    if (range !== undefined) headers.range = range;
    const answer = await backend(
      method,
      `${url.pathname}${search === '' ? '' : `?${search}`}`,
      headers,
      body,
    );
    const status = answer.statusCode ?? 500;
    const out: OutgoingHttpHeaders = { ...answer.headers, ...corsHeaders(req) };
    const isObject =
      url.pathname.split('/').filter(Boolean).length >= 2 &&
      !query.some(([name]) => name === 'tagging' || name === 'uploads' || name === 'uploadId');
    if (
      status >= 200 &&
      status < 300 &&
      isObject &&
      (method === 'GET' || method === 'HEAD' || method === 'PUT')
    ) {
      // The bucket encrypts every object with S3-managed keys (lib/chat-files.ts); s3rver does not say so.
      out['x-amz-server-side-encryption'] = 'AES256';
    }
    if (status >= 200 && status < 300 && (method === 'GET' || method === 'HEAD'))
      Object.assign(out, overrides);
    if (options.afterSuccess !== undefined && status >= 200 && status < 300) {
      const whole = Buffer.from(await readAll(answer), 'utf8');
      await options.afterSuccess();
      delete out['transfer-encoding'];
      out['content-length'] = whole.length;
      res.writeHead(status, out);
      res.end(whole);
      return;
    }
    res.writeHead(status, out);
    await pipeline(answer, res);
  }

  /**
   * GetObject / HeadObject with conditions: evaluated against the object's state with the key locked
   * (nothing replaces it between the check and the read); 412, 304, or the object without them.
   */
  async function conditionalRead(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: [string, string][],
    key: { bucket: string; key: string },
  ): Promise<void> {
    await locks.run([lockKey(key.bucket, key.key)], async () => {
      const state = await objectState(key.bucket, key.key);
      // A missing object: s3rver answers 404 NoSuchKey, as S3 does whatever the conditions.
      if (state !== undefined && checkRead(req.headers, state) === 'not-modified') {
        res.writeHead(304, {
          ...requestIds(),
          etag: state.etag,
          'last-modified': state.lastModified.toUTCString(),
          ...corsHeaders(req),
        });
        res.end();
        return;
      }
      await forward(req, res, url, query, undefined, { headers: without(req.headers, READ_CONDITIONS) });
    });
  }

  /**
   * PutObject and CopyObject. The target (and a copy's source) is locked while the conditions are
   * checked against s3rver's objects and the write is done, so that of two conditional writes to one
   * key the second sees the first's object (S3: the first to finish wins, the other gets 412).
   * s3rver checks none of the conditions, copies no tags and ignores `x-amz-tagging`: the front
   * sets the tags after the write (the source's for a copy, unless `x-amz-tagging-directive: REPLACE`).
   */
  async function write(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: [string, string][],
    body: NodeJS.ReadableStream | undefined,
    target: { bucket: string; key: string },
  ): Promise<void> {
    const copySource = req.headers['x-amz-copy-source'];
    const source = copySource === undefined ? undefined : parseCopySource(String(copySource));
    refuseUnevaluated(req.headers, [
      ...WRITE_CONDITIONS,
      ...(source === undefined ? [] : COPY_SOURCE_CONDITIONS),
    ]);
    validateWrite(req.headers);
    const directive = String(req.headers['x-amz-tagging-directive'] ?? 'COPY');
    if (source !== undefined && directive !== 'COPY' && directive !== 'REPLACE') {
      throw new S3Error(400, 'InvalidArgument', 'Unknown tagging directive.', {
        ArgumentName: 'x-amz-tagging-directive',
        ArgumentValue: directive,
      });
    }
    const copyTags = source !== undefined && directive === 'COPY';
    // Checked before anything is written: S3 refuses bad tags without storing the object.
    const tags = copyTags ? undefined : taggingXml(headerText(req.headers['x-amz-tagging']), xmlEscape);
    const headers = without(req.headers, WRITE_HEADERS_HANDLED);
    // s3rver reads the header with decodeURI, then splits the bucket off at the first `/`.
    if (source !== undefined) headers['x-amz-copy-source'] = encodeURI(`${source.bucket}/${source.key}`);
    const keys = [target, ...(source === undefined ? [] : [source])].map((one) =>
      lockKey(one.bucket, one.key),
    );
    await locks.run(keys, async () => {
      if (source !== undefined) {
        const state = await objectState(source.bucket, source.key);
        // A missing source: s3rver answers 404 NoSuchKey (or NoSuchBucket).
        if (state === undefined) return forward(req, res, url, query, body, { headers });
        checkCopySource(req.headers, state);
      }
      if (hasAny(req.headers, WRITE_CONDITIONS))
        checkWrite(req.headers, target.key, await objectState(target.bucket, target.key));
      const path = objectPath(target.bucket, target.key);
      await forward(req, res, url, query, body, {
        headers,
        afterSuccess: async () => {
          const xml =
            source !== undefined && copyTags ? await getTagging(objectPath(source.bucket, source.key)) : tags;
          await putTagging(path, xml ?? '<Tagging><TagSet></TagSet></Tagging>');
        },
      });
    });
  }

  /**
   * s3rver reads `Range: bytes=-N` (the last N bytes) as the first N: the front turns it into the
   * absolute range, from the object's size.
   */
  async function suffixRange(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
  ): Promise<string | undefined> {
    const match = /^bytes=-(\d+)$/.exec(String(headers.range ?? ''));
    if (match === null || method !== 'GET') return undefined;
    const head = await backend('HEAD', path, {});
    head.resume();
    const size = Number(head.headers['content-length']);
    if (head.statusCode !== 200 || !Number.isFinite(size)) return undefined;
    const last = Number(match[1]);
    if (last === 0) return 'bytes=0-'; // nothing to satisfy; s3rver answers InvalidRange for an empty object alone
    return `bytes=${Math.max(0, size - last)}-${size - 1}`;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rawQuery = (req.url ?? '').includes('?')
      ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1)
      : '';
    const query = rawQueryPairs(rawQuery);
    const segments = url.pathname.split('/').slice(1);
    const target = segments[0] ?? '';
    const resourceType = segments.length > 1 && segments[1] !== '' ? 'OBJECT' : 'BUCKET';
    if (req.method === 'OPTIONS') {
      preflight(req, res, resourceType);
      return;
    }
    const keySegments = segments.slice(1).map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
    if (keySegments.some((segment) => segment === '.' || segment === '..')) {
      // S3 takes such keys; s3rver would write outside its folder.
      throw new S3Error(400, 'InvalidRequest', 'The local S3 does not take keys with "." or ".." segments.');
    }
    const isForm =
      req.method === 'POST' &&
      rawQuery === '' &&
      (segments.length === 1 || (segments.length === 2 && segments[1] === ''));
    if (isForm) {
      if (target !== bucket) {
        throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: target });
      }
      await handlePostUpload(req, res, {
        bucket,
        region,
        credentials,
        spoolDir,
        store,
        bucketUrl: `${endpoint}/${bucket}`,
        headers: corsHeaders(req),
      });
      return;
    }
    const body = await authenticate(req, url, query);
    const method = req.method ?? 'GET';
    const object = { bucket: target, key: keySegments.join('/') };
    // `?tagging`, `?uploads`, `?uploadId=`... (not the signature's and `response-*` parameters, nor
    // the SDK's `x-id=<Operation>`, which S3 ignores).
    const subresource = query.some(([name]) => !isAuthParameter(name) && name !== 'x-id');
    if (resourceType === 'OBJECT' && !subresource) {
      if (method === 'GET' || method === 'HEAD') {
        refuseUnevaluated(req.headers, READ_CONDITIONS);
        if (hasAny(req.headers, READ_CONDITIONS)) return conditionalRead(req, res, url, query, object);
        return forward(req, res, url, query, body);
      }
      if (method === 'PUT') return write(req, res, url, query, body, object);
      refuseUnevaluated(req.headers, []);
      if (method === 'DELETE') {
        return locks.run([lockKey(object.bucket, object.key)], () => forward(req, res, url, query, body));
      }
      return forward(req, res, url, query, body);
    }
    refuseUnevaluated(req.headers, []);
    if (resourceType === 'OBJECT' && method === 'POST' && query.some(([name]) => name === 'uploadId')) {
      // CompleteMultipartUpload writes the object.
      return locks.run([lockKey(object.bucket, object.key)], () => forward(req, res, url, query, body));
    }
    await forward(req, res, url, query, body);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const s3Error =
        error instanceof S3Error
          ? error
          : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (!(error instanceof S3Error)) options.log?.error(`Local S3: ${req.method} ${req.url} failed`, error);
      // An answer given before the body was read: the connection cannot be reused for another request.
      const unread = !req.readableEnded;
      sendS3Error(res, s3Error, { ...corsHeaders(req), ...(unread ? { connection: 'close' } : {}) });
      if (unread) req.resume();
    });
  });
  const port = await listenOn(server, options.port ?? 0, host);
  endpoint = `http://${urlHost(host)}:${port}`;
  options.log?.info(
    `Local S3 on ${endpoint} (bucket ${bucket}, ${options.dataDir === undefined ? 'in a temporary folder' : `data in ${directory}`})`,
  );

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await s3rver.close();
        await rm(scratch, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The lock of an object key (bucket included). */
const lockKey = (bucket: string, key: string) => `${bucket}/${key}`;

/** Request headers without these (lower-case) names. */
function without(headers: IncomingHttpHeaders, names: readonly string[]): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = { ...headers };
  for (const name of names) delete kept[name];
  return kept;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function contentHashMismatch(client: string, computed: string): S3Error {
  return new S3Error(
    400,
    'XAmzContentSHA256Mismatch',
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
    {
      ClientComputedContentSHA256: client,
      S3ComputedContentSHA256: computed,
    },
  );
}

function streamOf(text: string): NodeJS.ReadableStream {
  return Readable.from([Buffer.from(text, 'utf8')]);
}
