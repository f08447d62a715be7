/**
 * Issue 6, fault: DynamoDB Local stops in the middle of a run and starts again, its data on disk.
 * This file starts a stack of its own (its own port, a temporary data folder) in this test worker,
 * since the run's shared stack keeps its data in memory. While the database is down a send gets an
 * error frame, never an ack, and the connection stays open; after the restart every acked message
 * is in the history exactly once, and the failed sends, retried with their clientMessageId, succeed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../../local/stack.js';
import type { Message, ServerFrame } from '../support/api-types.js';
import { closeAllSockets, type WsClient } from '../support/ws.js';
import {
  type FaultStack,
  faultStackOf,
  historyOf,
  onlinePair,
  roomEntryOf,
  storedMessages,
} from './support/stack.js';

let local: LocalStack | undefined;
let target: FaultStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chat-dynamo-restart-'));
  // The outage makes every handler that touches DynamoDB log its failure: expected here, so quiet.
  process.env.LOG_LEVEL = 'SILENT';
  const { startLocalStack } = await import('../../../local/stack.js');
  local = await startLocalStack({ port: 0, dataDir, quiet: true, idleTimeoutMs: 120_000 });
  target = faultStackOf(local);
}, 120_000);

afterEach(closeAllSockets);

afterAll(async () => {
  await local?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

type Answer = Extract<ServerFrame, { type: 'ack' | 'error' }>;

/** The first ack or error frame for `clientMessageId` received from `since` on (frames stay buffered). */
async function answerTo(
  ws: WsClient,
  clientMessageId: string,
  since: number,
  timeoutMs = 20_000,
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = ws.received
      .slice(since)
      .find(
        (frame): frame is Answer =>
          (frame.type === 'ack' || frame.type === 'error') && frame.clientMessageId === clientMessageId,
      );
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`no answer to ${clientMessageId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function requireStack(): LocalStack {
  if (local === undefined) throw new Error('the stack did not start');
  return local;
}

describe('DynamoDB Local stopped and restarted during a run', () => {
  it('errors (never acks) while it is down, keeps the connection, loses no acked message, and retries succeed after', async () => {
    const stack = requireStack();
    const { bob, roomId, annWs, bobWs } = await onlinePair(target);
    const content = (clientMessageId: string) => `message ${clientMessageId}`;
    const send = (clientMessageId: string) =>
      annWs.send({ action: 'sendMessage', roomId, content: content(clientMessageId), clientMessageId });

    const acked: Message[] = [];
    for (const id of ['before-1', 'before-2', 'before-3']) {
      acked.push(await annWs.sendMessage(roomId, content(id), id));
    }
    // One send in flight as the database goes away: it may be acked or refused, never both.
    const racingFrom = annWs.received.length;
    send('racing');
    await stack.stopDynamo();

    const failed: string[] = [];
    for (const id of ['during-1', 'during-2']) {
      const from = annWs.received.length;
      send(id);
      const answer = await answerTo(annWs, id, from);
      expect(answer).toMatchObject({
        type: 'error',
        code: 'internal',
        action: 'sendMessage',
        clientMessageId: id,
      });
      failed.push(id);
    }
    const racing = await answerTo(annWs, 'racing', racingFrom);
    if (racing.type === 'ack') acked.push(racing.message);
    else failed.push('racing');
    // Still open and served while the database is away.
    await annWs.ping();
    expect(annWs.isOpen).toBe(true);

    await stack.startDynamo();

    const afterRestart = await historyOf(target, bob, roomId);
    for (const message of acked) {
      expect(afterRestart.filter((m) => m.messageId === message.messageId)).toEqual([message]);
    }
    const retried: Message[] = [];
    for (const id of failed) {
      const message = await annWs.sendMessage(roomId, content(id), id);
      await bobWs.next('chat_message', (f) => f.message.messageId === message.messageId);
      retried.push(message);
    }

    const final = await historyOf(target, bob, roomId);
    const expected = [...acked, ...retried].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
    expect(final).toEqual(expected);
    expect(new Set(final.map((m) => m.clientMessageId)).size).toBe(final.length);
    expect(await storedMessages(target, roomId)).toHaveLength(expected.length);
    expect((await roomEntryOf(target, bob, roomId)).unreadCount).toBe(expected.length);
    for (const message of acked) {
      await bobWs.next('chat_message', (f) => f.message.messageId === message.messageId);
    }
  });
});
