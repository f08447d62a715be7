/**
 * Randomized interleavings of sends, duplicate sends and reads against a chat stack, checked after
 * every round against a model built only from what the clients observed (API.md's guarantees under
 * concurrency). Users come in pairs, one room per pair, each user on one or two WebSocket
 * connections (devices). A round issues a random mix of concurrent operations with small random
 * delays, waits until the stack is quiet, then compares every user's chat-list entry, the history and
 * every connection's deliveries with the model. Used by `npm run load:interleave`
 * (load/interleave-run.ts) and test/integration/concurrency/interleaving.test.ts.
 *
 * The model: a message exists once a client was acked for it (clientMessageId -> messageId); a
 * user's read pointer is the newest read target the user got a successful answer for (REST read,
 * newest page) or sent without an error frame (WS markRead, which has no reply of its own); the
 * unread count is the other participant's messages after that pointer.
 */
import WebSocket from 'ws';
import type { ReadPointer, Room, RoomPage } from '../web/sdk/types.js';
import { between, pick, type Random, seededRandom } from './random.js';
import { signIn, startRoom } from './rest.js';
import {
  BEFORE_EVERY_MESSAGE,
  type ChatMessage,
  type LoadTarget,
  type MessagePage,
  parseFrame,
  type ServerFrame,
  smallestUlidAt,
} from './wire.js';

/** What one operation of a round does, and how often each is drawn (relative weights). */
export const OPERATION_WEIGHTS = {
  /** A new message. */
  send: 16,
  /** 2-5 new messages on one connection without waiting. */
  pipelined: 10,
  /** 2-3 new messages, each after the previous one's ack. */
  sequential: 6,
  /** X, the same X frame again, then Y, on one connection without waiting. */
  duplicateSameConnection: 7,
  /** X from both devices of the user at once (one connection twice if the user has one). */
  duplicateOtherDevice: 6,
  /** X, then X again 0-20 ms later, from the same or the other device. */
  retryInFlight: 6,
  /** An acked message of the user sent again. */
  lateDuplicate: 6,
  /** An acked message sent again among 1-3 new ones, without waiting. */
  lateDuplicateAmongNew: 6,
  /** POST /chat/read/{roomId} to a known message, older or newer than the pointer. */
  restRead: 9,
  /** WS markRead to a known message. */
  wsMarkRead: 9,
  /** GET the newest page (moves the pointer), sometimes with a small limit. */
  newestPage: 9,
  /** GET ?after= a known message or the start, sometimes with a limit. */
  afterPage: 10,
} as const;

export type OperationKind = keyof typeof OPERATION_WEIGHTS;

export const OPERATION_KINDS = Object.keys(OPERATION_WEIGHTS) as OperationKind[];

export interface InterleaveOptions {
  /** Rooms, each with its two users. */
  readonly pairs: number;
  /** No new round starts once this many operations (frames sent and REST calls made) were issued. */
  readonly operations: number;
  /** Operations per pair and round, a random number in this range. */
  readonly opsPerPairPerRound: readonly [number, number];
  /** The kinds of operation drawn (all by default): fewer to narrow a failure down. */
  readonly operationKinds: readonly OperationKind[];
  /** Each operation of a round starts after a random delay up to this. */
  readonly maxStartDelayMs: number;
  readonly seed: number;
  /** Share of users with a second connection (another device). */
  readonly secondDeviceShare: number;
  /**
   * A connection older than this is replaced by a new one between rounds: under the gateway's
   * maximum connection time, so that no connection is cut in the middle of a round.
   */
  readonly connectionMaxAgeMs: number;
  /** How long answers, deliveries and read events may take to arrive once a round's operations are issued. */
  readonly settleTimeoutMs: number;
  /** Once everything expected arrived: how long to watch for frames that should not come (duplicates). */
  readonly quietMs: number;
  /** The whole history is read every this many rounds (and after the last); in between, its recent part. */
  readonly fullHistoryEvery: number;
  /** No new round starts after this. */
  readonly timeLimitMs: number;
  readonly log: (line: string) => void;
}

export const DEFAULT_INTERLEAVE_OPTIONS: InterleaveOptions = {
  pairs: 4,
  operations: 400,
  opsPerPairPerRound: [2, 6],
  operationKinds: OPERATION_KINDS,
  maxStartDelayMs: 30,
  seed: 1,
  secondDeviceShare: 0.6,
  connectionMaxAgeMs: 9 * 60 * 1000,
  settleTimeoutMs: 8_000,
  quietMs: 150,
  fullHistoryEvery: 10,
  timeLimitMs: 30 * 60 * 1000,
  log: () => undefined,
};

export interface Mismatch {
  readonly round: number;
  /** Which guarantee: 'unread', 'pointer', 'lastMessage', 'history', 'delivery', 'ack', ... */
  readonly check: string;
  /** Whose view: a user, a connection, a room. */
  readonly subject: string;
  readonly expected: string;
  readonly seen: string;
  readonly detail: string;
  /**
   * Later rounds that saw the same difference again: a drift of the list's state (unread, pointer,
   * last message) that stays is reported once, with this count.
   */
  repeats: number;
}

/** Sends of a clientMessageId already sent, by how they were made. */
export interface DuplicateSends {
  /** The same frame twice on one connection, pipelined. */
  sameConnection: number;
  /** The same clientMessageId from the user's other device, in parallel. */
  otherDevice: number;
  /** Sent again 0-20 ms after the first attempt, before its ack. */
  inFlight: number;
  /** Sent again once acked, alone. */
  late: number;
  /** Sent again once acked, pipelined with new messages. */
  lateMixed: number;
}

export interface InterleaveReport {
  readonly seed: number;
  readonly pairs: number;
  readonly connections: number;
  readonly rounds: number;
  /** Frames sent (sendMessage, markRead) and REST calls made by the operations; checks not counted. */
  readonly operations: number;
  /** Operations by kind. */
  readonly operationsByKind: Readonly<Record<string, number>>;
  /** Distinct messages acked. */
  readonly messages: number;
  readonly duplicateSends: DuplicateSends;
  /** chat_message frames beyond the first for one message on one connection. */
  readonly duplicateDeliveries: number;
  /** Messages the history held more than once (by messageId or by sender and clientMessageId). */
  readonly duplicateStored: number;
  readonly mismatches: readonly Mismatch[];
  readonly passed: boolean;
  readonly durationMs: number;
  /** Where the time went: issuing operations, waiting until quiet, checking. */
  readonly timings: { readonly operationsMs: number; readonly settleMs: number; readonly checkMs: number };
}

