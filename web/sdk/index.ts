/** The chat client SDK: typed REST calls and a self-healing WebSocket connection. */
export { ChatApi, ChatApiError, type ChatApiOptions, type FetchLike, signInLocal } from './api.js';
export {
  ChatConnection,
  type ChatConnectionOptions,
  type ChatEvents,
  type ConnectionState,
  type OutgoingMessage,
  type OutgoingStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection.js';
export * from './types.js';
