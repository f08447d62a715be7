/**
 * JWT verification shared by the HTTP and WebSocket authorizers, on AWS and on the local stack alike.
 * The verifier is built once per container so its JWKS cache survives between invocations.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { isValidUserId } from '../domain/validation.js';
import type { AuthConfig } from './config.js';

export interface VerifiedCaller {
  readonly userId: string;
  /** A display name suggested by the token (Cognito `name`, `email` or username), if any. */
  readonly suggestedName: string | undefined;
}

/** Tolerated difference between the issuer's clock and ours. */
const CLOCK_SKEW_SECONDS = 300;

export type TokenVerifier = (token: string) => Promise<VerifiedCaller | undefined>;

/**
 * aws-jwt-verify's own fetcher accepts https only; this one uses the platform `fetch` and, when
 * configured, a JWKS URL other than the issuer's (the local sign-in service), with no other branch.
 */
function jwksFetcher(jwksUrl: string | undefined): Fetcher {
  return {
    async fetch(uri: string): Promise<ArrayBuffer> {
      const response = await fetch(jwksUrl ?? uri, { signal: AbortSignal.timeout(3000) });
      if (!response.ok) throw new Error(`JWKS fetch failed with status ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

export function makeTokenVerifier(config: AuthConfig): TokenVerifier {
  const verifier = CognitoJwtVerifier.create(
    // Both ID and access tokens are accepted: frontends hold either, and both carry `sub`.
    { userPoolId: config.userPoolId, clientId: config.clientId, tokenUse: null },
    { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher(config.jwksUrl) }) },
  );
  return async (token) => {
    try {
      const payload = await verifier.verify(token);
      // aws-jwt-verify checks exp and nbf when present; a token must also carry exp and must not
      // claim to be issued in the future (Cognito always sets both).
      const nowSeconds = Math.floor(Date.now() / 1000);
      if (typeof payload.exp !== 'number') return undefined;
      if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) return undefined;
      const userId = payload.sub;
      if (!isValidUserId(userId)) return undefined;
      const suggestedName = [payload.name, payload.email, payload['cognito:username'], payload.username].find(
        (value): value is string => typeof value === 'string' && value.length > 0,
      );
      return { userId, suggestedName };
    } catch {
      return undefined;
    }
  };
}
