/**
 * Parses the `allowedOrigins` context value (`-c allowedOrigins=https://a.example,https://b.example`)
 * into CORS origins. Absent or empty: no origin, hence no CORS configuration. A value that is not a
 * bare origin (scheme, host, optional port; no path) fails the synth rather than the browser.
 * Origins are https: a page served over plain http can be altered on the way and then call the API
 * with its user's token. Plain http is accepted for the loopback host only, for a frontend in
 * development against a deployed stack.
 */
export function parseAllowedOrigins(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string') throw new Error('Context allowedOrigins must be a comma-separated string');
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new Error(
        `Context allowedOrigins: "${origin}" is not an origin such as https://chat.example.com`,
      );
    }
    const { protocol, hostname } = new URL(origin);
    const loopback = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
    if (protocol !== 'https:' && !(protocol === 'http:' && loopback)) {
      throw new Error(
        `Context allowedOrigins: "${origin}" must use https (plain http only for localhost, 127.0.0.1 or [::1])`,
      );
    }
  }
  return origins;
}
