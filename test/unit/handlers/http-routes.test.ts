import { beforeEach, describe, expect, it, vi } from 'vitest';

// The handler modules build their production service when imported: give them an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { UploadService } from '../../../lambdas/domain/uploads.js';
import { makeHandler as makeCreateAvatarUpload } from '../../../lambdas/http/create-avatar-upload.js';
import { makeHandler as makeCreateUpload } from '../../../lambdas/http/create-upload.js';
import { makeHandler as makeGetMessages } from '../../../lambdas/http/get-messages.js';
import { makeHandler as makeGetProfile } from '../../../lambdas/http/get-profile.js';
import { makeHandler as makeListRooms } from '../../../lambdas/http/list-rooms.js';
import { makeHandler as makeMarkRead } from '../../../lambdas/http/mark-read.js';
import { makeHandler as makeStartChat } from '../../../lambdas/http/start-chat.js';
import { makeHandler as makeUpdateProfile } from '../../../lambdas/http/update-profile.js';
import { type ChatWorld, makeWorld } from '../../fakes/chat-world.js';
import { ulidAt } from '../../fakes/clock.js';
import { httpEvent, parseHttpResult, withoutAuthorizer } from '../../fakes/events.js';
import { sampleFiles } from '../../fakes/files.js';

const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

const MAX_BYTES = 1000;
/** Upload forms over the world's rooms, with a form signer that shows what it was asked to bind. */
const uploadsOf = (w: ChatWorld) =>
  new UploadService(
    w.store,
    {
      form: async (request) => ({
        url: 'https://bucket.example/',
        fields: { key: request.key, 'Content-Type': request.contentType, size: String(request.size) },
        expiresAt: '2026-11-24T10:05:00.000Z',
      }),
    },
    MAX_BYTES,
  );

let world: ChatWorld;
beforeEach(() => {
  world = makeWorld();
});

describe('every REST route', () => {
  const routes = [
    ['GET /chat/list', () => makeListRooms(world.service.rooms, world.logger)],
    ['GET /chat/messages/{roomId}', () => makeGetMessages(world.service.messaging, world.logger)],
    ['POST /chat/start/{userId}', () => makeStartChat(world.service.rooms, world.logger)],
    ['POST /chat/read/{roomId}', () => makeMarkRead(world.service.messaging, world.logger)],
    ['GET /users/me', () => makeGetProfile(world.service.profiles, world.logger)],
    ['PUT /users/me', () => makeUpdateProfile(world.service.profiles, world.logger)],
    ['POST /chat/uploads/{roomId}', () => makeCreateUpload(uploadsOf(world), MAX_BYTES, world.logger)],
    ['POST /users/me/avatar', () => makeCreateAvatarUpload(uploadsOf(world), world.logger)],
  ] as const;

  it.each(routes)('%s answers 401 unauthorized without an authorizer context', async (routeKey, make) => {
    const handler = make();

    const result = parseHttpResult(
      await handler(withoutAuthorizer(httpEvent({ callerId: 'ann', routeKey }))),
    );

    expect(result.status).toBe(401);
    expect(result.body).toEqual({
      error: { code: 'unauthorized', message: 'A valid bearer token is required' },
    });
  });

  it.each(routes)('%s answers 401 unauthorized when the context has no user id', async (routeKey, make) => {
    const handler = make();

    const result = parseHttpResult(await handler(httpEvent({ callerId: '', routeKey })));

    expect(result.status).toBe(401);
  });
});

describe('POST /chat/start/{userId}', () => {
  const start = (callerId: string, userId: string) =>
    makeStartChat(
      world.service.rooms,
      world.logger,
    )(httpEvent({ callerId, routeKey: 'POST /chat/start/{userId}', pathParameters: { userId } })).then(
      parseHttpResult,
    );

  it('answers 201 with the new room as JSON', async () => {
    world.users('ann', 'bob');

    const result = await start('ann', 'bob');

    expect(result.status).toBe(201);
    expect(result.headers).toMatchObject({ 'content-type': expect.stringContaining('application/json') });
    expect(result.body).toEqual({
      room: {
        roomId: 'chat_ann_bob',
        participants: [
          { userId: 'ann', displayName: 'Ann', avatarUrl: null, online: false, lastSeenAt: null },
          { userId: 'bob', displayName: 'Bob', avatarUrl: null, online: false, lastSeenAt: null },
        ],
        lastMessage: null,
        unreadCount: 0,
        lastReadMessageId: null,
        createdAt: '2026-11-24T10:00:00.000Z',
        updatedAt: '2026-11-24T10:00:00.000Z',
      },
    });
  });

  it('answers 200 with the same room when it exists, from either side', async () => {
    world.users('ann', 'bob');
    await start('ann', 'bob');

    const again = await start('bob', 'ann');

    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ room: { roomId: 'chat_ann_bob' } });
  });

  it('answers 400 for a chat with oneself', async () => {
    world.users('ann');

    const result = await start('ann', 'ann');

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });

  it('answers 404 for an unknown user', async () => {
    world.users('ann');

    const result = await start('ann', 'ghost');

    expect(result.status).toBe(404);
    expect(result.body).toEqual(errorBody('not_found'));
  });

  it('answers 400 for a user id that cannot exist', async () => {
    const result = await start('ann', 'a#b');

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });

  it('answers 409 when the room name is held by other participants', async () => {
    world.users('a', 'b_c', 'a_b', 'c');
    await start('a', 'b_c');

    const result = await start('a_b', 'c');

    expect(result.status).toBe(409);
    expect(result.body).toEqual(errorBody('conflict'));
  });
});

