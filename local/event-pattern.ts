/**
 * Event pattern matching, for Lambda's FilterCriteria on the stream mappings and EventBridge rules:
 * a pattern is an object whose leaves are arrays of allowed values; an event matches when every field
 * the pattern names matches (an array field in the event matches when any element does), and a
 * filter list matches when any of its patterns does. Only what the chat's patterns use is supported:
 * exact values, `prefix`, `exists` and `anything-but` on strings; anything else is refused when the
 * pattern is checked (at start), never silently matched. Source: "Amazon EventBridge event patterns"
 * and Lambda's "Control which events Lambda sends to your function" (the same syntax).
 */

type Pattern = Readonly<Record<string, unknown>>;

export function checkPattern(pattern: Pattern, path = ''): void {
  for (const [key, value] of Object.entries(pattern)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (Array.isArray(value)) {
      for (const allowed of value) {
        if (allowed === null || ['string', 'number', 'boolean'].includes(typeof allowed)) continue;
        const operator = typeof allowed === 'object' ? Object.keys(allowed as object) : [];
        if (operator.length !== 1 || !['prefix', 'exists', 'anything-but'].includes(operator[0] as string)) {
          throw new Error(`Unsupported filter operator at ${at}: ${JSON.stringify(allowed)}`);
        }
      }
    } else if (typeof value === 'object' && value !== null) {
      checkPattern(value as Pattern, at);
    } else {
      throw new Error(`A pattern's leaves must be arrays (at ${at})`);
    }
  }
}

function leafMatches(allowed: unknown, present: boolean, value: unknown): boolean {
  if (typeof allowed === 'object' && allowed !== null) {
    const [operator, argument] = Object.entries(allowed)[0] ?? [];
    if (operator === 'exists') return argument === present;
    if (!present) return false;
    if (operator === 'prefix') return typeof value === 'string' && value.startsWith(String(argument));
    if (operator === 'anything-but') {
      const excluded = Array.isArray(argument) ? argument : [argument];
      return !excluded.includes(value);
    }
    return false;
  }
  return present && allowed === value;
}

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const present = Object.hasOwn(record, key);
    const value = record[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(value) ? value : [value];
      return expected.some((allowed) =>
        Array.isArray(value) && present
          ? values.some((one) => leafMatches(allowed, true, one))
          : leafMatches(allowed, present, value),
      );
    }
    if (!present || typeof value !== 'object' || value === null) return false;
    return matchesPattern(expected as Pattern, value);
  });
}

export function matchesAny(patterns: readonly Pattern[], event: unknown): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, event));
}
