/**
 * Every API route and the handler behind it, declared once. The CDK stack builds one Lambda function
 * per entry (with exactly the grants listed) and the local gateway emulator dispatches to the same
 * handler modules, so a route cannot exist in one runtime and not the other.
 *
 * Plain data on purpose: no aws-cdk-lib import.
 */
import { notifiedMarkKeyPrefix } from './keys.js';
import type { TableName } from './tables.js';
import type { BucketFolder } from './uploads.js';

export { envVars, eventEnvVars } from './env.js';

/**
 * A DynamoDB action a handler performs on a table (its indexes included). The function's IAM grant
 * is exactly its list: a transaction is granted through the actions of its items, which is what IAM
 * checks. test/integration/hardening/grants.test.ts records every request the handlers make and
 * holds each list to what its function really does.
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

/**
 * What a handler does with the files bucket (definitions/uploads.ts `bucketFolders`), each action on
 * the folders listed. `PutObject`: in an upload folder, by signing upload forms (S3 authorizes a
 * presigned POST as the signer's PutObject); in a kept folder, by the attachment check's conditional
 * server-side copy only. `GetObject`: reading an upload's first bytes, or signing download URLs (a
 * presigned URL carries the signer's permission). `DeleteObject`: a replaced avatar.
 */
export type BucketAction = 'PutObject' | 'GetObject' | 'DeleteObject';

export interface HandlerDefinition {
  /** Stable CDK construct id of the function. */
  readonly functionId: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Tables the function may touch, with its actions on each; each grant also sets the table's env var. */
  readonly tables: Readonly<Partial<Record<TableName, readonly TableAction[]>>>;
  /**
   * Tables whose items the function writes only under one partition key prefix: its write actions
   * there (PutItem, UpdateItem, DeleteItem, BatchWriteItem) are granted on that condition only
   * (IAM `dynamodb:LeadingKeys`, which DynamoDB also checks for each item of a transaction).
   */
  readonly writesOnlyKeysStartingWith?: Readonly<Partial<Record<TableName, string>>>;
  /** Whether the function posts to WebSocket connections (management API). */
  readonly postsToConnections: boolean;
  /** Whether the function verifies JWTs (needs the user pool id and client id). */
  readonly verifiesTokens: boolean;
  /**
   * The function's actions on the files bucket, each on the folders listed;
   * absent: none (and no bucket name in its environment).
   */
  readonly bucket?: Readonly<Partial<Record<BucketAction, readonly BucketFolder[]>>>;
  /** Whether the function invokes `attachmentCheck` (synchronously) before it attaches uploads. */
  readonly invokesAttachmentCheck?: true;
  /** Puts the chat's events on the stack's EventBridge bus (events:PutEvents on that bus only). */
  readonly publishesEvents?: true;
  /** Creates the one-time schedules that run `notifier` (in the notification schedule group only). */
  readonly schedulesNotifications?: true;
  /** Sends e-mail with SES from the configured address only. */
  readonly sendsEmail?: true;
  /** Reads the webhook's signing secret and POSTs to the webhook URL. */
  readonly signsWebhooks?: true;
}

/**
 * What runs a function that no route does: the tables' DynamoDB streams (through an event source
 * mapping), EventBridge Scheduler, or the webhook's SQS queue.
 */
export type FunctionTrigger =
  | { readonly kind: 'streams'; readonly tables: readonly TableName[] }
  | { readonly kind: 'schedule' }
  | { readonly kind: 'queue' };

export interface TriggeredFunctionDefinition extends HandlerDefinition {
  readonly trigger: FunctionTrigger;
}

/** `ANY` matches every method that no route with the same path names (as on an HTTP API). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'ANY';

export interface HttpRouteDefinition extends HandlerDefinition {
  readonly method: HttpMethod;
  /**
   * API Gateway path, without trailing slash (a route key cannot end in "/"); `{name}` segments are
   * path parameters, a final `{name+}` is greedy. Matched as definitions/route-paths.ts says.
   */
  readonly path: string;
  /** No authorizer in front of the route. Only for routes that answer nothing about anyone. */
  readonly unauthenticated?: true;
}

