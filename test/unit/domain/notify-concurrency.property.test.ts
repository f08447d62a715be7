/**
 * The notify checks under any interleaving. Two senders write to Bob (offline) in two rooms while he
 * reads some of it and time passes. Every message plans its room's check as the change consumer does
 * (planCheck: one schedule per recipient, room and delay window); a planned check runs once when its
 * time comes, like a one-time schedule, and again when it fails (Lambda's retries), some of them
 * failing at SES. fast-check's scheduler decides when every store call of the checks takes effect
 * and answers, and some of the marks' conditional writes lose to a transaction conflict. Afterwards:
 * - no message is quoted in two e-mails (the notified marks are moved before sending, all or none);
 * - no e-mail quotes a message Bob had read when its check began;
 * - an e-mail quotes another room's message only once that message is a delay old (so reading it
 *   within its delay means no e-mail for it);
 * - once every planned check has run, every room with messages Bob has not read is covered by an
 *   e-mail that went out (it quoted the room's newest message): nothing is lost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomId } from '../../../lambdas/domain/model.js';
import { planCheck } from '../../../lambdas/domain/notifications.js';
import { NotifyService } from '../../../lambdas/domain/notify-check.js';
import type { PlannedCheck } from '../../../lambdas/domain/ports.js';
import { type ChatWorld, makeWorld } from '../../fakes/chat-world.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { RecordingMailer, RecordingPublisher, RecordingScheduler } from '../../fakes/notifications.js';
import { scheduled } from './scheduled.js';

const DELAY_MS = 5 * 60_000;
const SENDERS = ['ann', 'carol'] as const;
type Sender = (typeof SENDERS)[number];
/** Lambda runs a failed asynchronous invocation again (twice by default; more here, to settle). */
const RUNS_PER_CHECK = 6;

type Operation =
  | { kind: 'send'; sender: Sender }
  | { kind: 'read'; sender: Sender }
  | { kind: 'runDueChecks'; sesFails: boolean }
  | { kind: 'tick'; ms: number };

const sender = fc.constantFrom(...SENDERS);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), sender }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), sender }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('runDueChecks' as const), sesFails: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: DELAY_MS }) }),
  },
);

/** The lines an e-mail quotes, as "Sender: content". */
const quotedLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());

const nameOf = (id: Sender) => `${id[0]?.toUpperCase()}${id.slice(1)}`;

