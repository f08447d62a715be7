/**
 * The local S3 (s3rver behind our front) against the real AWS SDK: upload forms from
 * @aws-sdk/s3-presigned-post posted with fetch, presigned GETs from @aws-sdk/s3-request-presigner,
 * and the client's own signed requests. No mocks: a refusal here is the front's, as S3 would answer.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import { type LocalS3, startLocalS3 } from '../../../local/s3.js';

const BUCKET = 'chat-files';
const WEB_ORIGIN = 'http://127.0.0.1:3000';
const TEXT = 'hello world';

/** Tags an upload form sets (the front stores a form's `tagging` field; the values are the test's own). */
const uploadTag = { key: 'state', pending: 'pending', attached: 'attached' } as const;
const pendingTagging = `<Tagging><TagSet><Tag><Key>${uploadTag.key}</Key><Value>${uploadTag.pending}</Value></Tag></TagSet></Tagging>`;

let s3: LocalS3;
let client: S3Client;

const makeClient = (
  options: { secretAccessKey?: string; accessKeyId?: string; clockOffsetMs?: number } = {},
) =>
  new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: {
      accessKeyId: options.accessKeyId ?? LOCAL_CREDENTIALS.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? LOCAL_CREDENTIALS.secretAccessKey,
    },
    ...(options.clockOffsetMs !== undefined ? { systemClockOffset: options.clockOffsetMs } : {}),
  });

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: BUCKET, allowedOrigins: [WEB_ORIGIN] });
  client = makeClient();
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

let counter = 0;
const newKey = () => `uploads/room/ann/${(++counter).toString(16).padStart(32, '0')}`;

/** The form the create-upload handler signs: exact key, type, size range, pending tag, metadata. */
function uploadForm(key: string, overrides: Partial<PresignedPostOptions> = {}, from: S3Client = client) {
  const fields = {
    'Content-Type': 'text/plain',
    tagging: pendingTagging,
    'x-amz-meta-filename': 'notes.txt',
    'x-amz-meta-size': String(TEXT.length),
  };
  return createPresignedPost(from, {
    Bucket: BUCKET,
    Key: key,
    Conditions: [
      ['eq', '$key', key],
      ['eq', '$Content-Type', 'text/plain'],
      ['content-length-range', 1, 100],
      ['eq', '$tagging', pendingTagging],
      ['eq', '$x-amz-meta-filename', 'notes.txt'],
      ['starts-with', '$x-amz-meta-size', ''],
    ],
    Fields: fields,
    Expires: 300,
    ...overrides,
  });
}

