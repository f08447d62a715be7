/** Typed REST calls for every route in API.md. */
import type {
  ErrorCode,
  MessagePage,
  Profile,
  ProfileChanges,
  ReadPointer,
  Room,
  RoomPage,
  TokenSource,
} from './types.js';

/** A REST call that failed: `status` 0 and code `network_error` when no response arrived at all. */
export class ChatApiError extends Error {
  override readonly name = 'ChatApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error',
    message: string,
  ) {
    super(message);
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ChatApiOptions {
  /** The HTTP API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  readonly restUrl: string;
  readonly token: TokenSource;
  /** Defaults to the platform's `fetch`. */
  readonly fetch?: FetchLike;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
};

export const resolveToken = async (token: TokenSource): Promise<string> =>
  typeof token === 'string' ? token : token();

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const platformFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

async function toError(response: Response): Promise<ChatApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code =
    typeof error?.code === 'string'
      ? (error.code as ErrorCode)
      : (CODE_BY_STATUS[response.status] ?? 'internal');
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
  return new ChatApiError(response.status, code, message);
}

/** One JSON request; every failure becomes a `ChatApiError`. */
async function requestJson<T>(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch (error) {
    throw new ChatApiError(0, 'network_error', error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await toError(response);
  return { status: response.status, body: (await response.json()) as T };
}

export class ChatApi {
  readonly restUrl: string;
  private readonly fetchImpl: FetchLike;

  constructor(private readonly options: ChatApiOptions) {
    this.restUrl = trimSlash(options.restUrl);
    this.fetchImpl = options.fetch ?? platformFetch;
  }

  /** The caller's rooms, most recent activity first. */
  listRooms(page: { limit?: number; cursor?: string } = {}): Promise<RoomPage> {
    return this.call('GET', `/chat/list${query(page)}`);
  }

  /** No `before`/`after`: the newest page (which also marks the room read). */
  getMessages(
    roomId: string,
    page: { before?: string; after?: string; limit?: number } = {},
  ): Promise<MessagePage> {
    return this.call('GET', `/chat/messages/${encodeURIComponent(roomId)}${query(page)}`);
  }

  /** Starts (or returns) the room with `userId`; `created` tells which. */
  async startChat(userId: string): Promise<{ room: Room; created: boolean }> {
    const { body, status } = await this.callWithStatus<{ room: Room }>(
      'POST',
      `/chat/start/${encodeURIComponent(userId)}`,
    );
    return { room: body.room, created: status === 201 };
  }

  /** Moves the caller's read pointer forward to `messageId` (never back). */
  markRead(roomId: string, messageId: string): Promise<ReadPointer> {
    return this.call('POST', `/chat/read/${encodeURIComponent(roomId)}`, { messageId });
  }

  getMe(): Promise<Profile> {
    return this.call('GET', '/users/me');
  }

  updateMe(changes: ProfileChanges): Promise<Profile> {
    return this.call('PUT', '/users/me', changes);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.callWithStatus<T>(method, path, body)).body;
  }

  private async callWithStatus<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ body: T; status: number }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await resolveToken(this.options.token)}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return requestJson<T>(this.fetchImpl, `${this.restUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}

/** The local stack's sign-in (`POST /dev/token`); it never exists on a deployed stack. */
export async function signInLocal(
  signInUrl: string,
  user: { userId: string; displayName?: string },
  fetchImpl: FetchLike = platformFetch,
): Promise<{ token: string }> {
  const { body } = await requestJson<{ token: string }>(fetchImpl, signInUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  return body;
}
