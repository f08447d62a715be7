import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../lambdas/domain/model.js';
import { CONNECTION_LIFETIME_SECONDS } from '../../../lambdas/domain/presence.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { T0 } from '../../fakes/clock.js';

const chatError = (code: string) => expect.objectContaining({ name: 'ChatError', code });
const online = (userId: string): ServerFrame => ({
  type: 'presence',
  userId,
  online: true,
  lastSeenAt: null,
});

describe('ChatService.typing', () => {
  it("relays typing to the other participant's connections only, and stores nothing", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    await world.connect('ann', 'a1');
    await world.connect('ann', 'a2');
    await world.connect('bob', 'b1');
    await world.connect('bob', 'b2', roomId);
    world.notifier.clear();

    await world.service.messaging.typing({ userId: 'ann', connectionId: 'a1' }, roomId, true);

    const frame: ServerFrame = { type: 'typing', roomId, userId: 'ann', isTyping: true };
    expect(world.notifier.deliveredTo()).toEqual(['b1', 'b2']);
    expect(world.notifier.framesFor('b1')).toEqual([frame]);
    expect(world.store.storedMessages(roomId)).toEqual([]);
  });

  it("does not relay typing to the other participant's connection scoped to another room", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const bobAndCat = await world.room('bob', 'cat');
    await world.connect('bob', 'b1', bobAndCat);
    world.notifier.clear();

    await world.service.messaging.typing({ userId: 'ann' }, roomId, false);

    expect(world.notifier.attempts).toEqual([]);
  });

  it('refuses a caller who is not a participant, or a connection scoped elsewhere, as forbidden', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    const annAndCat = await world.room('ann', 'cat');

    await expect(world.service.messaging.typing({ userId: 'cat' }, roomId, true)).rejects.toEqual(
      chatError('forbidden'),
    );
    await expect(
      world.service.messaging.typing(
        { userId: 'ann', connectionId: 'a1', scopeRoomId: annAndCat },
        roomId,
        true,
      ),
    ).rejects.toEqual(chatError('forbidden'));
  });
});

describe('ChatService.connect and disconnect', () => {
  it('records the connection on the profile and in the connections table, expiring after the 2-hour limit', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    await world.connect('ann', 'a1', roomId);

    const expiresAt = world.clock.nowSeconds() + CONNECTION_LIFETIME_SECONDS;
    expect(CONNECTION_LIFETIME_SECONDS).toBeGreaterThan(2 * 60 * 60);
    expect((await world.store.getUser('ann'))?.connections).toEqual([
      { connectionId: 'a1', roomId, expiresAt },
    ]);
    expect(world.store.connectionRecord('a1')).toEqual({
      connectionId: 'a1',
      userId: 'ann',
      roomId,
      connectedAt: T0,
      expiresAt,
    });
  });

  it('creates the profile of a first-time user with the suggested name', async () => {
    const world = makeWorld();

    await world.service.presence.connect({ userId: 'newbie', connectionId: 'n1' }, 'New Person');

    expect(await world.store.getUser('newbie')).toMatchObject({ displayName: 'New Person' });
  });

  it('announces the first connection as online to users who share a room, and to no one else', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.room('ann', 'cat');
    world.users('dan');
    await world.connect('bob', 'b1');
    await world.connect('cat', 'c1');
    await world.connect('dan', 'd1');
    world.notifier.clear();

    await world.connect('ann', 'a1');

    expect(world.notifier.deliveredTo()).toEqual(['b1', 'c1']);
    expect(world.notifier.framesFor('b1')).toEqual([online('ann')]);
  });

  it('announces nothing for a second connection', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a1');
    world.notifier.clear();

    await world.connect('ann', 'a2');

    expect(world.notifier.attempts).toEqual([]);
  });

  it('treats a first live connection as first even when an expired one is still recorded', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.store.seedConnection('ann', { connectionId: 'old', expiresAt: world.clock.nowSeconds() - 60 });
    world.notifier.clear();

    await world.connect('ann', 'a1');

    expect(world.notifier.framesFor('b1')).toEqual([online('ann')]);
  });

  it("tells a peer's scoped connection only about users of the room it is scoped to", async () => {
    const world = makeWorld();
    const annAndBob = await world.room('ann', 'bob');
    const bobAndCat = await world.room('bob', 'cat');
    await world.connect('bob', 'b-ann', annAndBob);
    await world.connect('bob', 'b-cat', bobAndCat);
    world.notifier.clear();

    await world.connect('ann', 'a1');

    expect(world.notifier.deliveredTo()).toEqual(['b-ann']);
  });

  it('posts nothing when a user with no rooms connects', async () => {
    const world = makeWorld();
    world.users('ann');

    await world.connect('ann', 'a1');

    expect(world.notifier.attempts).toEqual([]);
  });

  it('announces nothing when one of two connections closes', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a1');
    await world.connect('ann', 'a2');
    world.notifier.clear();

    await world.service.presence.disconnect({ userId: 'ann', connectionId: 'a1' });

    expect(world.notifier.attempts).toEqual([]);
    expect((await world.store.getUser('ann'))?.connections.map((c) => c.connectionId)).toEqual(['a2']);
  });

  it('announces offline with the time last seen when the last connection closes, and forgets it', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a1');
    world.clock.advance(90_000);
    world.notifier.clear();

    await world.service.presence.disconnect({ userId: 'ann', connectionId: 'a1' });

    const lastSeenAt = world.clock.now().toISOString();
    expect(world.notifier.framesFor('b1')).toEqual<ServerFrame[]>([
      { type: 'presence', userId: 'ann', online: false, lastSeenAt },
    ]);
    expect(await world.store.getUser('ann')).toMatchObject({ lastSeenAt, connections: [] });
    expect(world.store.connectionRecord('a1')).toBeUndefined();
  });

  it('handles a disconnect of a user without a profile quietly', async () => {
    const world = makeWorld();

    await world.service.presence.disconnect({ userId: 'nobody', connectionId: 'x1' });

    expect(await world.store.getUser('nobody')).toBeUndefined();
    expect(world.notifier.attempts).toEqual([]);
  });
});