describe('GET /chat/list', () => {
  const list = (callerId: string, query?: Record<string, string>) =>
    makeListRooms(
      world.service.rooms,
      world.logger,
    )(httpEvent({ callerId, routeKey: 'GET /chat/list', ...(query === undefined ? {} : { query }) })).then(
      parseHttpResult,
    );

  it("answers 200 with the caller's rooms and a null cursor", async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'hi');

    const result = await list('ann');

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      rooms: [expect.objectContaining({ roomId, lastMessage: message, unreadCount: 1 })],
      nextCursor: null,
    });
  });

  it('answers a page of limit rooms with a cursor to the next', async () => {
    await world.room('ann', 'bob');
    await world.room('ann', 'cat');

    const result = await list('ann', { limit: '1' });

    expect(result.status).toBe(200);
    expect(result.body).toEqual({ rooms: [expect.any(Object)], nextCursor: expect.any(String) });
  });

  it.each(['0', '101', 'ten', '-5'])('answers 400 for limit=%s', async (limit) => {
    const result = await list('ann', { limit });

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });

  it('answers 400 for a cursor this API never returned', async () => {
    await world.room('ann', 'bob');

    const result = await list('ann', { cursor: 'bogus' });

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });

  it('answers 500 internal with no stack trace or detail when the store fails, and logs the detail', async () => {
    world.store.failNext('activityPage', new Error('secret: table rooms-prod in 123456789012 throttled'));

    const result = await list('ann');

    expect(result.status).toBe(500);
    expect(result.body).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    expect(result.rawBody).not.toContain('secret');
    expect(result.rawBody).not.toContain('.ts');
    expect(world.logger.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        details: expect.objectContaining({ error: expect.stringContaining('secret') }),
      }),
    );
  });
});

describe('GET /chat/messages/{roomId}', () => {
  const getMessages = (callerId: string, roomId: string, query?: Record<string, string>) =>
    makeGetMessages(
      world.service.messaging,
      world.logger,
    )(
      httpEvent({
        callerId,
        routeKey: 'GET /chat/messages/{roomId}',
        pathParameters: { roomId },
        ...(query === undefined ? {} : { query }),
      }),
    ).then(parseHttpResult);

  it('answers 200 with the newest page oldest first, read flags and hasMore', async () => {
    const roomId = await world.room('ann', 'bob');
    await world.send('bob', roomId, 'one');
    const two = await world.send('ann', roomId, 'two');
    const three = await world.send('bob', roomId, 'three');

    const result = await getMessages('ann', roomId, { limit: '2' });

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      messages: [
        { ...two, read: false },
        { ...three, read: true },
      ],
      hasMore: true,
    });
  });

  it('marks the room read and sends the other participant a read event', async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'one');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    await getMessages('ann', roomId);

    expect(world.notifier.framesFor('b1')).toEqual([
      { type: 'read', roomId, userId: 'ann', messageId: message.messageId, readAt: expect.any(String) },
    ]);
  });

  it('answers the page before a message', async () => {
    const roomId = await world.room('ann', 'bob');
    const one = await world.send('bob', roomId, 'one');
    const two = await world.send('bob', roomId, 'two');

    const result = await getMessages('ann', roomId, { before: two.messageId });

    expect(result.body).toEqual({ messages: [{ ...one, read: false }], hasMore: false });
  });

  it('answers 403 to a caller who is not a participant', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await getMessages('cat', roomId);

    expect(result.status).toBe(403);
    expect(result.body).toEqual(errorBody('forbidden'));
  });

  it('answers 404 for a room that was never started', async () => {
    world.users('ann', 'bob');

    const result = await getMessages('ann', 'chat_ann_bob');

    expect(result.status).toBe(404);
    expect(result.body).toEqual(errorBody('not_found'));
  });

  it.each([
    ['a room id that is not a room name', 'lobby', {}],
    ['a bad limit', 'chat_ann_bob', { limit: '500' }],
    ['a before that is not a ULID', 'chat_ann_bob', { before: 'yesterday' }],
    ['an after that is not a ULID', 'chat_ann_bob', { after: '42' }],
    [
      'both before and after',
      'chat_ann_bob',
      { before: ulidAt('2026-11-24T10:00:00.000Z', 2), after: ulidAt('2026-11-24T10:00:00.000Z', 1) },
    ],
  ])('answers 400 for %s', async (_label, roomId, query) => {
    await world.room('ann', 'bob');

    const result = await getMessages('ann', roomId, query);

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });
});