async function post(
  url: string,
  fields: Record<string, string>,
  file: string | Uint8Array<ArrayBuffer> = TEXT,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file], { type: 'text/plain' }), 'notes.txt');
  const response = await fetch(url, { method: 'POST', body: form, headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

const errorCode = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const errorMessage = (body: string) => /<Message>([^<]*)<\/Message>/.exec(body)?.[1];

async function missing(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return false;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return true;
    throw error;
  }
}

describe('upload forms (POST Object with a SigV4 policy)', () => {
  it('stores an upload with its type, metadata and tags, and answers 204 with CORS for the web origin', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    expect(url).toBe(`${s3.endpoint}/${BUCKET}`);
    const answer = await post(url, fields, TEXT, { origin: WEB_ORIGIN });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(answer.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(answer.headers.get('access-control-expose-headers')).toBe('ETag');

    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.ContentLength).toBe(TEXT.length);
    expect(head.Metadata).toEqual({ filename: 'notes.txt', size: String(TEXT.length) });
    const tagging = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    expect(tagging.TagSet).toEqual([{ Key: uploadTag.key, Value: uploadTag.pending }]);

    const first = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: 'bytes=0-4' }));
    expect(await first.Body?.transformToString()).toBe('hello');
    expect(first.ContentRange).toBe(`bytes 0-4/${TEXT.length}`);
    const last = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: 'bytes=-5' }));
    expect(await last.Body?.transformToString()).toBe('world');
  });

  it('answers 201 with a PostResponse when the form asks for it', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key, {
      Fields: {
        'Content-Type': 'text/plain',
        tagging: pendingTagging,
        'x-amz-meta-filename': 'notes.txt',
        'x-amz-meta-size': '11',
        success_action_status: '201',
      },
    });
    const answer = await post(url, fields);
    expect(answer.status).toBe(201);
    expect(answer.body).toContain(`<Key>${key}</Key>`);
    expect(answer.body).toContain(`<Bucket>${BUCKET}</Bucket>`);
  });

  it('refuses a file over the range with 400 EntityTooLarge, and one under it with EntityTooSmall, storing nothing', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    const large = await post(url, fields, new Uint8Array(101).fill(0x61));
    expect(large.status).toBe(400);
    expect(errorCode(large.body)).toBe('EntityTooLarge');
    expect(large.body).toContain('<MaxSizeAllowed>100</MaxSizeAllowed>');
    const small = await post(url, fields, '');
    expect(small.status).toBe(400);
    expect(errorCode(small.body)).toBe('EntityTooSmall');
    expect(await missing(key)).toBe(true);
    // The bounds are inclusive.
    expect((await post(url, fields, new Uint8Array(100).fill(0x61))).status).toBe(204);
  });

  it('refuses a file far over the range as soon as it passes the maximum, and the client still gets the answer', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    const answer = await post(url, fields, new Uint8Array(3 * 1024 * 1024).fill(0x61));
    expect(answer.status).toBe(400);
    expect(errorCode(answer.body)).toBe('EntityTooLarge');
    expect(await missing(key)).toBe(true);
  });

  it('refuses a field that does not meet its condition with 403 "Policy Condition failed"', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    const answer = await post(url, { ...fields, 'Content-Type': 'text/html' });
    expect(answer.status).toBe(403);
    expect(errorCode(answer.body)).toBe('AccessDenied');
    expect(errorMessage(answer.body)).toBe(
      'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "text/plain"]',
    );
    const otherKey = await post(url, { ...fields, key: `${key}x` });
    expect(otherKey.status).toBe(403);
    expect(await missing(key)).toBe(true);
  });

  it('refuses an expired form with 403 "Policy expired."', async () => {
    const key = newKey();
    // A client whose clock is an hour behind signs a form that expired before it was posted.
    const late = makeClient({ clockOffsetMs: -60 * 60 * 1000 });
    const { url, fields } = await uploadForm(key, {}, late);
    late.destroy();
    const answer = await post(url, fields);
    expect(answer.status).toBe(403);
    expect(errorMessage(answer.body)).toBe('Invalid according to Policy: Policy expired.');
  });

  it('refuses a tampered policy or signature, and a form signed with another secret, with SignatureDoesNotMatch', async () => {
    const flipLastDigit = (hex: string) => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as {
      conditions: unknown[];
    };
    policy.conditions = policy.conditions.map((condition) =>
      Array.isArray(condition) && condition[0] === 'content-length-range'
        ? ['content-length-range', 1, 10_000]
        : condition,
    );
    const tampered = Buffer.from(JSON.stringify(policy)).toString('base64');
    for (const changed of [
      { ...fields, Policy: tampered },
      // The last hex digit changed (to 0, or to 1 when it is 0 already: one signature in 16 ends in 0).
      { ...fields, 'X-Amz-Signature': flipLastDigit(fields['X-Amz-Signature'] ?? '') },
    ]) {
      const answer = await post(url, changed);
      expect(answer.status).toBe(403);
      expect(errorCode(answer.body)).toBe('SignatureDoesNotMatch');
    }
    const stranger = makeClient({ secretAccessKey: 'not-the-local-secret' });
    const forged = await uploadForm(key, {}, stranger);
    stranger.destroy();
    expect(errorCode((await post(url, forged.fields)).body)).toBe('SignatureDoesNotMatch');
    const unknown = makeClient({ accessKeyId: 'someone-else' });
    const unknownForm = await uploadForm(key, {}, unknown);
    unknown.destroy();
    expect(errorCode((await post(url, unknownForm.fields)).body)).toBe('InvalidAccessKeyId');
    expect(await missing(key)).toBe(true);
  });

  it('refuses a field no condition covers, but takes x-ignore- fields', async () => {
    const key = newKey();
    const { url, fields } = await uploadForm(key);
    const extra = await post(url, { ...fields, 'x-foo': 'bar' });
    expect(extra.status).toBe(403);
    expect(errorMessage(extra.body)).toBe('Invalid according to Policy: Extra input fields: x-foo');
    expect((await post(url, { ...fields, 'x-ignore-foo': 'bar' })).status).toBe(204);
  });

  it('refuses an anonymous form, a form without its signature, and a form whose file is not last', async () => {
    const key = newKey();
    const anonymous = await post(`${s3.endpoint}/${BUCKET}`, { key });
    expect(anonymous.status).toBe(403);
    expect(errorMessage(anonymous.body)).toBe('Access Denied');
    const { url, fields } = await uploadForm(key);
    const { 'X-Amz-Signature': _signature, ...unsigned } = fields;
    const noSignature = await post(url, unsigned);
    expect(noSignature.status).toBe(400);
    expect(errorCode(noSignature.body)).toBe('InvalidArgument');

    // Fields after the file are ignored, so the key that comes after it is missing.
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) if (name !== 'key') form.append(name, value);
    form.append('file', new Blob([TEXT]), 'notes.txt');
    form.append('key', key);
    const late = await fetch(url, { method: 'POST', body: form });
    expect(late.status).toBe(400);
    expect(await late.text()).toContain("Bucket POST must contain a field named 'key'.");
    expect(await missing(key)).toBe(true);
  });

  it('refuses a body that is not a multipart form with 412', async () => {
    const answer = await fetch(`${s3.endpoint}/${BUCKET}`, {
      method: 'POST',
      body: 'key=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(412);
    expect(errorCode(await answer.text())).toBe('PreconditionFailed');
  });
});