describe('ChatService.mayConnect', () => {
  it('accepts an unscoped connection', async () => {
    const world = makeWorld();

    expect(await world.service.presence.mayConnect('ann', undefined)).toBe(true);
  });

  it("accepts a connection scoped to one of the caller's rooms", async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');

    expect(await world.service.presence.mayConnect('ann', roomId)).toBe(true);
    expect(await world.service.presence.mayConnect('bob', roomId)).toBe(true);
  });

  it('refuses a scope of a room the caller is not named in, without reading the store', async () => {
    const world = makeWorld();
    const roomId = await world.room('ann', 'bob');
    world.store.calls.length = 0;

    expect(await world.service.presence.mayConnect('cat', roomId)).toBe(false);
    expect(world.store.calls).toEqual([]);
  });

  it('refuses a scope of a room that was never started', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');

    expect(await world.service.presence.mayConnect('ann', 'chat_ann_bob')).toBe(false);
  });

  it('refuses a scope that is not a room name', async () => {
    const world = makeWorld();

    expect(await world.service.presence.mayConnect('ann', 'lobby')).toBe(false);
  });

  it('refuses a candidate of an ambiguous room name who is not its participant', async () => {
    const world = makeWorld();
    const roomId = await world.room('a', 'b_c');

    expect(await world.service.presence.mayConnect('a_b', roomId)).toBe(false);
    expect(await world.service.presence.mayConnect('b_c', roomId)).toBe(true);
  });
});

describe('ChatService profiles', () => {
  it('answers an existing profile as stored', async () => {
    const world = makeWorld();
    world.store.seedUser('ann', 'Ann A.', 'https://example.com/ann.png');

    expect(await world.service.profiles.getProfile('ann', 'ignored')).toMatchObject({
      userId: 'ann',
      displayName: 'Ann A.',
      avatarUrl: 'https://example.com/ann.png',
    });
  });

  it('creates a missing profile from the suggested name, or the user id without one', async () => {
    const world = makeWorld();

    const named = await world.service.profiles.getProfile('ann', 'Ann');
    const unnamed = await world.service.profiles.getProfile('bob', undefined);

    expect(named.displayName).toBe('Ann');
    expect(unnamed.displayName).toBe('bob');
  });

  it('updates the display name and avatar that peers then see in their chat list', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');

    await world.service.profiles.updateProfile(
      'bob',
      { displayName: 'Robert', avatarUrl: 'https://x.test/b.png' },
      undefined,
    );

    const listed = await world.service.rooms.listRooms('ann', 50, undefined);
    expect(listed.rooms[0]?.participants.find((p) => p.userId === 'bob')).toMatchObject({
      displayName: 'Robert',
      avatarUrl: 'https://x.test/b.png',
    });
  });
});
