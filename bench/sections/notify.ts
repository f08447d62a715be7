/**
 * Offline e-mail: how long a message to an offline recipient takes to become an e-mail, and what the
 * notification path does per message, on the local stack with the real handlers (the stack runs every
 * check NOTIFY_DELAY_SECONDS after its message, as `npm start -- --notify-delay 3s`).
 *
 * Ann sends Bob (whose account has an address) a burst of `burst` messages over the WebSocket, in one
 * delay window, so one check; then the run settles (the check has run, the streams are drained, no
 * invocation is running) before the next, so each run's counts are its own:
 * - offline runs: Bob never connected. Latency = Ann's first frame sent → the e-mail listed on the
 *   local SES mailbox (its JSON, polled every 50 ms); the acceptance is delay + 5 s. Then Bob
 *   reads through REST (as after opening the e-mail), so the next run's messages are new to e-mail.
 * - online runs: Bob connected, reads the burst when it arrives, before the check: no e-mail.
 *
 * Counted per run, from outside the emulators (nothing in local/ changes): the stream records of the
 * run's room the mappings read (lib/stream-reads.ts) and those their filters pass to the change
 * consumer; invocations of the consumer and of the notify function and their wall times
 * (lib/invocations.ts); CreateSchedule, SendEmail, PutEvents and DynamoDB requests and units by
 * function (lib/aws-meter.ts); the bus's events about the room (the stack's event log); the mailbox.
 */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import type WebSocket from 'ws';
import { changeStreamFilters } from '../../definitions/notifications.js';
import { changeConsumer, notifier } from '../../definitions/routes.js';
import { matchesAny } from '../../local/event-pattern.js';
import type { LocalStack } from '../../local/stack.js';
import type { BenchConfig } from '../config.js';
import { type FunctionCalls, watchAwsCalls } from '../lib/aws-meter.js';
import { type Deadline, withTimeout } from '../lib/deadline.js';
import { watchInvocations } from '../lib/invocations.js';
import { closeAll, connect, signIn, startChat } from '../lib/local.js';
import { round, roundSummary, type Summary, summarize } from '../lib/stats.js';
import { watchStreamReads } from '../lib/stream-reads.js';

/** The stack's notify delay for this section (run.ts starts the stack with it). */
export const NOTIFY_DELAY_SECONDS = 3;
/** The acceptance: the e-mail within the delay plus this. */
export const EMAIL_SLACK_MS = 5_000;
const MAILBOX_POLL_MS = 50;
/** A check runs at its message + delay rounded up to the second; then Scheduler, the invoke, SES. */
const CHECK_DONE_MS = NOTIFY_DELAY_SECONDS * 1000 + 1_500;

/** What one run made, in all (not per message). */
export interface RunCounts {
  readonly kind: 'offline' | 'online';
  readonly messages: number;
  /** Offline: Ann's first frame sent → the e-mail on the mailbox, ms. */
  readonly emailMs?: number;
  /** The burst's frames sent → their acks, ms. */
  readonly ackMs: readonly number[];
  /** E-mails to Bob that appeared on the mailbox during the run. */
  readonly emails: number;
  /** Stream records about the run's room read by the mappings (both tables' streams). */
  readonly streamRecordsRead: number;
  /** Of those, the ones the mappings' filters pass to the change consumer. */
  readonly streamRecordsToConsumer: number;
  readonly consumerInvocations: number;
  readonly notifyInvocations: number;
  /** Each invocation's wall time rounded up to the ms (Lambda's billing), summed. */
  readonly consumerBilledMs: number;
  readonly notifyBilledMs: number;
  /** What each check answered (`sent`, `online`, `nothing-new`, …). */
  readonly notifyOutcomes: readonly string[];
  /** CreateSchedule, SendEmail and PutEvents calls (commands) of the two functions. */
  readonly schedulesCreated: number;
  readonly sesSends: number;
  readonly putEventsRequests: number;
  /** Entries on the bus about the room, by type (message.new, message.read, notification.sent). */
  readonly events: Readonly<Record<string, number>>;
  /** DynamoDB units of the consumer and the notify function, as DynamoDB Local reported them. */
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Every HTTP request of the two functions (SDK retries included), by `Function Service:Operation`. */
  readonly requests: Readonly<Record<string, number>>;
}

