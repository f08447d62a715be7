import type { ErrorCode } from './model.js';

/** An expected failure with a client-facing code and message; anything else is `internal`. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

export const badRequest = (message: string) => new ChatError('bad_request', message);
export const forbidden = (message = 'You are not a participant of this room') =>
  new ChatError('forbidden', message);
export const notFound = (message: string) => new ChatError('not_found', message);
export const conflict = (message: string) => new ChatError('conflict', message);
export const rateLimited = (message: string) => new ChatError('rate_limited', message);
