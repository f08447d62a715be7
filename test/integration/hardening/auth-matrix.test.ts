/**
 * The auth matrix against the running stack, on REST and WebSocket alike: every token here is refused
 * without the stack's signing key being needed (no token, malformed, an unknown kid, a bad signature
 * under the stack's own kid, alg none, HS256 keyed with the stack's public key, an embedded jwk or a
 * jku). Claim-level cases (expired, not yet valid, wrong issuer, audience or client, token use) need a
 * valid signature and run against the real verifier in test/unit/hardening/auth-matrix.test.ts.
 * Last, a valid token of a user who is not in the room: 403 on REST, 403 for a room-scoped handshake,
 * and a forbidden error frame for every action in that room.
 *
 * Refusals are exact: REST 401 `unauthorized` in the contract's shape (403 `forbidden` for the room of
 * others), a WebSocket handshake refused with 401 (docs/api.md; 403 for the room scope) and nothing
 * recorded: no connection record, no presence sent to the victim's chat partner.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  type Claims,
  decodeJwt,
  hmacJwt,
  publicKeySecrets,
  rsaKey,
  signJwt,
  unsignedJwt,
} from '../../unit/hardening/jwt-forge.js';
import { connectionRecords, storedMessageItems } from '../support/dynamo.js';
import { expectError, expectOk, protectedRoutes, request } from '../support/rest.js';
import { localStack } from '../support/stack-info.js';
import { freshUsers, roomOf, startRoom, type TestUser } from '../support/users.js';
import { closeAllSockets, handshake, type WsClient } from '../support/ws.js';

afterEach(closeAllSockets);

let ann: TestUser;
let bob: TestUser;
let cid: TestUser;
let roomAB: string;
let roomBC: string;
let stackKid: string;
let stackJwk: Record<string, string>;
let jkuServer: Server;
let jkuUrl: string;
let jkuHits = 0;

/** Signs under the stack's kid (set in each header): a forger's key. */
const forgerKey = rsaKey('forger');
const strangerKey = rsaKey(`unknown-${randomBytes(6).toString('hex')}`);

beforeAll(async () => {
  localStack();
  [ann, bob, cid] = (await freshUsers(3)) as [TestUser, TestUser, TestUser];
  roomAB = await startRoom(ann, bob);
  roomBC = await startRoom(bob, cid);
  const jwks = expectOk(
    await request<{ keys: Record<string, string>[] }>('GET', '/dev/jwks.json', undefined),
  );
  const [key] = jwks.keys;
  if (key?.kid === undefined) throw new Error('the stack publishes no kid');
  stackKid = key.kid;
  stackJwk = key;
  // A server of ours that a jku header points at: the stack must never fetch it.
  jkuServer = createServer((_req, res) => {
    jkuHits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ ...strangerKey.jwk }] }));
  });
  await new Promise<void>((resolve) => jkuServer.listen(0, '127.0.0.1', resolve));
  jkuUrl = `http://127.0.0.1:${(jkuServer.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => jkuServer?.close(() => resolve()));
});

/** Ann's own claims (issuer, audience, token use as the stack writes them), fresh times. */
function annClaims(extra: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return { ...decodeJwt(ann.token).claims, iat: now, auth_time: now, exp: now + 3600, ...extra };
}

/** Tokens that claim to be Ann and must authenticate nobody; `null` sends no token at all. */
function forgedTokens(): [string, string | null][] {
  const [annHeader = '', annPayload = '', annSignature = ''] = ann.token.split('.');
  const [cidHeader = '', , cidSignature = ''] = cid.token.split('.');
  const header = { alg: 'RS256', kid: stackKid, typ: 'JWT' };
  return [
    ['no token', null],
    ['an empty token', ''],
    ['not a JWT', 'not-a-jwt'],
    ['two segments (no signature)', `${annHeader}.${annPayload}`],
    ['bad base64', 'a!b.c$d.e%f'],
    [
      'a header that is not JSON',
      `${Buffer.from('nope').toString('base64url')}.${annPayload}.${annSignature}`,
    ],
    [
      'an unknown kid (a key of our own)',
      signJwt({ ...header, kid: strangerKey.kid }, annClaims(), strangerKey.privateKey),
    ],
    ['a bad signature under the stack kid', signJwt(header, annClaims(), forgerKey.privateKey)],
    [
      "Cid's token re-addressed to Ann (signature kept)",
      `${cidHeader}.${b64json(annClaims())}.${cidSignature}`,
    ],
    ['alg none, no signature', unsignedJwt({ alg: 'none', kid: stackKid, typ: 'JWT' }, annClaims())],
    [
      'alg none with a real signature',
      unsignedJwt({ alg: 'none', kid: stackKid, typ: 'JWT' }, decodeJwt(ann.token).claims, annSignature),
    ],
    ...publicKeySecrets(stackJwk).map(({ label, secret }): [string, string] => [
      `HS256 keyed with the stack's public key (${label})`,
      hmacJwt({ alg: 'HS256', kid: stackKid, typ: 'JWT' }, annClaims(), secret),
    ]),
    [
      'an embedded jwk header with our own key',
      signJwt({ ...header, kid: strangerKey.kid, jwk: strangerKey.jwk }, annClaims(), strangerKey.privateKey),
    ],
    [
      'a jku header pointing at our own JWKS',
      signJwt({ ...header, kid: strangerKey.kid, jku: jkuUrl }, annClaims(), strangerKey.privateKey),
    ],
    ['8 KB of junk', `${'a'.repeat(4000)}.${'b'.repeat(4000)}.c`],
  ];
}

