/** The chat client SDK: typed REST calls and a self-healing WebSocket connection. */
export {
  type AvatarUploadRequest,
  ChatApi,
  ChatApiError,
  type ChatApiOptions,
  type FetchLike,
  signInLocal,
} from './api.js';
export {
  type CodeDelivery,
  CognitoClient,
  CognitoError,
  type CognitoOptions,
  type CognitoTokens,
  cognitoError,
} from './cognito.js';
export {
  type AttachmentRef,
  ChatConnection,
  type ChatConnectionOptions,
  type ChatEvents,
  type ConnectionState,
  type OutgoingMessage,
  type OutgoingStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection.js';
export { jwtClaims } from './jwt.js';
export {
  refreshDueAt,
  SessionEndedError,
  type StoredTokens,
  storedTokens,
  TokenProvider,
  type TokenProviderOptions,
} from './token-provider.js';
export * from './types.js';
export {
  ATTACHMENT_TYPES,
  AVATAR_TYPES,
  contentTypeOf,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  fileTypeName,
  humanSize,
  isImageType,
  MAX_ATTACHMENTS,
  MAX_AVATAR_BYTES,
  type ProgressListener,
  storageError,
  typesInWords,
  UploadError,
  type UploadErrorCode,
  type UploadFile,
  type UploadProgress,
  type XhrConstructor,
  type XhrLike,
} from './uploads.js';
