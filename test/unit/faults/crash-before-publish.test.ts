/**
 * Fault: the send dies between its writes (a Lambda timeout or crash; a lost answer): after the room
 * commit and before the message is stored, or after storing it and before the fan-out. The client
 * retries with the same clientMessageId, as it must since it got no ack: the retry completes the send
 * exactly once, with the id and counts of its commit.
 */
import { describe, expect, it } from 'vitest';
import { failAfterOnce, failBeforeOnce, makeFaultWorld } from './support.js';

async function roomWithDevices(options: Parameters<typeof makeFaultWorld>[0]) {
  const world = makeFaultWorld(options);
  const roomId = await world.room('ann', 'bob');
  await world.connect('ann', 'a1');
  await world.connect('ann', 'a2');
  await world.connect('bob', 'b1');
  world.notifier.clear();
  return { world, roomId };
}

describe('a send that dies between its writes', () => {
  it('answers no ack and tells no one when it dies after the commit, before the message is stored', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failAfterOnce('commitMessage') });

    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-1')).rejects.toThrow(/crashed after/);

    expect(world.store.storedMessages(roomId)).toEqual([]);
    expect(world.notifier.attempts).toEqual([]);
  });

  it('completes on retry when it died after the commit: the committed id, stored once, counted once, delivered once', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failAfterOnce('commitMessage') });
    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-1')).rejects.toThrow();
    const committed = (await world.store.getRoom(roomId))?.lastMessage;

    const retried = await world.send('ann', 'a1', roomId, 'hello', 'crash-1');

    expect(retried).toEqual(committed);
    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
    expect(world.deliveriesOf('a2', retried)).toHaveLength(1);
  });

  it('answers the same ack on retry when it died after storing, and does not deliver it a second time', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failAfterOnce('putMessage') });
    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-2')).rejects.toThrow(/after putMessage/);
    const [stored] = world.store.storedMessages(roomId);

    const retried = await world.send('ann', 'a1', roomId, 'hello', 'crash-2');

    expect(retried).toEqual(stored);
    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    // Only the attempt that stores a message delivers it: Bob catches up from history (?after=).
    expect(world.notifier.attempts).toEqual([]);
    const page = await world.service.messaging.getMessages('bob', roomId, { after: '0', limit: 50 });
    expect(page.messages.map((m) => m.messageId)).toEqual([retried.messageId]);
  });

  it('completes on retry even when the sender sent a newer message before retrying', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failAfterOnce('commitMessage') });
    await expect(world.send('ann', 'a1', roomId, 'first', 'crash-3')).rejects.toThrow();
    // A raw client retries after its ack timeout; the user typed the next message meanwhile.
    const newer = await world.send('ann', 'a1', roomId, 'second', 'crash-4');

    const retried = await world.send('ann', 'a1', roomId, 'first', 'crash-3');

    expect(world.store.storedMessages(roomId)).toEqual([retried, newer]);
    expect(world.deliveriesOf('b1', newer)).toHaveLength(1);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
    expect(await world.unreadOf(roomId, 'bob')).toBe(2);
  });

  it('stores and delivers on retry when it died before the commit', async () => {
    const { world, roomId } = await roomWithDevices({ wrapStore: failBeforeOnce('commitMessage') });
    await expect(world.send('ann', 'a1', roomId, 'hello', 'crash-5')).rejects.toThrow(/before commitMessage/);
    expect((await world.store.getRoom(roomId))?.lastMessage).toBeNull();

    const retried = await world.send('ann', 'a1', roomId, 'hello', 'crash-5');

    expect(world.store.storedMessages(roomId)).toEqual([retried]);
    expect(await world.unreadOf(roomId, 'bob')).toBe(1);
    expect(world.deliveriesOf('b1', retried)).toHaveLength(1);
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
