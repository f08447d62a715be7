/** The requests that start an upload and the `attachments` field of a send: each refusal says why. */
import { describe, expect, it } from 'vitest';
import { attachmentTypes, downloadName, uploadKey, uploadLimits } from '../../../definitions/uploads.js';
import { parseAttachmentRefs } from '../../../lambdas/domain/files.js';
import { parseAttachmentUpload, parseAvatarUpload, UploadService } from '../../../lambdas/domain/uploads.js';
import { parseContent } from '../../../lambdas/domain/validation.js';
import { makeWorld } from '../../fakes/chat-world.js';

const MAX = 25 * 1024 * 1024;
const refused = (code: string, message: RegExp) =>
  expect.objectContaining({ name: 'ChatError', code, message: expect.stringMatching(message) });

describe('parseAttachmentUpload', () => {
  it('accepts every allowed type, case-insensitively, and trims the file name', () => {
    for (const contentType of Object.keys(attachmentTypes)) {
      expect(
        parseAttachmentUpload({ fileName: ' a.bin ', contentType: contentType.toUpperCase(), size: 1 }, MAX),
      ).toEqual({
        fileName: 'a.bin',
        contentType,
        size: 1,
      });
    }
  });

  it.each([
    [
      { fileName: 'a.html', contentType: 'text/html', size: 1 },
      'bad_request',
      /not allowed; allowed: image\/png/,
    ],
    [{ fileName: 'a.svg', contentType: 'image/svg+xml', size: 1 }, 'bad_request', /not allowed/],
    [{ fileName: 'a.txt', contentType: 'text/plain', size: 0 }, 'bad_request', /empty/],
    [{ fileName: 'a.txt', contentType: 'text/plain', size: MAX + 1 }, 'too_large', /limit of 26214400 bytes/],
    [{ fileName: 'a.txt', contentType: 'text/plain', size: 1.5 }, 'bad_request', /whole number/],
    [{ fileName: 'a.txt', contentType: 'text/plain', size: '12' }, 'bad_request', /whole number/],
    [{ fileName: '', contentType: 'text/plain', size: 1 }, 'bad_request', /fileName must be 1 to 255/],
    [
      { fileName: 'x'.repeat(256), contentType: 'text/plain', size: 1 },
      'bad_request',
      /fileName must be 1 to 255/,
    ],
    [
      { fileName: '../etc/passwd', contentType: 'text/plain', size: 1 },
      'bad_request',
      /quotes, line breaks, tabs, \//,
    ],
    [{ fileName: 'a"b.txt', contentType: 'text/plain', size: 1 }, 'bad_request', /quotes/],
    [{ fileName: 'a\nb.txt', contentType: 'text/plain', size: 1 }, 'bad_request', /line breaks/],
    [{ fileName: 'a\u0000b.txt', contentType: 'text/plain', size: 1 }, 'bad_request', /control characters/],
    [
      { fileName: 'a.txt', contentType: 'text/plain', size: 1, key: 'x' },
      'bad_request',
      /Unknown field\(s\): key/,
    ],
  ])('refuses %j', (body, code, message) => {
    expect(() => parseAttachmentUpload(body, MAX)).toThrow(refused(code, message));
  });
});

describe('parseAvatarUpload', () => {
  it('accepts PNG, JPEG and WebP up to 2 MB', () => {
    expect(parseAvatarUpload({ contentType: 'image/webp', size: uploadLimits.maxAvatarBytes })).toEqual({
      fileName: 'avatar',
      contentType: 'image/webp',
      size: uploadLimits.maxAvatarBytes,
    });
  });

  it('refuses a GIF, a document, a larger file and a file name', () => {
    expect(() => parseAvatarUpload({ contentType: 'image/gif', size: 1 })).toThrow(
      refused('bad_request', /not allowed/),
    );
    expect(() => parseAvatarUpload({ contentType: 'application/pdf', size: 1 })).toThrow(
      refused('bad_request', /not allowed/),
    );
    expect(() =>
      parseAvatarUpload({ contentType: 'image/png', size: uploadLimits.maxAvatarBytes + 1 }),
    ).toThrow(refused('too_large', /limit/));
    expect(() => parseAvatarUpload({ contentType: 'image/png', size: 1, fileName: 'me.png' })).toThrow(
      refused('bad_request', /Unknown field/),
    );
  });
});

