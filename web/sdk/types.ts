/** The wire shapes of the chat API (shared/API.md), as a client sees them. */

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';

export interface Participant {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
}

/** A file in a message. `url` is a presigned GET that works without a token for at least an hour. */
export interface Attachment {
  readonly attachmentId: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly url: string;
  /** Images only, when the server could read them from the file's first bytes. */
  readonly width?: number;
  readonly height?: number;
}

export interface Message {
  readonly messageId: string;
  readonly roomId: string;
  readonly senderId: string;
  /** May be empty when the message has attachments. */
  readonly content: string;
  readonly sentAt: string;
  readonly clientMessageId?: string;
  readonly attachments?: readonly Attachment[];
}

/**
 * The answer of `POST /chat/uploads/{roomId}/` and `POST /users/me/avatar/`: POST a multipart form to
 * `url` with every field of `fields`, then the file as `file`, before `expiresAt`.
 */
export interface UploadForm {
  readonly uploadId: string;
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly expiresAt: string;
  readonly maxBytes: number;
}

/** What `POST /chat/uploads/{roomId}/` takes. */
export interface UploadRequest {
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
}

/** A history message: `read` is true once every other participant has read it. */
export interface HistoryMessage extends Message {
  readonly read: boolean;
}

export interface Room {
  readonly roomId: string;
  readonly participants: readonly Participant[];
  readonly lastMessage: Omit<Message, 'roomId'> | null;
  readonly unreadCount: number;
  readonly lastReadMessageId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RoomPage {
  readonly rooms: readonly Room[];
  readonly nextCursor: string | null;
}

export interface MessagePage {
  readonly messages: readonly HistoryMessage[];
  readonly hasMore: boolean;
}

export interface ReadPointer {
  readonly roomId?: string;
  readonly lastReadMessageId: string | null;
  readonly unreadCount: number;
}

export interface Profile {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
}

export interface ProfileChanges {
  readonly displayName?: string;
  readonly avatarUrl?: string | null;
  /** An avatar upload (`POST /users/me/avatar/`) to set as the avatar; sets `avatarUrl`. */
  readonly avatarUploadId?: string;
}

export interface ReadEvent {
  readonly type: 'read';
  readonly roomId: string;
  readonly userId: string;
  readonly messageId: string;
  readonly readAt: string;
}

export interface TypingEvent {
  readonly type: 'typing';
  readonly roomId: string;
  readonly userId: string;
  readonly isTyping: boolean;
}

export interface PresenceEvent {
  readonly type: 'presence';
  readonly userId: string;
  readonly online: boolean;
  readonly lastSeenAt?: string | null;
}

export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly action?: string;
  readonly clientMessageId?: string;
}

export type ServerFrame =
  | { readonly type: 'ack'; readonly clientMessageId?: string; readonly message: Message }
  | { readonly type: 'chat_message'; readonly message: Message }
  | ReadEvent
  | TypingEvent
  | PresenceEvent
  | { readonly type: 'pong' }
  | ErrorFrame;

export type ClientFrame =
  | {
      readonly action: 'sendMessage';
      readonly roomId: string;
      readonly content: string;
      readonly clientMessageId: string;
      readonly attachments?: readonly { readonly uploadId: string }[];
    }
  | { readonly action: 'markRead'; readonly roomId: string; readonly messageId: string }
  | { readonly action: 'typing'; readonly roomId: string; readonly isTyping: boolean }
  | { readonly action: 'ping' };

/**
 * What a token function is asked: `forceRefresh` after the server refused a token (a 401, or a
 * WebSocket handshake refused), with `refusedToken`, the token it refused. A provider refreshes only
 * if that is still its current token: refusals one after another then cost one refresh, not one each.
 */
export interface TokenRequest {
  readonly forceRefresh?: boolean;
  readonly refusedToken?: string;
}

/**
 * A token, or a function called before every request and every (re)connect: a function may refresh
 * (see `TokenProvider`), and `ChatApi` calls it again with `forceRefresh` after a 401.
 */
export type TokenSource = string | ((request?: TokenRequest) => string | Promise<string>);

export const MAX_CONTENT_LENGTH = 4000;