describe('signed requests', () => {
  let key: string;

  beforeAll(async () => {
    key = newKey();
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: TEXT, ContentType: 'text/plain' }),
    );
  });

  it('refuses anonymous requests with 403 AccessDenied: the bucket is private', async () => {
    const get = await fetch(`${s3.endpoint}/${BUCKET}/${key}`);
    expect(get.status).toBe(403);
    expect(errorCode(await get.text())).toBe('AccessDenied');
    const put = await fetch(`${s3.endpoint}/${BUCKET}/${key}`, { method: 'PUT', body: 'overwritten' });
    expect(put.status).toBe(403);
    const list = await fetch(`${s3.endpoint}/${BUCKET}`);
    expect(list.status).toBe(403);
  });

  it('serves a presigned GET with the Content-Disposition and Content-Type overrides', async () => {
    const disposition = "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9 (1).txt";
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: key,
        ResponseContentDisposition: disposition,
        ResponseContentType: 'application/octet-stream',
      }),
      { expiresIn: 60 },
    );
    const answer = await fetch(url, { headers: { origin: WEB_ORIGIN } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-disposition')).toBe(disposition);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(await answer.text()).toBe(TEXT);
  });

  it('refuses an expired presigned GET, and one signed with another secret', async () => {
    const expired = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 60_000),
    });
    const answer = await fetch(expired);
    expect(answer.status).toBe(403);
    expect(errorMessage(await answer.text())).toBe('Request has expired');

    const stranger = makeClient({ secretAccessKey: 'not-the-local-secret' });
    const forged = await getSignedUrl(stranger, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 60,
    });
    stranger.destroy();
    const refused = await fetch(forged);
    expect(refused.status).toBe(403);
    expect(errorCode(await refused.text())).toBe('SignatureDoesNotMatch');
  });

  it('re-tags an object (PutObjectTagging, GetObjectTagging)', async () => {
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: key,
        Tagging: { TagSet: [{ Key: uploadTag.key, Value: uploadTag.attached }] },
      }),
    );
    const tagging = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    expect(tagging.TagSet).toEqual([{ Key: uploadTag.key, Value: uploadTag.attached }]);
  });

  it('refuses the SDK with another secret', async () => {
    const stranger = makeClient({ secretAccessKey: 'not-the-local-secret' });
    await expect(stranger.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      stranger.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key })),
    ).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    stranger.destroy();
  });
});