describe('POST /chat/read/{roomId}', () => {
  const markRead = (callerId: string, roomId: string, body: string | undefined, isBase64Encoded = false) =>
    makeMarkRead(
      world.service.messaging,
      world.logger,
    )(
      httpEvent({
        callerId,
        routeKey: 'POST /chat/read/{roomId}',
        pathParameters: { roomId },
        ...(body === undefined ? {} : { body }),
        isBase64Encoded,
      }),
    ).then(parseHttpResult);

  it('answers 200 with the new pointer and sends a read event', async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'hi');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const result = await markRead('ann', roomId, JSON.stringify({ messageId: message.messageId }));

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      roomId,
      userId: 'ann',
      messageId: message.messageId,
      lastReadMessageId: message.messageId,
      unreadCount: 0,
      readAt: world.clock.now().toISOString(),
    });
    expect(world.notifier.framesFor('b1')).toHaveLength(1);
  });

  it('accepts a base64-encoded body', async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'hi');
    const body = Buffer.from(JSON.stringify({ messageId: message.messageId })).toString('base64');

    const result = await markRead('ann', roomId, body, true);

    expect(result.status).toBe(200);
  });

  it.each([
    ['no body', undefined],
    ['a body that is not JSON', '{"messageId":'],
    ['a JSON array', '["01JBQ2N7X0000000000000000A"]'],
    ['a JSON string', '"01JBQ2N7X0000000000000000A"'],
    ['no messageId', '{}'],
    ['a messageId that is not a ULID', '{"messageId":"latest"}'],
  ])('answers 400 for %s', async (_label, body) => {
    const roomId = await world.room('ann', 'bob');

    const result = await markRead('ann', roomId, body);

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });

  it('answers 413 for a body over 16 KB', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await markRead(
      'ann',
      roomId,
      JSON.stringify({ messageId: 'x', padding: 'p'.repeat(17_000) }),
    );

    expect(result.status).toBe(413);
    expect(result.body).toEqual(errorBody('too_large'));
  });

  it('answers 404 for a message that is not in the room', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await markRead(
      'ann',
      roomId,
      JSON.stringify({ messageId: ulidAt('2026-11-24T09:00:00.000Z', 1) }),
    );

    expect(result.status).toBe(404);
    expect(result.body).toEqual(errorBody('not_found'));
  });

  it('answers 403 to a caller who is not a participant', async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'hi');

    const result = await markRead('cat', roomId, JSON.stringify({ messageId: message.messageId }));

    expect(result.status).toBe(403);
    expect(result.body).toEqual(errorBody('forbidden'));
  });
});

describe('GET and PUT /users/me', () => {
  const getProfile = (callerId: string, name?: string) =>
    makeGetProfile(
      world.service.profiles,
      world.logger,
    )(httpEvent({ callerId, routeKey: 'GET /users/me', ...(name === undefined ? {} : { name }) })).then(
      parseHttpResult,
    );
  const putProfile = (callerId: string, body: string) =>
    makeUpdateProfile(
      world.service.profiles,
      world.logger,
    )(httpEvent({ callerId, routeKey: 'PUT /users/me', body })).then(parseHttpResult);

  it('answers the profile without presence or connections', async () => {
    world.store.seedUser('ann', 'Ann', 'https://example.com/ann.png');
    await world.connect('ann', 'a1');

    const result = await getProfile('ann');

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      userId: 'ann',
      displayName: 'Ann',
      avatarUrl: 'https://example.com/ann.png',
    });
  });

  it("creates the profile on first use from the token's name", async () => {
    const result = await getProfile('newbie', 'New Person');

    expect(result.body).toEqual({ userId: 'newbie', displayName: 'New Person', avatarUrl: null });
  });

  it('updates the name and avatar and answers the new profile', async () => {
    world.users('ann');

    const result = await putProfile(
      'ann',
      JSON.stringify({ displayName: '  Ann B.  ', avatarUrl: 'https://example.com/b.png' }),
    );

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      userId: 'ann',
      displayName: 'Ann B.',
      avatarUrl: 'https://example.com/b.png',
    });
  });

  it.each([
    ['an unknown field', { displayName: 'Ann', isAdmin: true }],
    ['no field at all', {}],
    ['an empty name', { displayName: '   ' }],
    ['a name of 81 characters', { displayName: 'x'.repeat(81) }],
    ['an http avatar', { avatarUrl: 'http://example.com/a.png' }],
    ['an avatar that is not a URL', { avatarUrl: 'me.png' }],
  ])('answers 400 for %s', async (_label, body) => {
    world.users('ann');

    const result = await putProfile('ann', JSON.stringify(body));

    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });
});

