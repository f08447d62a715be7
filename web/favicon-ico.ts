/**
 * /favicon.ico, drawn at build time: browsers and crawlers ask for it whatever the page's
 * `<link rel="icon">` says (favicon.svg), and a 404 there fills logs. The same speech bubble as
 * favicon.svg, 32x32, as an uncompressed 32-bit bitmap (the ICO format needs no PNG encoder for that).
 */

const SIZE = 32;
const BLUE = [0x25, 0x63, 0xeb] as const;

/** The colour at pixel (x, y), top row 0: [r, g, b, alpha]. */
function pixel(x: number, y: number): [number, number, number, number] {
  const px = x + 0.5;
  const py = y + 0.5;
  const dot = [10, 16, 22].some((cx) => (px - cx) ** 2 + (py - 15) ** 2 <= 4.4);
  if (dot) return [255, 255, 255, 255];
  const bubble = ((px - 16) / 14) ** 2 + ((py - 15) / 12) ** 2 <= 1;
  // The tail: a triangle from the bubble's lower left down to (5, 29).
  const tail = py >= 22 && py <= 29 && px >= 5 && px <= 11 && px - 5 <= ((29 - py) * 6) / 7 + 0.5;
  return bubble || tail ? [...BLUE, 255] : [0, 0, 0, 0];
}

export function faviconIco(): Uint8Array {
  const header = 6 + 16;
  const info = 40;
  const pixels = SIZE * SIZE * 4;
  const mask = SIZE * 4; // one bit per pixel, rows padded to 4 bytes: 32 rows of 4 bytes
  const image = info + pixels + mask;
  const bytes = new Uint8Array(header + image);
  const view = new DataView(bytes.buffer);
  // ICONDIR: reserved, type 1 (icon), one image.
  view.setUint16(2, 1, true);
  view.setUint16(4, 1, true);
  // ICONDIRENTRY: 32x32, no palette, 1 plane, 32 bits, size, offset.
  bytes[6] = SIZE;
  bytes[7] = SIZE;
  view.setUint16(10, 1, true);
  view.setUint16(12, 32, true);
  view.setUint32(14, image, true);
  view.setUint32(18, header, true);
  // BITMAPINFOHEADER: the height counts the colour rows and the mask rows.
  view.setUint32(header, info, true);
  view.setInt32(header + 4, SIZE, true);
  view.setInt32(header + 8, SIZE * 2, true);
  view.setUint16(header + 12, 1, true);
  view.setUint16(header + 14, 32, true);
  view.setUint32(header + 20, pixels + mask, true);
  // Rows bottom-up, BGRA; the AND mask stays zero (the alpha channel decides).
  for (let row = 0; row < SIZE; row++) {
    for (let x = 0; x < SIZE; x++) {
      const [r, g, b, a] = pixel(x, SIZE - 1 - row);
      bytes.set([b, g, r, a], header + info + (row * SIZE + x) * 4);
    }
  }
  return bytes;
}
