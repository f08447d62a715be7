/** The contract's shapes (shared/API.md), written out independently of the implementation's types. */

export interface Participant {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
}

export interface LastMessage {
  readonly messageId: string;
  readonly senderId: string;
  readonly content: string;
  readonly sentAt: string;
}

export interface RoomEntry {
  readonly roomId: string;
  readonly participants: readonly Participant[];
  readonly lastMessage: LastMessage | null;
  readonly unreadCount: number;
  readonly lastReadMessageId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ChatList {
  readonly rooms: readonly RoomEntry[];
  readonly nextCursor: string | null;
}

export interface StartRoomBody {
  readonly room: RoomEntry;
}

export interface Message {
  readonly messageId: string;
  readonly roomId: string;
  readonly senderId: string;
  readonly content: string;
  readonly sentAt: string;
  readonly clientMessageId?: string;
}

export interface MessageWithRead extends Message {
  readonly read: boolean;
}

export interface MessagePage {
  readonly messages: readonly MessageWithRead[];
  readonly hasMore: boolean;
}

export interface MarkReadBody {
  readonly lastReadMessageId: string | null;
  readonly unreadCount: number;
}

export interface Profile {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';

export type ServerFrame =
  | { readonly type: 'ack'; readonly clientMessageId?: string; readonly message: Message }
  | { readonly type: 'chat_message'; readonly message: Message }
  | {
      readonly type: 'read';
      readonly roomId: string;
      readonly userId: string;
      readonly messageId: string;
      readonly readAt: string;
    }
  | { readonly type: 'typing'; readonly roomId: string; readonly userId: string; readonly isTyping: boolean }
  | {
      readonly type: 'presence';
      readonly userId: string;
      readonly online: boolean;
      readonly lastSeenAt?: string | null;
    }
  | { readonly type: 'pong' }
  | {
      readonly type: 'error';
      readonly code: ErrorCode;
      readonly message: string;
      readonly action?: string;
      readonly clientMessageId?: string;
    };

export type FrameType = ServerFrame['type'];
export type FrameOf<K extends FrameType> = Extract<ServerFrame, { type: K }>;