/**
 * A connection of `watcher` that must never hear of `userId` coming online. The suite's stack closes
 * any connection after 10 s, so it is renewed as it ages; each check pings it first, so it was open.
 */
class PresenceWatch {
  private constructor(
    private readonly watcher: TestUser,
    private readonly userId: string,
    private socket: WsClient,
  ) {}

  static async open(watcher: TestUser, userId: string): Promise<PresenceWatch> {
    return new PresenceWatch(watcher, userId, await watcher.connect());
  }

  /** Nothing about `userId` so far (a presence would have been posted before the handshake answered). */
  async check(): Promise<void> {
    await this.socket.ping();
    expect(this.socket.buffered('presence').filter((frame) => frame.userId === this.userId)).toEqual([]);
    if (Date.now() - this.socket.openedAt > 5_000) {
      await this.socket.close();
      this.socket = await this.watcher.connect();
    }
  }

  /** The last check: a quiet window, then the ping that proves the connection was open. */
  async finish(): Promise<void> {
    await this.socket.expectNoFrame('presence', (frame) => frame.userId === this.userId);
    await this.check();
  }

  /** Control: `userId` coming online is heard. */
  async expectOnline(): Promise<void> {
    await this.socket.next('presence', (frame) => frame.userId === this.userId && frame.online);
  }
}

