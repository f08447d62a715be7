/**
 * Files: upload forms (`POST /chat/uploads/{roomId}`, `POST /users/me/avatar`), the browser's POST to
 * storage, attachments on `sendMessage` and in every answer that carries messages, and avatars, against
 * the local stack's real handlers, its local S3 (strict about forms as S3 is) and its Lambda Invoke
 * endpoint (the attachment check). Storage is read directly only for what no answer shows: the
 * `state` tag the bucket's lifecycle rule acts on.
 */
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterEach, describe, expect, it } from 'vitest';
import { pendingTagging, uploadKey } from '../../definitions/uploads.js';
import type { Message } from './support/api-types.js';
import { history, roomEntry } from './support/chat.js';
import { storedMessageItems } from './support/dynamo.js';
import {
  type AttachmentView,
  answerTo,
  attachmentsOf,
  createAvatarUpload,
  createUpload,
  download,
  filesBucket,
  gifBytes,
  keyOfUrl,
  localS3,
  png,
  postForm,
  sendWithAttachments,
  signatureOf,
  stateTag,
  textBytes,
  UPLOAD_ID,
  type UploadOffer,
  upload,
  uploadAttachment,
} from './support/files.js';
import { expectError, expectOk } from './support/rest.js';
import { at, expectIsoMs, participantOf, withoutRead } from './support/shapes.js';
import { freshUsers, roomOf, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets, QUIET_MS, type WsClient } from './support/ws.js';

afterEach(closeAllSockets);

const MB = 1024 * 1024;
const MAX_ATTACHMENT = 25 * MB;
const MAX_AVATAR = 2 * MB;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function trio(): Promise<[TestUser, TestUser, TestUser]> {
  return (await freshUsers(3)) as [TestUser, TestUser, TestUser];
}

/** Ann and Bob in their room, each with a connection. */
async function chat() {
  const [ann, bob, cid] = await trio();
  const room = await startRoom(ann, bob);
  const [annWs, bobWs] = await Promise.all([ann.connect(), bob.connect()]);
  return { ann, bob, cid, room, annWs, bobWs };
}

/** The ack of a send; fails with the error frame when it got one. */
async function ackOf(ws: WsClient, clientMessageId: string): Promise<Message> {
  const answer = await answerTo(ws, clientMessageId);
  if ('error' in answer) throw new Error(`${clientMessageId} refused: ${JSON.stringify(answer.error)}`);
  return answer.ack;
}

/** The error frame of a send that must be refused (bad_request unless said otherwise). */
async function refusal(ws: WsClient, clientMessageId: string, code = 'bad_request'): Promise<string> {
  const answer = await answerTo(ws, clientMessageId);
  if ('ack' in answer) throw new Error(`${clientMessageId} was accepted: ${JSON.stringify(answer.ack)}`);
  expect(answer.error.code, answer.error.message).toBe(code);
  expect(answer.error.message.length).toBeGreaterThan(0);
  return answer.error.message;
}

/** The policy document of an upload form. */
function policyOf(offer: UploadOffer): { expiration: string; conditions: unknown[] } {
  const policy = offer.fields.Policy ?? offer.fields.policy;
  expect(policy, `policy in ${JSON.stringify(offer.fields)}`).toBeDefined();
  return JSON.parse(Buffer.from(policy ?? '', 'base64').toString('utf8')) as {
    expiration: string;
    conditions: unknown[];
  };
}

