import { describe, expect, it } from 'vitest';
import { notificationLimits } from '../../../definitions/notifications.js';
import { cut, type Digest, renderDigest } from '../../../lambdas/domain/digest.js';

const digest = (overrides: Partial<Digest> = {}): Digest => ({
  rooms: [
    {
      roomId: 'chat_ann_bob',
      peerName: 'Ann',
      unreadCount: 2,
      messages: [
        { senderName: 'Ann', content: 'Hi', fileNames: [] },
        { senderName: 'Ann', content: '', fileNames: ['plan.pdf'] },
      ],
    },
  ],
  moreRooms: 0,
  moreUnread: 0,
  appUrl: 'https://chat.example.com/',
  ...overrides,
});

describe('the digest e-mail', () => {
  it('says who wrote how much, quotes the lines and names the files, in text and HTML, with the link', () => {
    const mail = renderDigest(digest());

    expect(mail.subject).toBe('2 new messages from Ann');
    expect(mail.text).toContain('Ann (2 unread messages)\n  Ann: Hi\n  Ann: [file: plan.pdf]\n');
    expect(mail.text).toContain('Open the chat: https://chat.example.com/');
    expect(mail.html).toContain('<li><strong>Ann</strong>: Hi</li>');
    expect(mail.html).toContain('<a href="https://chat.example.com/">Open the chat</a>');
  });

  it('escapes names, text and file names in the HTML', () => {
    const mail = renderDigest(
      digest({
        rooms: [
          {
            roomId: 'chat_ann_bob',
            peerName: '<img src=x onerror=alert(1)>',
            unreadCount: 1,
            messages: [{ senderName: 'A&B "q"', content: '<script>x</script>', fileNames: ["'><b>.pdf"] }],
          },
        ],
      }),
    );

    expect(mail.html).not.toMatch(/<img|<script|<b>/);
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.html).toContain(
      '<strong>A&amp;B &quot;q&quot;</strong>: &lt;script&gt;x&lt;/script&gt; [file: &#39;&gt;&lt;b&gt;.pdf]',
    );
  });

  it('keeps line breaks and control characters of a display name out of the subject', () => {
    const mail = renderDigest(
      digest({
        rooms: [
          {
            roomId: 'chat_ann_bob',
            peerName: 'Ann\r\nBcc: victim@example.com\u0000\u2028x',
            unreadCount: 1,
            messages: [{ senderName: 'Ann', content: 'Hi', fileNames: [] }],
          },
        ],
      }),
    );

    expect(mail.subject).toBe('1 new message from Ann Bcc: victim@example.com x');
    expect(mail.subject).not.toMatch(/[\p{Cc}\p{Zl}]/u);
    expect(mail.text).toContain('Ann Bcc: victim@example.com x (1 unread message)');
  });

  it(`cuts a message at ${notificationLimits.quotedCharacters} characters, on one line`, () => {
    const long = `${'ab\n'.repeat(100)}end`;
    const mail = renderDigest(
      digest({
        rooms: [
          {
            roomId: 'r',
            peerName: 'Ann',
            unreadCount: 1,
            messages: [{ senderName: 'Ann', content: long, fileNames: [] }],
          },
        ],
      }),
    );

    const line = mail.text.split('\n').find((l) => l.startsWith('  Ann: ')) ?? '';
    expect(line).toBe(`  Ann: ${'ab '.repeat(66)}ab…`);
    expect(Array.from(line.slice('  Ann: '.length)).length).toBeLessThanOrEqual(
      notificationLimits.quotedCharacters + 1,
    );
    expect(mail.text).not.toContain('end');
  });

  it('never cuts a character in two', () => {
    expect(cut('😀😀😀', 2)).toBe('😀😀…');
    expect(cut('short', 10)).toBe('short');
  });

  it('counts the rooms beyond those listed', () => {
    const mail = renderDigest(digest({ moreRooms: 3, moreUnread: 7 }));

    expect(mail.subject).toBe('9 new messages in 4 chats');
    expect(mail.text).toContain('…and 7 unread messages in 3 more chats.');
    expect(mail.html).toContain('…and 7 unread messages in 3 more chats.');
  });
});
