/**
 * API.md "Authentication": every REST route answers 401 without a valid Bearer token; a WebSocket
 * handshake without a valid token (or for a room of others) is refused and writes no connection record.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionRecords } from './support/dynamo.js';
import { expectError, expectOk, protectedRoutes, request } from './support/rest.js';
import { stack } from './support/stack-info.js';
import { freshUsers, roomOf, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets, handshake } from './support/ws.js';

afterEach(closeAllSockets);

let ann: TestUser;
let bob: TestUser;
let cid: TestUser;
let roomAB: string;

beforeAll(async () => {
  [ann, bob, cid] = (await freshUsers(3)) as [TestUser, TestUser, TestUser];
  roomAB = await startRoom(ann, bob);
  await startRoom(bob, cid);
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that must not authenticate anyone. */
function badAuthorizations(): [string, string | null][] {
  const [header = '', , signature = ''] = ann.token.split('.');
  const payload = JSON.parse(
    Buffer.from(ann.token.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as Record<string, unknown>;
  return [
    ['no Authorization header', null],
    ['a token that is not a JWT', 'Bearer not-a-jwt'],
    // Ann's signature on a payload that says Bob: the signature no longer matches.
    ['a JWT with a forged payload', `Bearer ${header}.${b64({ ...payload, sub: bob.userId })}.${signature}`],
    ['an unsigned JWT (alg none)', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`],
    ['a valid token in a Basic header', `Basic ${ann.token}`],
  ];
}

describe('REST authentication', () => {
  it('answers 401 unauthorized on every route without a valid Bearer token, and changes nothing', async () => {
    const failures: string[] = [];
    for (const [method, path, json] of protectedRoutes(roomAB, cid.userId)) {
      for (const [label, authorization] of badAuthorizations()) {
        for (const url of [path, path.replace(/\/$/, '')]) {
          const result = await request(method, url, undefined, { json, authorization });
          try {
            expectError(result, 401, 'unauthorized');
          } catch {
            failures.push(`${method} ${url} with ${label}: ${result.status} ${result.text}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);

    // None of the refused calls acted: no profile change, no room with Cid.
    expect(expectOk(await ann.api.me())).toMatchObject({ userId: ann.userId, displayName: 'Ann' });
    const annRooms = expectOk(await ann.api.listRooms()).rooms.map((r) => r.roomId);
    expect(annRooms).toEqual([roomAB]);
  });

  it('accepts the same routes with the valid token (the 401s above are about the token)', async () => {
    expectOk(await ann.api.listRooms());
    expectOk(await ann.api.messages(roomAB));
    expectOk(await ann.api.me());
  });
});

describe('WebSocket handshake', () => {
  it('is refused (401 or 403) without a token or with a bad one', async () => {
    const [, , signature = ''] = ann.token.split('.');
    const [header = '', payload = ''] = bob.token.split('.');
    const cases: [string, Record<string, string> | undefined, string | undefined][] = [
      ['no token', undefined, undefined],
      ['an empty token', undefined, ''],
      ['a token that is not a JWT', undefined, 'not-a-jwt'],
      ['a forged token', undefined, `${header}.${payload}.${signature}`],
      ['the token under another name', { access_token: ann.token }, undefined],
    ];
    for (const [label, query, token] of cases) {
      const result = await handshake({ token, query }, label);
      expect(result.outcome, label).toBe('refused');
      if (result.outcome === 'refused')
        expect([401, 403], `${label}: ${result.status}`).toContain(result.status);
    }
  });

  it('refuses a room-scoped connection to a room of others with 403 and records no connection', async () => {
    const bobWs = await bob.connect();
    // Cid shares a room with Bob, so a connection record for Cid would tell Bob that Cid is online.
    const refused = await handshake({ token: cid.token, room: roomAB }, 'cid scoped to ann+bob');
    expect(refused.outcome).toBe('refused');
    if (refused.outcome === 'refused') expect(refused.status).toBe(403);

    // A room Cid's name is in but that was never started: Cid is not a participant either.
    const neverStarted = await handshake({ token: cid.token, room: roomOf(ann.userId, cid.userId) });
    expect(neverStarted.outcome).toBe('refused');
    if (neverStarted.outcome === 'refused') expect(neverStarted.status).toBe(403);

    await bobWs.expectNoFrame('presence', (f) => f.userId === cid.userId);
    if (stack().local) expect(await connectionRecords(cid.userId)).toBe(0);

    // Control: a real connection of Cid is announced, so the silence above meant something.
    await cid.connect();
    await bobWs.next('presence', (f) => f.userId === cid.userId && f.online);
  });

  it('accepts a room-scoped connection of a participant', async () => {
    const scoped = await ann.connect({ room: roomAB });
    await scoped.ping();
  });
});
