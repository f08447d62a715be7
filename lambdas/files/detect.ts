/**
 * What a file's first bytes are, for the few types the chat accepts (definitions/uploads.ts).
 *
 * Hand-written on purpose, and small: the magic-number libraries do not fit the 25 KB bundle budget
 * beside this function's own code (file-type is 70 KB, magic-bytes.js 21 KB, image-size 13 KB), and
 * only the signatures of the accepted types matter here, each a fixed prefix their specifications
 * give. test/unit/files/detect.test.ts holds every one against magic-bytes.js, which stays the
 * reference in the tests. What no table can say is hand-written too: that a file with no signature is
 * plain text (valid UTF-8 without control bytes), and an image's width and height, read from the
 * header fields each format documents.
 */
import type { DetectedType } from '../../definitions/uploads.js';

const bytesOf = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** Each accepted binary type's signature: bytes at an offset (null: any byte). */
const SIGNATURES: readonly {
  readonly type: DetectedType;
  readonly at: number;
  readonly bytes: readonly (number | null)[];
}[] = [
  { type: 'png', at: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'jpg', at: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: 'gif', at: 0, bytes: bytesOf('GIF87a') },
  { type: 'gif', at: 0, bytes: bytesOf('GIF89a') },
  { type: 'webp', at: 0, bytes: [...bytesOf('RIFF'), null, null, null, null, ...bytesOf('WEBP')] },
  { type: 'pdf', at: 0, bytes: bytesOf('%PDF') },
  // A local file header, an empty archive's end record, a spanned archive's marker.
  { type: 'zip', at: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'zip', at: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { type: 'zip', at: 0, bytes: [0x50, 0x4b, 0x07, 0x08] },
  // OLE compound file: the container of .doc, .xls and .ppt.
  { type: 'cfb', at: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
];

/** Text: valid UTF-8 (a sequence cut by the end of the sample is fine) with no control bytes but tab, line breaks and form feed. */
function isPlainText(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f) {
      return false;
    }
  }
  try {
    // `stream` keeps an incomplete last sequence for a next chunk instead of failing on it; a decoder
    // per call, since that kept sequence would fail the next sample's decode (or a flush).
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export function detectType(bytes: Uint8Array): DetectedType | undefined {
  const match = SIGNATURES.find(({ at, bytes: signature }) =>
    signature.every((byte, index) => byte === null || bytes[at + index] === byte),
  );
  if (match) return match.type;
  return bytes.length > 0 && isPlainText(bytes) ? 'text' : undefined;
}

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 0x10000 + u16be(b, at + 2);
const ascii = (b: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...b.subarray(at, at + length));

/** Width and height from an image's header, when the sample holds it. */
export function imageSize(type: DetectedType, b: Uint8Array): ImageSize | undefined {
  const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : undefined);
  switch (type) {
    case 'png': // IHDR is the first chunk: width, height as 32-bit big-endian at 16 and 20.
      return b.length >= 24 && ascii(b, 12, 4) === 'IHDR' ? size(u32be(b, 16), u32be(b, 20)) : undefined;
    case 'gif': // Logical screen descriptor: 16-bit little-endian at 6 and 8.
      return b.length >= 10 ? size(u16le(b, 6), u16le(b, 8)) : undefined;
    case 'webp':
      return webpSize(b);
    case 'jpg':
      return jpegSize(b);
    default:
      return undefined;
  }
}

function webpSize(b: Uint8Array): ImageSize | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X' && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && b.length >= 30) {
    const width = u16le(b, 26) & 0x3fff;
    const height = u16le(b, 28) & 0x3fff;
    return width > 0 && height > 0 ? { width, height } : undefined;
  }
  return undefined;
}

/** The first start-of-frame marker's height and width, walking the marker segments from the start. */
function jpegSize(b: Uint8Array): ImageSize | undefined {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    at += 2 + u16be(b, at + 2);
  }
  return undefined;
}
