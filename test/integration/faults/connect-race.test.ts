/**
 * Issue 6, found by the load run: `$connect` records the connection before it returns, but API
 * Gateway answers 410 to posts for a connection until its `$connect` has returned and the handshake
 * is complete. Whatever is posted to it in that window (the presence of a partner connecting at the
 * same moment, a message sent meanwhile) must not make the fan-out forget it: once open, it would
 * never get anything again. (A message fanned out in that window does the same: see the unit test
 * test/unit/faults/connect-race.test.ts, which can time it exactly.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets } from '../support/ws.js';
import {
  connectionAttributes,
  connectTo,
  openConnectionIds,
  pairInRoom,
  sharedStack,
} from './support/stack.js';

afterEach(closeAllSockets);

const DELIVERY_MS = 3_000;

describe('a post to a connection still in its $connect', () => {
  it('keeps both connections of two partners who come online at the same moment', async () => {
    const target = sharedStack();
    const outcomes: string[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const { ann, bob, roomId } = await pairInRoom(target);

      const [annWs, bobWs] = await Promise.all([connectTo(target, ann), connectTo(target, bob)]);
      // Both handshakes are complete: each side is open and served.
      await Promise.all([annWs.ping(), bobWs.ping()]);
      const fromAnn = await annWs.sendMessage(roomId, 'hi Bob', `race-${trial}-a`);
      const fromBob = await bobWs.sendMessage(roomId, 'hi Ann', `race-${trial}-b`);

      const got = await Promise.all([
        bobWs
          .next('chat_message', (f) => f.message.messageId === fromAnn.messageId, DELIVERY_MS)
          .then(
            () => 'Bob got it',
            () => 'Bob missed it',
          ),
        annWs
          .next('chat_message', (f) => f.message.messageId === fromBob.messageId, DELIVERY_MS)
          .then(
            () => 'Ann got it',
            () => 'Ann missed it',
          ),
      ]);
      const records = {
        ann: (await connectionAttributes(target, ann.userId)).length,
        bob: (await connectionAttributes(target, bob.userId)).length,
        annOpen: (await openConnectionIds(target, ann.userId)).length,
        bobOpen: (await openConnectionIds(target, bob.userId)).length,
      };
      outcomes.push(
        `trial ${trial}: ${got.join(', ')}; recorded connections ann ${records.ann}/${records.annOpen} open, bob ${records.bob}/${records.bobOpen} open`,
      );
      await closeAllSockets();
    }
    expect(outcomes.join('\n')).not.toMatch(/missed|ann 0\/1|bob 0\/1/);
  });
});