/** Downloads an attachment's URL with no token and checks what storage serves. */
async function expectServed(attachment: AttachmentView, bytes: Uint8Array): Promise<void> {
  const got = await download(attachment.url);
  expect(got.status, `GET ${attachment.url}`).toBe(200);
  expect(Buffer.from(got.bytes).equals(Buffer.from(bytes)), 'downloaded bytes are the uploaded ones').toBe(
    true,
  );
  expect(got.contentType).toBe(attachment.contentType);
  if (attachment.contentType.startsWith('image/')) expect(got.disposition ?? '').toMatch(/^inline\b/);
  else expect(got.disposition ?? '').toMatch(/^attachment; filename="/);
  // API.md: a URL works for at least an hour.
  expect(signatureOf(attachment.url).expiresIn).toBeGreaterThanOrEqual(3600);
}

/** A message's attachments without their URLs (which are signed anew by every answer). */
const withoutUrls = (message: Message | null | undefined) =>
  attachmentsOf(message).map(({ url: _url, ...rest }) => rest);

describe('POST /chat/uploads/{roomId}', () => {
  it('answers a form bound to the file: key in the sender folder of the room, type, exact size, pending tag, 5 minutes', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const before = Date.now();
    const result = await createUpload(ann, room, {
      fileName: 'Report 2024.pdf',
      contentType: 'application/pdf',
      size: 1234,
    });
    const after = Date.now();
    const offer = expectOk(result, 201);

    expect(Object.keys(offer).sort()).toEqual(['expiresAt', 'fields', 'maxBytes', 'uploadId', 'url']);
    expect(offer.uploadId).toMatch(UPLOAD_ID);
    expect(offer.maxBytes).toBe(MAX_ATTACHMENT);
    expect(new URL(offer.url).pathname).toBe(`/${filesBucket()}`);
    expectIsoMs(offer.expiresAt, 'expiresAt');
    const expires = Date.parse(offer.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 300_000 - 1_000);
    expect(expires).toBeLessThanOrEqual(after + 300_000 + 1_000);

    expect(offer.fields).toMatchObject({
      key: uploadKey.attachment(room, ann.userId, offer.uploadId),
      'Content-Type': 'application/pdf',
      tagging: pendingTagging,
      'x-amz-meta-size': '1234',
      'x-amz-meta-filename': encodeURIComponent('Report 2024.pdf'),
    });
    const policy = policyOf(offer);
    expect(Math.abs(Date.parse(policy.expiration) - expires)).toBeLessThan(2_000);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { key: uploadKey.attachment(room, ann.userId, offer.uploadId) },
        { 'Content-Type': 'application/pdf' },
        { tagging: pendingTagging },
        { 'x-amz-meta-size': '1234' },
        ['content-length-range', 1234, 1234],
      ]),
    );
    // A new id per form.
    const again = expectOk(
      await createUpload(ann, room, {
        fileName: 'Report 2024.pdf',
        contentType: 'application/pdf',
        size: 1234,
      }),
      201,
    );
    expect(again.uploadId).not.toBe(offer.uploadId);
  });

  it('refuses other types, empty files and bad bodies with 400, more than the limit with 413', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const refused: [string, unknown, number, string][] = [
      ['svg', { fileName: 'a.svg', contentType: 'image/svg+xml', size: 10 }, 400, 'bad_request'],
      ['html', { fileName: 'a.html', contentType: 'text/html', size: 10 }, 400, 'bad_request'],
      [
        'octet-stream',
        { fileName: 'a.exe', contentType: 'application/octet-stream', size: 10 },
        400,
        'bad_request',
      ],
      ['empty', { fileName: 'a.txt', contentType: 'text/plain', size: 0 }, 400, 'bad_request'],
      ['negative', { fileName: 'a.txt', contentType: 'text/plain', size: -1 }, 400, 'bad_request'],
      ['fractional', { fileName: 'a.txt', contentType: 'text/plain', size: 1.5 }, 400, 'bad_request'],
      ['size as text', { fileName: 'a.txt', contentType: 'text/plain', size: '10' }, 400, 'bad_request'],
      ['no file name', { contentType: 'text/plain', size: 10 }, 400, 'bad_request'],
      ['a path', { fileName: '../a.txt', contentType: 'text/plain', size: 10 }, 400, 'bad_request'],
      [
        'an extra field',
        { fileName: 'a.txt', contentType: 'text/plain', size: 10, key: 'x' },
        400,
        'bad_request',
      ],
      [
        'one byte over',
        { fileName: 'big.zip', contentType: 'application/zip', size: MAX_ATTACHMENT + 1 },
        413,
        'too_large',
      ],
      [
        'a huge size',
        { fileName: 'big.zip', contentType: 'application/zip', size: 2 ** 40 },
        413,
        'too_large',
      ],
    ];
    for (const [label, body, status, code] of refused) {
      const result = await createUpload(ann, room, body);
      expect(result.status, `${label}: ${result.text}`).toBe(status);
      expectError(result, status, code as 'bad_request' | 'too_large');
    }
    // The limit itself is allowed; a type is matched without regard to case.
    const largest = expectOk(
      await createUpload(ann, room, {
        fileName: 'big.zip',
        contentType: 'application/zip',
        size: MAX_ATTACHMENT,
      }),
      201,
    );
    expect(largest.fields['x-amz-meta-size']).toBe(String(MAX_ATTACHMENT));
    const upper = expectOk(
      await createUpload(ann, room, { fileName: 'a.png', contentType: 'IMAGE/PNG', size: 10 }),
      201,
    );
    expect(upper.fields['Content-Type']).toBe('image/png');
  });

  it('lets only participants upload: 403 for a room of others, 404 for a room never started', async () => {
    const [ann, bob, cid] = await trio();
    const room = await startRoom(ann, bob);
    const file = { fileName: 'a.txt', contentType: 'text/plain', size: 5 };
    expectError(await createUpload(cid, room, file), 403, 'forbidden');
    expectError(await createUpload(ann, roomOf(ann.userId, cid.userId), file), 404, 'not_found');
    expectError(await cid.api.messages(room), 403, 'forbidden');
  });
});

