/**
 * Issue 6, found by the load run: a connection is recorded by its own `$connect`, but API Gateway
 * answers 410 to posts for it until `$connect` has returned and the handshake is complete. A post
 * in that window (a message, or the presence of a partner connecting at the same moment) must not
 * make the fan-out forget the connection: it is about to be open, and then gets nothing ever again.
 */
import { describe, expect, it } from 'vitest';
import { HandshakeNotifier, makeFaultWorld } from './support.js';

function worldWithHandshakes() {
  let handshakes: HandshakeNotifier | undefined;
  const world = makeFaultWorld({
    wrapNotifier: (notifier) => {
      handshakes = new HandshakeNotifier(notifier);
      return handshakes;
    },
  });
  if (handshakes === undefined) throw new Error('notifier not wrapped');
  return { world, handshakes };
}

describe('a post to a connection still in its $connect', () => {
  it('keeps the connection, so it gets the messages sent once it is open', async () => {
    const { world, handshakes } = worldWithHandshakes();
    const roomId = await world.room('ann', 'bob');
    await world.connect('ann', 'a1');

    // Bob's $connect has recorded b1 and is still running (announcing his presence) ...
    handshakes.startHandshake('b1');
    await world.connect('bob', 'b1');
    // ... when Ann's message is fanned out: API Gateway answers 410 for b1.
    await world.send('ann', 'a1', roomId, 'sent while Bob connects', 'race-1');
    handshakes.completeHandshake('b1');

    const later = await world.send('ann', 'a1', roomId, 'sent once Bob is connected', 'race-2');

    expect(await world.liveConnectionsOf('bob')).toEqual(['b1']);
    expect(world.deliveriesOf('b1', later)).toEqual([{ type: 'chat_message', message: later }]);
  });

  it('keeps both connections of two partners who connect at the same moment', async () => {
    const { world, handshakes } = worldWithHandshakes();
    const roomId = await world.room('ann', 'bob');

    // Both handshakes in progress; Bob's $connect announces him to Ann's just-recorded connection.
    handshakes.startHandshake('a1');
    handshakes.startHandshake('b1');
    await world.connect('ann', 'a1');
    await world.connect('bob', 'b1');
    handshakes.completeHandshake('a1');
    handshakes.completeHandshake('b1');

    const fromBob = await world.send('bob', 'b1', roomId, 'hi Ann', 'race-3');

    expect(await world.liveConnectionsOf('ann')).toEqual(['a1']);
    expect(world.deliveriesOf('a1', fromBob)).toHaveLength(1);
  });
});