describe('conditional requests', () => {
  /** A source object as an upload form leaves it: a type, metadata and a tag. */
  async function source(body = TEXT): Promise<{ key: string; etag: string }> {
    const key = newKey();
    const put = await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ContentType: 'text/plain',
        Metadata: { filename: 'notes.txt', size: String(body.length) },
        Tagging: `${uploadTag.key}=${uploadTag.pending}`,
      }),
    );
    return { key, etag: put.ETag ?? '' };
  }

  /** The handlers' keep: a copy on the source's ETag, to a key that must not exist. */
  const keep = (from: string, etag: string, to: string) =>
    client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: to,
        CopySource: `${BUCKET}/${from.split('/').map(encodeURIComponent).join('/')}`,
        CopySourceIfMatch: etag,
        IfNoneMatch: '*',
        MetadataDirective: 'COPY',
      }),
    );

  const statusOf = (error: unknown) => (error as S3ServiceException).$metadata?.httpStatusCode;
  async function refusal(promise: Promise<unknown>): Promise<{ status?: number; name: string }> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof S3ServiceException) return { status: statusOf(error), name: error.name };
      throw error;
    }
    throw new Error('expected a refusal');
  }

  const keptKey = () => newKey().replace('uploads/', 'files/');

  it('copies on a matching source ETag to a new key: the bytes, Content-Type, metadata and tags', async () => {
    const { key, etag } = await source();
    const target = keptKey();
    const copied = await keep(key, etag, target);
    expect(copied.$metadata.httpStatusCode).toBe(200);
    expect(copied.CopyObjectResult?.ETag).toBe(etag);

    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: target }));
    expect(await object.Body?.transformToString()).toBe(TEXT);
    expect(object.ContentType).toBe('text/plain');
    expect(object.ETag).toBe(etag);
    expect(object.Metadata).toEqual({ filename: 'notes.txt', size: String(TEXT.length) });
    const tagging = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: target }));
    expect(tagging.TagSet).toEqual([{ Key: uploadTag.key, Value: uploadTag.pending }]);
    // The ETag compares in its quoted form: the bare hex names the same object.
    const bare = keptKey();
    await keep(key, etag.replace(/"/g, ''), bare);
    expect(await missing(bare)).toBe(false);
  });

  it('refuses a copy whose source ETag does not match with 412 PreconditionFailed, copying nothing', async () => {
    const { key } = await source();
    const target = keptKey();
    const answer = await refusal(keep(key, '"00000000000000000000000000000000"', target));
    expect(answer).toEqual({ status: 412, name: 'PreconditionFailed' });
    expect(await missing(target)).toBe(true);
  });

  it('refuses a copy to a key that exists with 412 (If-None-Match: *), leaving the target as it was', async () => {
    const first = await source('the first');
    const second = await source('the second one');
    const target = keptKey();
    await keep(first.key, first.etag, target);
    const answer = await refusal(keep(second.key, second.etag, target));
    expect(answer).toEqual({ status: 412, name: 'PreconditionFailed' });
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: target }));
    expect(await object.Body?.transformToString()).toBe('the first');
    expect(object.ETag).toBe(first.etag);
  });

  it('lets exactly one of two concurrent conditional copies to one key succeed; the other gets 412', async () => {
    for (let round = 0; round < 5; round++) {
      const sources = await Promise.all([source('one'), source('other')]);
      const target = keptKey();
      const results = await Promise.allSettled(sources.map((one) => keep(one.key, one.etag, target)));
      const kept = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
      expect(kept).toHaveLength(1);
      const loser = results.find((result) => result.status === 'rejected');
      expect(statusOf(loser?.status === 'rejected' ? loser.reason : undefined)).toBe(412);
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: target }));
      expect(await object.Body?.transformToString()).toBe(kept[0] === 0 ? 'one' : 'other');
    }
  });

  it('evaluates the other copy-source conditions, and refuses a missing source with 404', async () => {
    const { key, etag } = await source();
    const copy = (input: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) =>
      refusal(
        client.send(
          new CopyObjectCommand({ Bucket: BUCKET, Key: keptKey(), CopySource: `${BUCKET}/${key}`, ...input }),
        ),
      );
    expect(await copy({ CopySourceIfNoneMatch: etag })).toMatchObject({ status: 412 });
    expect(await copy({ CopySourceIfModifiedSince: new Date(Date.now() + 60_000) })).toMatchObject({
      status: 412,
    });
    expect(await copy({ CopySourceIfUnmodifiedSince: new Date(Date.now() - 60_000) })).toMatchObject({
      status: 412,
    });
    // If-Match decides over If-Unmodified-Since (S3 copies when the first holds and the second not).
    const target = keptKey();
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: target,
        CopySource: `${BUCKET}/${key}`,
        CopySourceIfMatch: etag,
        CopySourceIfUnmodifiedSince: new Date(Date.now() - 60_000),
      }),
    );
    expect(await missing(target)).toBe(false);
    expect(await copy({ CopySource: `${BUCKET}/${newKey()}`, CopySourceIfMatch: etag })).toMatchObject({
      status: 404,
      name: 'NoSuchKey',
    });
    expect(await copy({ CopySource: `${BUCKET}/uploads/../../etc/passwd` })).toMatchObject({ status: 400 });
  });

  it('takes If-None-Match: * on PutObject: 412 when the key exists, and one of two concurrent puts', async () => {
    const key = newKey();
    const put = (body: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, IfNoneMatch: '*' }));
    await put('first');
    expect(await refusal(put('second'))).toEqual({ status: 412, name: 'PreconditionFailed' });
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await object.Body?.transformToString()).toBe('first');

    const raced = newKey();
    const results = await Promise.allSettled(
      ['a', 'b'].map((body) =>
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: raced, Body: body, IfNoneMatch: '*' })),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);

    // If-Match on a write: 412 on another ETag, 404 when there is no object.
    const { ETag } = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(
      await refusal(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x', IfMatch: '"0"' })),
      ),
    ).toMatchObject({ status: 412 });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'replaced', IfMatch: ETag }));
    expect(
      await refusal(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: newKey(), Body: 'x', IfMatch: ETag })),
      ),
    ).toMatchObject({ status: 404, name: 'NoSuchKey' });
  });

  it('refuses conditions it does not evaluate with 501 NotImplemented rather than ignoring them', async () => {
    const { key, etag } = await source();
    expect(
      await refusal(client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, IfMatch: '"0"' }))),
    ).toEqual({ status: 501, name: 'NotImplemented' });
    expect(
      await refusal(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x', IfNoneMatch: etag })),
      ),
    ).toEqual({ status: 501, name: 'NotImplemented' });
    expect(await missing(key)).toBe(false);
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await object.Body?.transformToString()).toBe(TEXT);
  });

  it('evaluates If-Match (412) and If-None-Match (304) on GetObject', async () => {
    const { key, etag } = await source();
    const get = (input: { IfMatch?: string; IfNoneMatch?: string; IfModifiedSince?: Date }) =>
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...input }));
    expect(await (await get({ IfMatch: etag })).Body?.transformToString()).toBe(TEXT);
    expect(await refusal(get({ IfMatch: '"0"' }))).toEqual({ status: 412, name: 'PreconditionFailed' });
    expect((await refusal(get({ IfNoneMatch: etag }))).status).toBe(304);
    // If-None-Match decides over If-Modified-Since.
    const answer = await get({ IfNoneMatch: '"0"', IfModifiedSince: new Date(Date.now() + 60_000) });
    expect(await answer.Body?.transformToString()).toBe(TEXT);
  });
});

