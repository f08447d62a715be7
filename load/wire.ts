/**
 * The chat API as a load client sees it: the client SDK's wire types (web/sdk), which describe the
 * contract from the client's side. Not lambdas/'s: the load tool checks the implementation, so it
 * must not share the implementation's types.
 */
import type { ServerFrame } from '../web/sdk/types.js';

export type { Message as ChatMessage, MessagePage, ServerFrame } from '../web/sdk/types.js';

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