/** Per message, means over a kind's runs: the cost model's inputs. */
export interface PathProfile {
  readonly runs: number;
  readonly messages: number;
  readonly streamRecordsRead: number;
  readonly streamRecordsToConsumer: number;
  readonly consumerInvocations: number;
  readonly consumerBilledMs: number;
  readonly notifyInvocations: number;
  readonly notifyBilledMs: number;
  readonly schedulesCreated: number;
  readonly emails: number;
  readonly eventEntries: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface NotifyResult {
  readonly delaySeconds: number;
  readonly slackMs: number;
  readonly burst: number;
  /** Offline runs: first frame sent → e-mail visible, ms. */
  readonly emailMs: Summary;
  readonly allWithinDelayPlusSlack: boolean;
  readonly runs: readonly RunCounts[];
  readonly perMessage: { readonly offline: PathProfile; readonly online: PathProfile };
  /** GetRecords requests of the mappings during the section (polls, mostly empty; free for Lambda). */
  readonly getRecordsRequests: number;
  readonly problems: readonly string[];
}

interface Mail {
  readonly destination: { readonly to: readonly string[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The room a bus event is about: its detail is the chat event (notification.sent: the rooms its e-mail listed). */
const isAbout = (roomId: string, busDetail: unknown) => {
  const d = (busDetail as { detail?: { roomId?: unknown; rooms?: { roomId?: unknown }[] } } | undefined)
    ?.detail;
  return d?.roomId === roomId || (d?.rooms ?? []).some((room) => room.roomId === roomId);
};

/** Which table a stream record is from, by its keys (rooms: pk/sk; messages: roomId/dedupKey). */
const tableOf = (record: _Record) => (record.dynamodb?.Keys?.pk === undefined ? 'messages' : 'rooms');

/** Commands, not HTTP requests: an SDK retry of a request (a reset keep-alive socket here) is one call. */
function commands(calls: FunctionCalls | undefined, operation: string): number {
  return calls?.durations[operation]?.length ?? 0;
}

function profileOf(runs: readonly RunCounts[]): PathProfile {
  const messages = runs.reduce((sum, run) => sum + run.messages, 0);
  const per = (pick: (run: RunCounts) => number) =>
    messages === 0 ? 0 : round(runs.reduce((sum, run) => sum + pick(run), 0) / messages, 6);
  return {
    runs: runs.length,
    messages,
    streamRecordsRead: per((r) => r.streamRecordsRead),
    streamRecordsToConsumer: per((r) => r.streamRecordsToConsumer),
    consumerInvocations: per((r) => r.consumerInvocations),
    consumerBilledMs: per((r) => r.consumerBilledMs),
    notifyInvocations: per((r) => r.notifyInvocations),
    notifyBilledMs: per((r) => r.notifyBilledMs),
    schedulesCreated: per((r) => r.schedulesCreated),
    emails: per((r) => r.sesSends),
    eventEntries: per((r) => Object.values(r.events).reduce((sum, n) => sum + n, 0)),
    readUnits: per((r) => r.readUnits),
    writeUnits: per((r) => r.writeUnits),
  };
}

/** Sends `sendMessage` frames on Ann's socket and answers each ack's message. */
class Sender {
  private readonly waiting = new Map<string, (frame: { message?: { messageId?: string } }) => void>();
  private sequence = 0;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type?: string;
        clientMessageId?: string;
        message?: { messageId?: string };
      };
      const resolve =
        frame.clientMessageId === undefined ? undefined : this.waiting.get(frame.clientMessageId);
      if (resolve === undefined) return;
      if (frame.type === 'ack' || frame.type === 'error') resolve(frame);
    });
  }

  async send(roomId: string, content: string): Promise<{ messageId: string; ackMs: number }> {
    const clientMessageId = `notify-${Date.now().toString(36)}-${this.sequence++}`;
    const acked = new Promise<{ message?: { messageId?: string } }>((resolve) =>
      this.waiting.set(clientMessageId, resolve),
    );
    const started = performance.now();
    this.socket.send(JSON.stringify({ action: 'sendMessage', roomId, content, clientMessageId }));
    try {
      const frame = await withTimeout(acked, 15_000, `ack of ${clientMessageId}`);
      const messageId = frame.message?.messageId;
      if (messageId === undefined) throw new Error(`send refused: ${JSON.stringify(frame)}`);
      return { messageId, ackMs: performance.now() - started };
    } finally {
      this.waiting.delete(clientMessageId);
    }
  }
}

