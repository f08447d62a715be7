/**
 * How an HTTP API matches a request path to a route's path template ("Create routes for HTTP APIs in
 * API Gateway"): literal segments match exactly, `{name}` matches one non-empty segment, and a greedy
 * `{name+}`, which must end the template, matches all the rest (one segment or more). Nothing else
 * is tolerated: no optional trailing slash, no case folding, no empty segment.
 *
 * Plain logic shared by the local gateway emulator and the trailing-slash function.
 */

/** The raw (still percent-encoded) value of each path variable, or undefined when the path does not match. */
export function matchPathTemplate(template: string, path: string): Record<string, string> | undefined {
  const patterns = template.split('/');
  const segments = path.split('/');
  const values: Record<string, string> = {};
  for (const [index, pattern] of patterns.entries()) {
    const greedy = /^\{(\w+)\+\}$/.exec(pattern);
    if (greedy?.[1] !== undefined) {
      if (index !== patterns.length - 1) return undefined;
      const rest = segments.slice(index).join('/');
      if (rest === '' || index >= segments.length) return undefined;
      values[greedy[1]] = rest;
      return values;
    }
    const segment = segments[index];
    if (segment === undefined) return undefined;
    const variable = /^\{(\w+)\}$/.exec(pattern);
    if (variable?.[1] !== undefined) {
      if (segment === '') return undefined;
      values[variable[1]] = segment;
    } else if (segment !== pattern) {
      return undefined;
    }
  }
  return segments.length === patterns.length ? values : undefined;
}

/**
 * Orders two templates that both match a path, most specific first: a template without a greedy
 * variable before one with it, then, segment by segment, a literal before a `{variable}` before a
 * greedy variable (so `/pets/dog/1` beats `/pets/dog/{id}`, which beats `/pets/{proxy+}`, which beats
 * `/{proxy+}`).
 */
export function compareSpecificity(a: string, b: string): number {
  const greedyA = a.includes('+}') ? 1 : 0;
  const greedyB = b.includes('+}') ? 1 : 0;
  if (greedyA !== greedyB) return greedyA - greedyB;
  const kind = (segment: string | undefined) =>
    segment === undefined ? 3 : /^\{\w+\+\}$/.test(segment) ? 2 : /^\{\w+\}$/.test(segment) ? 1 : 0;
  const segmentsA = a.split('/');
  const segmentsB = b.split('/');
  for (let index = 0; index < Math.max(segmentsA.length, segmentsB.length); index++) {
    const difference = kind(segmentsA[index]) - kind(segmentsB[index]);
    if (difference !== 0) return difference;
  }
  return 0;
}
