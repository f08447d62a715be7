import { describe, expect, it } from 'vitest';
import {
  dayKey,
  dayLabel,
  fullTime,
  GROUP_WINDOW_MS,
  placeEntries,
  type TimelineEntry,
} from '../../../web/src/timeline.js';

const paris = { timeZone: 'Europe/Paris', locale: 'en-GB' };
// Thursday 26 November 2026, 00:30 in Paris (23:30 UTC the day before).
const justAfterMidnight = { ...paris, now: new Date('2026-11-25T23:30:00Z') };

describe('day labels', () => {
  it('says Today and Yesterday by the local calendar, not by 24-hour spans', () => {
    // 23:50 UTC on the 25th is 00:50 on the 26th in Paris: today there, though 20 minutes "ago" in UTC.
    expect(dayLabel('2026-11-25T23:10:00Z', justAfterMidnight)).toBe('Today');
    // 22:50 UTC on the 25th is 23:50 on the 25th in Paris: yesterday, only 40 minutes earlier.
    expect(dayLabel('2026-11-25T22:50:00Z', justAfterMidnight)).toBe('Yesterday');
    // 30 hours earlier, but still the calendar day before.
    expect(dayLabel('2026-11-24T23:10:00Z', justAfterMidnight)).toBe('Yesterday');
    expect(dayLabel('2026-11-24T22:50:00Z', justAfterMidnight)).toMatch(/^Tuesday,? 24 November$/);
  });

  it('depends on the time zone for the same instants', () => {
    const utc = { now: justAfterMidnight.now, timeZone: 'UTC', locale: 'en-GB' };
    // In UTC "now" is 23:30 on the 25th: both messages are today.
    expect(dayLabel('2026-11-25T22:50:00Z', utc)).toBe('Today');
    expect(dayLabel('2026-11-25T00:10:00Z', utc)).toBe('Today');
    expect(dayLabel('2026-11-24T23:59:00Z', utc)).toBe('Yesterday');
    const tokyo = { now: justAfterMidnight.now, timeZone: 'Asia/Tokyo', locale: 'en-GB' };
    // 08:30 on the 26th in Tokyo; 14:59 UTC on the 25th is 23:59 on the 25th there.
    expect(dayLabel('2026-11-25T14:59:00Z', tokyo)).toBe('Yesterday');
    expect(dayLabel('2026-11-25T15:00:00Z', tokyo)).toBe('Today');
  });

  it('counts yesterday across a daylight saving change (a 25-hour day)', () => {
    // Paris leaves summer time on Sunday 25 October 2026 at 03:00 local.
    const monday = { ...paris, now: new Date('2026-10-26T00:30:00+01:00') };
    expect(dayLabel('2026-10-25T00:10:00+02:00', monday)).toBe('Yesterday');
    expect(dayLabel('2026-10-24T23:50:00+02:00', monday)).toMatch(/^Saturday,? 24 October$/);
  });

  it('adds the year for another year, and speaks the locale', () => {
    expect(dayLabel('2025-12-31T12:00:00Z', justAfterMidnight)).toMatch(/^Wednesday,? 31 December 2025$/);
    expect(dayLabel('2026-01-05T12:00:00Z', justAfterMidnight)).toMatch(/^Monday,? 5 January$/);
    const french = { ...justAfterMidnight, locale: 'fr-FR' };
    expect(dayLabel('2026-11-25T23:10:00Z', french)).toBe('Aujourd’hui');
    expect(dayLabel('2026-11-25T22:50:00Z', french)).toBe('Hier');
    expect(dayLabel('2026-11-23T12:00:00Z', french)).toBe('lundi 23 novembre');
    const american = { ...justAfterMidnight, locale: 'en-US' };
    expect(dayLabel('2026-11-23T12:00:00Z', american)).toBe('Monday, November 23');
  });

  it('keys days by the local calendar date', () => {
    expect(dayKey('2026-11-25T23:10:00Z', 'Europe/Paris')).toBe('2026-11-26');
    expect(dayKey('2026-11-25T23:10:00Z', 'UTC')).toBe('2026-11-25');
    expect(dayKey('2026-11-25T23:10:00Z', 'America/Los_Angeles')).toBe('2026-11-25');
  });

  it('gives the full date and time for hover', () => {
    expect(fullTime('2026-11-23T13:05:00Z', paris)).toMatch(/Monday,? 23 November 2026.*14:05/);
  });
});

const at = (time: string) => `2026-11-25T${time}:00Z`;
const entry = (senderId: string, time: string | undefined): TimelineEntry => ({
  senderId,
  sentAt: time === undefined ? undefined : at(time),
});
const utcNow = { now: new Date(at('12:00')), timeZone: 'UTC' };
const summary = (entries: TimelineEntry[], clock = utcNow) =>
  placeEntries(entries, clock).map(
    ({ newDay, groupStart, groupEnd }) =>
      `${newDay ?? ''}${groupStart ? '[' : ''}${groupEnd ? ']' : ''}` || '-',
  );

describe('message groups', () => {
  it('groups one sender’s consecutive messages within the window; the last one ends the group', () => {
    expect(
      summary([
        entry('ann', '10:00'),
        entry('ann', '10:01'),
        entry('ann', '10:05'),
        entry('bob', '10:06'),
        entry('bob', '10:07'),
        entry('ann', '10:08'),
      ]),
    ).toEqual(['2026-11-25[', '-', ']', '[', ']', '[]']);
  });

  it('starts a new group after a pause longer than the window', () => {
    const minutes = GROUP_WINDOW_MS / 60_000;
    expect(summary([entry('ann', '10:00'), entry('ann', `10:0${minutes}`), entry('ann', '10:11')])).toEqual([
      '2026-11-25[',
      ']',
      '[]',
    ]);
  });

  it('never groups across midnight, and puts a day separator on the first of each day', () => {
    const entries = [
      { senderId: 'ann', sentAt: '2026-11-24T23:58:00Z' },
      { senderId: 'ann', sentAt: '2026-11-25T00:01:00Z' },
      { senderId: 'ann', sentAt: '2026-11-25T00:02:00Z' },
    ];
    expect(summary(entries)).toEqual(['2026-11-24[]', '2026-11-25[', ']']);
    // In Paris all three are on the 25th (00:58, 01:01, 01:02): one day, one group.
    expect(summary(entries, { now: utcNow.now, timeZone: 'Europe/Paris' })).toEqual([
      '2026-11-25[',
      '-',
      ']',
    ]);
  });

  it('counts a message being sent as sent now', () => {
    expect(summary([entry('ann', '11:57'), entry('ann', undefined)])).toEqual(['2026-11-25[', ']']);
    expect(summary([entry('ann', '11:50'), entry('ann', undefined)])).toEqual(['2026-11-25[]', '[]']);
  });

  it('places nothing for no messages', () => {
    expect(placeEntries([], utcNow)).toEqual([]);
  });
});
