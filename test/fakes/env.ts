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
  EVENT_BUS_NAME: 'chat-events',
  NOTIFY_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/SchedulerRole',
  NOTIFY_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:NotifyDeadLetters',
  EMAIL_FROM: 'chat@example.com',
  APP_URL: 'https://chat.example.com/',
  WEBHOOK_URL: 'https://backend.example.com/chat-events',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook',
  AWS_REGION: 'us-east-1',
  LOG_LEVEL: 'SILENT',
} as const;
