/**
 * Event pattern matching, for Lambda's FilterCriteria on the stream mappings and EventBridge rules:
 * a pattern is an object whose leaves are arrays of allowed values; an event matches when every field
 * the pattern names matches (an array field in the event matches when any element does), and a
 * filter list matches when any of its patterns does. Only what the chat's patterns use is supported:
 * exact strings, booleans and null, `prefix`, `exists` and `anything-but` on strings; anything else
 * is refused when the pattern is checked (at start), never silently matched. Source: "Amazon EventBridge event patterns"
 * and Lambda's "Control which events Lambda sends to your function" (the same syntax).
 */

type Pattern = Readonly<Record<string, unknown>>;

const unsupported = (at: string, rule: unknown, why: string) =>
  new Error(`Unsupported filter rule at ${at}: ${JSON.stringify(rule)} (${why})`);

/**
 * Refuses, at start, any rule the matcher below would not evaluate as AWS does, so that nothing is
 * silently matched differently: operators other than `prefix`, `exists`, `anything-but`; an operator
 * whose argument is not the simple form (`{"prefix": {"equals-ignore-case": …}}`,
 * `{"anything-but": {"prefix": …}}`); numbers, which AWS compares by their text ("300, 300.0 and
 * 3.0e2 are not considered equal") where JSON.parse has already made them one value; and an empty
 * list of allowed values.
 */
export function checkPattern(pattern: Pattern, path = ''): void {
  for (const [key, value] of Object.entries(pattern)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (Array.isArray(value)) {
      if (value.length === 0) throw unsupported(at, value, 'an empty list matches nothing');
      for (const allowed of value) checkRule(allowed, at);
    } else if (typeof value === 'object' && value !== null) {
      checkPattern(value as Pattern, at);
    } else {
      throw new Error(`A pattern's leaves must be arrays (at ${at})`);
    }
  }
}

function checkRule(rule: unknown, at: string): void {
  if (rule === null || typeof rule === 'string' || typeof rule === 'boolean') return;
  if (typeof rule === 'number') throw unsupported(at, rule, 'numbers are matched by their text on AWS');
  const entries = typeof rule === 'object' ? Object.entries(rule as object) : [];
  const [operator, argument] = entries[0] ?? [];
  if (entries.length !== 1) throw unsupported(at, rule, 'one operator per rule');
  if (operator === 'prefix' && typeof argument === 'string') return;
  if (operator === 'exists' && typeof argument === 'boolean') return;
  if (operator === 'anything-but') {
    const excluded = Array.isArray(argument) ? argument : [argument];
    if (excluded.length > 0 && excluded.every((one) => typeof one === 'string')) return;
  }
  throw unsupported(at, rule, 'not emulated');
}

/**
 * A leaf is a value that is not an object: AWS matches (and `exists` looks for) leaves only; an
 * object in the event where the pattern expects a leaf matches no rule ("exists matching only works
 * on leaf nodes. It does not work on intermediate nodes").
 */
const isLeaf = (value: unknown) => typeof value !== 'object' || value === null;

function leafMatches(rule: unknown, present: boolean, value: unknown): boolean {
  if (typeof rule === 'object' && rule !== null) {
    const [operator, argument] = Object.entries(rule)[0] ?? [];
    if (operator === 'exists') return argument === present;
    if (!present) return false;
    if (operator === 'prefix') return typeof value === 'string' && value.startsWith(String(argument));
    if (operator === 'anything-but') {
      const excluded = Array.isArray(argument) ? argument : [argument];
      return !excluded.includes(value);
    }
    return false;
  }
  return present && rule === value;
}

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const value = record[key];
    if (Array.isArray(expected)) {
      // An array in the event matches when any of its elements does; an intermediate node (an
      // object, or an array of them) is no leaf: neither present nor absent, it matches no rule.
      const values = Array.isArray(value) ? value : [value];
      if (Object.hasOwn(record, key) && !values.every(isLeaf)) return false;
      const present = Object.hasOwn(record, key) && (!Array.isArray(value) || value.length > 0);
      return expected.some((rule) =>
        present ? values.some((one) => leafMatches(rule, true, one)) : leafMatches(rule, false, undefined),
      );
    }
    if (!Object.hasOwn(record, key) || typeof value !== 'object' || value === null || Array.isArray(value))
      return false;
    return matchesPattern(expected as Pattern, value);
  });
}

export function matchesAny(patterns: readonly Pattern[], event: unknown): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, event));
}
