/**
 * The notification e-mail: subject, plain text and HTML from a digest of unread rooms. Everything in a
 * digest but the app's URL comes from users (names, message text, file names): the HTML escapes it,
 * and the subject carries no line break or control character, so a display name cannot add headers.
 */
import { notificationLimits } from '../../definitions/notifications.js';

export interface DigestMessage {
  readonly senderName: string;
  readonly content: string;
  readonly fileNames: readonly string[];
}

export interface DigestRoom {
  readonly roomId: string;
  /** The other participant's display name. */
  readonly peerName: string;
  readonly unreadCount: number;
  /** The newest unread messages not e-mailed yet, oldest first. */
  readonly messages: readonly DigestMessage[];
}

export interface Digest {
  readonly rooms: readonly DigestRoom[];
  /** Rooms with unread messages beyond those listed, and their unread messages. */
  readonly moreRooms: number;
  readonly moreUnread: number;
  readonly appUrl: string;
}

export interface RenderedMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * One line of a user's text: every run of whitespace, line breaks, control characters and the
 * Unicode line and paragraph separators becomes one space.
 */
export const oneLine = (value: string): string => value.replace(/[\s\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();

/** At most `max` characters (code points, so no surrogate pair is cut in two), with an ellipsis when cut. */
export function cut(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max).join('').trimEnd()}…`;
}

const SUBJECT_NAME_CHARACTERS = 60;
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function quote(message: DigestMessage): string {
  const text = cut(oneLine(message.content), notificationLimits.quotedCharacters);
  const files = message.fileNames.map((name) => `[file: ${cut(oneLine(name), 80)}]`).join(' ');
  return [text, files].filter((part) => part !== '').join(' ');
}

export function renderDigest(digest: Digest): RenderedMail {
  const total = digest.rooms.reduce((sum, room) => sum + room.unreadCount, 0) + digest.moreUnread;
  const chats = digest.rooms.length + digest.moreRooms;
  const [first] = digest.rooms;
  const subject =
    chats === 1 && first !== undefined
      ? `${plural(total, 'new message', 'new messages')} from ${cut(oneLine(first.peerName), SUBJECT_NAME_CHARACTERS)}`
      : `${plural(total, 'new message', 'new messages')} in ${chats} chats`;
  const more =
    digest.moreRooms > 0
      ? `…and ${plural(digest.moreUnread, 'unread message', 'unread messages')} in ${plural(digest.moreRooms, 'more chat', 'more chats')}.`
      : undefined;
  const footer =
    'You get this e-mail when messages wait for you while you are offline; you can turn it off in your notification settings.';

  const text = [
    'You have unread messages.',
    '',
    ...digest.rooms.flatMap((room) => [
      `${oneLine(room.peerName)} (${plural(room.unreadCount, 'unread message', 'unread messages')})`,
      ...room.messages.map((message) => `  ${oneLine(message.senderName)}: ${quote(message)}`),
      '',
    ]),
    ...(more === undefined ? [] : [more, '']),
    `Open the chat: ${digest.appUrl}`,
    '',
    footer,
    '',
  ].join('\n');

  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">',
    '<p>You have unread messages.</p>',
    ...digest.rooms.map((room) =>
      [
        `<h3>${escapeHtml(oneLine(room.peerName))} <small>(${plural(room.unreadCount, 'unread message', 'unread messages')})</small></h3>`,
        '<ul>',
        ...room.messages.map(
          (message) =>
            `<li><strong>${escapeHtml(oneLine(message.senderName))}</strong>: ${escapeHtml(quote(message))}</li>`,
        ),
        '</ul>',
      ].join(''),
    ),
    ...(more === undefined ? [] : [`<p>${escapeHtml(more)}</p>`]),
    `<p><a href="${escapeHtml(digest.appUrl)}">Open the chat</a></p>`,
    `<p style="color:#666;font-size:small">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject: oneLine(subject), text, html };
}
