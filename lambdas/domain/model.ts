/** The chat's vocabulary, as the API exposes it and the domain reasons about it. No AWS here. */
import type { AttachmentView, StoredAttachment } from './files.js';

export type UserId = string;
export type RoomId = string;

export interface Message {
  readonly messageId: string;
  readonly roomId: RoomId;
  readonly senderId: UserId;
  readonly content: string;
  readonly sentAt: string;
  readonly clientMessageId?: string;
  /** Files, as stored (with their keys); answers present them with URLs (files.ts). */
  readonly attachments?: readonly StoredAttachment[];
}

/** A message as answers carry it: attachments with download URLs instead of storage keys. */
export type MessageOut = Omit<Message, 'attachments'> & { readonly attachments?: readonly AttachmentView[] };

export interface MemberState {
  /** The newest message this participant has read, or null before they read anything. */
  readonly lastReadMessageId: string | null;
  /** How many messages this participant has sent in the room: their newest message's sequence number. */
  readonly sent: number;
  /** How many of the other participants' messages are at or before the read pointer. */
  readonly read: number;
}

/**
 * How many messages each participant had sent when a message was committed, that message included.
 * Messages are committed in messageId order, so these are also the counts of each participant's
 * messages up to and including it: what a read pointer standing at it has read.
 */
export type SentCounts = Readonly<Record<UserId, number>>;

export interface Room {
  readonly roomId: RoomId;
  /** Sorted user ids; the room name is derived from them. */
  readonly participants: readonly UserId[];
  readonly createdAt: string;
  /** Last activity: creation or the last message. */
  readonly updatedAt: string;
  readonly lastMessage: Message | null;
  readonly members: Readonly<Record<UserId, MemberState>>;
  /**
   * The sends committed in the last few seconds, by key (see room-commit.ts): what makes a retry that
   * races its first attempt find it. Internal: not part of any API answer.
   */
  readonly recentSends: Readonly<Record<string, RecentSend>>;
}

/** A send committed recently: which message it was and who sent it. */
export interface RecentSend {
  readonly messageId: string;
  readonly senderId: UserId;
}

/** A live WebSocket connection as the fan-out sees it. */
export interface ConnectionRef {
  readonly connectionId: string;
  /** Set when the connection was opened with `&room=`: it gets only that room's events. */
  readonly roomId?: RoomId;
  /** Epoch seconds after which the connection cannot be alive (API Gateway's 2-hour limit). */
  readonly expiresAt: number;
}

export interface UserProfile {
  readonly userId: UserId;
  readonly displayName: string;
  /** A URL the user gave (https), when the avatar is not an upload. */
  readonly avatarUrl: string | null;
  /** The uploaded avatar's object; answers sign a URL for it. */
  readonly avatarKey: string | null;
  readonly lastSeenAt: string | null;
  readonly connections: readonly ConnectionRef[];
}

export interface ParticipantView {
  readonly userId: UserId;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
}

export interface RoomView {
  readonly roomId: RoomId;
  readonly participants: readonly ParticipantView[];
  readonly lastMessage: MessageOut | null;
  readonly unreadCount: number;
  readonly lastReadMessageId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type MessageView = MessageOut & { readonly read: boolean };

/** Frames the server sends over WebSocket (API.md "Server to client"). */
export type ServerFrame =
  | { readonly type: 'ack'; readonly clientMessageId?: string; readonly message: MessageOut }
  | { readonly type: 'chat_message'; readonly message: MessageOut }
  | {
      readonly type: 'read';
      readonly roomId: RoomId;
      readonly userId: UserId;
      readonly messageId: string;
      readonly readAt: string;
    }
  | { readonly type: 'typing'; readonly roomId: RoomId; readonly userId: UserId; readonly isTyping: boolean }
  | {
      readonly type: 'presence';
      readonly userId: UserId;
      readonly online: boolean;
      readonly lastSeenAt: string | null;
    }
  | { readonly type: 'pong' }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly message: string;
      readonly action?: string;
      readonly clientMessageId?: string;
    };

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';