describe('storage and upload forms', () => {
  it('refuses another size, a changed field, a tampered policy; the form still works as given', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const annWs = await ann.connect();
    const bytes = textBytes('plain text of an exact size, for the form\n');
    const size = bytes.length;
    const offer = expectOk(
      await createUpload(ann, room, { fileName: 'a.txt', contentType: 'text/plain', size: bytes.length }),
      201,
    );
    const policyText = Buffer.from(offer.fields.Policy ?? '', 'base64').toString('utf8');
    const widened = policyText.replace(
      `["content-length-range",${size},${size}]`,
      `["content-length-range",1,${size * 10}]`,
    );
    expect(widened, policyText).not.toBe(policyText);

    const larger = await postForm(offer, Buffer.concat([bytes, Buffer.from('!')]));
    expect([larger.status, larger.code], larger.text).toEqual([400, 'EntityTooLarge']);
    const smaller = await postForm(offer, bytes.subarray(1));
    expect([smaller.status, smaller.code], smaller.text).toEqual([400, 'EntityTooSmall']);
    const tampered: [string, Record<string, string | undefined>][] = [
      ['another type', { 'Content-Type': 'text/html' }],
      ['another declared size', { 'x-amz-meta-size': String(size - 1) }],
      ['another key', { key: uploadKey.attachment(room, bob.userId, offer.uploadId) }],
      ['no pending tag', { tagging: undefined }],
      ['another tag', { tagging: pendingTagging.replace('pending', 'attached') }],
      ['a field the policy does not name', { 'x-amz-meta-extra': '1' }],
      ['a policy with a wider range', { Policy: Buffer.from(widened).toString('base64') }],
    ];
    for (const [label, fields] of tampered) {
      const answer = await postForm(offer, bytes, { fields });
      expect(answer.status, `${label}: ${answer.text}`).toBe(403);
      expect(answer.code, label).toMatch(/^(AccessDenied|SignatureDoesNotMatch)$/);
    }
    // Nothing was stored by any of them: the upload cannot be attached yet.
    sendWithAttachments(annWs, room, 'too early', 'early', [offer.uploadId]);
    await refusal(annWs, 'early');

    await upload(offer, bytes, 'a.txt');
    sendWithAttachments(annWs, room, 'now', 'now', [offer.uploadId]);
    const ack = await ackOf(annWs, 'now');
    expect(withoutUrls(ack)).toEqual([
      { attachmentId: offer.uploadId, fileName: 'a.txt', contentType: 'text/plain', size },
    ]);
  });

  it('refuses an expired form', async () => {
    // The route's own forms last 5 minutes (uploadLimits.formSeconds), too long to wait for here: the
    // unit test of the upload form policy holds that expiry. Storage's refusal of an expired form is
    // what this checks, with forms signed here the same way (createPresignedPost, the stack's
    // credentials) but lasting 1 second; a twin lasting a minute shows the refusal is the expiry's.
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const bytes = textBytes('soon expired\n');
    const formFor = async (uploadId: string, seconds: number) => {
      const fields = {
        'Content-Type': 'text/plain',
        tagging: pendingTagging,
        'x-amz-meta-filename': 'late.txt',
        'x-amz-meta-size': String(bytes.length),
      };
      return createPresignedPost(localS3(), {
        Bucket: filesBucket(),
        Key: uploadKey.attachment(room, ann.userId, uploadId),
        Conditions: [
          ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
          ['content-length-range', bytes.length, bytes.length],
        ],
        Fields: fields,
        Expires: seconds,
      });
    };
    const expired = await formFor('a'.repeat(32), 1);
    const fresh = await formFor('b'.repeat(32), 60);
    await sleep(2_000);
    const refused = await postForm(expired, bytes);
    expect([refused.status, refused.code], refused.text).toEqual([403, 'AccessDenied']);
    expect(refused.text).toMatch(/expired/i);
    expect((await postForm(fresh, bytes)).status).toBe(204);
  });
});

