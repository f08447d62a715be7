/**
 * The UTC instant that `[year, month, day, hour, minute, second]` name, or undefined when they name
 * none: a 31 April, a 29 February outside a leap year, an hour 24 or a minute 60, which Date.UTC would
 * quietly roll over into the next field. AWS refuses such dates (a Scheduler `at()`, an `X-Amz-Date`).
 */
export function exactUtcDate(fields: readonly number[]): Date | undefined {
  const [year = Number.NaN, month = Number.NaN, day = Number.NaN, hour = 0, minute = 0, second = 0] = fields;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return exact ? date : undefined;
}
