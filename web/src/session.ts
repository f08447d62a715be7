/**
 * Where the API is and who is signed in: `config.json` from the host, the session in sessionStorage.
 *
 * sessionStorage, not localStorage, for the refresh token too: two tabs may be two different users,
 * and a refresh token (30 days) left in localStorage would outlive the tab for any script on the
 * origin to read. The price: a new tab signs in again.
 */
import {
  CognitoClient,
  jwtClaims,
  type StoredTokens,
  TokenProvider,
  type TokenSource,
} from '../sdk/index.js';

export interface Config {
  readonly restUrl?: string;
  readonly wsUrl?: string;
  /** The user pool (the stack's outputs `Region`, `UserPoolId`, `UserPoolClientId`). */
  readonly region?: string;
  readonly userPoolId?: string;
  readonly userPoolClientId?: string;
  /** Only on the local stack: its Cognito emulator (on AWS the endpoint follows from the region). */
  readonly cognitoEndpoint?: string;
  /** Only on the local stack: the developer sign-in (`POST /dev/token`). */
  readonly signInUrl?: string;
  /** Only on the local stack: the mailbox page where Cognito's codes land. */
  readonly mailUrl?: string;
}

/** The user pool's app client, as the sign-in talks to it. */
export interface CognitoSettings {
  readonly region: string;
  readonly clientId: string;
  readonly endpoint?: string;
}

export interface Session {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly userId: string;
  /** A fixed token: the local stack's developer sign-in. */
  readonly token?: string;
  /** A Cognito session, refreshed as it goes. */
  readonly cognito?: CognitoSettings & { readonly tokens: StoredTokens };
}

const KEY = 'chat.session';

/** The host's config.json; undefined when it could not be read (a network error, a 5xx, a deploy under way). */
export async function loadConfig(): Promise<Config | undefined> {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Config) : undefined;
  } catch {
    return undefined;
  }
}

/** The app client from the config, if it names one. */
export function cognitoSettings(config: Config): CognitoSettings | undefined {
  if (config.region === undefined || config.userPoolClientId === undefined) return undefined;
  return {
    region: config.region,
    clientId: config.userPoolClientId,
    ...(config.cognitoEndpoint === undefined ? {} : { endpoint: config.cognitoEndpoint }),
  };
}

export const cognitoClient = (settings: CognitoSettings) =>
  new CognitoClient({
    region: settings.region,
    clientId: settings.clientId,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
  });

const isExpired = (claims: Readonly<Record<string, unknown>>) =>
  typeof claims.exp === 'number' && claims.exp * 1000 < Date.now();

/** A session for a fixed `token`, or an error message saying why the token cannot be used. */
export function sessionFor(restUrl: string, wsUrl: string, token: string): Session | string {
  const claims = jwtClaims(token.trim());
  if (claims === undefined || typeof claims.sub !== 'string') return 'That is not a JWT with a sub claim.';
  if (isExpired(claims)) return 'That token has expired.';
  return { restUrl: restUrl.trim(), wsUrl: wsUrl.trim(), token: token.trim(), userId: claims.sub };
}

/** A session for what a Cognito sign-in gave. */
export function cognitoSession(
  config: Config,
  settings: CognitoSettings,
  tokens: StoredTokens,
): Session | string {
  const claims = jwtClaims(tokens.idToken);
  if (claims === undefined || typeof claims.sub !== 'string') return 'The sign-in gave an unreadable token.';
  if (config.restUrl === undefined || config.wsUrl === undefined)
    return 'config.json does not say where the chat API is (restUrl, wsUrl).';
  return {
    restUrl: config.restUrl,
    wsUrl: config.wsUrl,
    userId: claims.sub,
    cognito: { ...settings, tokens },
  };
}

/**
 * Whether a saved Cognito session belongs to the app client `config.json` names now: its refresh
 * token only works with the client that issued it, so after a redeploy (a new client id) or another
 * endpoint the saved session is dropped and the user signs in again, rather than sending refreshes
 * to a client that is gone.
 */
export function sameCognito(saved: CognitoSettings, config: Config): boolean {
  const current = cognitoSettings(config);
  return (
    current !== undefined &&
    current.clientId === saved.clientId &&
    current.region === saved.region &&
    current.endpoint === saved.endpoint
  );
}

/**
 * The session this tab saved, if it can still be used with `config` (the current config.json). When
 * config.json could not be read (`undefined`), a saved session is resumed as saved: one failed fetch
 * must not throw away a 30-day refresh token.
 */
export function savedSession(
  config: Config | undefined,
  storage: Pick<Storage, 'getItem'> = sessionStorage,
): Session | undefined {
  try {
    const session = JSON.parse(storage.getItem(KEY) ?? 'null') as Session | null;
    if (session === null) return undefined;
    // A Cognito session lives as long as its refresh token: an expired ID token is refreshed.
    if (session.cognito !== undefined)
      return session.cognito.tokens.refreshToken &&
        (config === undefined || sameCognito(session.cognito, config))
        ? session
        : undefined;
    const claims = session.token === undefined ? undefined : jwtClaims(session.token);
    return claims !== undefined && !isExpired(claims) ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(session));
}

/** The token a session's `ChatApi` and `ChatConnection` use, and how it ends. */
export interface SessionAuth {
  readonly token: TokenSource;
  /** Sign-out: no more tokens; a Cognito session's refresh token is revoked (best effort). */
  signOut(): Promise<void>;
  /** The chat closed for another reason (an expired session): no more tokens and no refresh timer. */
  end(): void;
}

/**
 * A developer session's token is fixed; a Cognito session's comes from a `TokenProvider`, which
 * refreshes it before it expires, keeps each new one in sessionStorage, and calls `onEnded` when the
 * refresh token stops working.
 */
export function sessionAuth(session: Session, onEnded: (reason: string) => void): SessionAuth {
  const { cognito } = session;
  if (cognito === undefined) {
    return { token: session.token ?? '', signOut: async () => {}, end: () => {} };
  }
  const client = cognitoClient(cognito);
  const provider = new TokenProvider({
    tokens: cognito.tokens,
    refresh: (refreshToken) => client.refresh(refreshToken),
    onTokens: (tokens) => saveSession({ ...session, cognito: { ...cognito, tokens } }),
    onSignedOut: onEnded,
    // The tab's session stays fresh while idle, and ends promptly if the refresh token is revoked.
    autoRefresh: true,
  });
  return {
    token: provider.getToken,
    end: () => provider.end(),
    async signOut() {
      provider.end();
      try {
        await client.revokeToken(provider.tokens.refreshToken);
      } catch (error) {
        // Offline or already revoked: the tab forgets the tokens anyway.
        console.warn('Token revocation failed', error);
      }
    },
  };
}
