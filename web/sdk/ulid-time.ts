/** Reading and making the time part of ULIDs (Crockford base32), for catch-up cursors. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulidTime(ulid: string): number {
  let time = 0;
  for (const char of ulid.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

/** The smallest ULID of a millisecond: `?after=` it returns every message from that time on. */
export function smallestUlidAt(ms: number): string {
  let rest = Math.max(0, Math.floor(ms));
  let time = '';
  for (let i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD.charAt(rest % 32) + time;
  return `${time}${'0'.repeat(16)}`;
}
