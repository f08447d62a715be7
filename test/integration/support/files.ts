/**
 * Files on the local stack: upload forms (POST /chat/uploads/{roomId}, POST /users/me/avatar), the
 * multipart POST a browser makes to storage, the attachments messages carry, direct reads of the
 * local S3 (object tags) and small real files (a PNG with a chosen size) to upload.
 */
import { crc32, deflateSync } from 'node:zlib';
import { GetObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { envVars } from '../../../definitions/env.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import type { Message } from './api-types.js';
import { type HttpResult, request } from './rest.js';
import { localStack } from './stack-info.js';
import type { TestUser } from './users.js';
import type { WsClient } from './ws.js';

/** The answer of both upload routes (docs/api.md "Files"). */
export interface UploadOffer {
  readonly uploadId: string;
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly expiresAt: string;
  readonly maxBytes: number;
}

/** An attachment as messages carry it. */
export interface AttachmentView {
  readonly attachmentId: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly url: string;
  readonly width?: number;
  readonly height?: number;
}

/** The attachments of a message (api-types.ts predates them). */
export function attachmentsOf(message: Message | null | undefined): readonly AttachmentView[] {
  const attachments = (message as { attachments?: readonly AttachmentView[] } | null | undefined)
    ?.attachments;
  return attachments ?? [];
}

export const UPLOAD_ID = /^[0-9a-f]{32}$/;

export function createUpload(
  user: TestUser,
  roomId: string,
  body: unknown,
): Promise<HttpResult<UploadOffer>> {
  return request<UploadOffer>('POST', `/chat/uploads/${roomId}/`, user.token, { json: body });
}

export function createAvatarUpload(user: TestUser, body: unknown): Promise<HttpResult<UploadOffer>> {
  return request<UploadOffer>('POST', '/users/me/avatar/', user.token, { json: body });
}

export interface StorageAnswer {
  readonly status: number;
  readonly text: string;
  /** S3's error code (`<Code>` of the XML error), when refused. */
  readonly code: string | undefined;
}

/**
 * Posts a form to storage as a browser does: every field, then the file last. `fields` overrides or
 * adds fields (a tampered form); `undefined` as a value leaves the field out.
 */
export async function postForm(
  offer: Pick<UploadOffer, 'url' | 'fields'>,
  bytes: Uint8Array,
  options: { fileName?: string; fields?: Record<string, string | undefined> } = {},
): Promise<StorageAnswer> {
  const form = new FormData();
  const fields: Record<string, string | undefined> = { ...offer.fields, ...options.fields };
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  form.append('file', new Blob([Uint8Array.from(bytes)]), options.fileName ?? 'file.bin');
  const response = await fetch(offer.url, {
    method: 'POST',
    body: form,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, text, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] };
}

/** Posts a form and expects storage to take it (204, S3's default answer to a form POST). */
export async function upload(
  offer: Pick<UploadOffer, 'url' | 'fields'>,
  bytes: Uint8Array,
  fileName?: string,
): Promise<void> {
  const answer = await postForm(offer, bytes, fileName === undefined ? {} : { fileName });
  expect(answer.status, `storage refused the upload: ${answer.text}`).toBe(204);
}

/** Asks for an attachment form and posts the file with it; returns the upload id. */
export async function uploadAttachment(
  user: TestUser,
  roomId: string,
  file: { readonly fileName: string; readonly contentType: string; readonly bytes: Uint8Array },
): Promise<string> {
  const offer = await createUpload(user, roomId, {
    fileName: file.fileName,
    contentType: file.contentType,
    size: file.bytes.length,
  });
  expect(offer.status, `upload form: ${offer.text}`).toBe(201);
  await upload(offer.body, file.bytes, file.fileName);
  return offer.body.uploadId;
}

export function sendWithAttachments(
  ws: WsClient,
  roomId: string,
  content: string,
  clientMessageId: string,
  uploadIds: readonly string[],
): void {
  ws.send({
    action: 'sendMessage',
    roomId,
    content,
    clientMessageId,
    attachments: uploadIds.map((uploadId) => ({ uploadId })),
  });
}

/** The ack of a send with this clientMessageId, or the error frame it got instead. */
export async function answerTo(
  ws: WsClient,
  clientMessageId: string,
  timeoutMs = 15_000,
): Promise<{ readonly ack: Message } | { readonly error: { code: string; message: string } }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ack = ws.buffered('ack').find((f) => f.clientMessageId === clientMessageId);
    if (ack) {
      await ws.next('ack', (f) => f === ack, 0);
      return { ack: ack.message };
    }
    const error = ws.buffered('error').find((f) => f.clientMessageId === clientMessageId);
    if (error) {
      await ws.next('error', (f) => f === error, 0);
      return { error: { code: error.code, message: error.message } };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `${ws.label}: no answer to ${clientMessageId} within ${timeoutMs} ms: ${JSON.stringify(ws.received)}`,
  );
}

// ------------------------------------------------------------------ storage

let s3: S3Client | undefined;

/** An S3 client on the local S3, with the stack's own credentials. */
export function localS3(): S3Client {
  const { env } = localStack();
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  if (endpoint === undefined) throw new Error('the local stack gives no AWS_ENDPOINT_URL_S3');
  s3 ??= new S3Client({
    endpoint,
    forcePathStyle: true,
    region: env.AWS_REGION ?? LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
  });
  return s3;
}

export function filesBucket(): string {
  const bucket = localStack().env[envVars.filesBucket];
  if (bucket === undefined) throw new Error(`the local stack gives no ${envVars.filesBucket}`);
  return bucket;
}

/** The object key a download URL names (path-style: /<bucket>/<key>). */
export function keyOfUrl(url: string): string {
  const path = new URL(url).pathname;
  const prefix = `/${filesBucket()}/`;
  expect(path.startsWith(prefix), `${url} is in the files bucket`).toBe(true);
  return path.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
}

/** The object's `state` tag (pending / attached), undefined without one. */
export async function stateTag(key: string): Promise<string | undefined> {
  const tags = await localS3().send(new GetObjectTaggingCommand({ Bucket: filesBucket(), Key: key }));
  return tags.TagSet?.find((tag) => tag.Key === 'state')?.Value;
}

export interface Download {
  readonly status: number;
  readonly contentType: string | null;
  readonly disposition: string | null;
  readonly bytes: Uint8Array;
}

/** Loads a URL as a browser would, with no token or header of ours. */
export async function download(url: string): Promise<Download> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    disposition: response.headers.get('content-disposition'),
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

/** A presigned URL's lifetime (X-Amz-Expires, seconds) and signing time (X-Amz-Date, epoch ms). */
export function signatureOf(url: string): { readonly expiresIn: number; readonly signedAt: number } {
  const params = new URL(url).searchParams;
  const date = params.get('X-Amz-Date') ?? '';
  const iso = date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  return { expiresIn: Number(params.get('X-Amz-Expires')), signedAt: Date.parse(iso) };
}

// ------------------------------------------------------------------ files

function chunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG of `width` x `height` (a gradient, so that two images differ), `seed` varies it. */
export function png(width: number, height: number, seed = 0): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter method, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++)
      rows.set([(x + seed) & 0xff, (y * 3) & 0xff, seed & 0xff], row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** A GIF89a header (what a GIF's first bytes are). */
export const gifBytes = (): Uint8Array =>
  Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([1, 0, 1, 0, 0, 0, 0, 0x3b])]);

export const textBytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');