describe('CORS', () => {
  const preflight = (origin: string, method: string, headers?: string) =>
    fetch(`${s3.endpoint}/${BUCKET}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        ...(headers !== undefined ? { 'access-control-request-headers': headers } : {}),
      },
    });

  it('answers a preflight from an allowed origin with the bucket rule', async () => {
    const answer = await preflight(WEB_ORIGIN, 'POST', 'content-type');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(answer.headers.get('access-control-allow-methods')).toBe('POST, GET, HEAD');
    expect(answer.headers.get('access-control-allow-headers')).toBe('content-type');
    expect(answer.headers.get('access-control-max-age')).toBe('3600');
  });

  it('refuses a preflight from another origin or for another method with 403, as S3 does', async () => {
    for (const answer of [
      await preflight('http://evil.example', 'POST'),
      await preflight(WEB_ORIGIN, 'DELETE'),
    ]) {
      expect(answer.status).toBe(403);
      const body = await answer.text();
      expect(errorCode(body)).toBe('AccessForbidden');
      expect(errorMessage(body)).toMatch(/^CORSResponse: This CORS request is not allowed/);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('data on disk', () => {
  it('keeps objects in <dataDir>/s3 across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'local-s3-test-'));
    try {
      const first = await startLocalS3({ bucket: BUCKET, allowedOrigins: [], dataDir });
      const writer = new S3Client({
        endpoint: first.endpoint,
        forcePathStyle: true,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.txt', Body: 'still here' }));
      writer.destroy();
      await first.stop();
      const second = await startLocalS3({ bucket: BUCKET, allowedOrigins: [], dataDir });
      const reader = new S3Client({
        endpoint: second.endpoint,
        forcePathStyle: true,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      const object = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kept.txt' }));
      expect(await object.Body?.transformToString()).toBe('still here');
      reader.destroy();
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
