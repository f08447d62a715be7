/**
 * Every API route and the handler behind it, declared once. The CDK stack builds one Lambda function
 * per entry (with exactly the grants listed) and the local gateway emulator dispatches to the same
 * handler modules, so a route cannot exist in one runtime and not the other.
 *
 * Plain data on purpose: no aws-cdk-lib import.
 */
import type { TableName } from './tables.js';

export { envVars } from './env.js';

export type TableAccess = 'read' | 'readWrite';

export interface HandlerDefinition {
  /** Stable CDK construct id of the function. */
  readonly functionId: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Tables the function may touch; each grant also sets the table's env var. */
  readonly tables: Readonly<Partial<Record<TableName, TableAccess>>>;
  /** Whether the function posts to WebSocket connections (management API). */
  readonly postsToConnections: boolean;
  /** Whether the function verifies JWTs (needs the user pool id and client id). */
  readonly verifiesTokens: boolean;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface HttpRouteDefinition extends HandlerDefinition {
  readonly method: HttpMethod;
  /** API Gateway path, without trailing slash; `{name}` segments are path parameters. */
  readonly path: string;
}

export interface WebSocketRouteDefinition extends HandlerDefinition {
  readonly routeKey: string;
  /** Whether the handler's return value is sent back to the calling connection as a frame. */
  readonly returnResponse: boolean;
}

/** Every function that posts also cleans up stale connections it finds (410), hence the grants. */
const fanOutTables = { users: 'readWrite', connections: 'readWrite' } as const;

export const httpRoutes: readonly HttpRouteDefinition[] = [
  {
    functionId: 'ListRoomsFunction',
    entry: 'lambdas/http/list-rooms.ts',
    method: 'GET',
    path: '/chat/list',
    tables: { rooms: 'read', users: 'read' },
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    functionId: 'GetMessagesFunction',
    entry: 'lambdas/http/get-messages.ts',
    method: 'GET',
    path: '/chat/messages/{roomId}',
    tables: { rooms: 'readWrite', messages: 'read', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'StartChatFunction',
    entry: 'lambdas/http/start-chat.ts',
    method: 'POST',
    path: '/chat/start/{userId}',
    tables: { rooms: 'readWrite', users: 'read' },
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    functionId: 'MarkReadHttpFunction',
    entry: 'lambdas/http/mark-read.ts',
    method: 'POST',
    path: '/chat/read/{roomId}',
    tables: { rooms: 'readWrite', messages: 'read', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'GetProfileFunction',
    entry: 'lambdas/http/get-profile.ts',
    method: 'GET',
    path: '/users/me',
    tables: { users: 'readWrite' },
    postsToConnections: false,
    verifiesTokens: false,
  },
  {
    functionId: 'UpdateProfileFunction',
    entry: 'lambdas/http/update-profile.ts',
    method: 'PUT',
    path: '/users/me',
    tables: { users: 'readWrite' },
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
    tables: { rooms: 'read', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'DisconnectFunction',
    entry: 'lambdas/ws/disconnect.ts',
    routeKey: '$disconnect',
    returnResponse: false,
    tables: { rooms: 'read', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'SendMessageFunction',
    entry: 'lambdas/ws/send-message.ts',
    routeKey: 'sendMessage',
    returnResponse: true,
    tables: { rooms: 'readWrite', messages: 'readWrite', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'MarkReadWsFunction',
    entry: 'lambdas/ws/mark-read.ts',
    routeKey: 'markRead',
    returnResponse: true,
    tables: { rooms: 'readWrite', messages: 'read', ...fanOutTables },
    postsToConnections: true,
    verifiesTokens: false,
  },
  {
    functionId: 'TypingFunction',
    entry: 'lambdas/ws/typing.ts',
    routeKey: 'typing',
    returnResponse: true,
    tables: { rooms: 'read', ...fanOutTables },
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
  tables: { users: 'readWrite' },
  postsToConnections: false,
  verifiesTokens: false,
};

/** Every handler, for code that walks them all (the handlers' declared needs are checked against it). */
export const allHandlers: readonly HandlerDefinition[] = [
  ...httpRoutes,
  ...webSocketRoutes,
  httpAuthorizer,
  webSocketAuthorizer,
  postConfirmationTrigger,
];