describe('sendMessage with attachments', () => {
  it('attaches a PNG and a text file: ack, chat_message, downloads without a token; history and chat list sign fresh URLs', async () => {
    const { ann, bob, cid, room, annWs, bobWs } = await chat();
    const cidWs = await cid.connect();
    const image = png(37, 21);
    const text = textBytes('Notes for Bob\nline two\n');
    const imageId = await uploadAttachment(ann, room, {
      fileName: 'photo.png',
      contentType: 'image/png',
      bytes: image,
    });
    const textId = await uploadAttachment(ann, room, {
      fileName: 'notes é.txt',
      contentType: 'text/plain',
      bytes: text,
    });

    // The content may be empty when there are attachments.
    sendWithAttachments(annWs, room, '', 'files-1', [imageId, textId]);
    const ack = await ackOf(annWs, 'files-1');
    expect(ack).toMatchObject({
      roomId: room,
      senderId: ann.userId,
      content: '',
      clientMessageId: 'files-1',
    });
    const [shown, notes] = attachmentsOf(ack);
    if (shown === undefined || notes === undefined)
      throw new Error(`two attachments in ${JSON.stringify(ack)}`);
    expect(attachmentsOf(ack)).toHaveLength(2);
    // The storage key stays on the server; width and height for the image only.
    expect(Object.keys(shown).sort()).toEqual([
      'attachmentId',
      'contentType',
      'fileName',
      'height',
      'size',
      'url',
      'width',
    ]);
    expect(shown).toMatchObject({
      attachmentId: imageId,
      fileName: 'photo.png',
      contentType: 'image/png',
      size: image.length,
      width: 37,
      height: 21,
    });
    expect(Object.keys(notes).sort()).toEqual(['attachmentId', 'contentType', 'fileName', 'size', 'url']);
    expect(notes).toMatchObject({
      attachmentId: textId,
      fileName: 'notes é.txt',
      contentType: 'text/plain',
      size: text.length,
    });

    const delivered = await bobWs.next('chat_message', (f) => f.message.messageId === ack.messageId);
    expect(delivered.message).toEqual(ack);
    const [bobsImage, bobsNotes] = attachmentsOf(delivered.message);
    if (bobsImage === undefined || bobsNotes === undefined) throw new Error('attachments missing');
    await expectServed(bobsImage, image);
    await expectServed(bobsNotes, text);
    const notesDownload = await download(bobsNotes.url);
    expect(notesDownload.disposition).toBe(
      `attachment; filename="notes _.txt"; filename*=UTF-8''notes%20%C3%A9.txt`,
    );
    // The bucket is private: the object without the signature is refused.
    const bare = new URL(bobsImage.url);
    bare.search = '';
    expect((await download(bare.toString())).status).toBe(403);
    // Attached: the lifecycle rule for unattached uploads leaves them.
    expect(await stateTag(keyOfUrl(bobsImage.url))).toBe('attached');
    expect(await stateTag(keyOfUrl(bobsNotes.url))).toBe('attached');
    // The third user was told nothing.
    await cidWs.expectNoFrame('chat_message');

    // Answers later sign URLs anew (X-Amz-Date has whole seconds: wait past this one).
    await sleep(1_100);
    const readAt = Math.floor(Date.now() / 1000) * 1000;
    const [stored] = await history(bob, room);
    expect(stored && withoutRead(stored)).toMatchObject({ messageId: ack.messageId, content: '' });
    expect(withoutUrls(stored)).toEqual(withoutUrls(ack));
    for (const [index, attachment] of attachmentsOf(stored).entries()) {
      expect(signatureOf(attachment.url).signedAt).toBeGreaterThanOrEqual(readAt);
      await expectServed(attachment, index === 0 ? image : text);
    }
    for (const user of [ann, bob]) {
      const { lastMessage } = await roomEntry(user, room);
      expect(lastMessage).toMatchObject({ messageId: ack.messageId, content: '' });
      expect(withoutUrls(lastMessage as Message)).toEqual(withoutUrls(ack));
      const listed = at(attachmentsOf(lastMessage as Message), 0);
      expect(signatureOf(listed.url).signedAt).toBeGreaterThanOrEqual(readAt);
      await expectServed(listed, image);
    }
    expectError(await cid.api.messages(room), 403, 'forbidden');
  });

  it('refuses a file whose bytes are not its declared type: bad_request, nothing stored, nobody told', async () => {
    const { ann, room, annWs, bobWs } = await chat();
    const fakePng = textBytes('this is not a PNG at all, just words\n');
    const fakeText = png(4, 4);
    const pngId = await uploadAttachment(ann, room, {
      fileName: 'fake.png',
      contentType: 'image/png',
      bytes: fakePng,
    });
    const textId = await uploadAttachment(ann, room, {
      fileName: 'fake.txt',
      contentType: 'text/plain',
      bytes: fakeText,
    });
    const pdfId = await uploadAttachment(ann, room, {
      fileName: 'fake.pdf',
      contentType: 'application/pdf',
      bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]),
    });

    sendWithAttachments(annWs, room, 'a picture', 'fake-png', [pngId]);
    await refusal(annWs, 'fake-png');
    sendWithAttachments(annWs, room, 'some text', 'fake-text', [textId]);
    await refusal(annWs, 'fake-text');
    sendWithAttachments(annWs, room, 'a pdf', 'fake-pdf', [pdfId]);
    await refusal(annWs, 'fake-pdf');

    await bobWs.expectNoFrame('chat_message');
    expect(await history(ann, room)).toEqual([]);
    expect(await storedMessageItems(room)).toBe(0);
    expect((await roomEntry(ann, room)).lastMessage).toBeNull();
    expect(await stateTag(uploadKey.attachment(room, ann.userId, pngId))).toBe('pending');
  });

  it('refuses an upload whose stored size is not the declared one', async () => {
    // Storage holds the form's exact size on AWS and locally (see above); this form, signed here with
    // the stack's credentials, declares 10 bytes more in its metadata than the range lets through, as
    // a storage that did not enforce the range would. The check before attaching must still refuse it.
    const { ann, room, annWs, bobWs } = await chat();
    const bytes = textBytes('fewer bytes than the metadata claims\n');
    const uploadId = 'c'.repeat(32);
    const fields = {
      'Content-Type': 'text/plain',
      tagging: pendingTagging,
      'x-amz-meta-filename': 'short.txt',
      'x-amz-meta-size': String(bytes.length + 10),
    };
    const form = await createPresignedPost(localS3(), {
      Bucket: filesBucket(),
      Key: uploadKey.attachment(room, ann.userId, uploadId),
      Conditions: [
        ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
        ['content-length-range', 1, bytes.length],
      ],
      Fields: fields,
      Expires: 60,
    });
    await upload(form, bytes);
    sendWithAttachments(annWs, room, 'short', 'short', [uploadId]);
    expect(await refusal(annWs, 'short')).toMatch(/size/);
    await bobWs.expectNoFrame('chat_message');
    expect(await storedMessageItems(room)).toBe(0);
  });

  it("refuses another user's upload, another room's, one never posted and an unknown id; a refused send claims nothing", async () => {
    const { ann, bob, cid, room, annWs, bobWs } = await chat();
    const otherRoom = await startRoom(ann, cid);
    const file = (name: string) => ({
      fileName: name,
      contentType: 'text/plain',
      bytes: textBytes(`${name}\n`),
    });
    const bobsId = await uploadAttachment(bob, room, file('bobs.txt'));
    const otherRoomId = await uploadAttachment(ann, otherRoom, file('other-room.txt'));
    const neverPosted = expectOk(
      await createUpload(ann, room, { fileName: 'x.txt', contentType: 'text/plain', size: 9 }),
      201,
    );
    const goodId = await uploadAttachment(ann, room, file('good.txt'));

    const cases: [string, string[]][] = [
      ["bob's upload", [bobsId]],
      ["another room's upload", [otherRoomId]],
      ['a form never posted', [neverPosted.uploadId]],
      ['an unknown id', ['0'.repeat(32)]],
      ["a good one with bob's", [goodId, bobsId]],
    ];
    for (const [index, [label, ids]] of cases.entries()) {
      sendWithAttachments(annWs, room, label, `bad-${index}`, ids);
      await refusal(annWs, `bad-${index}`);
    }
    await bobWs.expectNoFrame('chat_message');
    expect(await storedMessageItems(room)).toBe(0);
    expect(await stateTag(uploadKey.attachment(room, ann.userId, goodId))).toBe('pending');

    // Nothing was claimed: each upload is still its owner's to attach.
    sendWithAttachments(annWs, room, 'good', 'good', [goodId]);
    expect(withoutUrls(await ackOf(annWs, 'good'))).toMatchObject([{ attachmentId: goodId }]);
    sendWithAttachments(bobWs, room, 'mine', 'bobs', [bobsId]);
    expect(withoutUrls(await ackOf(bobWs, 'bobs'))).toMatchObject([{ attachmentId: bobsId }]);
    expect((await history(ann, room)).map((m) => m.content)).toEqual(['good', 'mine']);
  });

  it('refuses an upload already attached to another message', async () => {
    const { ann, room, annWs, bobWs } = await chat();
    const uploadId = await uploadAttachment(ann, room, {
      fileName: 'once.txt',
      contentType: 'text/plain',
      bytes: textBytes('once\n'),
    });
    sendWithAttachments(annWs, room, 'first', 'first', [uploadId]);
    const first = await ackOf(annWs, 'first');
    await bobWs.next('chat_message', (f) => f.message.messageId === first.messageId);

    sendWithAttachments(annWs, room, 'second', 'second', [uploadId]);
    expect(await refusal(annWs, 'second')).toMatch(/already attached/);
    await bobWs.expectNoFrame('chat_message');
    expect((await history(ann, room)).map(withoutRead).map((m) => m.messageId)).toEqual([first.messageId]);
  });

  it('answers a retried clientMessageId with the same message, delivered once', async () => {
    const { ann, room, annWs, bobWs } = await chat();
    const image = png(3, 2);
    const uploadId = await uploadAttachment(ann, room, {
      fileName: 'p.png',
      contentType: 'image/png',
      bytes: image,
    });
    sendWithAttachments(annWs, room, 'photo', 'retry-1', [uploadId]);
    const first = await ackOf(annWs, 'retry-1');
    await bobWs.next('chat_message', (f) => f.message.messageId === first.messageId);
    const items = await storedMessageItems(room);

    // The same send again (a lost ack), on the same connection and on another one of Ann's.
    sendWithAttachments(annWs, room, 'photo', 'retry-1', [uploadId]);
    const again = await ackOf(annWs, 'retry-1');
    const annPhone = await ann.connect();
    sendWithAttachments(annPhone, room, 'photo', 'retry-1', [uploadId]);
    const fromPhone = await ackOf(annPhone, 'retry-1');
    for (const ack of [again, fromPhone]) {
      expect({ ...ack, attachments: withoutUrls(ack) }).toEqual({
        ...first,
        attachments: withoutUrls(first),
      });
      await expectServed(at(attachmentsOf(ack), 0), image);
    }
    await bobWs.expectNoFrame('chat_message');
    expect(await storedMessageItems(room)).toBe(items);
    expect(await history(ann, room)).toHaveLength(1);
  });

  it('takes up to 10 attachments, in the order given, and refuses malformed lists', async () => {
    const { ann, room, annWs, bobWs } = await chat();
    const files = Array.from({ length: 11 }, (_, i) => ({
      fileName: `part ${i}.txt`,
      contentType: 'text/plain',
      bytes: textBytes(`part ${i}\n`),
    }));
    const ids = await Promise.all(files.map((file) => uploadAttachment(ann, room, file)));
    const [first] = ids;
    if (first === undefined) throw new Error('no upload');
    const malformed: [string, unknown][] = [
      ['11 uploads', ids.map((uploadId) => ({ uploadId }))],
      ['no upload', []],
      ['not a list', { uploadId: first }],
      ['a bare id', [first]],
      ['the same upload twice', [{ uploadId: first }, { uploadId: first }]],
      ['an upper-case id', [{ uploadId: first.toUpperCase() }]],
      ['a path as id', [{ uploadId: `../${first}` }]],
      ['an extra key', [{ uploadId: first, key: `uploads/${room}/x` }]],
      ['a number', [{ uploadId: 42 }]],
    ];
    for (const [index, [label, attachments]] of malformed.entries()) {
      annWs.send({
        action: 'sendMessage',
        roomId: room,
        content: label,
        clientMessageId: `bad-${index}`,
        attachments,
      });
      await refusal(annWs, `bad-${index}`);
    }
    // Empty content needs attachments.
    annWs.send({ action: 'sendMessage', roomId: room, content: '', clientMessageId: 'empty' });
    await refusal(annWs, 'empty');
    await bobWs.expectNoFrame('chat_message');
    expect(await storedMessageItems(room)).toBe(0);

    const ten = ids.slice(1).reverse();
    sendWithAttachments(annWs, room, 'ten', 'ten', ten);
    const ack = await ackOf(annWs, 'ten');
    expect(attachmentsOf(ack).map((a) => a.attachmentId)).toEqual(ten);
    expect(attachmentsOf(ack).map((a) => a.fileName)).toEqual(
      ten.map((id) => files[ids.indexOf(id)]?.fileName),
    );
    const delivered = await bobWs.next('chat_message', (f) => f.message.messageId === ack.messageId);
    await expectServed(at(attachmentsOf(delivered.message), 9), at(files, 1).bytes);
  });

  it('gives a contested upload to exactly one of 10 concurrent sends', async () => {
    const { ann, bob, room, bobWs } = await chat();
    const senders = await Promise.all(Array.from({ length: 10 }, () => ann.connect()));
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      const uploadId = await uploadAttachment(ann, room, {
        fileName: `race-${round}.txt`,
        contentType: 'text/plain',
        bytes: textBytes(`round ${round}\n`),
      });
      senders.forEach((ws, i) => {
        sendWithAttachments(ws, room, `round ${round} from ${i}`, `race-${round}-${i}`, [uploadId]);
      });
      const answers = await Promise.all(senders.map((ws, i) => answerTo(ws, `race-${round}-${i}`)));
      const acks = answers.flatMap((answer) => ('ack' in answer ? [answer.ack] : []));
      const errors = answers.flatMap((answer) => ('error' in answer ? [answer.error] : []));
      expect(acks, `round ${round}: ${JSON.stringify(answers)}`).toHaveLength(1);
      expect(
        errors.map((error) => error.code),
        `round ${round}`,
      ).toEqual(Array(9).fill('bad_request'));
      const winner = at(acks, 0);
      expect(withoutUrls(winner)).toMatchObject([{ attachmentId: uploadId }]);
      await bobWs.next('chat_message', (f) => f.message.messageId === winner.messageId);
      expect(await stateTag(uploadKey.attachment(room, ann.userId, uploadId))).toBe('attached');
      // Ping on every connection keeps them within the stack's idle limit between rounds.
      await Promise.all(senders.map((ws) => ws.ping()));
    }
    await bobWs.expectNoFrame('chat_message');
    const stored = await history(bob, room);
    expect(stored).toHaveLength(rounds);
    expect(stored.map((m) => attachmentsOf(m).length)).toEqual(Array(rounds).fill(1));
  }, 90_000);

  it('stores the same clientMessageId sent at once from 3 connections once, and acks each', async () => {
    const { ann, room, bobWs } = await chat();
    const phones = await Promise.all([ann.connect(), ann.connect(), ann.connect()]);
    for (let round = 0; round < 2; round++) {
      const uploadId = await uploadAttachment(ann, room, {
        fileName: `same-${round}.png`,
        contentType: 'image/png',
        bytes: png(5, 5, round),
      });
      const cmid = `same-${round}`;
      for (const ws of phones) sendWithAttachments(ws, room, `same ${round}`, cmid, [uploadId]);
      const acks = await Promise.all(phones.map((ws) => ackOf(ws, cmid)));
      expect(new Set(acks.map((ack) => ack.messageId)).size, JSON.stringify(acks)).toBe(1);
      for (const ack of acks)
        expect(withoutUrls(ack)).toMatchObject([{ attachmentId: uploadId, width: 5, height: 5 }]);
      await bobWs.next('chat_message', (f) => f.message.clientMessageId === cmid);
      await bobWs.expectNoFrame('chat_message', (f) => f.message.clientMessageId === cmid, QUIET_MS);
    }
    expect((await history(ann, room)).map((m) => m.clientMessageId)).toEqual(['same-0', 'same-1']);
  }, 60_000);
});

