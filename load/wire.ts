/**
 * The chat API as a load client sees it (shared/API.md), written out here rather than imported from
 * lambdas/: the load tool checks the contract, so it must not share the implementation's types.
 */

export interface ChatMessage {
  readonly messageId: string;
  readonly roomId: string;
  readonly senderId: string;
  readonly content: string;
  readonly sentAt: string;
  readonly clientMessageId?: string;
}

export type ServerFrame =
  | { readonly type: 'ack'; readonly clientMessageId?: string; readonly message: ChatMessage }
  | { readonly type: 'chat_message'; readonly message: ChatMessage }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly message: string;
      readonly action?: string;
      readonly clientMessageId?: string;
    }
  | { readonly type: 'read' | 'typing' | 'presence' | 'pong' };

export interface MessagePage {
  readonly messages: readonly ChatMessage[];
  readonly hasMore: boolean;
}

/** Where the chat API is: the local stack's URLs, or a deployed stack's with a sign-in in front. */
export interface LoadTarget {
  /** REST base URL, no trailing slash. */
  readonly restUrl: string;
  /** WebSocket URL, no query. */
  readonly wsUrl: string;
  /** The local stack's `POST /dev/token`. */
  readonly signInUrl: string;
}

/** The smallest ULID: `?after=` this gives a room's history from its first message. */
export const BEFORE_EVERY_MESSAGE = '00000000000000000000000000';

/** Parses a frame; anything that is not a JSON object with a string `type` is undefined. */
export function parseFrame(text: string): ServerFrame | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    return typeof (value as { type?: unknown }).type === 'string' ? (value as ServerFrame) : undefined;
  } catch {
    return undefined;
  }
}

/** ULID time helpers for catch-up cursors: the same ones the client SDK uses. */
export { smallestUlidAt, ulidTime } from '../web/sdk/ulid-time.js';