// ---------------------------------------------------------------- waiting

/** Wakes whoever waits for "something arrived" (a frame, an answer). */
class Pulse {
  private waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notify or after `ms`, whichever is first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether `ready` became true before `deadline` (epoch ms), re-checked whenever the pulse beats. */
async function until(pulse: Pulse, ready: () => boolean, deadline: number): Promise<boolean> {
  while (!ready()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    await pulse.next(Math.min(remaining, 200));
  }
  return true;
}

// ---------------------------------------------------------------- clients and model

/** A global order of what the clients did and saw: "acked before sent" needs no clock. */
let sequence = 0;
const tick = () => ++sequence;

class User {
  readonly conns: Conn[] = [];
  /** The newest read target with a successful answer (or a WS markRead without an error frame). */
  readTarget: string | null = null;
  /** `readTarget` at the last check: a read event is awaited only when it moved since. */
  checkedTarget: string | null = null;

  constructor(
    readonly userId: string,
    readonly token: string,
    readonly room: RoomModel,
  ) {
    room.users.push(this);
  }

  get peer(): User {
    const peer = this.room.users.find((user) => user !== this);
    if (peer === undefined) throw new Error(`${this.userId} has no peer in ${this.room.roomId}`);
    return peer;
  }
}

interface Sent {
  readonly cmid: string;
  readonly content: string;
  readonly sender: User;
  readonly round: number;
  /** The connection of the first transmission. */
  origin: Conn | undefined;
  /** When it was first transmitted (infinity until then). */
  firstSentSeq: number;
  /** Every connection that transmitted it, with the sequence number of its first transmission. */
  readonly senders: Map<Conn, number>;
  /** From the first ack. */
  messageId: string | undefined;
  ackedSeq: number | undefined;
}

interface RoomModel {
  readonly roomId: string;
  /** Its two users, filled in as they are made. */
  readonly users: User[];
  readonly sent: Sent[];
  readonly byMessageId: Map<string, Sent>;
  /** Ids seen in pages during the round: each must turn out to be an acked message. */
  readonly pageIds: Set<string>;
}

class Conn {
  readonly delivered = new Map<string, number>();
  readonly deliveredMessages = new Map<string, ChatMessage>();
  /** clientMessageId -> frames sent with it on this connection. */
  readonly transmissions = new Map<string, number>();
  /** clientMessageId -> messageIds of the acks this connection got for it. */
  readonly acks = new Map<string, string[]>();
  readonly sendErrors = new Map<string, number>();
  readonly reads: { readonly userId: string; readonly messageId: string }[] = [];
  readonly openedSeq = tick();
  readonly openedAt = Date.now();
  retired = false;
  closedUnexpectedly = false;
  private pongs = 0;

  constructor(
    readonly label: string,
    readonly user: User,
    readonly socket: WebSocket,
    private readonly engine: Engine,
  ) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      const frame = parseFrame(text);
      // An untyped frame is how the gateway reports a handler that failed ("Internal server error").
      if (frame === undefined)
        engine.mismatch('invalid frame', label, 'a typed JSON frame', text.slice(0, 120));
      else this.onFrame(frame);
      engine.pulse.notify();
    });
    socket.on('close', () => {
      if (!this.retired) this.closedUnexpectedly = true;
      engine.pulse.notify();
    });
    socket.on('error', () => undefined);
  }

  answers(cmid: string): number {
    return (this.acks.get(cmid)?.length ?? 0) + (this.sendErrors.get(cmid) ?? 0);
  }

  transmit(sent: Sent): void {
    if (sent.origin === undefined) {
      sent.origin = this;
      sent.firstSentSeq = tick();
    }
    if (!sent.senders.has(this)) sent.senders.set(this, tick());
    this.transmissions.set(sent.cmid, (this.transmissions.get(sent.cmid) ?? 0) + 1);
    this.engine.touched.add(sent);
    this.engine.count('sendMessage frame');
    this.socket.send(
      JSON.stringify({
        action: 'sendMessage',
        roomId: this.user.room.roomId,
        content: sent.content,
        clientMessageId: sent.cmid,
      }),
    );
  }

  markRead(messageId: string): void {
    this.engine.count('markRead frame');
    this.socket.send(JSON.stringify({ action: 'markRead', roomId: this.user.room.roomId, messageId }));
  }

  async ping(deadline: number): Promise<boolean> {
    const before = this.pongs;
    this.socket.send(JSON.stringify({ action: 'ping' }));
    return until(this.engine.pulse, () => this.pongs > before, deadline);
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ack': {
        const cmid = frame.clientMessageId ?? '';
        this.acks.set(cmid, [...(this.acks.get(cmid) ?? []), frame.message.messageId]);
        this.engine.onAck(this, cmid, frame.message);
        return;
      }
      case 'chat_message': {
        const { messageId } = frame.message;
        this.delivered.set(messageId, (this.delivered.get(messageId) ?? 0) + 1);
        if (!this.deliveredMessages.has(messageId)) this.deliveredMessages.set(messageId, frame.message);
        return;
      }
      case 'read':
        this.reads.push({ userId: frame.userId, messageId: frame.messageId });
        return;
      case 'pong':
        this.pongs++;
        return;
      case 'error': {
        if (frame.action === 'sendMessage' && frame.clientMessageId !== undefined) {
          this.sendErrors.set(frame.clientMessageId, (this.sendErrors.get(frame.clientMessageId) ?? 0) + 1);
        }
        this.engine.mismatch(
          'error frame',
          this.label,
          'no error frame',
          `${frame.code} for ${frame.action ?? 'no action'}`,
          `${frame.message}${frame.clientMessageId === undefined ? '' : ` (clientMessageId ${frame.clientMessageId})`}`,
        );
        return;
      }
      default:
        return;
    }
  }
}

interface HttpAnswer<T> {
  readonly status: number;
  readonly text: string;
  readonly body: T | undefined;
}

const maxId = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : a > b ? a : b;

const short = (id: string | null | undefined) => (id === null || id === undefined ? 'null' : id.slice(-8));

// ---------------------------------------------------------------- the engine

