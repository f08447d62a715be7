/**
 * What a deployed function finds in its environment. Handler modules build their service at import
 * time from these (no network is touched until a client sends), so a test sets them before importing.
 */
export const HANDLER_ENV = {
  ROOMS_TABLE: 'rooms',
  MESSAGES_TABLE: 'messages',
  CONNECTIONS_TABLE: 'connections',
  USERS_TABLE: 'users',
  WS_CALLBACK_URL: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
  USER_POOL_ID: 'us-east-1_test',
  USER_POOL_CLIENT_ID: 'client',
  FILES_BUCKET: 'files',
  MAX_UPLOAD_BYTES: '26214400',
  ATTACHMENT_CHECK_FUNCTION: 'AttachmentCheckFunction',
  AWS_REGION: 'us-east-1',
  LOG_LEVEL: 'SILENT',
} as const;
