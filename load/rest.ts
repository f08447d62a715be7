/** The REST calls of a load run: sign-in, room start, history pages. Transient failures are retried. */
import { BEFORE_EVERY_MESSAGE, type ChatMessage, type LoadTarget, type MessagePage } from './wire.js';

const ATTEMPTS = 6;
const REQUEST_TIMEOUT_MS = 15_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`HTTP ${status}: ${text.slice(0, 200)}`);
  }
}

const retryable = (error: unknown) =>
  !(error instanceof HttpError) || error.status === 429 || error.status >= 500;

/** A JSON request, retried with backoff on network errors, 429 and 5xx. */
export async function requestJson<T>(
  url: string,
  init: { method: 'GET' | 'POST'; token?: string; body?: unknown },
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    try {
      const response = await fetch(url, {
        method: init.method,
        headers: {
          ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) throw new HttpError(response.status, text);
      return JSON.parse(text) as T;
    } catch (error) {
      lastError = error;
      if (!retryable(error)) break;
    }
  }
  throw new Error(`${init.method} ${new URL(url).pathname} failed: ${String(lastError)}`);
}

export async function signIn(target: LoadTarget, userId: string, displayName: string): Promise<string> {
  const { token } = await requestJson<{ token: string }>(target.signInUrl, {
    method: 'POST',
    body: { userId, displayName },
  });
  return token;
}

/** Starts (or finds) the caller's room with `otherUserId` and answers its id. */
export async function startRoom(target: LoadTarget, token: string, otherUserId: string): Promise<string> {
  const { room } = await requestJson<{ room: { roomId: string } }>(
    `${target.restUrl}/chat/start/${encodeURIComponent(otherUserId)}`,
    { method: 'POST', token },
  );
  return room.roomId;
}

/** One page of messages after `after`, oldest first (the catch-up call; it moves no read pointer). */
export function messagesAfter(
  target: LoadTarget,
  token: string,
  roomId: string,
  after: string,
  limit = 100,
): Promise<MessagePage> {
  const query = new URLSearchParams({ after, limit: String(limit) });
  return requestJson<MessagePage>(`${target.restUrl}/chat/messages/${encodeURIComponent(roomId)}?${query}`, {
    method: 'GET',
    token,
  });
}

/** A room's whole history, oldest first, as the pages gave it (not re-sorted: the order is checked). */
export async function fullHistory(target: LoadTarget, token: string, roomId: string): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [];
  let after = BEFORE_EVERY_MESSAGE;
  for (;;) {
    const page = await messagesAfter(target, token, roomId, after);
    messages.push(...page.messages);
    const last = page.messages.at(-1);
    // A page that does not move forward would loop forever; the order check reports it.
    if (!page.hasMore || last === undefined || last.messageId <= after) return messages;
    after = last.messageId;
  }
}
