/**
 * The seed's paths end in "/"; the HTTP API's routes cannot. "/chat/list/" reaches the `ANY /{proxy+}`
 * route, whose function answers 308 to "/chat/list": the same mechanism on the local stack as on AWS.
 */
import { describe, expect, it } from 'vitest';
import { expectOk, request } from './support/rest.js';
import { stack } from './support/stack-info.js';
import { freshUsers, type TestUser } from './support/users.js';

describe('trailing slash', () => {
  it('GET /chat/list/ answers 308 to /chat/list, without the authorizer, and a client following it gets the list', async () => {
    const [ann, bob] = (await freshUsers(2)) as [TestUser, TestUser];
    expectOk(await ann.api.startRoom(bob.userId, false), 201);

    const redirect = await fetch(`${stack().restUrl}/chat/list/?limit=5`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/chat/list?limit=5');

    const followed = await fetch(`${stack().restUrl}/chat/list/?limit=5`, {
      headers: { authorization: `Bearer ${ann.token}` },
    });
    expect(followed.redirected).toBe(true);
    expect(followed.status).toBe(200);
    const { rooms } = (await followed.json()) as { rooms: { roomId: string }[] };
    expect(rooms.map((room) => room.roomId)).toHaveLength(1);
  });

  it('keeps the method and the body through the redirect: PUT /users/me/ updates the profile', async () => {
    const [ann] = (await freshUsers(1)) as [TestUser];
    const result = await request<{ displayName: string }>('PUT', '/users/me/', ann.token, {
      json: { displayName: 'Ann Slash' },
    });
    expect(expectOk(result).displayName).toBe('Ann Slash');
    expect(expectOk(await ann.api.me(false)).displayName).toBe('Ann Slash');
  });

  it('answers 404 in the contract shape for a path that names no route, slash or not', async () => {
    for (const path of ['/chat/lists/', '/chat/list//', '/nope']) {
      const response = await fetch(`${stack().restUrl}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});