describe('avatars', () => {
  async function avatarUpload(user: TestUser, bytes: Uint8Array, contentType = 'image/png'): Promise<string> {
    const offer = expectOk(await createAvatarUpload(user, { contentType, size: bytes.length }), 201);
    expect(offer.uploadId).toMatch(UPLOAD_ID);
    expect(offer.maxBytes).toBe(MAX_AVATAR);
    expect(offer.fields).toMatchObject({
      key: uploadKey.avatar(user.userId, offer.uploadId),
      'Content-Type': contentType,
    });
    await upload(offer, bytes, 'me.png');
    return offer.uploadId;
  }

  async function expectAvatar(url: string | null | undefined, bytes: Uint8Array): Promise<void> {
    expect(url, 'avatarUrl').toEqual(expect.any(String));
    const got = await download(url as string);
    expect(got.status).toBe(200);
    expect(got.contentType).toBe('image/png');
    expect(got.disposition ?? '').toMatch(/^inline\b/);
    expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true);
  }

  it('sets an uploaded avatar; replacing it puts the old one back to pending; a URL given still works', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    const first = png(16, 16, 1);
    const firstId = await avatarUpload(ann, first);
    const firstKey = uploadKey.avatar(ann.userId, firstId);
    expect(await stateTag(firstKey)).toBe('pending');

    const set = expectOk(await ann.api.updateMe({ avatarUploadId: firstId }));
    expect(set).toMatchObject({ userId: ann.userId, displayName: 'Ann' });
    expect(keyOfUrl(set.avatarUrl ?? '')).toBe(firstKey);
    await expectAvatar(set.avatarUrl, first);
    await expectAvatar(expectOk(await ann.api.me()).avatarUrl, first);
    const seen = participantOf(await roomEntry(bob, room), ann.userId).avatarUrl;
    expect(keyOfUrl(seen ?? '')).toBe(firstKey);
    await expectAvatar(seen, first);
    expect(await stateTag(firstKey)).toBe('attached');

    const second = png(8, 8, 2);
    const secondId = await avatarUpload(ann, second);
    const secondKey = uploadKey.avatar(ann.userId, secondId);
    await expectAvatar(expectOk(await ann.api.updateMe({ avatarUploadId: secondId })).avatarUrl, second);
    expect(await stateTag(secondKey)).toBe('attached');
    expect(await stateTag(firstKey)).toBe('pending');
    await expectAvatar(participantOf(await roomEntry(bob, room), ann.userId).avatarUrl, second);
    const started = expectOk(await bob.api.startRoom(ann.userId));
    await expectAvatar(participantOf(started.room, ann.userId).avatarUrl, second);

    const given = 'https://example.com/avatars/ann.png';
    expect(expectOk(await ann.api.updateMe({ avatarUrl: given })).avatarUrl).toBe(given);
    expect(expectOk(await ann.api.me()).avatarUrl).toBe(given);
    expect(participantOf(await roomEntry(bob, room), ann.userId).avatarUrl).toBe(given);
    expect(await stateTag(secondKey)).toBe('pending');
  });

  it('refuses other types and sizes, and uploads that are not an avatar of the caller', async () => {
    const [ann, bob] = await trio();
    const room = await startRoom(ann, bob);
    for (const [body, status, code] of [
      [{ contentType: 'image/gif', size: 100 }, 400, 'bad_request'],
      [{ contentType: 'application/pdf', size: 100 }, 400, 'bad_request'],
      [{ contentType: 'image/png', size: 0 }, 400, 'bad_request'],
      [{ contentType: 'image/png', size: 100, fileName: 'a.png' }, 400, 'bad_request'],
      [{ contentType: 'image/png', size: MAX_AVATAR + 1 }, 413, 'too_large'],
    ] as const) {
      expectError(await createAvatarUpload(ann, body), status, code);
    }
    expectOk(await createAvatarUpload(ann, { contentType: 'image/webp', size: MAX_AVATAR }), 201);

    const fake = await avatarUpload(ann, textBytes('not an image, only text\n'));
    const bobs = await avatarUpload(bob, png(2, 2));
    const attachment = await uploadAttachment(ann, room, {
      fileName: 'a.png',
      contentType: 'image/png',
      bytes: png(2, 2),
    });
    const neverPosted = expectOk(
      await createAvatarUpload(ann, { contentType: 'image/png', size: 10 }),
      201,
    ).uploadId;
    const gifAsPng = await avatarUpload(ann, gifBytes());
    const before = expectOk(await ann.api.me());
    for (const body of [
      { avatarUploadId: fake },
      { avatarUploadId: bobs },
      { avatarUploadId: attachment },
      { avatarUploadId: neverPosted },
      { avatarUploadId: gifAsPng },
      { avatarUploadId: 'not-an-upload-id' },
      { avatarUploadId: bobs, avatarUrl: 'https://example.com/a.png' },
    ]) {
      expectError(await ann.api.updateMe(body), 400, 'bad_request');
    }
    expect(expectOk(await ann.api.me())).toEqual(before);
    expect(await stateTag(uploadKey.avatar(bob.userId, bobs))).toBe('pending');
    expect(await stateTag(uploadKey.attachment(room, ann.userId, attachment))).toBe('pending');
  });
});
