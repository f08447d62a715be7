/**
 * DESIGN.md / API Gateway limits the local stack enforces: 32 KB frames, the idle timeout and the
 * maximum connection time. The global setup shortens the last two (see global-setup.ts); against a
 * deployed stack they are 10 minutes and 2 hours, which is why those checks need the local stack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectionRecords } from './support/dynamo.js';
import { localStack, stack } from './support/stack-info.js';
import { freshUsers, startRoom, type TestUser } from './support/users.js';
import { eventually } from './support/wait.js';
import { closeAllSockets, type WsClient } from './support/ws.js';

afterEach(closeAllSockets);

/** Timer slack for the server's checks on a busy 2-core machine. */
const SLACK_MS = 2_500;

describe('frame size', () => {
  it('closes the connection with 1009 for a frame over 32 KB, and forgets it', async () => {
    const [ann, bob] = (await freshUsers(2)) as [TestUser, TestUser];
    const room = await startRoom(ann, bob);
    const bobWs = await bob.connect();
    const annWs = await ann.connect();
    await bobWs.next('presence', (f) => f.userId === ann.userId && f.online);

    annWs.send({ action: 'sendMessage', roomId: room, content: 'a'.repeat(33_000), clientMessageId: 'big' });
    const closed = await annWs.waitClosed(5_000);
    expect(closed.code).toBe(1009);

    // The close went through $disconnect like any other.
    await bobWs.next('presence', (f) => f.userId === ann.userId && !f.online);
    if (stack().local) expect(await connectionRecords(ann.userId)).toBe(0);
  });

  it('keeps the connection open for a frame under 32 KB (an error frame for the too-long content)', async () => {
    const [ann, bob] = (await freshUsers(2)) as [TestUser, TestUser];
    const room = await startRoom(ann, bob);
    const ws = await ann.connect();
    const frame = JSON.stringify({
      action: 'sendMessage',
      roomId: room,
      content: '',
      clientMessageId: 'near',
    });
    // 31,000 bytes: under the limit whether 32 KB means 32,000 or 32,768 bytes.
    const content = 'a'.repeat(31_000 - frame.length);
    ws.send({ action: 'sendMessage', roomId: room, content, clientMessageId: 'near' });
    expect(await ws.next('error')).toMatchObject({ code: 'bad_request', clientMessageId: 'near' });
    await ws.ping();
  });
});

describe('connection lifetime', () => {
  it('closes an idle connection after the idle timeout, and any connection after the maximum time', async () => {
    const { idleTimeoutMs, maxConnectionMs } = localStack();
    const [ann] = (await freshUsers(1)) as [TestUser];
    const idle = await ann.connect();
    const busy = await ann.connect();

    // `busy` sends a ping a few times per idle period, which keeps it from being idle.
    let pings = 0;
    const keepBusy = (async (ws: WsClient) => {
      while (ws.isOpen) {
        await ws.ping(idleTimeoutMs).then(
          () => pings++,
          () => undefined,
        );
        await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs / 4));
      }
    })(busy);

    const idleClosed = await idle.waitClosed(idleTimeoutMs + SLACK_MS);
    const idleFor = idleClosed.at - idle.openedAt;
    expect(idleFor).toBeGreaterThanOrEqual(idleTimeoutMs - 250);
    expect(busy.isOpen, 'the busy connection outlives the idle one').toBe(true);

    const busyClosed = await busy.waitClosed(maxConnectionMs + SLACK_MS);
    const lived = busyClosed.at - busy.openedAt;
    expect(lived).toBeGreaterThanOrEqual(maxConnectionMs - 250);
    expect(pings).toBeGreaterThan(maxConnectionMs / idleTimeoutMs);
    await keepBusy;

    await eventually(
      () => connectionRecords(ann.userId),
      (n) => n === 0,
      { what: 'both connection records removed' },
    );
  }, 30_000);
});
