import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type CognitoTokens,
  cognitoError,
  refreshDueAt,
  SessionEndedError,
  type StoredTokens,
  storedTokens,
  TokenProvider,
} from '../../../web/sdk/index.js';

const jwt = (claims: Record<string, unknown>) =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

const HOUR = 3600_000;
const T0 = 1_800_000_000_000;

function tokens(issuedAt: number, lifetimeMs: number, n = 0): StoredTokens {
  return {
    idToken: jwt({ n, exp: (issuedAt + lifetimeMs) / 1000 }),
    accessToken: `access-${n}`,
    refreshToken: 'refresh',
    issuedAt,
    expiresAt: issuedAt + lifetimeMs,
  };
}

/** A Cognito refresh answer issued at `at`, lasting `lifetimeMs`. */
const answer = (at: number, lifetimeMs: number, n: number): CognitoTokens => ({
  idToken: jwt({ n, exp: (at + lifetimeMs) / 1000 }),
  accessToken: `access-${n}`,
  expiresIn: lifetimeMs / 1000,
});

describe('refreshDueAt', () => {
  it('is 5 minutes before the end of an hour, and at 80% of a short lifetime', () => {
    expect(refreshDueAt(tokens(T0, HOUR))).toBe(T0 + HOUR - 5 * 60_000);
    expect(refreshDueAt(tokens(T0, 60_000))).toBe(T0 + 48_000);
  });
});

describe('storedTokens', () => {
  it('reckons the expiry on the local clock from ExpiresIn, whatever the token’s exp says', () => {
    // Cognito's clock says the token ends at T0 + 1 h; this browser's clock is 2 hours ahead.
    const local = T0 + 2 * HOUR;
    const kept = storedTokens(answer(T0, HOUR, 1), 'refresh', local);
    expect(kept).toMatchObject({ issuedAt: local, expiresAt: local + HOUR, refreshToken: 'refresh' });
    expect(refreshDueAt(kept)).toBe(local + HOUR - 5 * 60_000);
  });
});

