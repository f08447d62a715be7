/**
 * The type detection of uploads. Its signature table is hand-written (the libraries do not fit the
 * bundle budget: see lambdas/files/detect.ts), so magic-bytes.js, a maintained magic-number table, is
 * the reference here: on generated files starting with every accepted signature (and random bytes),
 * both must agree on every type the chat accepts.
 */
import fc from 'fast-check';
import { filetypeinfo } from 'magic-bytes.js';
import { describe, expect, it } from 'vitest';
import type { DetectedType } from '../../../definitions/uploads.js';
import { detectType, imageSize } from '../../../lambdas/files/detect.js';
import { sampleFiles } from '../../fakes/files.js';

/** What magic-bytes.js's answer means in our terms (undefined: none of the accepted binary types). */
function reference(bytes: Uint8Array): DetectedType | undefined {
  const names = filetypeinfo(bytes).map((guess) => guess.typename);
  const byName: Record<string, DetectedType> = {
    png: 'png',
    jpg: 'jpg',
    gif: 'gif',
    webp: 'webp',
    pdf: 'pdf',
    zip: 'zip',
    doc: 'cfb',
    xls: 'cfb',
    ppt: 'cfb',
  };
  for (const name of names) if (byName[name]) return byName[name];
  return undefined;
}

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const prefixes: readonly number[][] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [0xff, 0xd8, 0xff],
  ascii('GIF87a'),
  ascii('GIF89a'),
  [...ascii('RIFF'), 1, 2, 3, 4, ...ascii('WEBP')],
  ascii('%PDF-1.7'),
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
  [0x50, 0x4b, 0x07, 0x08],
  [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  // Near misses: must not be taken for any of them.
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a],
  ascii('GIF88a'),
  [...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE')],
  ascii('%PD'),
  [0x50, 0x4b, 0x01, 0x02],
  [0x4d, 0x5a],
  ascii('<svg xmlns="http://www.w3.org/2000/svg">'),
];

const file = fc
  .tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 64 }))
  .map(([prefix, tail]) => Uint8Array.from([...prefix, ...tail]));

describe('detectType', () => {
  it('agrees with magic-bytes.js on every accepted binary type, for files that start like them or like nothing', () => {
    fc.assert(
      fc.property(fc.oneof(file, fc.uint8Array({ minLength: 1, maxLength: 64 })), (bytes) => {
        const ours = detectType(bytes);
        expect(ours === 'text' ? undefined : ours).toBe(reference(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes valid UTF-8 without control bytes for plain text, markup included (it is served as text, as a download)', () => {
    expect(detectType(sampleFiles.text)).toBe('text');
    expect(detectType(new TextEncoder().encode('Grüße, 你好 👋\r\n\tok'))).toBe('text');
    expect(detectType(sampleFiles.html)).toBe('text');
    // A multi-byte character cut by the end of the sample is still text.
    expect(detectType(new TextEncoder().encode('ab€').subarray(0, 4))).toBe('text');
  });

  it('does not take binary data, invalid UTF-8 or an empty file for text', () => {
    expect(detectType(sampleFiles.exe)).toBeUndefined();
    expect(detectType(Uint8Array.from([0x68, 0x69, 0x00]))).toBeUndefined();
    expect(detectType(Uint8Array.from([0x68, 0xc3, 0x28]))).toBeUndefined();
    expect(detectType(Uint8Array.from([0x1b, 0x5b, 0x33, 0x31, 0x6d]))).toBeUndefined();
    expect(detectType(new Uint8Array())).toBeUndefined();
  });
});

describe('imageSize', () => {
  it('reads a PNG’s IHDR', () => {
    expect(imageSize('png', sampleFiles.png)).toEqual({ width: 1, height: 1 });
  });

  it('reads a GIF’s logical screen', () => {
    const gif = Uint8Array.from([...ascii('GIF89a'), 0x40, 0x01, 0xf0, 0x00, 0, 0, 0]);
    expect(imageSize('gif', gif)).toEqual({ width: 320, height: 240 });
  });

  it('reads the three WebP headers (lossy, lossless, extended)', () => {
    const riff = (chunk: string, body: number[]) =>
      Uint8Array.from([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBP'), ...ascii(chunk), 0, 0, 0, 0, ...body]);
    // VP8: frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    expect(
      imageSize('webp', riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0, 0])),
    ).toEqual({
      width: 640,
      height: 480,
    });
    // VP8L: signature 2f, then width-1 and height-1 in 14 bits each.
    const bits = (640 - 1) | ((480 - 1) << 14);
    expect(
      imageSize(
        'webp',
        riff('VP8L', [
          0x2f,
          bits & 0xff,
          (bits >> 8) & 0xff,
          (bits >> 16) & 0xff,
          (bits >>> 24) & 0xff,
          0,
          0,
          0,
        ]),
      ),
    ).toEqual({ width: 640, height: 480 });
    // VP8X: flags (4 bytes), then canvas width-1 and height-1 in 24 bits each.
    expect(imageSize('webp', riff('VP8X', [0, 0, 0, 0, 0x7f, 0x02, 0, 0xdf, 0x01, 0]))).toEqual({
      width: 640,
      height: 480,
    });
  });

  it('walks a JPEG’s segments to the start of frame, past an APP segment', () => {
    const jpeg = Uint8Array.from([
      0xff,
      0xd8, // SOI
      0xff,
      0xe0,
      0x00,
      0x06,
      0x4a,
      0x46,
      0x49,
      0x46, // APP0, length 6
      0xff,
      0xc0,
      0x00,
      0x11,
      0x08,
      0x01,
      0xe0,
      0x02,
      0x80,
      0x03,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // SOF0: 480 × 640
    ]);
    expect(imageSize('jpg', jpeg)).toEqual({ width: 640, height: 480 });
  });

  it('answers nothing for a header cut short or a document', () => {
    expect(imageSize('png', sampleFiles.png.subarray(0, 20))).toBeUndefined();
    expect(imageSize('jpg', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00]))).toBeUndefined();
    expect(imageSize('pdf', sampleFiles.pdf)).toBeUndefined();
  });
});