async function run(s: fc.Scheduler, waves: Operation[][], conflictFlags: boolean[]): Promise<void> {
  const world: ChatWorld = makeWorld();
  world.users('bob', ...SENDERS);
  for (const id of ['bob', ...SENDERS]) await world.store.createProfileIfMissing(id, id, `${id}@example.com`);
  const rooms = new Map<Sender, RoomId>();
  for (const id of SENDERS) rooms.set(id, await world.room(id, 'bob'));
  const roomOf = (id: Sender) => rooms.get(id) as RoomId;
  let conflictIndex = 0;
  // The generated conflicts, then none: a check retried long enough gets through.
  const conflicts = () => conflictFlags[conflictIndex++] === true;

  /** Per message content: its room's sender and when it was sent. */
  const sent = new Map<string, { sender: Sender; at: number }>();
  /** Message contents Bob had read (his pointer moved past them) so far. */
  const readBy = new Set<string>();
  /** Every e-mail that went out, with its check's room, its time and what Bob had read when the check began. */
  const mails: { text: string; roomId: RoomId; at: number; readBefore: ReadonlySet<string> }[] = [];
  /** Planned checks by schedule name (a name taken is "already scheduled"), and whether each has run. */
  const planned = new Map<string, { check: PlannedCheck; ran: boolean }>();
  let counter = 0;

  /** A planned check as Scheduler and Lambda run it: once, and again while it fails. */
  const runCheck = async (check: PlannedCheck, sesFails: boolean) => {
    const readBefore = new Set(readBy);
    const mailer = new RecordingMailer();
    if (sesFails) mailer.failNext();
    const notify = new NotifyService(
      // A marks' write may lose to another transaction (answers false, changes nothing), as
      // DynamoDB's TransactionConflict does.
      scheduled(world.store, s, (method) =>
        method === 'moveNotifiedMarks' && conflicts() ? { answer: false } : undefined,
      ),
      {
        send: async (mail) => {
          const result = await mailer.send(mail);
          mails.push({
            text: mail.text,
            roomId: check.target.roomId,
            at: world.clock.now().getTime(),
            readBefore,
          });
          return result;
        },
      },
      new RecordingPublisher(),
      new RecordingScheduler(),
      world.clock,
      new RecordingLogger(),
      { appUrl: 'https://chat.example.com/' },
    );
    for (let attempt = 1; attempt <= RUNS_PER_CHECK; attempt++) {
      try {
        return await notify.check(check.target);
      } catch {
        // Run again below, as Lambda retries a failed asynchronous invocation.
      }
    }
    throw new Error(`the check of ${check.target.roomId} failed ${RUNS_PER_CHECK} times`);
  };

  const runDueChecks = async (sesFails: boolean) => {
    const due = [...planned.values()].filter(
      (entry) => !entry.ran && entry.check.at.getTime() <= world.clock.now().getTime(),
    );
    for (const entry of due) entry.ran = true;
    await Promise.all(due.map((entry) => runCheck(entry.check, sesFails)));
  };

  const perform = async (op: Operation) => {
    await s.schedule(Promise.resolve(), op.kind);
    switch (op.kind) {
      case 'send': {
        const content = `m${++counter}`;
        sent.set(content, { sender: op.sender, at: world.clock.now().getTime() });
        await world.service.messaging.sendMessage(
          { userId: op.sender },
          { roomId: roomOf(op.sender), content },
        );
        // What the change consumer does with the new message for its recipient.
        const check = planCheck(await world.store.getRecipient('bob'), roomOf(op.sender), world.clock.now());
        if (check !== undefined && !planned.has(check.name)) planned.set(check.name, { check, ran: false });
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
      case 'runDueChecks':
        await runDueChecks(op.sesFails);
        return;
      case 'tick':
        world.clock.advance(op.ms);
        return;
    }
  };

  for (const wave of waves) {
    await s.waitFor(Promise.all(wave.map(perform)));
  }
  // Every planned check runs in the end (and none other).
  world.clock.advance(2 * DELAY_MS);
  await s.waitFor(runDueChecks(false));

  const quoted = mails.flatMap((mail) => quotedLines(mail.text));
  expect(new Set(quoted).size, `a message quoted twice: ${quoted.join(', ')}`).toBe(quoted.length);
  for (const mail of mails) {
    for (const line of quotedLines(mail.text)) {
      const content = line.slice(line.indexOf(': ') + 2);
      expect(
        mail.readBefore.has(content),
        `${content} e-mailed by a check that began after it was read`,
      ).toBe(false);
      const message = sent.get(content);
      if (message !== undefined && roomOf(message.sender) !== mail.roomId) {
        expect(
          mail.at - message.at,
          `${content} e-mailed with another room before its delay`,
        ).toBeGreaterThanOrEqual(DELAY_MS);
      }
    }
  }

  for (const id of SENDERS) {
    const room = (await world.store.getRooms([roomOf(id)]))[0];
    const last = room?.lastMessage;
    const lastRead = room?.members.bob?.lastReadMessageId ?? null;
    if (last === null || last === undefined || (lastRead !== null && lastRead >= last.messageId)) continue;
    expect(quoted, `room with ${id}: its newest unread message never e-mailed`).toContain(
      `${nameOf(id)}: ${last.content}`,
    );
  }
}

describe('the notify checks under any interleaving of their store calls', () => {
  it('quote each message at most once, never one read before they ran nor another room’s before its delay, and lose none', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        fc.array(
          fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
          { maxLength: 40 },
        ),
        async (s, waves, conflictFlags) => {
          await run(s, waves, conflictFlags);
        },
      ),
      { numRuns: 300 },
    );
  });
});
