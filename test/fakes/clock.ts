/** Deterministic time and ids for tests. */
import { encodeTime } from 'ulid';
import type { Clock, IdGenerator } from '../../lambdas/domain/ports.js';

export const T0 = '2026-11-24T10:00:00.000Z';

/** A clock that stands still until told to move. */
export class FixedClock implements Clock {
  private current: number;

  constructor(iso: string = T0) {
    this.current = Date.parse(iso);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(iso: string): void {
    this.current = Date.parse(iso);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  nowSeconds(): number {
    return Math.floor(this.current / 1000);
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(value: number, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = (CROCKFORD[rest % 32] ?? '0') + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * Valid ULIDs (time part from `now`, a counter as the random part), strictly increasing as long as
 * the clock does not go back: the first call gives ...0001, the next ...0002.
 */
export function sequentialUlids(): IdGenerator {
  let counter = 0;
  return (now) => encodeTime(now.getTime(), 10) + base32(++counter, 16);
}

/** A ULID for a given time and sequence number, e.g. to name a message that was never stored. */
export const ulidAt = (iso: string, sequence: number): string =>
  encodeTime(Date.parse(iso), 10) + base32(sequence, 16);
