/**
 * Issue 6, fault: the send dies after the message is stored and before the room update or the
 * fan-out (a Lambda timeout or crash; a lost answer). The client retries with the same
 * clientMessageId, as it must since it got no ack: the retry must complete the send exactly once.
 */
import { describe, expect, it } from 'vitest';
import { failAfterRecordOnce, failBeforeRecordOnce, makeFaultWorld } from './support.js';

async function roomWithDevices(options: Parameters<typeof makeFaultWorld>[0]) {
  const world = makeFaultWorld(options);
  const roomId = await world.room('ann', 'bob');
  await world.connect('ann', 'a1');
  await world.connect('ann', 'a2');
  await world.connect('bob', 'b1');
  world.notifier.clear();
  return { world, roomId };
}

describe('a crash after the message is stored', () => {
  it('answers no ack and tells no one when it dies before the room update', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failBeforeRecordOnce });

    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-1')).rejects.toThrow(/crashed/);

    expect(world.store.storedMessages(roomId)).toHaveLength(1);
    expect(world.notifier.delivered).toEqual([]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(0);
  });

  it('completes on retry when it died before the room update: same message, stored once, counted once, delivered', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failBeforeRecordOnce });
    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-1')).rejects.toThrow();
    const [stored] = world.store.storedMessages(roomId);

    const retried = await world.send('ann', 'a1', roomId, 'hello', 'crash-1');

    expect(retried).toEqual(stored);
    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    expect((await world.store.getRoom(roomId))?.lastMessage).toEqual(retried);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
    expect(world.deliveriesOf('a2', retried)).toHaveLength(1);
  });

  it('completes on retry when it died after the room update, before the fan-out: the online recipient gets it', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failAfterRecordOnce });
    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-2')).rejects.toThrow(/before the fan-out/);
    expect(world.notifier.delivered).toEqual([]);

    const retried = await world.send('ann', 'a1', roomId, 'hello', 'crash-2');

    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    // Bob is online the whole time and was never told: the retry must deliver.
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
    expect(world.deliveriesOf('a2', retried)).toHaveLength(1);
  });

  it('completes on retry even when the sender sent a newer message before retrying', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failBeforeRecordOnce });
    await expect(world.send('ann', 'a1', roomId, 'first', 'crash-3')).rejects.toThrow();
    // The client's outbox retries after its ack timeout; the user typed the next message meanwhile.
    const newer = await world.send('ann', 'a1', roomId, 'second', 'crash-4');

    const retried = await world.send('ann', 'a1', roomId, 'first', 'crash-3');

    expect(world.store.storedMessages(roomId)).toEqual([retried, newer]);
    expect(world.deliveriesOf('b1', newer)).toHaveLength(1);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
    expect(await world.unreadOf(roomId, 'bob')).toBe(2);
  });

  it('acks only what is stored: a put that fails stores nothing, answers nothing and tells no one', async () => {
    const { world, roomId } = await roomWithDevices({});
    world.store.failNext('putMessage', new Error('DynamoDB unavailable'));

    await expect(world.send('ann', 'a1', roomId, 'hello', 'put-1')).rejects.toThrow(/unavailable/);

    expect(world.store.storedMessages(roomId)).toEqual([]);
    expect(world.notifier.attempts).toEqual([]);
    const retried = await world.send('ann', 'a1', roomId, 'hello', 'put-1');
    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
  });
});