/** Resolves once `socket` received the `chat_message` of `messageId` (or already had). */
function receiver(socket: WebSocket) {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type?: string; message?: { messageId?: string } };
    const id = frame.type === 'chat_message' ? frame.message?.messageId : undefined;
    if (id === undefined) return;
    seen.add(id);
    waiters.get(id)?.();
  });
  return (messageId: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        if (seen.has(messageId)) resolve();
        else waiters.set(messageId, resolve);
      }),
      15_000,
      `chat_message ${messageId}`,
    );
}

export async function measureNotify(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
): Promise<NotifyResult> {
  const delay = Number(stack.env.NOTIFY_DELAY_SECONDS);
  if (delay !== NOTIFY_DELAY_SECONDS) {
    throw new Error(
      `the stack's notify delay is ${stack.env.NOTIFY_DELAY_SECONDS ?? 'unset'}, not ${NOTIFY_DELAY_SECONDS} s`,
    );
  }
  const { burst, offlineRuns, onlineRuns } = config.notify;
  const suffix = Date.now().toString(36);
  const [annId, bobId] = [`bench-ntf-ann-${suffix}`, `bench-ntf-bob-${suffix}`];
  const bobEmail = `${bobId}@example.com`;
  const annToken = await signIn(stack, annId, 'Ann');
  const bobToken = await signIn(stack, bobId, 'Bob', bobEmail);
  const roomId = await startChat(stack, annToken, bobId);
  const mailbox = `${stack.mailUrl.replace(/\/+$/, '')}/store`;
  const mailsToBob = async () => {
    const response = await fetch(mailbox, { signal: AbortSignal.timeout(5_000) });
    const { emails } = (await response.json()) as { emails: Mail[] };
    return emails.filter((mail) => mail.destination.to.includes(bobEmail)).length;
  };
  const markRead = async (messageId: string) => {
    const response = await fetch(`${stack.restUrl}/chat/read/${encodeURIComponent(roomId)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messageId }),
      signal: AbortSignal.timeout(15_000),
    });
    if (response.status !== 200) throw new Error(`Bob's read answered ${response.status}`);
  };

  // Nothing of the earlier sections left in the streams, so the runs count only their own.
  await stack.drainStreams(30_000);
  let records = { read: 0, toConsumer: 0 };
  const streams = watchStreamReads((batch) => {
    for (const record of batch) {
      if (!JSON.stringify(record.dynamodb?.Keys ?? {}).includes(roomId)) continue;
      records.read++;
      const filters = changeStreamFilters[tableOf(record)] ?? [];
      // The filters look at eventName and the keys, which the SDK's record carries as Lambda's would.
      if (filters.length === 0 || matchesAny(filters, record)) records.toConsumer++;
    }
  });
  const aws = watchAwsCalls();
  const invocations = watchInvocations();
  const sockets: WebSocket[] = [];
  const runs: RunCounts[] = [];
  const problems: string[] = [];

  /** Waits until the run's checks are due and done, the streams drained and no handler running. */
  const settle = async (lastSentAt: number) => {
    await sleep(lastSentAt + CHECK_DONE_MS - Date.now());
    for (let quiet = 0; quiet < 2; ) {
      await stack.drainStreams(15_000);
      quiet = invocations.inFlight() === 0 ? quiet + 1 : 0;
      if (quiet < 2) await sleep(100);
    }
  };

  const oneRun = async (
    kind: 'offline' | 'online',
    sender: Sender,
    bobSaw?: (id: string) => Promise<void>,
  ) => {
    const mailsBefore = await mailsToBob();
    const eventsBefore = stack.events().length;
    records = { read: 0, toConsumer: 0 };
    aws.reset();
    invocations.reset();

    const firstSentAt = Date.now();
    const ackMs: number[] = [];
    let lastId = '';
    for (let i = 0; i < burst; i++) {
      const sent = await sender.send(roomId, `${kind} ${runs.length + 1}.${i + 1}: ${config.content}`);
      ackMs.push(round(sent.ackMs));
      lastId = sent.messageId;
    }
    const lastSentAt = Date.now();
    let emailMs: number | undefined;
    if (kind === 'offline') {
      // Past the acceptance too, so that a late e-mail is measured (and fails it) rather than lost.
      const giveUp = firstSentAt + delay * 1000 + EMAIL_SLACK_MS + 10_000;
      while (emailMs === undefined && Date.now() < giveUp) {
        if ((await mailsToBob()) > mailsBefore) emailMs = Date.now() - firstSentAt;
        else await sleep(MAILBOX_POLL_MS);
      }
      if (emailMs === undefined)
        problems.push(`offline run ${runs.length + 1}: no e-mail within ${giveUp - firstSentAt} ms`);
      await markRead(lastId);
    } else {
      await bobSaw?.(lastId);
      await markRead(lastId);
    }
    await settle(lastSentAt);

    const calls = aws.snapshot();
    const consumer = calls[changeConsumer.functionId];
    const notify = calls[notifier.functionId];
    const times = invocations.snapshot();
    const billed = (id: string) => (times[id] ?? []).reduce((sum, ms) => sum + Math.ceil(ms), 0);
    const events: Record<string, number> = {};
    for (const event of stack.events().slice(eventsBefore)) {
      if (!isAbout(roomId, event.detail)) continue;
      events[event['detail-type']] = (events[event['detail-type']] ?? 0) + 1;
    }
    const requests: Record<string, number> = {};
    for (const [fn, fnCalls] of [
      ['ChangeConsumer', consumer],
      ['Notify', notify],
    ] as const) {
      for (const [op, n] of Object.entries(fnCalls?.requests ?? {})) requests[`${fn} ${op}`] = n;
    }
    const run: RunCounts = {
      kind,
      messages: burst,
      ...(emailMs === undefined ? {} : { emailMs }),
      ackMs,
      emails: (await mailsToBob()) - mailsBefore,
      streamRecordsRead: records.read,
      streamRecordsToConsumer: records.toConsumer,
      consumerInvocations: times[changeConsumer.functionId]?.length ?? 0,
      notifyInvocations: times[notifier.functionId]?.length ?? 0,
      consumerBilledMs: billed(changeConsumer.functionId),
      notifyBilledMs: billed(notifier.functionId),
      notifyOutcomes: invocations.outcomes(notifier.functionId),
      schedulesCreated:
        commands(consumer, 'Scheduler:CreateSchedule') + commands(notify, 'Scheduler:CreateSchedule'),
      sesSends: commands(notify, 'SESv2:SendEmail'),
      putEventsRequests:
        commands(consumer, 'EventBridge:PutEvents') + commands(notify, 'EventBridge:PutEvents'),
      events,
      readUnits: round((consumer?.readUnits ?? 0) + (notify?.readUnits ?? 0), 3),
      writeUnits: round((consumer?.writeUnits ?? 0) + (notify?.writeUnits ?? 0), 3),
      requests,
    };
    // A late read would leave a re-check running into the next run's counts.
    if (kind === 'online' && run.notifyOutcomes.some((outcome) => outcome !== 'online')) {
      problems.push(`online run ${runs.length + 1}: checks answered ${run.notifyOutcomes.join(', ')}`);
    }
    const expected = kind === 'offline' ? 1 : 0;
    if (run.emails !== expected || run.sesSends !== expected) {
      problems.push(
        `${kind} run ${runs.length + 1}: ${run.emails} e-mail(s) on the mailbox, ${run.sesSends} SendEmail, not ${expected}`,
      );
    }
    runs.push(run);
  };

  try {
    sockets.push(await connect(stack, annToken));
    const sender = new Sender(sockets[0] as WebSocket);
    for (let i = 0; i < offlineRuns && !deadline.expired; i++) await oneRun('offline', sender);
    const bob = await connect(stack, bobToken);
    sockets.push(bob);
    const bobSaw = receiver(bob);
    for (let i = 0; i < onlineRuns && !deadline.expired; i++) await oneRun('online', sender, bobSaw);
  } finally {
    invocations.stop();
    aws.stop();
    streams.stop();
    await closeAll(sockets);
  }

  const offline = runs.filter((run) => run.kind === 'offline');
  if (offline.length === 0) throw new Error('no offline run measured before the deadline');
  const emailMs = offline.flatMap((run) => (run.emailMs === undefined ? [] : [run.emailMs]));
  return {
    delaySeconds: delay,
    slackMs: EMAIL_SLACK_MS,
    burst,
    emailMs: roundSummary(summarize(emailMs), 0),
    allWithinDelayPlusSlack:
      emailMs.length === offline.length && emailMs.every((ms) => ms <= delay * 1000 + EMAIL_SLACK_MS),
    runs,
    perMessage: {
      offline: profileOf(offline),
      online: profileOf(runs.filter((run) => run.kind === 'online')),
    },
    getRecordsRequests: streams.getRecordsRequests(),
    problems,
  };
}