class Engine {
  readonly pulse = new Pulse();
  readonly mismatches: Mismatch[] = [];
  /** Messages (re)sent this round: their acks are checked at its end. */
  readonly touched = new Set<Sent>();
  readonly operationsByKind: Record<string, number> = {};
  readonly duplicateSends: DuplicateSends = {
    sameConnection: 0,
    otherDevice: 0,
    inFlight: 0,
    late: 0,
    lateMixed: 0,
  };
  operations = 0;
  round = 0;
  /** Messages a history held more than once. */
  duplicateStored = 0;
  readonly timings = { operationsMs: 0, settleMs: 0, checkMs: 0 };
  /** Extra chat_message frames seen on connections that were since replaced. */
  private retiredDuplicateDeliveries = 0;
  private readonly bySenderCmid = new Map<string, Sent>();
  private readonly lastSignature = new Map<string, Mismatch>();
  private readonly users: User[] = [];
  private readonly rooms: RoomModel[] = [];
  private readonly random: Random;
  /** Choices made while a round runs (what to read, what to send again): timing decides their order. */
  private readonly runTime: Random;
  private readonly runTag: string;
  private nextCmid = 0;
  private retiredConns = 0;
  private connCount = 0;

  constructor(
    private readonly target: LoadTarget,
    private readonly options: InterleaveOptions,
  ) {
    this.random = seededRandom(options.seed);
    this.runTime = seededRandom(options.seed ^ 0x5bd1e995);
    this.runTag = `${Date.now().toString(36)}${Math.floor(this.random() * 36 ** 4).toString(36)}`;
  }

  count(kind: string): void {
    this.operations++;
    this.operationsByKind[kind] = (this.operationsByKind[kind] ?? 0) + 1;
  }

  /**
   * Records a difference; the same difference for the same subject as in the previous report is
   * counted as a repeat, so that one lasting drift does not flood the report.
   */
  mismatch(
    check: string,
    subject: string,
    expected: string,
    seen: string,
    detail = '',
    signature = '',
  ): void {
    const key = `${check}\n${subject}`;
    const previous = this.lastSignature.get(key);
    const sig = signature === '' ? `${expected}\n${seen}\n${detail}` : signature;
    if (previous !== undefined && sigOf(previous) === sig) {
      // Seen again: a lasting drift of the list's state is worth its count; a message's deliveries,
      // acks or history entry are looked at every round, and saying so again adds nothing.
      if (previous.round < this.round && STATE_CHECKS.has(check)) previous.repeats++;
      return;
    }
    const entry: Mismatch = { round: this.round, check, subject, expected, seen, detail, repeats: 0 };
    signatures.set(entry, sig);
    this.lastSignature.set(key, entry);
    this.mismatches.push(entry);
  }

  onAck(conn: Conn, cmid: string, message: ChatMessage): void {
    const sent = this.bySenderCmid.get(`${conn.user.userId}\n${cmid}`);
    if (sent === undefined) {
      this.mismatch('ack', conn.label, 'an ack for a clientMessageId it sent', `ack for ${cmid}`);
      return;
    }
    if (sent.messageId === undefined) {
      sent.messageId = message.messageId;
      sent.ackedSeq = tick();
      conn.user.room.byMessageId.set(message.messageId, sent);
    }
    if (
      message.messageId !== sent.messageId ||
      message.senderId !== sent.sender.userId ||
      message.roomId !== sent.sender.room.roomId ||
      message.content !== sent.content
    ) {
      this.mismatch(
        'ack',
        `${conn.label} ${cmid}`,
        `message ${sent.messageId} of ${sent.sender.userId} in ${sent.sender.room.roomId}: "${sent.content}"`,
        `${message.messageId} of ${message.senderId} in ${message.roomId}: "${message.content}"`,
        'every ack of one clientMessageId answers the same stored message',
      );
    }
  }

  // ------------------------------------------------------------ set-up

  async setUp(): Promise<void> {
    const { pairs, secondDeviceShare } = this.options;
    for (let k = 0; k < pairs; k++) {
      const ids = [`il${this.runTag}p${k}a`, `il${this.runTag}p${k}b`] as const;
      const tokens = await Promise.all(ids.map((id, i) => signIn(this.target, id, `Pair ${k} ${'AB'[i]}`)));
      const [tokenA, tokenB] = tokens as [string, string];
      const roomId = await startRoom(this.target, tokenA, ids[1]);
      const room: RoomModel = { roomId, users: [], sent: [], byMessageId: new Map(), pageIds: new Set() };
      this.rooms.push(room);
      this.users.push(new User(ids[0], tokenA, room), new User(ids[1], tokenB, room));
    }
    for (const user of this.users) {
      const devices = this.random() < secondDeviceShare ? 2 : 1;
      for (let d = 0; d < devices; d++) user.conns.push(await this.open(user));
    }
  }