describe('REST: a forged or malformed token', () => {
  it('is refused with 401 unauthorized on every route, with and without the slash, and changes nothing', async () => {
    const storedBefore = await storedMessageItems(roomAB);
    const extra: [string, string][] = [
      ['a valid token under the Basic scheme', `Basic ${ann.token}`],
      ['a valid token without a scheme', ann.token],
      ['the Bearer scheme without a token', 'Bearer'],
      ['a valid token followed by junk', `Bearer ${ann.token} junk`],
    ];
    const failures: string[] = [];
    for (const [method, path, json] of protectedRoutes(roomAB, cid.userId)) {
      const cases: [string, string | null][] = [
        ...forgedTokens().map(([label, token]): [string, string | null] => [
          label,
          token === null ? null : `Bearer ${token}`,
        ]),
        ...extra,
      ];
      for (const [label, authorization] of cases) {
        for (const url of [path, path.replace(/\/$/, '')]) {
          const result = await request(method, url, undefined, { json, authorization });
          try {
            expectError(result, 401, 'unauthorized');
          } catch {
            failures.push(`${method} ${url} with ${label}: ${result.status} ${result.text.slice(0, 200)}`);
          }
        }
      }
    }
    // A valid token in the query string is not a bearer token.
    const inQuery = await request(
      'GET',
      `/users/me/?token=${ann.token}&access_token=${ann.token}`,
      undefined,
      {
        authorization: null,
      },
    );
    try {
      expectError(inQuery, 401, 'unauthorized');
    } catch {
      failures.push(`GET /users/me/?token=<valid>: ${inQuery.status} ${inQuery.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);

    // None of them acted as Ann: profile, rooms, read pointer and messages as they were.
    expect(expectOk(await ann.api.me())).toEqual({ userId: ann.userId, displayName: 'Ann', avatarUrl: null });
    const rooms = expectOk(await ann.api.listRooms()).rooms;
    expect(rooms.map((room) => [room.roomId, room.lastReadMessageId])).toEqual([[roomAB, null]]);
    expect(await storedMessageItems(roomAB)).toBe(storedBefore);
    expect(jkuHits).toBe(0);
  });
});

describe('WebSocket: a forged or malformed token', () => {
  it('is refused with 401 at the handshake, writes no connection record and tells no one', async () => {
    const bobWatch = await PresenceWatch.open(bob, ann.userId);
    const failures: string[] = [];
    for (const [label, token] of forgedTokens()) {
      for (const room of [undefined, roomAB]) {
        const result = await handshake(
          { ...(token === null ? {} : { token }), ...(room === undefined ? {} : { room }) },
          label,
        );
        if (result.outcome === 'open') {
          failures.push(`${label}${room ? ' (room scope)' : ''}: the handshake was accepted`);
          await result.client.close();
        } else if (token !== null && token.length > 4096) {
          // Over the WebSocket API's 4096-character URL quota: refused before any authorizer, with a
          // status AWS does not document (the local stack says 414).
          if (result.status < 400 || result.status > 499) {
            failures.push(
              `${label}${room ? ' (room scope)' : ''}: refused with ${result.status}, expected 4xx`,
            );
          }
        } else if (result.status !== 401) {
          failures.push(
            `${label}${room ? ' (room scope)' : ''}: refused with ${result.status}, expected 401`,
          );
        }
      }
      await bobWatch.check();
    }
    expect(failures).toEqual([]);

    expect(await connectionRecords(ann.userId)).toBe(0);
    await bobWatch.finish();
    expect(jkuHits).toBe(0);

    // Control: Ann's real connection is recorded and announced, so the silence above meant something.
    await ann.connect();
    await bobWatch.expectOnline();
    expect(await connectionRecords(ann.userId)).toBe(1);
  });
});

describe("a valid token for another user's room", () => {
  it('gets 403 forbidden on the REST routes of that room', async () => {
    const annWs = await ann.connect();
    const message = await annWs.sendMessage(roomAB, 'for Bob only', `m-${randomBytes(4).toString('hex')}`);

    expectError(await cid.api.messages(roomAB), 403, 'forbidden');
    expectError(await cid.api.messages(roomAB, { after: message.messageId }), 403, 'forbidden');
    expectError(await cid.api.markRead(roomAB, { messageId: message.messageId }), 403, 'forbidden');
    expect(expectOk(await cid.api.listRooms()).rooms.map((room) => room.roomId)).toEqual([roomBC]);
    // Bob's read state is not Cid's to move.
    const bobsEntry = expectOk(await bob.api.listRooms()).rooms.find((room) => room.roomId === roomAB);
    expect(bobsEntry?.lastReadMessageId).toBeNull();
  });

  it('is refused with 403 for a connection scoped to that room, with no record and no presence', async () => {
    const bobWatch = await PresenceWatch.open(bob, cid.userId);
    for (const room of [roomAB, roomOf(ann.userId, cid.userId), 'chat_not_a_room_of_cid', 'garbage']) {
      const result = await handshake({ token: cid.token, room }, `cid scoped to ${room}`);
      expect(result.outcome, room).toBe('refused');
      if (result.outcome === 'refused') expect(result.status, room).toBe(403);
      await bobWatch.check();
    }
    expect(await connectionRecords(cid.userId)).toBe(0);
    await bobWatch.finish();

    // Control: a scope Cid may use is accepted (and announced to Bob, who shares it).
    const scoped = await cid.connect({ room: roomBC });
    await scoped.ping();
    await bobWatch.expectOnline();
  });

  it('answers every action in that room with a forbidden error frame; nothing stored or relayed', async () => {
    const annWs = await ann.connect();
    const message = await annWs.sendMessage(roomAB, 'hello Bob', `m-${randomBytes(4).toString('hex')}`);
    const bobWs = await bob.connect();
    const cidWs = await cid.connect();
    const stored = await storedMessageItems(roomAB);

    const frames: [string, Record<string, unknown>][] = [
      ['sendMessage', { roomId: roomAB, content: 'let me in', clientMessageId: 'f-1', senderId: ann.userId }],
      ['markRead', { roomId: roomAB, messageId: message.messageId }],
      ['typing', { roomId: roomAB, isTyping: true }],
    ];
    for (const [action, fields] of frames) {
      cidWs.send({ action, ...fields });
      const error = await cidWs.next('error', (frame) => frame.action === action);
      expect(error).toEqual({
        type: 'error',
        code: 'forbidden',
        message: expect.any(String),
        action,
        ...(fields.clientMessageId === undefined ? {} : { clientMessageId: fields.clientMessageId }),
      });
      await cidWs.ping();
      await bobWs.ping();
    }

    expect(await storedMessageItems(roomAB)).toBe(stored);
    await bobWs.expectNoFrame('chat_message');
    await bobWs.expectNoFrame('typing');
    await bobWs.expectNoFrame('read');
    await bobWs.ping();
    const bobsEntry = expectOk(await bob.api.listRooms()).rooms.find((room) => room.roomId === roomAB);
    expect(bobsEntry?.lastReadMessageId).toBeNull();
  });

  it("refuses a room-scoped connection's action in another room it belongs to (the scope binds)", async () => {
    const scoped = await bob.connect({ room: roomAB });
    const cidWs = await cid.connect();
    const stored = await storedMessageItems(roomBC);
    scoped.send({ action: 'sendMessage', roomId: roomBC, content: 'out of scope', clientMessageId: 's-1' });
    expect(await scoped.next('error')).toEqual({
      type: 'error',
      code: 'forbidden',
      message: expect.any(String),
      action: 'sendMessage',
      clientMessageId: 's-1',
    });
    await scoped.ping();
    expect(await storedMessageItems(roomBC)).toBe(stored);
    await cidWs.expectNoFrame('chat_message');
    await cidWs.ping();
  });
});
