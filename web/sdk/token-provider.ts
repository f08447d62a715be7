/**
 * Keeps a Cognito session's ID token fresh for `ChatApi` and `ChatConnection`: hand them
 * `token: provider.getToken`. The token is refreshed (REFRESH_TOKEN_AUTH) before it expires: once
 * 80% of its lifetime has passed, or 5 minutes before its end if that comes first; parallel callers
 * share one refresh (single flight). A 401 asks for a refresh even before that (`forceRefresh`), once
 * per refused token. Expiry is reckoned on the local clock from Cognito's `ExpiresIn` (see
 * `storedTokens`), so a skewed browser clock changes nothing. A refresh that Cognito refuses (the
 * refresh token expired or was revoked, or the app client is gone) ends the session:
 * `onSignedOut` is called once and every later call throws `SessionEndedError`.
 *
 * The handlers verify ID tokens (lambdas/shared/auth.ts takes either kind; the ID token carries the
 * name and e-mail that make a new profile), so the ID token is what is sent.
 */
import { CognitoError, type CognitoTokens } from './cognito.js';
import type { TokenRequest } from './types.js';

/** What a session keeps (sessionStorage in the web client). Times are epoch milliseconds. */
export interface StoredTokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export class SessionEndedError extends Error {
  override readonly name = 'SessionEndedError';
}

export interface TokenProviderOptions {
  readonly tokens: StoredTokens;
  /** REFRESH_TOKEN_AUTH with the refresh token (e.g. `(t) => cognito.refresh(t)`). */
  readonly refresh: (refreshToken: string) => Promise<CognitoTokens>;
  /** New tokens, to keep them (sessionStorage). */
  readonly onTokens?: (tokens: StoredTokens) => void;
  /** The session ended: the refresh token no longer works. Called once. */
  readonly onSignedOut?: (reason: string) => void;
  /** Injected clock for tests; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Refresh on a timer when due, not only when a token is asked for: an idle tab's session stays
   * fresh, and a refresh token revoked elsewhere signs the tab out within the token's lifetime.
   * Default off (a script that only asks when it needs a token has no timer to clean up).
   */
  readonly autoRefresh?: boolean;
}

/**
 * After a refresh that failed for another reason than the refresh token (offline), try again this
 * soon; also the shortest wait the refresh timer ever arms, so that no token, however short-lived or
 * already due, can make the timer refresh in a loop.
 */
const RETRY_MS = 30_000;

/**
 * Cognito's answers to REFRESH_TOKEN_AUTH that no retry fixes, so they end the session: the refresh
 * token expired or was revoked (NotAuthorizedException), the app client is gone, e.g. after a
 * redeploy (ResourceNotFoundException), or the request itself is refused (InvalidParameterException).
 */
const SESSION_ENDING = new Set([
  'NotAuthorizedException',
  'ResourceNotFoundException',
  'InvalidParameterException',
]);

/** At most this long before expiry... */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** ...and at most this share of the lifetime before it (so a 5-minute token refreshes after 4). */
const REFRESH_SHARE = 0.2;

/**
 * Tokens as kept, their expiry on the local clock: receipt time plus Cognito's `ExpiresIn`. Never the
 * token's `exp` against the local clock: `exp` is on Cognito's clock, and a browser clock an hour fast
 * would make every new token look due (a refresh loop), one behind would keep sending expired ones.
 * A session restored from storage keeps the receipt-based expiry it was saved with.
 */
export function storedTokens(tokens: CognitoTokens, refreshToken: string, now: number): StoredTokens {
  return {
    idToken: tokens.idToken,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken ?? refreshToken,
    issuedAt: now,
    expiresAt: now + tokens.expiresIn * 1000,
  };
}

/** When a refresh is due: the earlier of 80% of the lifetime and 5 minutes before the end. */
export function refreshDueAt(tokens: StoredTokens): number {
  const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
  return tokens.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime * REFRESH_SHARE);
}

export class TokenProvider {
  private current: StoredTokens;
  private inFlight: Promise<string> | undefined;
  private ended: string | undefined;
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: TokenProviderOptions) {
    this.current = options.tokens;
    this.now = options.now ?? Date.now;
    this.schedule(refreshDueAt(this.current));
  }

  get tokens(): StoredTokens {
    return this.current;
  }

  /**
   * The ID token to send; refreshed first when due, or when `forceRefresh` (after a 401) unless the
   * refused token (`refusedToken`) is no longer the current one: a refresh since already replaced it.
   */
  readonly getToken = (request?: TokenRequest): Promise<string> => {
    if (this.ended !== undefined) return Promise.reject(new SessionEndedError(this.ended));
    const refusedCurrent =
      request?.forceRefresh === true &&
      (request.refusedToken === undefined || request.refusedToken === this.current.idToken);
    if (!refusedCurrent && this.now() < refreshDueAt(this.current)) {
      return Promise.resolve(this.current.idToken);
    }
    // Single flight: every caller while a refresh runs waits for that one.
    this.inFlight ??= this.refreshNow().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  };

  /** Ends the session here (sign-out): later calls throw, and no refresh starts. */
  end(reason = 'Signed out.'): void {
    this.ended ??= reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(at: number): void {
    if (this.options.autoRefresh !== true || this.ended !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        // A refusal ends the session (onSignedOut); anything else is tried again shortly.
        this.getToken().catch(() => this.schedule(this.now() + RETRY_MS));
      },
      Math.max(RETRY_MS, at - this.now()),
    );
  }

  private async refreshNow(): Promise<string> {
    const refreshToken = this.current.refreshToken;
    let fresh: CognitoTokens;
    try {
      fresh = await this.options.refresh(refreshToken);
    } catch (error) {
      if (error instanceof CognitoError && SESSION_ENDING.has(error.type)) {
        // The refresh token expired or was revoked (a sign-out elsewhere, a password reset), or the
        // app client it belongs to is gone: only a new sign-in helps.
        const reason = 'Your session has ended. Sign in again.';
        if (this.ended === undefined) {
          this.ended = reason;
          this.options.onSignedOut?.(reason);
        }
        throw new SessionEndedError(reason);
      }
      // Offline or Cognito unavailable: the current token still serves while it lasts.
      if (this.now() < this.current.expiresAt) {
        this.schedule(this.now() + RETRY_MS);
        return this.current.idToken;
      }
      throw error;
    }
    if (this.ended !== undefined) throw new SessionEndedError(this.ended);
    this.current = storedTokens(fresh, refreshToken, this.now());
    this.options.onTokens?.(this.current);
    this.schedule(refreshDueAt(this.current));
    return this.current.idToken;
  }
}
