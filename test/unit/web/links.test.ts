import { describe, expect, it } from 'vitest';
import { linkSegments } from '../../../web/src/links.js';

const links = (text: string) => linkSegments(text).filter((segment) => segment.href !== undefined);

describe('links in messages', () => {
  it('links http(s) URLs and keeps the text around them', () => {
    const text = 'see https://example.com/a?b=1 and http://x.io/y now';
    expect(linkSegments(text)).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: ' and ' },
      { text: 'http://x.io/y', href: 'http://x.io/y' },
      { text: ' now' },
    ]);
  });

  it('leaves trailing punctuation and enclosing brackets out of the link', () => {
    expect(links('Look: https://example.com/path.')).toEqual([
      { text: 'https://example.com/path', href: 'https://example.com/path' },
    ]);
    expect(links('(https://example.com/a), then https://example.com/b!')).toEqual([
      { text: 'https://example.com/a', href: 'https://example.com/a' },
      { text: 'https://example.com/b', href: 'https://example.com/b' },
    ]);
    expect(links('is it https://example.com/q?')).toEqual([
      { text: 'https://example.com/q', href: 'https://example.com/q' },
    ]);
  });

  it('links bare domains over https and e-mail addresses as mailto', () => {
    expect(links('go to www.example.com or example.org')).toEqual([
      { text: 'www.example.com', href: 'https://www.example.com' },
      { text: 'example.org', href: 'https://example.org' },
    ]);
    expect(links('write to ann@example.com.')).toEqual([
      { text: 'ann@example.com', href: 'mailto:ann@example.com' },
    ]);
  });

  it('never links javascript:, data:, file: or ftp: URLs', () => {
    for (const text of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'file:///etc/passwd',
      'ftp://files.example.com/x',
      'vbscript:msgbox(1)',
    ]) {
      expect(links(text), text).toEqual([]);
      expect(
        linkSegments(text)
          .map((segment) => segment.text)
          .join(''),
      ).toBe(text);
    }
  });

  it('keeps HTML as text; only the URL inside it is a link', () => {
    const text = '<a href="javascript:alert(1)">click</a> <img src=x onerror=alert(1)>';
    expect(links(text)).toEqual([]);
    expect(linkSegments(text)).toEqual([{ text }]);
    const withUrl = '<b> https://example.com </b>';
    expect(
      linkSegments(withUrl)
        .map((segment) => segment.text)
        .join(''),
    ).toBe(withUrl);
    expect(links(withUrl)).toEqual([{ text: 'https://example.com', href: 'https://example.com' }]);
    // Glued to markup, the "URL" would carry the markup into its host: it is not a valid URL, so no link.
    expect(links('<b>https://example.com</b>')).toEqual([]);
  });

  it('gives text without links back as one run, and nothing for nothing', () => {
    expect(linkSegments('just words, 3.14 and 1.2.3')).toEqual([{ text: 'just words, 3.14 and 1.2.3' }]);
    expect(linkSegments('')).toEqual([]);
  });
});
