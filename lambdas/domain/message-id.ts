/**
 * Monotonic ULIDs (https://github.com/ulid/spec): 48-bit time then 80 random bits, Crockford base32.
 * Within one millisecond (or if the clock steps back) the random part is incremented, so ids from
 * one writer are strictly increasing. Written here rather than taken from the `ulid` package, which
 * would be 2.4 KB of every send bundle for these few lines (the tests check both agree).
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;
const MAX_TIME = 2 ** 48 - 1;

export type RandomBytes = (length: number) => Uint8Array;

const cryptoRandom: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

function encodeTime(time: number): string {
  if (!Number.isInteger(time) || time < 0 || time > MAX_TIME)
    throw new RangeError(`Cannot encode time ${time}`);
  let out = '';
  for (let rest = time, i = 0; i < TIME_LENGTH; i++, rest = Math.floor(rest / 32)) {
    out = ALPHABET.charAt(rest % 32) + out;
  }
  return out;
}

/** Adds one to a base32 digit string; the 80-bit space cannot overflow in practice, but says so. */
function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    const digit = next[i] ?? 0;
    if (digit < 31) {
      next[i] = digit + 1;
      return next;
    }
    next[i] = 0;
  }
  throw new RangeError('ULID random part overflowed within one millisecond');
}

export function monotonicUlidFactory(randomBytes: RandomBytes = cryptoRandom): (time: number) => string {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return (time) => {
    if (time <= lastTime) {
      lastRandom = increment(lastRandom);
    } else {
      lastTime = time;
      lastRandom = [...randomBytes(RANDOM_LENGTH)].map((byte) => byte % 32);
    }
    return encodeTime(lastTime) + lastRandom.map((digit) => ALPHABET.charAt(digit)).join('');
  };
}

/** The millisecond time in a ULID's first 10 characters: the inverse of the time part above. */
export function ulidTime(ulid: string): number {
  let time = 0;
  for (const char of ulid.slice(0, TIME_LENGTH)) time = time * 32 + ALPHABET.indexOf(char);
  return time;
}
