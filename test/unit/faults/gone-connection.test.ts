/** Issue 6, fault: API Gateway answers 410 (GoneException) for one of a participant's connections. */
import { describe, expect, it } from 'vitest';
import { makeFaultWorld } from './support.js';

async function bobWithAStaleConnection() {
  const world = makeFaultWorld();
  const roomId = await world.room('ann', 'bob');
  await world.connect('ann', 'a1');
  await world.connect('ann', 'a2');
  await world.connect('bob', 'b-stale');
  await world.connect('bob', 'b-live');
  // Some time later API Gateway no longer knows b-stale, and its $disconnect never ran (AWS does
  // not promise it). Its record is older than any handshake still in progress could be.
  world.clock.advance(10 * 60 * 1000);
  world.notifier.markGone('b-stale');
  world.notifier.clear();
  return { world, roomId };
}

describe('a 410 on one connection', () => {
  it("stores the message once, acks it, and delivers it to the participant's other connections", async () => {
    const { world, roomId } = await bobWithAStaleConnection();

    const message = await world.send('ann', 'a1', roomId, 'are you there?', 'gone-1');

    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect(world.deliveriesOf('b-live', message)).toEqual([{ type: 'chat_message', message }]);
    expect(world.deliveriesOf('a2', message)).toEqual([{ type: 'chat_message', message }]);
    expect(world.notifier.attemptsTo('b-stale')).toBe(1);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
  });

  it("deletes the stale connection's record and its entry on the user, and nothing else", async () => {
    const { world, roomId } = await bobWithAStaleConnection();

    await world.send('ann', 'a1', roomId, 'are you there?', 'gone-1');

    expect(world.store.connectionRecord('b-stale')).toBeUndefined();
    expect(await world.liveConnectionsOf('bob')).toEqual(['b-live']);
    expect(world.store.connectionRecord('b-live')).toMatchObject({ userId: 'bob' });
    // The sender's connections are not the stale one: both stay.
    expect(await world.liveConnectionsOf('ann')).toEqual(['a1', 'a2']);
  });

  it('does not post to the forgotten connection again, and keeps delivering to the live ones', async () => {
    const { world, roomId } = await bobWithAStaleConnection();
    await world.send('ann', 'a1', roomId, 'first', 'gone-1');
    world.notifier.clear();

    const second = await world.send('ann', 'a1', roomId, 'second', 'gone-2');

    expect(world.notifier.attemptsTo('b-stale')).toBe(0);
    expect(world.deliveriesOf('b-live', second)).toHaveLength(1);
    expect(world.store.storedMessages(roomId)).toHaveLength(2);
  });

  it('stores once, counts unread and keeps it in history when every connection of the recipient is gone', async () => {
    const { world, roomId } = await bobWithAStaleConnection();
    world.notifier.markGone('b-live');

    const message = await world.send('ann', 'a1', roomId, 'for later', 'gone-3');

    expect(world.store.storedMessages(roomId)).toEqual([message]);
    expect(await world.liveConnectionsOf('bob')).toEqual([]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    const history = await world.service.messaging.getMessages('bob', roomId, {
      after: '0'.repeat(26),
      limit: 10,
    });
    expect(history.messages.map((m) => m.messageId)).toEqual([message.messageId]);
  });
});
