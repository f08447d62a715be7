/** Handler configuration besides the tables' names (see tables.ts `envVar`). Plain data. */
export const envVars = {
  /** https URL of the WebSocket stage's management API (`@connections`). */
  callbackUrl: 'WS_CALLBACK_URL',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** Optional: where to fetch the JWKS from instead of the Cognito issuer's (the local stack). */
  jwksUrl: 'JWKS_URL',
  /** The bucket that holds uploads, attachments and avatars. */
  filesBucket: 'FILES_BUCKET',
  /** Largest attachment in bytes (the stack's `maxUploadBytes`). */
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  /** Name of the function that checks uploads before they are attached (definitions/routes.ts `attachmentCheck`). */
  attachmentCheckFunction: 'ATTACHMENT_CHECK_FUNCTION',
} as const;

/**
 * The notification and event functions' configuration: apart from `envVars` so that the other
 * handlers (the send function at its bundle budget first) do not carry these strings.
 */
export const eventEnvVars = {
  /** The EventBridge bus the chat's events go to. */
  eventBusName: 'EVENT_BUS_NAME',
  /** What a notification check invokes (the notify function's ARN), and the role Scheduler does it with. */
  notifyFunctionArn: 'NOTIFY_FUNCTION_ARN',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  /** Where Scheduler puts a check it could not deliver (the schedule target's dead-letter queue). */
  notifyDlqArn: 'NOTIFY_DLQ_ARN',
  /** Optional: every notification delay, in seconds, instead of the users' preferences (local demos and tests). */
  notifyDelaySeconds: 'NOTIFY_DELAY_SECONDS',
  /** The address e-mails come from (an SES identity), and the app's URL the e-mails link to. */
  emailFrom: 'EMAIL_FROM',
  appUrl: 'APP_URL',
  /** Where events are POSTed, and the Secrets Manager secret that signs them (webhook only). */
  webhookUrl: 'WEBHOOK_URL',
  webhookSecretArn: 'WEBHOOK_SECRET_ARN',
} as const;

/** The environment variable that carries each table's name (kept here, apart from the table shapes, so handlers bundle only these strings). */
export const tableEnvVars = {
  rooms: 'ROOMS_TABLE',
  messages: 'MESSAGES_TABLE',
  connections: 'CONNECTIONS_TABLE',
  users: 'USERS_TABLE',
} as const;