export interface WebSocketRouteDefinition extends HandlerDefinition {
  readonly routeKey: string;
  /** Whether the handler's return value is sent back to the calling connection as a frame. */
  readonly returnResponse: boolean;
}

/**
 * Every function that posts reads the recipients' live connections from their user items, and cleans
 * up a stale connection it finds (410): the record deleted, the `conn#` attribute removed.
 */
const fanOutTables = { users: ['BatchGetItem', 'UpdateItem'], connections: ['DeleteItem'] } as const;
/** The room and the message pointers a read moves; the newest messages are found by query. */
const readPointerTables = { rooms: ['GetItem', 'UpdateItem'], messages: ['Query'] } as const;

export const httpRoutes: readonly HttpRouteDefinition[] = [
  {
    functionId: 'ListRoomsFunction',
    entry: 'lambdas/http/list-rooms.ts',
    method: 'GET',
    path: '/chat/list',
    tables: { rooms: ['Query', 'BatchGetItem'], users: ['BatchGetItem'] },
    postsToConnections: false,
    verifiesTokens: false,
    // Signs the download URLs of the attachments and avatars in its answers.
    bucket: { GetObject: ['files', 'profiles'] },
  },
  {
    functionId: 'GetMessagesFunction',
    entry: 'lambdas/http/get-messages.ts',
    method: 'GET',
    path: '/chat/messages/{roomId}',
    tables: { ...readPointerTables, ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
    // Signs the download URLs of the attachments in its answers.
    bucket: { GetObject: ['files'] },
  },
  {
    functionId: 'StartChatFunction',
    entry: 'lambdas/http/start-chat.ts',
    method: 'POST',
    path: '/chat/start/{userId}',
    // GetItem: when a racing start of the same room wins, the room is read back from it.
    tables: { rooms: ['BatchGetItem', 'PutItem', 'GetItem'], users: ['BatchGetItem'] },
    postsToConnections: false,
    verifiesTokens: false,
    // Signs the download URLs of the attachments and avatars in its answers.
    bucket: { GetObject: ['files', 'profiles'] },
  },
  {
    functionId: 'MarkReadHttpFunction',
    entry: 'lambdas/http/mark-read.ts',
    method: 'POST',
    path: '/chat/read/{roomId}',
    tables: { ...readPointerTables, ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'GetProfileFunction',
    entry: 'lambdas/http/get-profile.ts',
    method: 'GET',
    path: '/users/me',
    tables: { users: ['GetItem', 'UpdateItem'] },
    postsToConnections: false,
    verifiesTokens: false,
    // Signs the download URL of the caller's avatar.
    bucket: { GetObject: ['profiles'] },
  },
  {
    functionId: 'UpdateProfileFunction',
    entry: 'lambdas/http/update-profile.ts',
    method: 'PUT',
    path: '/users/me',
    tables: { users: ['UpdateItem'] },
    postsToConnections: false,
    verifiesTokens: false,
    // Signs the new avatar's URL, and deletes the avatar it replaces.
    bucket: { GetObject: ['profiles'], DeleteObject: ['profiles'] },
    invokesAttachmentCheck: true,
  },
  {
    functionId: 'CreateUploadFunction',
    entry: 'lambdas/http/create-upload.ts',
    method: 'POST',
    path: '/chat/uploads/{roomId}',
    // Only participants may upload into a room.
    tables: { rooms: ['GetItem'] },
    postsToConnections: false,
    verifiesTokens: false,
    bucket: { PutObject: ['uploads'] },
  },
  {
    functionId: 'CreateAvatarUploadFunction',
    entry: 'lambdas/http/create-avatar-upload.ts',
    method: 'POST',
    path: '/users/me/avatar',
    tables: {},
    postsToConnections: false,
    verifiesTokens: false,
    bucket: { PutObject: ['avatars'] },
  },
  {
    functionId: 'GetNotificationsFunction',
    entry: 'lambdas/http/get-notifications.ts',
    method: 'GET',
    path: '/users/me/notifications',
    tables: { users: ['GetItem'] },
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    functionId: 'UpdateNotificationsFunction',
    entry: 'lambdas/http/update-notifications.ts',
    method: 'PUT',
    path: '/users/me/notifications',
    tables: { users: ['UpdateItem'] },
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    // The seed's clients call "/chat/list/" and "/users/me/". Whether an HTTP API matches such a path to
    // "GET /chat/list" is undocumented (public reports say it does not), so every path no other route
    // takes lands here: 308 to the same path without its trailing slash when that names a route, 404
    // otherwise. Works either way: if AWS does match "/x/" to "/x", this route is simply never reached.
    functionId: 'TrailingSlashFunction',
    entry: 'lambdas/http/trailing-slash.ts',
    method: 'ANY',
    path: '/{proxy+}',
    unauthenticated: true,
    tables: {},
    postsToConnections: false,
    verifiesTokens: false,
  },
];

/** The HTTP API's Lambda authorizer: verifies the bearer token with aws-jwt-verify. */
export const httpAuthorizer: HandlerDefinition = {
  functionId: 'HttpAuthorizerFunction',
  entry: 'lambdas/http/authorizer.ts',
  tables: {},
  postsToConnections: false,
  verifiesTokens: true,
};

export const webSocketRoutes: readonly WebSocketRouteDefinition[] = [
  {
    functionId: 'ConnectFunction',
    entry: 'lambdas/ws/connect.ts',
    routeKey: '$connect',
    returnResponse: false,
    tables: {
      rooms: ['Query', 'GetItem'],
      users: ['BatchGetItem', 'UpdateItem'],
      connections: ['PutItem', 'DeleteItem'],
    },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'DisconnectFunction',
    entry: 'lambdas/ws/disconnect.ts',
    routeKey: '$disconnect',
    returnResponse: false,
    tables: { rooms: ['Query'], ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'SendMessageFunction',
    entry: 'lambdas/ws/send-message.ts',
    routeKey: 'sendMessage',
    returnResponse: true,
    // rooms BatchWriteItem: moving the chat list's activity entries when a room enters a new hour.
    // messages BatchGetItem: the clientMessageId's message, read with the room; GetItem: the fallback
    // read of a duplicate when DynamoDB does not return it (ALL_OLD).
    tables: {
      rooms: ['BatchGetItem', 'UpdateItem', 'BatchWriteItem'],
      messages: ['BatchGetItem', 'PutItem', 'GetItem'],
      ...fanOutTables,
    },
    postsToConnections: true,
    verifiesTokens: false,
    // No bucket action: the attachment check signs the URLs of what it attaches (and of a retry's answer).
    invokesAttachmentCheck: true,
  },
  {
    functionId: 'MarkReadWsFunction',
    entry: 'lambdas/ws/mark-read.ts',
    routeKey: 'markRead',
    returnResponse: true,
    tables: { ...readPointerTables, ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'TypingFunction',
    entry: 'lambdas/ws/typing.ts',
    routeKey: 'typing',
    returnResponse: true,
    tables: { rooms: ['BatchGetItem'], ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'PingFunction',
    entry: 'lambdas/ws/ping.ts',
    routeKey: 'ping',
    returnResponse: true,
    tables: {},
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    functionId: 'DefaultRouteFunction',
    entry: 'lambdas/ws/default.ts',
    routeKey: '$default',
    returnResponse: true,
    tables: {},
    postsToConnections: false,
    verifiesTokens: false,
  },
];

/** The WebSocket API's `$connect` REQUEST authorizer: token from the `token` query parameter. */
export const webSocketAuthorizer: HandlerDefinition = {
  functionId: 'WebSocketAuthorizerFunction',
  entry: 'lambdas/ws/authorizer.ts',
  tables: {},
  postsToConnections: false,
  verifiesTokens: true,
};

/** Cognito post-confirmation trigger: writes the new user's profile so that others can start a chat. */
export const postConfirmationTrigger: HandlerDefinition = {
  functionId: 'PostConfirmationFunction',
  entry: 'lambdas/cognito/post-confirmation.ts',
  // confirmAccount: one conditional UpdateItem creates the profile and keeps the address.
  tables: { users: ['UpdateItem'] },
  postsToConnections: false,
  verifiesTokens: false,
};

/**
 * Checks uploads before they are attached: each exists in the sender's folder, its real size and type
 * (from its first bytes) match what was declared, and no other message has it; then claims them,
 * copies each into a kept folder (conditionally: still the checked version, never over a kept file),
 * and signs the kept copies' URLs. Invoked synchronously by the functions that attach
 * (`invokesAttachmentCheck`), never by a route: its S3 client and checks do not fit the send
 * function's bundle, and the send function then needs no S3 permission. rooms PutItem: the claims (one
 * TransactWriteItems).
 */
export const attachmentCheck: HandlerDefinition = {
  functionId: 'AttachmentCheckFunction',
  entry: 'lambdas/files/check-uploads.ts',
  tables: { rooms: ['PutItem'] },
  postsToConnections: false,
  verifiesTokens: false,
  bucket: { GetObject: ['uploads', 'avatars', 'files', 'profiles'], PutObject: ['files', 'profiles'] },
};

/**
 * Reads the tables' change streams: publishes `message.new`, `message.read` and `room.created`, and
 * schedules the e-mail check of each recipient of a new message with e-mail on and an address, online
 * or not (the check decides). users BatchGetItem: the recipients' preferences and addresses.
 */
export const changeConsumer: TriggeredFunctionDefinition = {
  functionId: 'ChangeConsumerFunction',
  entry: 'lambdas/events/consume-changes.ts',
  trigger: { kind: 'streams', tables: ['rooms', 'messages'] },
  tables: { users: ['BatchGetItem'] },
  postsToConnections: false,
  verifiesTokens: false,
  publishesEvents: true,
  schedulesNotifications: true,
};

/**
 * The e-mail check, run by a one-time schedule per recipient and room: if the user still has unread
 * messages and no connection, one e-mail listing the check's room and every other room with unread
 * messages at least one delay old not e-mailed yet.
 * Still connected with such messages in the check's room: it schedules its own re-check one delay
 * later (`schedulesNotifications`, bounded by `notificationLimits.recheckHours`), so leaving without
 * reading still brings the e-mail; the disconnect path schedules nothing.
 * rooms: the chat list's activity entries (Query), the rooms (BatchGetItem), and the record of what
 * was e-mailed per room (`notified#` items: Query, PutItem); messages Query: the first lines; users:
 * the recipient (GetItem) and the senders' names (BatchGetItem).
 */
export const notifier: TriggeredFunctionDefinition = {
  functionId: 'NotifyFunction',
  entry: 'lambdas/events/notify.ts',
  trigger: { kind: 'schedule' },
  tables: {
    rooms: ['Query', 'BatchGetItem', 'PutItem'],
    messages: ['Query'],
    users: ['GetItem', 'BatchGetItem'],
  },
  writesOnlyKeysStartingWith: { rooms: notifiedMarkKeyPrefix },
  postsToConnections: false,
  verifiesTokens: false,
  sendsEmail: true,
  publishesEvents: true,
  schedulesNotifications: true,
};

/** POSTs each event on the bus to the webhook, signed (only deployed with `-c webhookUrl=`). */
export const webhookSender: TriggeredFunctionDefinition = {
  functionId: 'WebhookFunction',
  entry: 'lambdas/events/deliver-webhook.ts',
  trigger: { kind: 'queue' },
  tables: {},
  postsToConnections: false,
  verifiesTokens: false,
  signsWebhooks: true,
};

/** Every handler, for code that walks them all (the handlers' declared needs are checked against it). */
export const allHandlers: readonly HandlerDefinition[] = [
  ...httpRoutes,
  ...webSocketRoutes,
  httpAuthorizer,
  webSocketAuthorizer,
  postConfirmationTrigger,
  attachmentCheck,
  changeConsumer,
  notifier,
  webhookSender,
];
