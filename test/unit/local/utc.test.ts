import { describe, expect, it } from 'vitest';
import { parseAmzDate } from '../../../local/sigv4.js';
import { exactUtcDate } from '../../../local/utc.js';

describe('exactUtcDate', () => {
  it('gives the instant of fields that name one', () => {
    expect(exactUtcDate([2028, 2, 29, 23, 59, 59])?.toISOString()).toBe('2028-02-29T23:59:59.000Z');
    expect(exactUtcDate([2026, 11, 26])?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });

  it.each([
    ['31 April', [2026, 4, 31, 0, 0, 0]],
    ['29 February outside a leap year', [2026, 2, 29, 0, 0, 0]],
    ['month 13', [2026, 13, 1, 0, 0, 0]],
    ['day 0', [2026, 1, 0, 0, 0, 0]],
    ['hour 24', [2026, 11, 26, 24, 0, 0]],
    ['minute 60', [2026, 11, 26, 12, 60, 0]],
    ['second 60', [2026, 11, 26, 12, 0, 60]],
    ['a two-digit year (Date.UTC reads it as 19xx)', [26, 11, 26, 0, 0, 0]],
  ])('refuses %s, which Date.UTC would roll over', (_, fields) => {
    expect(exactUtcDate(fields)).toBeUndefined();
  });
});

describe('parseAmzDate', () => {
  it('reads SigV4 times, and refuses one whose fields roll over', () => {
    expect(parseAmzDate('20261126T120000Z')?.toISOString()).toBe('2026-11-26T12:00:00.000Z');
    expect(parseAmzDate('20261126T126100Z')).toBeUndefined();
    expect(parseAmzDate('20260431T000000Z')).toBeUndefined();
  });
});
