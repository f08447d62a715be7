/**
 * Reproduction of a product bug found while building the e2e bench (see bench/README.md, findings):
 * when both participants of a room connect at the same moment, each `$connect` announces presence to
 * the other, whose connection is still inside its own `$connect`; API Gateway (and the emulator)
 * answers that post 410 Gone, and the fan-out's GoneException handling forgets the connection, which
 * then stays open but invisible to every later fan-out (no message ever reaches it).
 *
 * `npx tsx bench/repro-connect-race.ts`: 20 rooms, both participants connecting at once, then the
 * same with one participant of each room first. Prints how many open connections lost their
 * `conn#` record. Local stack only; stops it at the end.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type WebSocket from 'ws';
import { startLocalStack } from '../local/stack.js';
import { benchDb, closeAll, connect, inPool, signIn, startChat, tableNamesOf } from './lib/local.js';

const ROOMS = 20;

const stack = await startLocalStack({ port: 0, inMemory: true, quiet: true });
let failed = false;
try {
  const db = benchDb(stack, 'repro');
  const usersTable = tableNamesOf(stack).users;
  for (const mode of ['together', 'one side first'] as const) {
    const prefix = mode === 'together' ? 'race-t' : 'race-w';
    const ids = Array.from({ length: 2 * ROOMS }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
    const tokens = await inPool(ids, 8, (userId) => signIn(stack, userId));
    await inPool([...Array(ROOMS).keys()], 8, (k) =>
      startChat(stack, tokens[2 * k] ?? '', ids[2 * k + 1] ?? ''),
    );
    let sockets: WebSocket[];
    if (mode === 'together') {
      sockets = await Promise.all(tokens.map((token) => connect(stack, token)));
    } else {
      const first = await Promise.all(
        tokens.filter((_, i) => i % 2 === 0).map((token) => connect(stack, token)),
      );
      const second = await Promise.all(
        tokens.filter((_, i) => i % 2 === 1).map((token) => connect(stack, token)),
      );
      sockets = [...first, ...second];
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let lost = 0;
    for (const userId of ids) {
      const { Item } = await db.doc.send(new GetCommand({ TableName: usersTable, Key: { userId } }));
      if (!Object.keys(Item ?? {}).some((name) => name.startsWith('conn#'))) lost++;
    }
    console.log(
      `${mode}: ${lost}/${ids.length} open connections have no conn# record (no fan-out reaches them)`,
    );
    if (mode === 'together' && lost > 0) failed = true;
    await closeAll(sockets);
  }
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
