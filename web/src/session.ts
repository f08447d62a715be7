/** Where the API is and who is signed in: `config.json` from the host, the session in sessionStorage. */

export interface Config {
  readonly restUrl?: string;
  readonly wsUrl?: string;
  /** Only on the local stack. */
  readonly signInUrl?: string;
}

export interface Session {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly token: string;
  readonly userId: string;
}

// sessionStorage, not localStorage: two tabs may be two different users.
const KEY = 'chat.session';

export async function loadConfig(): Promise<Config> {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Config) : {};
  } catch {
    return {};
  }
}

interface Claims {
  readonly sub?: unknown;
  readonly exp?: unknown;
}

/** The JWT's claims, unverified: the server verifies; the client only needs to know who it is. */
export function claimsOf(token: string): Claims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Claims;
  } catch {
    return undefined;
  }
}

const isExpired = (claims: Claims) => typeof claims.exp === 'number' && claims.exp * 1000 < Date.now();

/** A session for `token`, or an error message saying why the token cannot be used. */
export function sessionFor(restUrl: string, wsUrl: string, token: string): Session | string {
  const claims = claimsOf(token.trim());
  if (claims === undefined || typeof claims.sub !== 'string') return 'That is not a JWT with a sub claim.';
  if (isExpired(claims)) return 'That token has expired.';
  return { restUrl: restUrl.trim(), wsUrl: wsUrl.trim(), token: token.trim(), userId: claims.sub };
}

export function savedSession(): Session | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    const claims = session === null ? undefined : claimsOf(session.token);
    return session !== null && claims !== undefined && !isExpired(claims) ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(session));
}
