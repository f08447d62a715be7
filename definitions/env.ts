/** Handler configuration besides the tables' names (see tables.ts `envVar`). Plain data. */
export const envVars = {
  /** https URL of the WebSocket stage's management API (`@connections`). */
  callbackUrl: 'WS_CALLBACK_URL',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** Optional: where to fetch the JWKS from instead of the Cognito issuer's (the local stack). */
  jwksUrl: 'JWKS_URL',
} as const;
