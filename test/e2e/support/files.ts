/**
 * Real files built in code, for the browser tests and the file transfer bench: a PNG (any size, a
 * gradient, valid: signature, IHDR, zlib-compressed IDAT, IEND, CRCs) and a PDF (one page of text,
 * a correct cross-reference table, optionally padded with an unreferenced stream object to an exact
 * size). The chat accepts them for what their first bytes are (lambdas/files/detect.ts): `\x89PNG…`
 * and `%PDF-`, and reads the PNG's width and height from its IHDR chunk.
 *
 * Plain Node (no vitest): the bench imports it too.
 */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG (and zlib) define it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A `width` x `height` 8-bit RGB PNG: a gradient, its hue set by `tint` (0-255). */
export function pngImage(width: number, height: number, tint = 0): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  // compression, filter and interlace methods: 0
  const rowBytes = 1 + 3 * width;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const at = y * rowBytes + 1 + 3 * x;
      raw[at] = Math.round((255 * x) / Math.max(1, width - 1));
      raw[at + 1] = Math.round((255 * y) / Math.max(1, height - 1));
      raw[at + 2] = tint;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** PDF string literals escape backslashes and parentheses. */
const pdfText = (text: string) => text.replace(/[\\()]/g, (c) => `\\${c}`);

function pdfWithPadding(text: string, padding: Buffer | undefined): Buffer {
  const content = `BT /F1 18 Tf 36 72 Td (${pdfText(text)}) Tj ET`;
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 320 144] /Contents 4 0 R ' +
        '/Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    Buffer.from(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  if (padding !== undefined) {
    // An object nothing refers to: readers skip it, and it makes the file as large as wanted.
    objects.push(
      Buffer.concat([
        Buffer.from(`<< /Length ${padding.length} >>\nstream\n`),
        padding,
        Buffer.from('\nendstream'),
      ]),
    );
  }
  // The header's second line: binary bytes, so that tools treat the file as binary.
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    offsets.push(offset);
    parts.push(object);
    offset += object.length;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((at) => `${String(at).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(offset),
    '%%EOF',
    '',
  ].join('\n');
  parts.push(Buffer.from(xref));
  return Buffer.concat(parts);
}

/** A one-page PDF showing `text`. */
export function pdfDocument(text: string): Buffer {
  return pdfWithPadding(text, undefined);
}

/**
 * A valid PDF of exactly `totalBytes` bytes: one page of `text` and an unreferenced stream of random
 * (incompressible) bytes.
 */
export function pdfOfSize(totalBytes: number, text = 'Large file'): Buffer {
  let paddingBytes = Math.max(0, totalBytes - pdfWithPadding(text, Buffer.alloc(0)).length);
  // The padding's length is written in the file (and shifts the xref offsets): settle it in a few rounds.
  for (let round = 0; round < 5; round++) {
    const size = pdfWithPadding(text, Buffer.alloc(paddingBytes)).length;
    if (size === totalBytes) return pdfWithPadding(text, randomBytes(paddingBytes));
    paddingBytes += totalBytes - size;
    if (paddingBytes < 0) break;
  }
  throw new Error(`cannot build a PDF of exactly ${totalBytes} bytes`);
}
