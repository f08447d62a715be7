/** A small typed REST client: real HTTP with `fetch`, a Bearer token, every response kept whole. */
import { expect } from 'vitest';
import type {
  ChatList,
  ErrorBody,
  ErrorCode,
  MarkReadBody,
  MessagePage,
  Profile,
  StartRoomBody,
} from './api-types.js';
import { stack } from './stack-info.js';

export interface HttpResult<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, typed as the success shape; check `status` first. */
  readonly body: T;
}

export type Method = 'GET' | 'POST' | 'PUT';

export interface RequestOptions {
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent verbatim (for malformed bodies). */
  readonly raw?: string;
  /** Overrides the Authorization header; `null` sends none. */
  readonly authorization?: string | null;
}

type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query: Query | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}

export async function request<T = unknown>(
  method: Method,
  path: string,
  token: string | undefined,
  options: RequestOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  const authorization =
    options.authorization === undefined ? token && `Bearer ${token}` : options.authorization;
  if (authorization) headers.authorization = authorization;
  let body: string | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = 'application/json';
  } else if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${stack().restUrl}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed as T };
}

/** The routes of API.md for one caller. Paths use the seed's trailing slash (answered by the 308 of `ANY /{proxy+}`) unless `slash: false`. */
/**
 * Every REST route behind the authorizer, each with a body it accepts, so that a refusal there can
 * only be the authorization's.
 */
export function protectedRoutes(roomId: string, newPeerId: string): [Method, string, unknown][] {
  return [
    ['GET', '/chat/list/', undefined],
    ['GET', `/chat/messages/${roomId}/`, undefined],
    ['POST', `/chat/start/${newPeerId}/`, undefined],
    ['POST', `/chat/read/${roomId}/`, { messageId: '01JAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['GET', '/users/me/', undefined],
    ['PUT', '/users/me/', { displayName: 'Mallory' }],
  ];
}

export class RestClient {
  constructor(readonly token: string | undefined) {}

  listRooms(query?: { limit?: number | string; cursor?: string }, slash = true) {
    return request<ChatList>('GET', withQuery(`/chat/list${slash ? '/' : ''}`, query), this.token);
  }

  messages(
    roomId: string,
    query?: { limit?: number | string; before?: string; after?: string },
    slash = true,
  ) {
    return request<MessagePage>(
      'GET',
      withQuery(`/chat/messages/${roomId}${slash ? '/' : ''}`, query),
      this.token,
    );
  }

  startRoom(userId: string, slash = true) {
    return request<StartRoomBody>('POST', `/chat/start/${userId}${slash ? '/' : ''}`, this.token);
  }

  markRead(roomId: string, body: unknown, slash = true) {
    return request<MarkReadBody>('POST', `/chat/read/${roomId}${slash ? '/' : ''}`, this.token, {
      json: body,
    });
  }

  markReadRaw(roomId: string, raw: string) {
    return request<MarkReadBody>('POST', `/chat/read/${roomId}/`, this.token, { raw });
  }

  me(slash = true) {
    return request<Profile>('GET', `/users/me${slash ? '/' : ''}`, this.token);
  }

  updateMe(body: unknown, slash = true) {
    return request<Profile>('PUT', `/users/me${slash ? '/' : ''}`, this.token, { json: body });
  }

  updateMeRaw(raw: string) {
    return request<Profile>('PUT', '/users/me/', this.token, { raw });
  }
}

function expectJson(result: HttpResult<unknown>): void {
  expect(result.headers.get('content-type') ?? '', `content-type of ${result.text}`).toMatch(
    /application\/json/,
  );
}

/** Asserts a success status and a JSON body, and returns the body. */
export function expectOk<T>(result: HttpResult<T>, status = 200): T {
  expect(result.status, `expected ${status}, got ${result.status}: ${result.text}`).toBe(status);
  expectJson(result);
  return result.body;
}

/** Asserts API.md's error shape: `{"error": {"code", "message"}}`, with no internal detail. */
export function expectError(result: HttpResult<unknown>, status: number, code: ErrorCode): void {
  expect(result.status, `expected ${status} ${code}, got ${result.status}: ${result.text}`).toBe(status);
  expectJson(result);
  const body = result.body as ErrorBody;
  expect(body, `error body: ${result.text}`).toEqual({
    error: { code, message: expect.any(String) },
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  // No stack trace or internal detail: no "    at fn (file:line:col)" frames, no source paths.
  expect(result.text).not.toMatch(/\\n\s+at |\.(?:ts|js):\d+|node_modules|"stack"\s*:/);
}