describe('POST /chat/uploads/{roomId}', () => {
  const createUpload = (callerId: string, roomId: string, body: unknown) =>
    makeCreateUpload(
      uploadsOf(world),
      MAX_BYTES,
      world.logger,
    )(
      httpEvent({
        callerId,
        routeKey: 'POST /chat/uploads/{roomId}',
        pathParameters: { roomId },
        body: JSON.stringify(body),
      }),
    ).then(parseHttpResult);

  it('answers 201 with a form for a key in the caller’s folder of the room', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await createUpload('ann', roomId, {
      fileName: 'brief.pdf',
      contentType: 'application/pdf',
      size: 12,
    });

    expect(result.status).toBe(201);
    const body = result.body as { uploadId: string };
    expect(result.body).toEqual({
      uploadId: expect.stringMatching(/^[0-9a-f]{32}$/),
      url: 'https://bucket.example/',
      fields: {
        key: `uploads/${roomId}/ann/${body.uploadId}`,
        'Content-Type': 'application/pdf',
        size: '12',
      },
      expiresAt: '2026-11-24T10:05:00.000Z',
      maxBytes: MAX_BYTES,
    });
  });

  it.each([
    [403, 'forbidden', 'cat', { fileName: 'a.pdf', contentType: 'application/pdf', size: 12 }],
    [413, 'too_large', 'ann', { fileName: 'a.pdf', contentType: 'application/pdf', size: MAX_BYTES + 1 }],
    [400, 'bad_request', 'ann', { fileName: 'a.exe', contentType: 'application/x-msdownload', size: 12 }],
    [400, 'bad_request', 'ann', { fileName: 'a.txt', contentType: 'text/plain', size: 0 }],
  ])('answers %i %s', async (status, code, callerId, body) => {
    const roomId = await world.room('ann', 'bob');
    world.users('cat');

    const result = await createUpload(callerId, roomId, body);

    expect(result.status).toBe(status);
    expect(result.body).toEqual(errorBody(code));
  });
});

describe('POST /users/me/avatar', () => {
  it('answers 201 with a form for a key in the caller’s avatar folder, and 400 for a GIF', async () => {
    const create = (body: unknown) =>
      makeCreateAvatarUpload(
        uploadsOf(world),
        world.logger,
      )(httpEvent({ callerId: 'ann', routeKey: 'POST /users/me/avatar', body: JSON.stringify(body) })).then(
        parseHttpResult,
      );

    const ok = await create({ contentType: 'image/png', size: 12 });
    const gif = await create({ contentType: 'image/gif', size: 12 });

    expect(ok.status).toBe(201);
    expect((ok.body as { fields: { key: string } }).fields.key).toMatch(/^avatars\/ann\/[0-9a-f]{32}$/);
    expect(gif.status).toBe(400);
  });
});

describe('PUT /users/me with an avatar upload', () => {
  const putProfile = (body: unknown) =>
    makeUpdateProfile(
      world.service.profiles,
      world.logger,
    )(httpEvent({ callerId: 'ann', routeKey: 'PUT /users/me', body: JSON.stringify(body) })).then(
      parseHttpResult,
    );

  it('sets a checked upload and answers its signed URL', async () => {
    world.users('ann');
    world.files.bucket.post(`avatars/ann/${'a'.repeat(32)}`, sampleFiles.png, 'image/png');

    const result = await putProfile({ avatarUploadId: 'a'.repeat(32) });

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      userId: 'ann',
      displayName: 'Ann',
      avatarUrl: `https://files.test/profiles/ann/${'a'.repeat(32)}?disposition=inline&name=avatar`,
    });
  });

  it.each([
    ['both avatar fields', { avatarUrl: 'https://example.com/a.png', avatarUploadId: 'a'.repeat(32) }],
    ['an upload id that no form gives', { avatarUploadId: '../bob/x' }],
    ['an upload that was never posted', { avatarUploadId: 'b'.repeat(32) }],
  ])('answers 400 for %s', async (_label, body) => {
    world.users('ann');
    const result = await putProfile(body);
    expect(result.status).toBe(400);
    expect(result.body).toEqual(errorBody('bad_request'));
  });
});
