/** API.md: `GET /users/me/` and `PUT /users/me/`, and the profile as other participants see it. */
import { afterEach, describe, expect, it } from 'vitest';
import { roomEntry } from './support/chat.js';
import { expectError, expectOk, RestClient } from './support/rest.js';
import { participantOf } from './support/shapes.js';
import { freshUsers, signIn, startRoom, type TestUser } from './support/users.js';
import { closeAllSockets } from './support/ws.js';

afterEach(closeAllSockets);

async function pair(): Promise<[TestUser, TestUser]> {
  return (await freshUsers(2)) as [TestUser, TestUser];
}

describe('GET /users/me/', () => {
  it("answers the caller's profile, with or without the trailing slash", async () => {
    const [ann] = await pair();
    const profile = expectOk(await ann.api.me());
    expect(profile).toMatchObject({ userId: ann.userId, displayName: 'Ann' });
    expect(profile.avatarUrl === null || /^https:\/\//.test(profile.avatarUrl)).toBe(true);
    expect(expectOk(await ann.api.me(false))).toEqual(profile);
  });
});

describe('PUT /users/me/', () => {
  it('updates the profile, answers it, and the other participant sees it in the chat list', async () => {
    const [ann, bob] = await pair();
    const room = await startRoom(ann, bob);
    const changes = { displayName: 'Ann Lee', avatarUrl: 'https://example.com/avatars/ann.png' };

    expect(expectOk(await ann.api.updateMe(changes))).toMatchObject({ userId: ann.userId, ...changes });
    expect(expectOk(await ann.api.me())).toMatchObject({ userId: ann.userId, ...changes });
    expect(participantOf(await roomEntry(bob, room), ann.userId)).toMatchObject({
      userId: ann.userId,
      ...changes,
    });

    const again = { displayName: 'Ann', avatarUrl: 'https://example.com/avatars/ann-2.png' };
    expect(expectOk(await ann.api.updateMe(again, false))).toMatchObject(again);
    expect(participantOf(await roomEntry(bob, room), ann.userId)).toMatchObject(again);
  });

  it('is kept when the user signs in again (sign-in creates a profile only if there is none)', async () => {
    const [ann] = await pair();
    const changes = { displayName: 'Ann Lee', avatarUrl: 'https://example.com/avatars/ann.png' };
    expectOk(await ann.api.updateMe(changes));
    const token = await signIn(ann.userId, 'Someone Else');
    expect(expectOk(await new RestClient(token).me())).toMatchObject({ userId: ann.userId, ...changes });
  });

  it('accepts names of 1 and 80 characters (code points)', async () => {
    const [ann] = await pair();
    for (const displayName of ['A', 'n'.repeat(80), '😀'.repeat(80)]) {
      const avatarUrl = 'https://example.com/a.png';
      expect(expectOk(await ann.api.updateMe({ displayName, avatarUrl }))).toMatchObject({
        displayName,
        avatarUrl,
      });
    }
  });

  it.each([
    ['an empty name', { displayName: '', avatarUrl: 'https://example.com/a.png' }],
    ['a blank name', { displayName: '   ', avatarUrl: 'https://example.com/a.png' }],
    ['an 81-character name', { displayName: 'n'.repeat(81), avatarUrl: 'https://example.com/a.png' }],
    ['a non-string name', { displayName: 42, avatarUrl: 'https://example.com/a.png' }],
    ['an http avatar', { displayName: 'Ann', avatarUrl: 'http://example.com/a.png' }],
    ['a javascript: avatar', { displayName: 'Ann', avatarUrl: 'javascript:alert(1)' }],
    ['an avatar that is not a URL', { displayName: 'Ann', avatarUrl: 'not a url' }],
  ])('answers 400 for %s and changes nothing', async (_label, body) => {
    const [ann] = await pair();
    const before = expectOk(await ann.api.me());
    expectError(await ann.api.updateMe(body), 400, 'bad_request');
    expect(expectOk(await ann.api.me())).toEqual(before);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const [ann] = await pair();
    expectError(await ann.api.updateMeRaw('{"displayName": '), 400, 'bad_request');
    expect(expectOk(await ann.api.me())).toMatchObject({ displayName: 'Ann' });
  });
});
