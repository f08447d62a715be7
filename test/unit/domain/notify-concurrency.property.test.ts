/**
 * The notify checks under any interleaving. Two senders write to Bob in two rooms while Bob reads,
 * checks of both rooms run at once (some failing at SES and retried, as Lambda retries them), and
 * time passes; fast-check's scheduler decides when every store call of the checks takes effect and
 * answers. Afterwards:
 * - no message is quoted in two e-mails (the notified marks are moved before sending, all or none);
 * - no e-mail quotes a message Bob had read when the check read the room;
 * - after one last check of each room a delay later, every room with messages Bob has not read is
 *   covered by an e-mail that went out (its mark stands at its newest message, which an e-mail
 *   quoted): nothing is lost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomId } from '../../../lambdas/domain/model.js';
import { NotifyService, type NotifyStore } from '../../../lambdas/domain/notify-check.js';
import { type ChatWorld, makeWorld } from '../../fakes/chat-world.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { RecordingMailer, RecordingPublisher, RecordingScheduler } from '../../fakes/notifications.js';

const DELAY_MS = 5 * 60_000;
const SENDERS = ['ann', 'carol'] as const;
type Sender = (typeof SENDERS)[number];

type Operation =
  | { kind: 'send'; sender: Sender }
  | { kind: 'read'; sender: Sender }
  | { kind: 'check'; sender: Sender; sesFails: boolean }
  | { kind: 'tick'; ms: number };

const sender = fc.constantFrom(...SENDERS);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), sender }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), sender }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('check' as const), sender, sesFails: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: DELAY_MS }) }),
  },
);

/** The check's store calls, each delayed by the scheduler before it takes effect and before it answers. */
function scheduled(store: NotifyStore, s: fc.Scheduler): NotifyStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await s.schedule(Promise.resolve(), `${String(property)} starts`);
        const result: unknown = await value.apply(target, args);
        await s.schedule(Promise.resolve(), `${String(property)} answers`);
        return result;
      };
    },
  });
}

/** The lines an e-mail quotes, as "Sender: content". */
const quotedLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());

async function run(s: fc.Scheduler, waves: Operation[][]): Promise<void> {
  const world: ChatWorld = makeWorld();
  world.users('bob', ...SENDERS);
  for (const id of ['bob', ...SENDERS]) await world.store.createProfileIfMissing(id, id, `${id}@example.com`);
  const rooms = new Map<Sender, RoomId>();
  for (const id of SENDERS) rooms.set(id, await world.room(id, 'bob'));
  const roomOf = (id: Sender) => rooms.get(id) as RoomId;

  /** Message contents Bob had read (pointer moved past them) so far. */
  const readBy = new Set<string>();
  /** Every e-mail sent, with what Bob had read when the check that sent it started. */
  const mails: { text: string; readBefore: ReadonlySet<string> }[] = [];
  let counter = 0;

  /** A check as the schedule runs it: a failed invocation is retried (Lambda's async retries). */
  const check = async (roomId: RoomId, sesFails: boolean) => {
    const readBefore = new Set(readBy);
    const mailer = new RecordingMailer();
    if (sesFails) mailer.failNext();
    const checks = new NotifyService(
      scheduled(world.store, s),
      {
        send: async (mail) => {
          const result = await mailer.send(mail);
          mails.push({ text: mail.text, readBefore });
          return result;
        },
      },
      new RecordingPublisher(),
      new RecordingScheduler(),
      world.clock,
      new RecordingLogger(),
      { appUrl: 'https://chat.example.com/' },
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await checks.check({ userId: 'bob', roomId });
      } catch {
        // Retried below, as Lambda retries an asynchronous invocation that failed.
      }
    }
    throw new Error('the check failed three times');
  };

  const perform = async (op: Operation) => {
    await s.schedule(Promise.resolve(), `${op.kind}`);
    switch (op.kind) {
      case 'send': {
        const content = `m${++counter}`;
        await world.service.messaging.sendMessage(
          { userId: op.sender },
          { roomId: roomOf(op.sender), content },
        );
        return;
      }
      case 'read': {
        const { messages } = await world.service.messaging.getMessages('bob', roomOf(op.sender), {
          limit: 100,
        });
        const newest = messages.at(-1);
        if (newest === undefined) return;
        await world.service.messaging.markRead({ userId: 'bob' }, roomOf(op.sender), newest.messageId);
        for (const message of messages) readBy.add(message.content);
        return;
      }
      case 'check':
        await check(roomOf(op.sender), op.sesFails);
        return;
      case 'tick':
        world.clock.advance(op.ms);
        return;
    }
  };

  for (const wave of waves) {
    await s.waitFor(Promise.all(wave.map(perform)));
  }

  // A delay after everything, one last check of each room (as each message's schedule would run).
  world.clock.advance(DELAY_MS);
  for (const id of SENDERS) await s.waitFor(check(roomOf(id), false));

  const quoted = mails.flatMap((mail) => quotedLines(mail.text));
  expect(new Set(quoted).size, `a message quoted twice: ${quoted.join(', ')}`).toBe(quoted.length);
  for (const mail of mails) {
    for (const line of quotedLines(mail.text)) {
      const content = line.slice(line.indexOf(': ') + 2);
      expect(
        mail.readBefore.has(content),
        `${content} e-mailed by a check that began after it was read`,
      ).toBe(false);
    }
  }

  const marks = await world.store.notifiedMarks('bob');
  for (const id of SENDERS) {
    const room = (await world.store.getRooms([roomOf(id)]))[0];
    const last = room?.lastMessage;
    const lastRead = room?.members.bob?.lastReadMessageId ?? null;
    if (last === null || last === undefined || (lastRead !== null && lastRead >= last.messageId)) continue;
    expect(marks.get(roomOf(id)) ?? '', `room with ${id}: unread messages no e-mail covered`).toBe(
      last.messageId,
    );
    // And an e-mail that went out (not one SES failed) quoted it.
    expect(quoted, `room with ${id}: its newest unread message never e-mailed`).toContain(
      `${id[0]?.toUpperCase()}${id.slice(1)}: ${last.content}`,
    );
  }
}

describe('the notify checks under any interleaving of their store calls', () => {
  it('quote each message at most once, never one read before they ran, and leave no unread room un-e-mailed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (s, waves) => {
          await run(s, waves);
        },
      ),
      { numRuns: 200 },
    );
  });
});
