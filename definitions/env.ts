/** Handler configuration besides the tables' names (see tables.ts `envVar`). Plain data. */
export const envVars = {
  /** https URL of the WebSocket stage's management API (`@connections`). */
  callbackUrl: 'WS_CALLBACK_URL',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** Optional: where to fetch the JWKS from instead of the Cognito issuer's (the local stack). */
  jwksUrl: 'JWKS_URL',
} as const;

/** The environment variable that carries each table's name (kept here, apart from the table shapes, so handlers bundle only these strings). */
export const tableEnvVars = {
  rooms: 'ROOMS_TABLE',
  messages: 'MESSAGES_TABLE',
  connections: 'CONNECTIONS_TABLE',
  users: 'USERS_TABLE',
} as const;
