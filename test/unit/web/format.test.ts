import { describe, expect, it } from 'vitest';
import { MAX_CONTENT_LENGTH } from '../../../web/sdk/index.js';
import { contentLimit } from '../../../web/src/format.js';

describe('the composer against the length limit', () => {
  it('counts code points of the trimmed text, as the server does', () => {
    expect(contentLimit('  hello \n', MAX_CONTENT_LENGTH).length).toBe(5);
    // One code point each, though two UTF-16 units.
    expect(contentLimit('😀😀', MAX_CONTENT_LENGTH).length).toBe(2);
    // A flag is two code points; a family emoji with joiners is five.
    expect(contentLimit('🇫🇷', MAX_CONTENT_LENGTH).length).toBe(2);
    expect(contentLimit('👨‍👩‍👧', MAX_CONTENT_LENGTH).length).toBe(5);
  });

  it('is within the limit at exactly 4,000 code points, even with spaces around', () => {
    const limit = contentLimit(`  ${'a'.repeat(MAX_CONTENT_LENGTH)}\n\n`, MAX_CONTENT_LENGTH, 'en');
    expect(limit).toEqual({ length: MAX_CONTENT_LENGTH, near: true, overNote: undefined });
    // 4,000 emoji are 8,000 UTF-16 units and still within the limit.
    expect(contentLimit('😀'.repeat(MAX_CONTENT_LENGTH), MAX_CONTENT_LENGTH).overNote).toBeUndefined();
  });

  it('says how far over the limit the text is', () => {
    expect(contentLimit('a'.repeat(MAX_CONTENT_LENGTH + 1), MAX_CONTENT_LENGTH, 'en').overNote).toBe(
      '1 character over the 4,000 limit',
    );
    expect(contentLimit('😀'.repeat(MAX_CONTENT_LENGTH + 1234), MAX_CONTENT_LENGTH, 'en').overNote).toBe(
      '1,234 characters over the 4,000 limit',
    );
  });

  it('shows the counter only near the limit', () => {
    expect(contentLimit('a'.repeat(3599), MAX_CONTENT_LENGTH).near).toBe(false);
    expect(contentLimit('a'.repeat(3600), MAX_CONTENT_LENGTH).near).toBe(true);
    expect(contentLimit('', MAX_CONTENT_LENGTH)).toEqual({ length: 0, near: false, overNote: undefined });
  });
});
