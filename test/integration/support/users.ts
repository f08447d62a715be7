/**
 * Test users. Locally every call signs in brand-new users (ids unique per run and per call), so
 * tests never see each other's rooms. Against a deployed stack the users are the fixed CHAT_TOKEN_n.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { RestClient } from './rest.js';
import { stack } from './stack-info.js';
import { type ConnectOptions, openWs, type WsClient } from './ws.js';

export interface TestUser {
  readonly userId: string;
  readonly displayName: string;
  readonly token: string;
  readonly api: RestClient;
  /** Opens a WebSocket for this user (room-scoped with `{ room }`), resolving once it is open. */
  connect(options?: Omit<ConnectOptions, 'token'>): Promise<WsClient>;
}

/**
 * A user id no other test uses: letters and digits only, so that room names parse one way.
 * `extra` may add the other allowed characters (`_ . @ + -`).
 */
export function uniqueUserId(label: string, extra = ''): string {
  return `${label}${Date.now().toString(36)}${randomBytes(4).toString('hex')}${extra}`;
}

export async function signIn(userId: string, displayName: string): Promise<string> {
  const { restUrl } = stack();
  const response = await fetch(`${restUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, displayName }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  expect(response.status, `sign-in of ${userId}: ${text}`).toBe(200);
  const { token } = JSON.parse(text) as { token?: unknown };
  if (typeof token !== 'string') throw new Error(`sign-in of ${userId} gave no token: ${text}`);
  return token;
}

/** The `sub` claim of a JWT, without verifying it (the server does that). */
export function subOf(token: string): string {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  const { sub } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
  if (typeof sub !== 'string') throw new Error('JWT without sub');
  return sub;
}

function makeUser(userId: string, displayName: string, token: string): TestUser {
  return {
    userId,
    displayName,
    token,
    api: new RestClient(token),
    connect: (options = {}) => openWs({ ...options, token }),
  };
}

const DEFAULT_NAMES = ['Ann', 'Bob', 'Cid'] as const;

/** Signs in fresh users (A, B, C by default) locally; the CHAT_TOKEN_n users remotely. */
export async function freshUsers(count = 3, names: readonly string[] = DEFAULT_NAMES): Promise<TestUser[]> {
  const { local, remoteTokens } = stack();
  if (local === null) {
    if (remoteTokens.length < count) {
      throw new Error(`This test needs ${count} users: set CHAT_TOKEN_1..CHAT_TOKEN_${count}`);
    }
    return remoteTokens
      .slice(0, count)
      .map((token, i) => makeUser(subOf(token), names[i] ?? `User ${i}`, token));
  }
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const displayName = names[i] ?? `User ${i}`;
      const userId = uniqueUserId(displayName.toLowerCase().replace(/[^a-z]/g, '') || 'u');
      return makeUser(userId, displayName, await signIn(userId, displayName));
    }),
  );
}

/** A user signed in locally with a chosen id (local stack only). */
export async function userWithId(userId: string, displayName: string): Promise<TestUser> {
  return makeUser(userId, displayName, await signIn(userId, displayName));
}

/** The room of two users, as API.md names it: `chat_{a}_{b}` with the ids sorted as strings. */
export function roomOf(x: string, y: string): string {
  return x < y ? `chat_${x}_${y}` : `chat_${y}_${x}`;
}

/** Starts the room of `a` and `b` (by `a`) and returns its id. */
export async function startRoom(a: TestUser, b: TestUser): Promise<string> {
  const result = await a.api.startRoom(b.userId);
  expect([200, 201], `start ${a.userId} -> ${b.userId}: ${result.text}`).toContain(result.status);
  return result.body.room.roomId;
}