describe('parseAttachmentRefs', () => {
  const id = (n: number) => n.toString(16).padStart(32, '0');

  it('is absent when absent, else 1 to 10 distinct upload ids', () => {
    expect(parseAttachmentRefs(undefined)).toBeUndefined();
    expect(parseAttachmentRefs([{ uploadId: id(1) }, { uploadId: id(2) }])).toEqual([id(1), id(2)]);
  });

  it.each([
    [[], /1 to 10/],
    [Array.from({ length: 11 }, (_, i) => ({ uploadId: id(i) })), /1 to 10/],
    [{ uploadId: id(1) }, /1 to 10/],
    [[id(1)], /must be an object/],
    [[{ uploadId: id(1) }, { uploadId: id(1) }], /same upload is attached twice/],
    [[{ uploadId: 'ABCDEF0123456789ABCDEF0123456789' }], /uploadId from an upload form/],
    [[{ uploadId: '../../avatars/bob/x' }], /uploadId from an upload form/],
    [[{ uploadId: id(1), key: 'x' }], /only an uploadId/],
  ])('refuses %j', (value, message) => {
    expect(() => parseAttachmentRefs(value)).toThrow(refused('bad_request', message));
  });
});

describe('parseContent with attachments', () => {
  it('lets a message with files have no text, and still refuses empty text without files', () => {
    expect(parseContent('  ', true)).toBe('');
    expect(parseContent(undefined, true)).toBe('');
    expect(parseContent(' hi ', true)).toBe('hi');
    expect(() => parseContent('  ')).toThrow(refused('bad_request', /must not be empty/));
    expect(() => parseContent(undefined)).toThrow(refused('bad_request', /must be a string/));
  });
});

describe('UploadService', () => {
  const forms = {
    form: async (request: { key: string }) => ({
      url: 'https://bucket/',
      fields: { key: request.key },
      expiresAt: 'soon',
    }),
  };

  it('gives a participant a form for a new key in their own folder of the room', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const uploads = new UploadService(world.store, forms, MAX);

    const offer = await uploads.attachmentUpload('ann', roomId, {
      fileName: 'a.pdf',
      contentType: 'application/pdf',
      size: 3,
    });
    const again = await uploads.attachmentUpload('ann', roomId, {
      fileName: 'a.pdf',
      contentType: 'application/pdf',
      size: 3,
    });

    expect(offer.uploadId).toMatch(/^[0-9a-f]{32}$/);
    expect(again.uploadId).not.toBe(offer.uploadId);
    expect(offer).toEqual({
      uploadId: offer.uploadId,
      url: 'https://bucket/',
      fields: { key: uploadKey.attachment(roomId, 'ann', offer.uploadId) },
      expiresAt: 'soon',
      maxBytes: MAX,
    });
  });

  it('refuses a user who is not a participant (403) and a room never started (404)', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    world.users('cat');
    const uploads = new UploadService(world.store, forms, MAX);
    const request = { fileName: 'a.pdf', contentType: 'application/pdf', size: 3 };

    await expect(uploads.attachmentUpload('cat', roomId, request)).rejects.toEqual(
      expect.objectContaining({ code: 'forbidden' }),
    );
    await expect(uploads.attachmentUpload('ann', 'chat_ann_cat', request)).rejects.toEqual(
      expect.objectContaining({ code: 'not_found' }),
    );
  });

  it('puts avatars in the caller’s avatar folder, with the avatar limit', async () => {
    const uploads = new UploadService(makeWorld().store, forms, MAX);
    const offer = await uploads.avatarUpload('ann', {
      fileName: 'avatar',
      contentType: 'image/png',
      size: 3,
    });
    expect(offer.fields.key).toBe(uploadKey.avatar('ann', offer.uploadId));
    expect(offer.maxBytes).toBe(uploadLimits.maxAvatarBytes);
  });
});

describe('downloadName', () => {
  it('keeps a name whose extension is its type’s, and adds the type’s to any other', () => {
    expect(downloadName('brief.PDF', 'application/pdf')).toBe('brief.PDF');
    expect(downloadName('photo.jpeg', 'image/jpeg')).toBe('photo.jpeg');
    expect(downloadName('notes.md', 'text/plain')).toBe('notes.md');
    expect(downloadName('invoice.pdf.js', 'text/plain')).toBe('invoice.pdf.js.txt');
    expect(downloadName('page.html', 'text/plain')).toBe('page.html.txt');
    expect(downloadName('README', 'text/plain')).toBe('README.txt');
    expect(downloadName('deck', 'application/vnd.ms-powerpoint')).toBe('deck.ppt');
  });

  it('refuses bidirectional controls in a file name, which make it show another extension', () => {
    expect(() =>
      parseAttachmentUpload({ fileName: 'invoice\u202Efdp.exe', contentType: 'text/plain', size: 1 }, MAX),
    ).toThrow(refused('bad_request', /bidirectional/));
  });
});
