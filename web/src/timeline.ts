/**
 * How a room's messages are laid out in time: which local day each belongs to, what a day's
 * separator says, and which consecutive messages form one group. No DOM here, so the unit tests run
 * it in Node with an injected "now", time zone and locale.
 */

export interface Clock {
  /** The moment "Today" and "Yesterday" are counted from. */
  readonly now: Date;
  /** An IANA zone such as "Europe/Paris"; undefined is the browser's own. */
  readonly timeZone?: string | undefined;
  /** A BCP 47 tag; undefined is the browser's own. */
  readonly locale?: string | undefined;
}

/** Messages of one sender this close together (and on the same day) share one time and tick. */
export const GROUP_WINDOW_MS = 5 * 60_000;

// Intl.DateTimeFormat is slow to construct and the list re-renders often: one per option set.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify([locale, options]);
  let made = formats.get(key);
  if (made === undefined) {
    made = new Intl.DateTimeFormat(locale, options);
    formats.set(key, made);
  }
  return made;
}

interface CalendarDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

function calendarDay(date: Date, timeZone: string | undefined): CalendarDay {
  // en-US with numeric parts: the parts are plain digits whatever the user's locale.
  const parts = format('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

const keyOf = ({ year, month, day }: CalendarDay) =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/** The local calendar day of `iso` in `timeZone`, as "YYYY-MM-DD": equal keys, same day. */
export const dayKey = (iso: string, timeZone?: string) => keyOf(calendarDay(new Date(iso), timeZone));

/** The day before `day`, counted on the calendar (a day with a DST change is 23 or 25 hours long). */
function dayBefore({ year, month, day }: CalendarDay): string {
  const noon = new Date(Date.UTC(year, month - 1, day - 1, 12));
  return keyOf({ year: noon.getUTCFullYear(), month: noon.getUTCMonth() + 1, day: noon.getUTCDate() });
}

function capitalized(text: string, locale: string | undefined): string {
  const first = text.codePointAt(0);
  if (first === undefined) return text;
  const head = String.fromCodePoint(first);
  return head.toLocaleUpperCase(locale) + text.slice(head.length);
}

/**
 * A day separator's words: "Today", "Yesterday", then "Monday, 23 November", with the year when it
 * is not this year, in the user's language and time zone.
 */
export function dayLabel(iso: string, clock: Clock): string {
  const { timeZone, locale } = clock;
  const date = new Date(iso);
  const day = calendarDay(date, timeZone);
  const today = calendarDay(clock.now, timeZone);
  const key = keyOf(day);
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (key === keyOf(today)) return capitalized(relative.format(0, 'day'), locale);
  if (key === dayBefore(today)) return capitalized(relative.format(-1, 'day'), locale);
  return format(locale, {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(day.year === today.year ? {} : { year: 'numeric' }),
  }).format(date);
}

/** A bubble's time: the clock only (the day is in the separator above it). */
export const clockTime = (iso: string, clock: Partial<Clock> = {}) =>
  format(clock.locale, { timeZone: clock.timeZone, hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );

/** The time on hover: the full date and time ("Monday, 23 November 2026 at 14:05"). */
export const fullTime = (iso: string, clock: Partial<Clock> = {}) =>
  format(clock.locale, { timeZone: clock.timeZone, dateStyle: 'full', timeStyle: 'short' }).format(
    new Date(iso),
  );

export interface TimelineEntry {
  readonly senderId: string;
  /** When the server stored it; undefined while it is being sent (it counts as now). */
  readonly sentAt: string | undefined;
}

export interface Placement {
  /** The day key when this entry is the first of its day: a separator goes above it. */
  readonly newDay: string | undefined;
  /** The first of its group: the full top margin. */
  readonly groupStart: boolean;
  /** The last of its group: it shows the group's time and tick. */
  readonly groupEnd: boolean;
}

/**
 * Day separators and sender groups for `entries` in display order. A group is consecutive messages
 * of one sender, each within GROUP_WINDOW_MS of the one before, on one day. Messages being sent
 * have no server time yet: they count as sent now.
 */
export function placeEntries(
  entries: readonly TimelineEntry[],
  clock: Pick<Clock, 'now' | 'timeZone'>,
): Placement[] {
  const nowIso = clock.now.toISOString();
  const times = entries.map((entry) => entry.sentAt ?? nowIso);
  const days = times.map((time) => dayKey(time, clock.timeZone));
  const joinsPrevious = entries.map((entry, index) => {
    const previous = entries[index - 1];
    if (previous === undefined || previous.senderId !== entry.senderId) return false;
    if (days[index] !== days[index - 1]) return false;
    const gap = Date.parse(times[index] ?? nowIso) - Date.parse(times[index - 1] ?? nowIso);
    // A failed message can sit before an older stored one: a negative gap is still "close".
    return Math.abs(gap) <= GROUP_WINDOW_MS;
  });
  return entries.map((_, index) => ({
    newDay: index === 0 || days[index] !== days[index - 1] ? days[index] : undefined,
    groupStart: !joinsPrevious[index],
    groupEnd: !(joinsPrevious[index + 1] ?? false),
  }));
}