  private open(user: User): Promise<Conn> {
    const url = new URL(this.target.wsUrl);
    url.searchParams.set('token', user.token);
    const label = `${user.userId}#${++this.connCount}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: 10_000, perMessageDeflate: false });
      // Listening from the start: nothing sent right after the upgrade may be missed.
      const conn = new Conn(label, user, socket, this);
      socket.once('open', () => resolve(conn));
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate();
        reject(new Error(`${label}: handshake refused with ${response.statusCode}`));
      });
      socket.once('error', (error) => reject(error));
    });
  }

  /** Replaces connections close to the gateway's maximum age, at a quiet point between rounds. */
  private async renewOldConnections(): Promise<void> {
    const now = Date.now();
    for (const user of this.users) {
      for (const [index, conn] of user.conns.entries()) {
        if (now - conn.openedAt < this.options.connectionMaxAgeMs && !conn.closedUnexpectedly) continue;
        const fresh = await this.open(user);
        conn.retired = true;
        for (const count of conn.delivered.values())
          this.retiredDuplicateDeliveries += Math.max(0, count - 1);
        conn.socket.close(1000, 'interleave: renewed');
        user.conns[index] = fresh;
        this.retiredConns++;
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.users.flatMap((user) =>
        user.conns.map(
          (conn) =>
            new Promise<void>((resolve) => {
              conn.retired = true;
              if (conn.socket.readyState === WebSocket.CLOSED) return resolve();
              const cutOff = setTimeout(() => {
                conn.socket.terminate();
                resolve();
              }, 2000);
              conn.socket.once('close', () => {
                clearTimeout(cutOff);
                resolve();
              });
              conn.socket.close(1000, 'interleave: done');
            }),
        ),
      ),
    );
  }

  get connectionCount(): number {
    return this.users.reduce((sum, user) => sum + user.conns.length, 0) + this.retiredConns;
  }

  get allRooms(): readonly RoomModel[] {
    return this.rooms;
  }

  // ------------------------------------------------------------ REST

  private async rest<T>(
    user: User,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    kind?: string,
  ): Promise<HttpAnswer<T>> {
    if (kind !== undefined) this.count(kind);
    const response = await fetch(`${this.target.restUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${user.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: T | undefined;
    try {
      parsed = text === '' ? undefined : (JSON.parse(text) as T);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, text, body: parsed };
  }

  // ------------------------------------------------------------ operations

  private newSent(sender: User): Sent {
    const cmid = `${this.runTag}-${++this.nextCmid}`;
    const sent: Sent = {
      cmid,
      // No white space at the ends: the server stores content trimmed, and the model compares it.
      content: `m${this.nextCmid} r${this.round}${'.'.repeat(between(this.random, 0, 40))}`,
      sender,
      round: this.round,
      origin: undefined,
      firstSentSeq: Number.POSITIVE_INFINITY,
      senders: new Map(),
      messageId: undefined,
      ackedSeq: undefined,
    };
    this.bySenderCmid.set(`${sender.userId}\n${cmid}`, sent);
    sender.room.sent.push(sent);
    return sent;
  }

  private acked(room: RoomModel, senderId?: string): Sent[] {
    return room.sent.filter(
      (s) => s.messageId !== undefined && (senderId === undefined || s.sender.userId === senderId),
    );
  }

  /** A known message id for a read: mostly the other participant's, old or new. */
  private readTargetFor(user: User): string | undefined {
    const theirs = this.acked(user.room, user.peer.userId);
    const pool = theirs.length > 0 && this.runTime() < 0.85 ? theirs : this.acked(user.room);
    // Half the time one of the latest few: reads race the sends that are still coming in.
    const candidates = this.runTime() < 0.5 ? pool.slice(-4) : pool;
    return pick(this.runTime, candidates)?.messageId;
  }

  private otherConn(user: User, conn: Conn): Conn {
    return user.conns.find((c) => c !== conn) ?? conn;
  }

  private async waitAck(conn: Conn, sent: Sent): Promise<boolean> {
    return until(this.pulse, () => conn.answers(sent.cmid) > 0, Date.now() + this.options.settleTimeoutMs);
  }

  /**
   * One random operation by a random user of the room. Its kind, user and connection are drawn now,
   * from the run's seed; what it sends again or reads is drawn when it runs, from what is known
   * then (so reads and late duplicates also meet messages of the same round), with a second
   * generator, so that timing does not change the operations of later rounds.
   */
  private operation(room: RoomModel): () => Promise<void> {
    const random = this.random;
    const later = this.runTime;
    const user = pick(random, room.users);
    const conn = user === undefined ? undefined : pick(random, user.conns);
    if (user === undefined || conn === undefined) throw new Error(`${room.roomId} has no connected user`);
    const kind = this.drawKind();
    const fresh = () => this.newSent(user);
    const oldOne = () => pick(later, this.acked(room, user.userId));

    switch (kind) {
      case 'send':
        return async () => conn.transmit(fresh());
      case 'pipelined': {
        // No order is asserted between them.
        const count = between(random, 2, 5);
        return async () => {
          for (let i = 0; i < count; i++) conn.transmit(fresh());
        };
      }
      case 'sequential': {
        // Each after the previous ack: their ids must keep this order.
        const count = between(random, 2, 3);
        return async () => {
          for (let i = 0; i < count; i++) {
            const sent = fresh();
            conn.transmit(sent);
            if (!(await this.waitAck(conn, sent))) return;
          }
        };
      }
      case 'duplicateSameConnection':
        return async () => {
          const [x, y] = [fresh(), fresh()];
          this.duplicateSends.sameConnection++;
          conn.transmit(x);
          conn.transmit(x);
          conn.transmit(y);
        };
      case 'duplicateOtherDevice': {
        const other = this.otherConn(user, conn);
        return async () => {
          const x = fresh();
          if (other === conn) this.duplicateSends.sameConnection++;
          else this.duplicateSends.otherDevice++;
          conn.transmit(x);
          other.transmit(x);
        };
      }
      case 'retryInFlight': {
        const again = random() < 0.5 ? conn : this.otherConn(user, conn);
        const gap = between(random, 0, 20);
        return async () => {
          const x = fresh();
          this.duplicateSends.inFlight++;
          conn.transmit(x);
          await sleep(gap);
          again.transmit(x);
        };
      }
      case 'lateDuplicate':
        return async () => {
          const old = oldOne();
          if (old === undefined) return conn.transmit(fresh());
          this.duplicateSends.late++;
          conn.transmit(old);
        };
      case 'lateDuplicateAmongNew': {
        const count = between(random, 1, 3);
        return async () => {
          const old = oldOne();
          const frames = Array.from({ length: count }, fresh);
          if (old !== undefined) {
            // The late duplicate at a random place among the new ones.
            frames.splice(between(later, 0, frames.length), 0, old);
            this.duplicateSends.lateMixed++;
          }
          for (const sent of frames) conn.transmit(sent);
        };
      }
      case 'restRead':
        return async () => {
          const target = this.readTargetFor(user);
          if (target !== undefined) await this.restRead(user, target);
        };
      case 'wsMarkRead':
        return async () => {
          const target = this.readTargetFor(user);
          if (target === undefined) return;
          conn.markRead(target);
          // No reply unless it fails: an error frame is reported as a mismatch, and the pointer
          // is checked to reach the newest target once the round is quiet.
          user.readTarget = maxId(user.readTarget, target);
        };
      case 'newestPage': {
        const limit = random() < 0.5 ? undefined : between(random, 1, 20);
        return () => this.newestPage(user, limit);
      }
      case 'afterPage': {
        const limit = random() < 0.5 ? undefined : between(random, 1, 30);
        return async () => {
          const target = this.readTargetFor(user);
          const cursor = later() < 0.2 || target === undefined ? BEFORE_EVERY_MESSAGE : target;
          await this.afterPage(user, cursor, limit);
        };
      }
    }
  }

  private drawKind(): OperationKind {
    const kinds = this.options.operationKinds;
    const total = kinds.reduce((sum, kind) => sum + OPERATION_WEIGHTS[kind], 0);
    let roll = this.random() * total;
    for (const kind of kinds) {
      roll -= OPERATION_WEIGHTS[kind];
      if (roll < 0) return kind;
    }
    return kinds.at(-1) ?? 'send';
  }

  private async restRead(user: User, target: string): Promise<void> {
    const room = user.room;
    const issued = tick();
    const answer = await this.rest<ReadPointer>(
      user,
      'POST',
      `/chat/read/${encodeURIComponent(room.roomId)}/`,
      { messageId: target },
      'POST /chat/read',
    );
    const answered = tick();
    if (answer.status !== 200 || answer.body === undefined) {
      this.mismatch(
        'read answer',
        user.userId,
        '200',
        `${answer.status}`,
        `POST /chat/read to ${target}: ${answer.text.slice(0, 200)}`,
      );
      return;
    }
    user.readTarget = maxId(user.readTarget, target);
    const { lastReadMessageId: pointer, unreadCount } = answer.body;
    if (pointer === null || pointer < target) {
      this.mismatch(
        'read answer',
        user.userId,
        `a pointer at or past ${target}`,
        `${pointer}`,
        'POST /chat/read answers the new pointer, which only moves forward',
      );
      return;
    }
    // Exact at some instant between the request and its answer: at least every message of the other
    // participant acked before the request, at most every one sent before the answer.
    const theirs = room.sent.filter((s) => s.sender === user.peer);
    const low = theirs.filter(
      (s) => s.ackedSeq !== undefined && s.ackedSeq < issued && (s.messageId ?? '') > pointer,
    ).length;
    const high = theirs.filter(
      (s) => s.firstSentSeq < answered && (s.messageId === undefined || s.messageId > pointer),
    ).length;
    if (unreadCount < low || unreadCount > high) {
      this.mismatch(
        'read answer',
        user.userId,
        low === high ? `unreadCount ${low}` : `unreadCount in ${low}..${high}`,
        `unreadCount ${unreadCount}`,
        `POST /chat/read to ${short(target)} answered pointer ${short(pointer)}`,
        `${unreadCount - low}`,
      );
    }
  }

  private async newestPage(user: User, limit: number | undefined): Promise<void> {
    const room = user.room;
    const issued = tick();
    const query = limit === undefined ? '' : `?limit=${limit}`;
    const answer = await this.rest<MessagePage>(
      user,
      'GET',
      `/chat/messages/${encodeURIComponent(room.roomId)}/${query}`,
      undefined,
      'GET newest page',
    );
    if (answer.status !== 200 || answer.body === undefined) {
      this.mismatch('newest page', user.userId, '200', `${answer.status}`, answer.text.slice(0, 200));
      return;
    }
    const ids = answer.body.messages.map((m) => m.messageId);
    this.checkPage(room, user, `newest page${query}`, ids, undefined, false, issued, limit);
    const newest = ids.at(-1);
    // Reading the newest page moves the pointer to the page's newest message.
    if (newest !== undefined) user.readTarget = maxId(user.readTarget, newest);
  }

  private async afterPage(user: User, cursor: string, limit: number | undefined): Promise<void> {
    const room = user.room;
    const issued = tick();
    const query = `?after=${cursor}${limit === undefined ? '' : `&limit=${limit}`}`;
    const answer = await this.rest<MessagePage>(
      user,
      'GET',
      `/chat/messages/${encodeURIComponent(room.roomId)}/${query}`,
      undefined,
      'GET ?after=',
    );
    if (answer.status !== 200 || answer.body === undefined) {
      this.mismatch('after page', user.userId, '200', `${answer.status}`, answer.text.slice(0, 200));
      return;
    }
    const ids = answer.body.messages.map((m) => m.messageId);
    this.checkPage(room, user, `?after=${short(cursor)}`, ids, cursor, answer.body.hasMore, issued, limit);
  }

  /**
   * A page is ascending, holds each message once, and holds every message acked before the request
   * within the range it covers: after the cursor (or from its oldest message, for the newest page)
   * up to its newest one (or beyond, when there is no more).
   */
  private checkPage(
    room: RoomModel,
    user: User,
    what: string,
    ids: readonly string[],
    cursor: string | undefined,
    hasMore: boolean,
    issued: number,
    /** The page size asked for; without one the server's default applies, which the contract leaves open. */
    limit: number | undefined,
  ): void {
    for (const id of ids) room.pageIds.add(id);
    const ascending = ids.every((id, i) => i === 0 || id > (ids[i - 1] as string));
    const tooMany = limit !== undefined && ids.length > limit;
    if (!ascending || tooMany || (cursor !== undefined && ids.some((id) => id <= cursor))) {
      this.mismatch(
        'page',
        user.userId,
        `${limit === undefined ? '' : `at most ${limit} `}ascending ids${cursor === undefined ? '' : ` after ${short(cursor)}`}`,
        ids.map(short).join(','),
        what,
      );
      return;
    }
    const from = cursor ?? ids[0];
    const upTo = hasMore ? ids.at(-1) : undefined;
    const missing = room.sent.filter(
      (s) =>
        s.ackedSeq !== undefined &&
        s.ackedSeq < issued &&
        s.messageId !== undefined &&
        (from === undefined || (cursor === undefined ? s.messageId >= from : s.messageId > from)) &&
        (upTo === undefined || s.messageId <= upTo),
    );
    const onPage = new Set(ids);
    const absent = missing.filter((s) => !onPage.has(s.messageId as string));
    if (absent.length > 0) {
      this.mismatch(
        'page',
        user.userId,
        'every message acked before the request, in the range of the page',
        `${absent.length} missing: ${absent.map((s) => short(s.messageId)).join(',')}`,
        `${what}: page ${ids.map(short).join(',')}`,
      );
    }
  }

  // ------------------------------------------------------------ rounds

  async runRound(): Promise<void> {
    this.round++;
    await this.renewOldConnections();
    this.touched.clear();
    for (const room of this.rooms) room.pageIds.clear();
    const roundStartedAt = Date.now();
    const [minOps, maxOps] = this.options.opsPerPairPerRound;
    const operations = this.rooms.flatMap((room) =>
      Array.from({ length: between(this.random, minOps, maxOps) }, () => ({
        run: this.operation(room),
        delay: between(this.random, 0, this.options.maxStartDelayMs),
      })),
    );
    const t0 = performance.now();
    await Promise.all(
      operations.map(async ({ run, delay }) => {
        await sleep(delay);
        try {
          await run();
        } catch (error) {
          this.mismatch('operation', 'client', 'no failure', String(error));
        }
      }),
    );
    const t1 = performance.now();
    await this.settle();
    const t2 = performance.now();
    const full = this.round % this.options.fullHistoryEvery === 0;
    // Messages of this round have ids from its start on (ULID time): 2 s of margin for clock steps.
    await this.check(full ? BEFORE_EVERY_MESSAGE : smallestUlidAt(roundStartedAt - 2_000));
    this.timings.operationsMs += t1 - t0;
    this.timings.settleMs += t2 - t1;
    this.timings.checkMs += performance.now() - t2;
  }

  /** After the last round: every room's whole history, the lists and the deliveries once more. */
  async finalCheck(): Promise<void> {
    this.round++;
    this.touched.clear();
    for (const room of this.rooms) room.pageIds.clear();
    // Once more quiet: a late duplicate of the last round would otherwise go unseen.
    await this.settle();
    await this.check(BEFORE_EVERY_MESSAGE);
  }

  /** Waits until every send is answered, every pointer move announced and every delivery in. */
  private async settle(): Promise<void> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    // A connection the gateway closed is reported as such ('connection'); nothing is awaited on it.
    const open = this.users.flatMap((user) => user.conns).filter((conn) => !conn.closedUnexpectedly);

    let unanswered = open.flatMap((conn) => [...conn.transmissions].map(([cmid]) => ({ conn, cmid })));
    const answered = () => {
      unanswered = unanswered.filter(
        ({ conn, cmid }) => conn.answers(cmid) < (conn.transmissions.get(cmid) ?? 0),
      );
      return unanswered.length === 0;
    };
    if (!(await until(this.pulse, answered, deadline))) {
      for (const { conn, cmid } of unanswered) {
        this.mismatch(
          'unanswered send',
          conn.label,
          `${conn.transmissions.get(cmid)} answers for ${cmid}`,
          `${conn.answers(cmid)}`,
          `no ack or error within ${this.options.settleTimeoutMs} ms`,
        );
      }
    }

    // WS markRead has no reply: its move is seen in the read event to the other participant.
    const moved = this.users.filter((u) => u.readTarget !== null && u.readTarget !== u.checkedTarget);
    const announced = (user: User) =>
      user.peer.conns.every(
        (conn) =>
          conn.closedUnexpectedly ||
          conn.reads.some((r) => r.userId === user.userId && r.messageId >= (user.readTarget as string)),
      );
    if (!(await until(this.pulse, () => moved.every(announced), deadline))) {
      for (const user of moved.filter((u) => !announced(u))) {
        this.mismatch(
          'read event',
          user.userId,
          `a read event for ${user.readTarget} at ${user.peer.userId}'s connections`,
          'none',
          `no read event within ${this.options.settleTimeoutMs} ms: the pointer never reached the newest target`,
        );
      }
    }

    // Computed once, then thinned as frames come: a check per frame must stay cheap.
    let owed = this.rooms.flatMap((room) =>
      this.acked(room).flatMap((sent) =>
        room.users
          .flatMap((u) => u.conns)
          .filter((conn) => expectedDeliveries(conn, sent) === 'one')
          .map((conn) => ({ conn, messageId: sent.messageId as string })),
      ),
    );
    await until(
      this.pulse,
      () => {
        owed = owed.filter(
          ({ conn, messageId }) => !conn.delivered.has(messageId) && !conn.closedUnexpectedly,
        );
        return owed.length === 0;
      },
      deadline,
    );

    // A duplicate comes from a send that was already answered: a short quiet time shows it. The
    // pings also keep every connection inside the gateway's idle timeout.
    const pinged = await Promise.all(
      open.map((conn) => conn.ping(Date.now() + this.options.settleTimeoutMs)),
    );
    pinged.forEach((ok, i) => {
      if (!ok) this.mismatch('connection', open[i]?.label ?? '?', 'pong', 'none');
    });
    await sleep(this.options.quietMs);
  }

  // ------------------------------------------------------------ checks

  private async check(historyCursor: string): Promise<void> {
    await Promise.all(this.rooms.map((room) => this.checkRoom(room, historyCursor)));
    for (const user of this.users) user.checkedTarget = user.readTarget;
  }

  private async checkRoom(room: RoomModel, historyCursor: string): Promise<void> {
    const messages = this.acked(room).sort((x, y) =>
      (x.messageId as string) < (y.messageId as string) ? -1 : 1,
    );
    const newest = messages.at(-1)?.messageId ?? null;
    const pointers = new Map<string, string | null>();

    for (const user of room.users) {
      const list = await this.rest<RoomPage>(user, 'GET', '/chat/list/?limit=100');
      const entry: Room | undefined = list.body?.rooms.find((r) => r.roomId === room.roomId);
      if (list.status !== 200 || entry === undefined) {
        this.mismatch(
          'chat list',
          user.userId,
          `${room.roomId} listed`,
          `${list.status}`,
          list.text.slice(0, 200),
        );
        continue;
      }
      pointers.set(user.userId, entry.lastReadMessageId);
      const pointer = user.readTarget;
      if (entry.lastReadMessageId !== pointer) {
        this.mismatch(
          'pointer',
          user.userId,
          `lastReadMessageId ${pointer}`,
          `${entry.lastReadMessageId}`,
          'the newest read target answered (or sent without error)',
        );
      }
      const unread = messages.filter(
        (s) => s.sender === user.peer && (pointer === null || (s.messageId as string) > pointer),
      ).length;
      if (entry.unreadCount !== unread) {
        const seenPointer = entry.lastReadMessageId;
        const againstSeen = messages.filter(
          (s) => s.sender === user.peer && (seenPointer === null || (s.messageId as string) > seenPointer),
        ).length;
        const delta = entry.unreadCount - unread;
        this.mismatch(
          'unread',
          user.userId,
          `unreadCount ${unread}`,
          `${entry.unreadCount} (${delta > 0 ? '+' : ''}${delta})`,
          `${user.peer.userId}'s messages after pointer ${short(pointer)}` +
            (seenPointer === pointer
              ? ''
              : `; after the pointer the list shows (${short(seenPointer)}): ${againstSeen}`),
          `${delta}`,
        );
      }
      const last = entry.lastMessage?.messageId ?? null;
      if (last !== newest) {
        this.mismatch('lastMessage', user.userId, `${newest}`, `${last}`, 'the newest message by messageId');
      }
    }

    // Deliveries on every open connection of the room's users.
    for (const user of room.users) {
      for (const conn of user.conns) {
        if (conn.closedUnexpectedly) {
          this.mismatch('connection', conn.label, 'open', 'closed by the server', 'in the middle of a round');
          continue;
        }
        for (const sent of messages) {
          const want = expectedDeliveries(conn, sent);
          const got = conn.delivered.get(sent.messageId as string) ?? 0;
          const ok = want === 'one' ? got === 1 : want === 'none' ? got === 0 : got <= 1;
          if (!ok) {
            this.mismatch(
              'delivery',
              `${conn.label} ${short(sent.messageId)}`,
              `${want === 'one' ? 'exactly one' : want === 'none' ? 'no' : 'at most one'} chat_message`,
              `${got}`,
              `${sent.cmid} by ${sent.sender.userId} from ${sent.origin?.label}, sent from ` +
                `${[...sent.senders.keys()].map((c) => c.label).join(', ')}`,
            );
          }
        }
        for (const [messageId, message] of conn.deliveredMessages) {
          const sent = room.byMessageId.get(messageId);
          if (
            sent === undefined ||
            message.senderId !== sent.sender.userId ||
            message.roomId !== room.roomId
          ) {
            this.mismatch(
              'delivery',
              `${conn.label} ${short(messageId)}`,
              'a chat_message of a stored message of the room',
              `${message.senderId} in ${message.roomId}`,
              sent === undefined
                ? 'no client was acked for it'
                : `acked as ${sent.cmid} of ${sent.sender.userId}`,
            );
          }
        }
      }
    }

    // Every frame sent this round got an ack with the one stored message.
    for (const sent of this.touched) {
      if (sent.sender.room !== room) continue;
      for (const [conn, _first] of sent.senders) {
        if (conn.retired) continue;
        const frames = conn.transmissions.get(sent.cmid) ?? 0;
        const acks = conn.acks.get(sent.cmid) ?? [];
        if (acks.length !== frames) {
          this.mismatch(
            'ack',
            `${conn.label} ${sent.cmid}`,
            `${frames} acks`,
            `${acks.length}`,
            'one ack per frame sent',
          );
        }
      }
    }

    // A sender that waited for each ack keeps its order.
    for (const user of room.users) {
      const mine = room.sent.filter((s) => s.sender === user && s.messageId !== undefined);
      const byAck = [...mine].sort((x, y) => (x.ackedSeq as number) - (y.ackedSeq as number));
      const bySend = [...mine].sort((x, y) => x.firstSentSeq - y.firstSentSeq);
      let i = 0;
      let newestAcked: Sent | undefined;
      for (const sent of bySend) {
        while (i < byAck.length && ((byAck[i] as Sent).ackedSeq as number) < sent.firstSentSeq) {
          const candidate = byAck[i] as Sent;
          if (
            newestAcked === undefined ||
            (candidate.messageId as string) > (newestAcked.messageId as string)
          ) {
            newestAcked = candidate;
          }
          i++;
        }
        if (
          sent.round === this.round &&
          newestAcked !== undefined &&
          (sent.messageId as string) <= (newestAcked.messageId as string)
        ) {
          this.mismatch(
            'order',
            `${user.userId} ${sent.cmid}`,
            `an id after ${newestAcked.messageId} (${newestAcked.cmid}, acked before this was sent)`,
            `${sent.messageId}`,
          );
        }
      }
    }

    for (const id of room.pageIds) {
      if (!room.byMessageId.has(id)) {
        this.mismatch(
          'page',
          room.roomId,
          'ids of acked messages',
          `${id}`,
          'a page held a message no client was acked for',
        );
      }
    }

    await this.checkHistory(room, historyCursor, messages, pointers);
  }

  private async checkHistory(
    room: RoomModel,
    cursor: string,
    messages: readonly Sent[],
    pointers: ReadonlyMap<string, string | null>,
  ): Promise<void> {
    const [reader] = room.users;
    if (reader === undefined) return;
    const held: (ChatMessage & { read: boolean })[] = [];
    let after = cursor;
    for (;;) {
      const page = await this.rest<MessagePage>(
        reader,
        'GET',
        `/chat/messages/${encodeURIComponent(room.roomId)}/?after=${after}&limit=100`,
      );
      if (page.status !== 200 || page.body === undefined) {
        this.mismatch('history', room.roomId, '200', `${page.status}`, page.text.slice(0, 200));
        return;
      }
      held.push(...page.body.messages);
      const last = page.body.messages.at(-1);
      if (!page.body.hasMore || last === undefined || last.messageId <= after) break;
      after = last.messageId;
    }
    const scope = cursor === BEFORE_EVERY_MESSAGE ? 'whole history' : `history after ${short(cursor)}`;
    const ids = held.map((m) => m.messageId);
    const seen = new Set<string>();
    const cmids = new Set<string>();
    let duplicates = 0;
    held.forEach((message, i) => {
      const previous = held[i - 1];
      if (previous !== undefined && message.messageId <= previous.messageId) {
        this.mismatch(
          'history',
          room.roomId,
          'ascending messageIds',
          `${message.messageId} after ${previous.messageId}`,
          scope,
        );
      }
      const key = `${message.senderId}\n${message.clientMessageId ?? message.messageId}`;
      if (seen.has(message.messageId) || cmids.has(key)) duplicates++;
      seen.add(message.messageId);
      cmids.add(key);
      const sent = room.byMessageId.get(message.messageId);
      if (
        sent === undefined ||
        sent.sender.userId !== message.senderId ||
        sent.cmid !== message.clientMessageId ||
        sent.content !== message.content
      ) {
        this.mismatch(
          'history',
          `${room.roomId} ${short(message.messageId)}`,
          sent === undefined
            ? 'only acked messages'
            : `${sent.cmid} of ${sent.sender.userId}: "${sent.content}"`,
          `${message.clientMessageId} of ${message.senderId}: "${message.content}"`,
          scope,
        );
      }
      // Read iff the other participant's pointer (as the list shows it) is at or past the message.
      const other = room.users.find((u) => u.userId !== message.senderId);
      const pointer = other === undefined ? null : (pointers.get(other.userId) ?? null);
      const read = pointer !== null && pointer >= message.messageId;
      if (message.read !== read) {
        this.mismatch(
          'read flag',
          `${room.roomId} ${short(message.messageId)}`,
          `read ${read}`,
          `read ${message.read}`,
          `${other?.userId ?? '?'}'s pointer ${short(pointer)}`,
          `${message.messageId}`,
        );
      }
    });
    if (duplicates > 0) {
      this.duplicateStored += duplicates;
      this.mismatch('history', room.roomId, 'each message once', `${duplicates} held twice`, scope);
    }
    const expected = messages.filter((s) => (s.messageId as string) > cursor);
    const absent = expected.filter((s) => !seen.has(s.messageId as string));
    if (absent.length > 0) {
      this.mismatch(
        'history',
        room.roomId,
        `${expected.length} messages`,
        `${ids.length}; missing ${absent.map((s) => `${short(s.messageId)} (${s.cmid})`).join(', ')}`,
        scope,
      );
    }
  }

  duplicateDeliveries(): number {
    let extra = 0;
    for (const user of this.users) {
      for (const conn of user.conns)
        for (const count of conn.delivered.values()) extra += Math.max(0, count - 1);
    }
    return extra + this.retiredDuplicateDeliveries;
  }
}

const STATE_CHECKS = new Set(['unread', 'pointer', 'lastMessage']);

const signatures = new WeakMap<Mismatch, string>();
const sigOf = (mismatch: Mismatch) => signatures.get(mismatch) ?? '';

/**
 * How many chat_message frames of a message a connection must get. The sending connection gets the
 * ack instead; every other connection of both participants gets exactly one. A connection that sent
 * the same clientMessageId while the first attempt was in flight may count as a sender of it (no
 * chat_message) or not (one): at most one. One that sent it again after the ack is a late retry: the
 * first delivery stands, and the retry adds none. A connection opened after the message was acked
 * can only have it from a retry: at most one.
 */
function expectedDeliveries(conn: Conn, sent: Sent): 'one' | 'none' | 'atMostOne' {
  const acked = sent.ackedSeq;
  if (acked === undefined) return 'atMostOne';
  if (conn.openedSeq > acked) return 'atMostOne';
  const firstSent = sent.senders.get(conn);
  if (firstSent === undefined || firstSent > acked) return 'one';
  if (conn === sent.origin) {
    const racedByAnother = [...sent.senders].some(([other, seq]) => other !== conn && seq < acked);
    return racedByAnother ? 'atMostOne' : 'none';
  }
  return 'atMostOne';
}

// ---------------------------------------------------------------- the run

export async function runInterleave(
  target: LoadTarget,
  overrides: Partial<InterleaveOptions> = {},
): Promise<InterleaveReport> {
  const options: InterleaveOptions = { ...DEFAULT_INTERLEAVE_OPTIONS, ...overrides };
  const { log } = options;
  if (!Number.isInteger(options.pairs) || options.pairs < 1) {
    throw new Error(`pairs must be a positive integer, not ${options.pairs}`);
  }
  const unknown = options.operationKinds.filter((kind) => !OPERATION_KINDS.includes(kind));
  if (options.operationKinds.length === 0 || unknown.length > 0) {
    throw new Error(
      `operation kinds must be some of ${OPERATION_KINDS.join(', ')}; not ${unknown.join(', ') || 'none'}`,
    );
  }
  const startedAt = performance.now();
  const deadline = Date.now() + options.timeLimitMs;
  const engine = new Engine(target, options);
  log(`Seed ${options.seed}: signing in ${options.pairs * 2} users, one room per pair...`);
  await engine.setUp();
  let nextProgress = performance.now() + 5_000;
  try {
    while (engine.operations < options.operations && Date.now() < deadline) {
      await engine.runRound();
      if (performance.now() > nextProgress) {
        nextProgress += 5_000;
        log(
          `  round ${engine.round}: ${engine.operations} operations, ${engine.mismatches.length} mismatches ` +
            `after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
        );
      }
    }
    await engine.finalCheck();
  } finally {
    await engine.stop();
  }
  const messages = engine.allRooms.reduce(
    (sum, room) => sum + room.sent.filter((s) => s.messageId !== undefined).length,
    0,
  );
  return {
    seed: options.seed,
    pairs: options.pairs,
    connections: engine.connectionCount,
    rounds: engine.round,
    operations: engine.operations,
    operationsByKind: engine.operationsByKind,
    messages,
    duplicateSends: engine.duplicateSends,
    duplicateDeliveries: engine.duplicateDeliveries(),
    duplicateStored: engine.duplicateStored,
    mismatches: engine.mismatches,
    passed: engine.mismatches.length === 0,
    durationMs: performance.now() - startedAt,
    timings: { ...engine.timings },
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A mismatch as one line: round, check, subject, expected, seen, detail. */
export function formatMismatch(m: Mismatch): string {
  return (
    `round ${m.round} ${m.check} [${m.subject}]: expected ${m.expected}, seen ${m.seen}` +
    `${m.detail === '' ? '' : ` (${m.detail})`}${m.repeats > 0 ? ` (again in ${m.repeats} later rounds)` : ''}`
  );
}

/**
 * The report as text. About `maxListed` mismatches are spelled out, the first ones of each check
 * (one kind of failure must not hide the others).
 */
export function formatInterleaveReport(report: InterleaveReport, maxListed = 40): string {
  const byCheck = new Map<string, Mismatch[]>();
  for (const m of report.mismatches) byCheck.set(m.check, [...(byCheck.get(m.check) ?? []), m]);
  const perCheck = Math.max(3, Math.ceil(maxListed / Math.max(1, byCheck.size)));
  const listed = [...byCheck.values()].flatMap((list) => list.slice(0, perCheck));
  const unread = (byCheck.get('unread') ?? []).map((m) => m.seen.replace(/^.*\((.*)\)$/, '$1'));
  const deltas = new Map<string, number>();
  for (const delta of unread) deltas.set(delta, (deltas.get(delta) ?? 0) + 1);
  const d = report.duplicateSends;
  const kinds = Object.entries(report.operationsByKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  return [
    `Interleave: seed ${report.seed}, ${report.pairs} rooms, ${report.connections} connections, ` +
      `${report.rounds} rounds in ${seconds(report.durationMs)} (operations ${seconds(report.timings.operationsMs)}, ` +
      `waiting until quiet ${seconds(report.timings.settleMs)}, checks ${seconds(report.timings.checkMs)})`,
    `  operations      ${report.operations} (${kinds})`,
    `  messages        ${report.messages} acked`,
    `  duplicate sends ${d.sameConnection + d.otherDevice + d.inFlight + d.late + d.lateMixed} ` +
      `(same connection ${d.sameConnection}, other device ${d.otherDevice}, in flight ${d.inFlight}, ` +
      `late ${d.late}, late among new ones ${d.lateMixed})`,
    `  duplicated      chat_message ${report.duplicateDeliveries}, stored ${report.duplicateStored}`,
    `  mismatches      ${report.mismatches.length}` +
      (byCheck.size === 0
        ? ''
        : ` (${[...byCheck].map(([check, list]) => `${check} ${list.length}`).join(', ')})`),
    ...(deltas.size === 0
      ? []
      : [
          `  unread drifts   ${[...deltas]
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([delta, n]) => `${delta} x${n}`)
            .join(', ')}`,
        ]),
    ...listed.map((m) => `    ${formatMismatch(m)}`),
    ...(report.mismatches.length > listed.length
      ? [`    ... and ${report.mismatches.length - listed.length} more`]
      : []),
    `RESULT: ${report.passed ? 'PASS' : `FAIL (seed ${report.seed})`}`,
  ].join('\n');
}
