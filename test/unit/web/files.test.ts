import { describe, expect, it } from 'vitest';
import type { Attachment } from '../../../web/sdk/index.js';
import {
  canSend,
  fileBadge,
  fileDetails,
  fileTypeName,
  humanSize,
  messagePreview,
  previewWidth,
  safeLink,
} from '../../../web/src/files.js';

const MB = 1024 * 1024;
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

function file(fileName: string, contentType: string, size = 1000): Attachment {
  return { attachmentId: fileName, fileName, contentType, size, url: `https://files.test/${fileName}` };
}

describe('messagePreview: a message in one line', () => {
  it('is the text, whitespace collapsed, when there is text', () => {
    expect(messagePreview({ content: '  Hello\n\nBob  ' })).toBe('Hello Bob');
    expect(
      messagePreview({ content: 'See the brief', attachments: [file('brief.pdf', 'application/pdf')] }),
    ).toBe('See the brief');
  });

  it('is a paperclip and the first file’s name for files alone', () => {
    expect(
      messagePreview({
        content: '',
        attachments: [file('brief.pdf', 'application/pdf'), file('a.png', 'image/png')],
      }),
    ).toBe('📎 brief.pdf');
  });

  it('says "Photo" when the first file is an image', () => {
    expect(messagePreview({ content: '  ', attachments: [file('IMG_0001.jpeg', 'image/jpeg')] })).toBe(
      '📎 Photo',
    );
  });

  it('is empty for an empty message without files', () => {
    expect(messagePreview({ content: '' })).toBe('');
    expect(messagePreview({ content: '', attachments: [] })).toBe('');
  });
});

describe('file cards', () => {
  it('say the type in words and a human size', () => {
    expect(fileDetails({ contentType: 'application/pdf', size: 1.2 * MB })).toBe('PDF · 1.2 MB');
    expect(fileDetails({ contentType: DOCX, size: 48 * 1024 })).toBe('Word · 48 KB');
    expect(fileDetails({ contentType: 'application/vnd.ms-excel', size: 900 })).toBe('Excel · 900 B');
    expect(fileDetails({ contentType: 'application/vnd.ms-powerpoint', size: 12.4 * MB })).toBe(
      'PowerPoint · 12 MB',
    );
    expect(fileDetails({ contentType: 'application/zip', size: 3 * MB })).toBe('ZIP · 3 MB');
    expect(fileDetails({ contentType: 'text/plain', size: 2048 })).toBe('Text · 2 KB');
  });

  it('show a short badge for the type', () => {
    expect(
      [
        'application/pdf',
        DOCX,
        'application/vnd.ms-excel',
        'application/zip',
        'text/plain',
        'image/png',
        'x/y',
      ].map(fileBadge),
    ).toEqual(['PDF', 'DOC', 'XLS', 'ZIP', 'TXT', 'IMG', 'FILE']);
  });

  it('use the SDK’s words', () => {
    expect(fileTypeName(DOCX)).toBe('Word');
    expect(humanSize(25 * MB)).toBe('25 MB');
  });
});

describe('safeLink', () => {
  it('lets http(s) and blob: URLs through and nothing else', () => {
    expect(safeLink('https://bucket.s3.amazonaws.com/a?X-Amz-Signature=1')).toBe(
      'https://bucket.s3.amazonaws.com/a?X-Amz-Signature=1',
    );
    expect(safeLink('http://localhost:4569/files/a')).toBe('http://localhost:4569/files/a');
    expect(safeLink('blob:http://localhost:3000/0b5e')).toBe('blob:http://localhost:3000/0b5e');
    expect(safeLink('javascript:alert(1)')).toBeUndefined();
    expect(safeLink('data:text/html,<script>alert(1)</script>')).toBeUndefined();
    expect(safeLink('not a url')).toBeUndefined();
    expect(safeLink('')).toBeUndefined();
  });
});

describe('canSend: when the composer’s Send is enabled', () => {
  const done = { state: 'done' } as const;
  const uploading = { state: 'uploading' } as const;
  const failed = { state: 'failed' } as const;

  it('with text, or with at least one finished upload', () => {
    expect(canSend(5, [], 4000)).toBe(true);
    expect(canSend(0, [done], 4000)).toBe(true);
    expect(canSend(0, [], 4000)).toBe(false);
    expect(canSend(0, [failed], 4000)).toBe(false);
    expect(canSend(0, [done, failed], 4000)).toBe(true);
  });

  it('not while a file is still uploading, nor with text over the limit', () => {
    expect(canSend(5, [uploading], 4000)).toBe(false);
    expect(canSend(0, [done, uploading], 4000)).toBe(false);
    expect(canSend(4001, [done], 4000)).toBe(false);
  });
});

describe('previewWidth: the width an image preview is shown at', () => {
  it('keeps small images as they are and fits large ones in the box, keeping their shape', () => {
    expect(previewWidth(200, 100)).toBe(200);
    expect(previewWidth(4000, 3000)).toBe(320);
    expect(previewWidth(1000, 4000)).toBe(80);
    expect(previewWidth(0, 100)).toBe(320);
  });
});