describe('TokenProvider', () => {
  it('gives the current token until the refresh is due, then refreshes once and keeps the new tokens', async () => {
    let now = T0;
    const refresh = vi.fn(async () => answer(now, HOUR, 1));
    const onTokens = vi.fn();
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onTokens, now: () => now });

    now = T0 + HOUR - 5 * 60_000 - 1;
    expect(await provider.getToken()).toBe(tokens(T0, HOUR).idToken);
    expect(refresh).not.toHaveBeenCalled();

    now = T0 + HOUR - 5 * 60_000;
    const fresh = await provider.getToken();
    expect(fresh).toBe(answer(now, HOUR, 1).idToken);
    expect(refresh).toHaveBeenCalledWith('refresh');
    expect(onTokens).toHaveBeenCalledWith(
      expect.objectContaining({
        idToken: fresh,
        refreshToken: 'refresh',
        issuedAt: now,
        expiresAt: now + HOUR,
      }),
    );
    // The new token is good for its own lifetime: no second refresh.
    expect(await provider.getToken()).toBe(fresh);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('shares one refresh between parallel callers', async () => {
    let now = T0;
    let release: (value: CognitoTokens) => void = () => {};
    const refresh = vi.fn(
      () =>
        new Promise<CognitoTokens>((resolve) => {
          release = resolve;
        }),
    );
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, now: () => now });
    now = T0 + HOUR;

    const waiting = [provider.getToken(), provider.getToken(), provider.getToken({ forceRefresh: true })];
    await Promise.resolve();
    expect(refresh).toHaveBeenCalledTimes(1);
    release(answer(now, HOUR, 2));
    const results = await Promise.all(waiting);
    expect(new Set(results)).toEqual(new Set([answer(now, HOUR, 2).idToken]));
  });

  it('refreshes on forceRefresh (a 401) even before the refresh is due', async () => {
    const now = T0 + 1000;
    const refresh = vi.fn(async () => answer(now, HOUR, 3));
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, now: () => now });
    expect(await provider.getToken({ forceRefresh: true })).toBe(answer(now, HOUR, 3).idToken);
  });

  it('ends the session once when Cognito refuses the refresh token', async () => {
    const now = T0 + HOUR;
    const onSignedOut = vi.fn();
    const refresh = vi.fn(async () => {
      throw cognitoError('NotAuthorizedException', 'Refresh Token has been revoked');
    });
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onSignedOut, now: () => now });

    const results = await Promise.allSettled([provider.getToken(), provider.getToken()]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(SessionEndedError);
    await expect(provider.getToken()).rejects.toBeInstanceOf(SessionEndedError);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledWith('Your session has ended. Sign in again.');
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('refreshes a refused token once: a later refusal of the same token gets the new one', async () => {
    let n = 0;
    const now = T0 + 1000;
    const refresh = vi.fn(async () => answer(now, HOUR, ++n));
    const first = tokens(T0, HOUR);
    const provider = new TokenProvider({ tokens: first, refresh, now: () => now });

    const fresh = await provider.getToken({ forceRefresh: true, refusedToken: first.idToken });
    expect(fresh).toBe(answer(now, HOUR, 1).idToken);
    // Another request sent with the old token was refused after that refresh: no second refresh.
    expect(await provider.getToken({ forceRefresh: true, refusedToken: first.idToken })).toBe(fresh);
    expect(refresh).toHaveBeenCalledTimes(1);
    // The new token refused too: that one is refreshed.
    expect(await provider.getToken({ forceRefresh: true, refusedToken: fresh })).toBe(
      answer(now, HOUR, 2).idToken,
    );
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it.each(['ResourceNotFoundException', 'InvalidParameterException'])(
    'ends the session when Cognito answers the refresh with %s (no retry fixes it)',
    async (type) => {
      const now = T0 + HOUR;
      const onSignedOut = vi.fn();
      const refresh = vi.fn(async () => {
        throw cognitoError(type, 'User pool client 1abc does not exist.');
      });
      const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onSignedOut, now: () => now });

      await expect(provider.getToken()).rejects.toBeInstanceOf(SessionEndedError);
      await expect(provider.getToken()).rejects.toBeInstanceOf(SessionEndedError);
      expect(onSignedOut).toHaveBeenCalledTimes(1);
      expect(onSignedOut).toHaveBeenCalledWith('Your session has ended. Sign in again.');
      expect(refresh).toHaveBeenCalledTimes(1);
    },
  );

  it('keeps the current token through a network failure while it lasts, and fails after', async () => {
    let now = T0 + HOUR - 60_000;
    const onSignedOut = vi.fn();
    const refresh = vi.fn(async () => {
      throw cognitoError('NetworkError', 'Failed to fetch');
    });
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onSignedOut, now: () => now });
    expect(await provider.getToken()).toBe(tokens(T0, HOUR).idToken);
    now = T0 + HOUR;
    await expect(provider.getToken()).rejects.toMatchObject({ type: 'NetworkError' });
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it('gives no token after end() (sign-out)', async () => {
    const refresh = vi.fn(async () => answer(T0, HOUR, 4));
    const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, now: () => T0 });
    provider.end();
    await expect(provider.getToken()).rejects.toBeInstanceOf(SessionEndedError);
    expect(refresh).not.toHaveBeenCalled();
  });

  describe('with autoRefresh', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: T0 });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('refreshes on a timer when due, with no caller asking, and again for the new token', async () => {
      let n = 0;
      const refresh = vi.fn(async () => answer(Date.now(), HOUR, ++n));
      const onTokens = vi.fn();
      const provider = new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onTokens, autoRefresh: true });

      await vi.advanceTimersByTimeAsync(HOUR - 5 * 60_000 - 1);
      expect(refresh).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(onTokens).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(HOUR - 5 * 60_000);
      expect(refresh).toHaveBeenCalledTimes(2);
      expect(await provider.getToken()).toBe(
        ((await refresh.mock.results[1]?.value) as CognitoTokens | undefined)?.idToken,
      );
      provider.end();
      await vi.advanceTimersByTimeAsync(2 * HOUR);
      expect(refresh).toHaveBeenCalledTimes(2);
    });

    it('signs out an idle tab once its refresh token is refused, and tries again after a network failure', async () => {
      let offline = true;
      const onSignedOut = vi.fn();
      const refresh = vi.fn(async () => {
        throw offline
          ? cognitoError('NetworkError', 'Failed to fetch')
          : cognitoError('NotAuthorizedException', 'Refresh Token has been revoked');
      });
      new TokenProvider({ tokens: tokens(T0, HOUR), refresh, onSignedOut, autoRefresh: true });

      await vi.advanceTimersByTimeAsync(HOUR - 5 * 60_000);
      expect(refresh).toHaveBeenCalledTimes(1);
      expect(onSignedOut).not.toHaveBeenCalled();
      offline = false;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(refresh).toHaveBeenCalledTimes(2);
      expect(onSignedOut).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(HOUR);
      expect(refresh).toHaveBeenCalledTimes(2);
    });

    it.each([
      ['2 hours ahead of', 2 * HOUR],
      ['2 hours behind', -2 * HOUR],
    ])(
      'with the browser clock %s Cognito’s, refreshes once per token, before Cognito’s expiry',
      async (_, skew) => {
        // The browser's clock (Date.now, the fake timers) is `skew` off Cognito's, which sets `exp`.
        vi.setSystemTime(T0 + skew);
        const cognitoNow = () => Date.now() - skew;
        let n = 0;
        let cognitoExpiry = cognitoNow() + HOUR;
        /** At each refresh, how long (Cognito's clock) the token being replaced had left. */
        const marginsMs: number[] = [];
        const refresh = vi.fn(async () => {
          marginsMs.push(cognitoExpiry - cognitoNow());
          cognitoExpiry = cognitoNow() + HOUR;
          return answer(cognitoNow(), HOUR, ++n);
        });
        const provider = new TokenProvider({
          tokens: storedTokens({ ...answer(cognitoNow(), HOUR, 0), refreshToken: 'refresh' }, '', Date.now()),
          refresh,
          autoRefresh: true,
        });

        await vi.advanceTimersByTimeAsync(3 * HOUR);
        // Due 5 minutes before each hour-long token ends: at 55, 110 and 165 minutes.
        expect(refresh).toHaveBeenCalledTimes(3);
        expect(marginsMs).toEqual([5 * 60_000, 5 * 60_000, 5 * 60_000]);
        // The token handed out is one Cognito still takes.
        const last = (await refresh.mock.results[2]?.value) as CognitoTokens | undefined;
        expect(await provider.getToken()).toBe(last?.idToken);
        expect(cognitoNow()).toBeLessThan(cognitoExpiry);
        provider.end();
      },
    );

    it('never refreshes on the timer more often than every 30 s, however short the token’s lifetime', async () => {
      let n = 0;
      // A token that lasts one second: due at 0.8 s, every time.
      const refresh = vi.fn(async () => answer(Date.now(), 1000, ++n));
      const provider = new TokenProvider({ tokens: tokens(T0, 1000), refresh, autoRefresh: true });
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(refresh.mock.calls.length).toBeGreaterThanOrEqual(9);
      expect(refresh.mock.calls.length).toBeLessThanOrEqual(10);
      provider.end();
    });
  });
});
