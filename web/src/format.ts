/** Presentation helpers: times, names, avatars, icons. */
import { h } from './dom.js';
import { safeLink } from './files.js';
import { clockTime } from './timeline.js';

const sameDay = (a: Date, b: Date) => a.toDateString() === b.toDateString();

/** The chat list's time: the clock today, the weekday this week, the date before that. */
export function shortTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (sameDay(date, now)) return clockTime(iso);
  if (now.getTime() - date.getTime() < 6 * 24 * 3600_000)
    return date.toLocaleDateString([], { weekday: 'short' });
  return date.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function lastSeen(iso: string, now = new Date()): string {
  const day = sameDay(new Date(iso), now) ? '' : `${shortTime(iso, now)} `;
  return `last seen ${day}at ${clockTime(iso)}`;
}

/** Counted as the server counts: Unicode code points. */
export const codePoints = (text: string) => [...text].length;

/** The character counter shows from this share of the limit on: below it, it is only noise. */
const COUNTER_FROM = 0.9;

export interface ContentLimit {
  /** Code points of the text as it will be sent (trimmed, as the server counts it). */
  readonly length: number;
  /** The counter is worth showing. */
  readonly near: boolean;
  /** Why Send is off when the text is too long: "12 characters over the 4,000 limit". */
  readonly overNote: string | undefined;
}

/** Where the composer's text stands against the server's limit of `max` code points after trimming. */
export function contentLimit(text: string, max: number, locale?: string): ContentLimit {
  const length = codePoints(text.trim());
  const over = length - max;
  const number = (n: number) => n.toLocaleString(locale);
  return {
    length,
    near: length >= max * COUNTER_FROM,
    overNote:
      over > 0
        ? `${number(over)} ${over === 1 ? 'character' : 'characters'} over the ${number(max)} limit`
        : undefined,
  };
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : [words[0]];
  return letters.map((word) => [...(word ?? '')][0]?.toUpperCase() ?? '').join('') || '?';
}

function hue(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of text) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  return (hash >>> 0) % 360;
}

export interface AvatarSubject {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
}

/**
 * The profile picture, or the initials on a colour derived from the user id (also while the picture
 * loads, and when it cannot). Decorative: the name is next to it. An uploaded avatar's URL is the
 * storage's, which is plain http on the local stack.
 */
export function avatar(subject: AvatarSubject, extraClass = ''): HTMLSpanElement {
  const element = h(
    'span',
    {
      class: `avatar ${extraClass}`.trim(),
      style: `--avatar-hue: ${hue(subject.userId)}`,
      'aria-hidden': 'true',
    },
    initials(subject.displayName),
  );
  const url = subject.avatarUrl === null ? undefined : safeLink(subject.avatarUrl);
  if (url !== undefined) {
    const image = h('img', {
      src: url,
      alt: '',
      loading: 'lazy',
      referrerpolicy: 'no-referrer',
    });
    image.addEventListener('error', () => image.remove());
    element.append(image);
  }
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A paperclip drawn in the text colour; decorative (its button has a label). */
export function paperclipIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [name, value] of Object.entries({
    viewBox: '0 0 24 24',
    width: '20',
    height: '20',
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': '2',
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': 'true',
    focusable: 'false',
  }))
    svg.setAttribute(name, value);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute(
    'd',
    'M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48',
  );
  svg.append(path);
  return svg;
}
