/**
 * One simulated user on one WebSocket connection, behaving as a careful client does: a message stays
 * pending until its `ack` and goes out again (same clientMessageId) after a timeout, an error frame or
 * a reconnect; after every reconnect the room is caught up with `GET ...?after=<newest held>`, and
 * everything received is de-duplicated by messageId. It records what it saw for the final check.
 */
import WebSocket from 'ws';
import { between, type Random } from './random.js';
import { messagesAfter } from './rest.js';
import {
  BEFORE_EVERY_MESSAGE,
  type ChatMessage,
  type LoadTarget,
  parseFrame,
  type ServerFrame,
  smallestUlidAt,
  ulidTime,
} from './wire.js';

export interface ClientOptions {
  readonly target: LoadTarget;
  readonly userId: string;
  readonly peerId: string;
  readonly roomId: string;
  readonly token: string;
  readonly random: Random;
  /** A send without an answer for this long goes out again (then twice as long, up to 30 s). */
  readonly ackTimeoutMs: number;
  /** Transmissions of one clientMessageId before the client gives up on it. */
  readonly maxAttempts: number;
  /** Wait before reconnecting, a random value in this range. */
  readonly reconnectDelayMs: readonly [number, number];
  /**
   * 0: catch up after the newest message held, as API.md describes. More: from that message's time
   * minus this margin, which also finds messages with older ids that were stored or delivered late.
   */
  readonly catchUpMarginMs: number;
}

/** A deliberate second send of a clientMessageId: while the first is in flight, or once it is acked. */
export type DeliberateRetry = 'none' | 'before-ack' | 'after-ack';

export interface ClientCounters {
  timeoutResends: number;
  errorResends: number;
  retriesBeforeAck: number;
  retriesAfterAck: number;
  gaveUp: number;
  /** Connections ended by the load driver: close frame, or the TCP socket destroyed without one. */
  closedByClient: number;
  vanished: number;
  /** Connections the server ended (idle or maximum age limits, stack going away). */
  closedByServer: number;
  reconnects: number;
  failedHandshakes: number;
  catchUps: number;
  /** Messages first seen in a catch-up page: missed live, recovered. */
  recoveredByCatchUp: number;
  /** A chat_message for a message this connection had already received live. */
  redeliveries: number;
  /** Live frames from one sender arriving out of messageId order on one connection (not a contract breach). */
  liveOutOfSendingOrder: number;
  errorFrames: Record<string, number>;
}

/** What the final check needs from a client. */
export interface ClientRecord {
  readonly userId: string;
  readonly peerId: string;
  readonly roomId: string;
  /** Every message the client holds: its acked ones, chat_message frames and catch-up pages. */
  readonly held: ReadonlyMap<string, ChatMessage>;
  /** The messageIds answered in acks, per clientMessageId. */
  readonly acks: ReadonlyMap<string, ReadonlySet<string>>;
  /** When the last ack of each clientMessageId came (epoch ms): by then its fan-out had run. */
  readonly lastAckAt: ReadonlyMap<string, number>;
  /** clientMessageIds in the order they were first sent (one at a time: each after the last's ack). */
  readonly sentOrder: readonly string[];
  /** Catch-up pages that broke their order (oldest first, all after the cursor). */
  readonly orderViolations: readonly string[];
  /** Catch-ups that failed for good: what they should have recovered counts as lost. */
  readonly failures: readonly string[];
  /** Every catch-up: its cursor, and when it read (to explain a message it could not see). */
  readonly catchUpLog: readonly CatchUpEntry[];
  /** When each connection was open (epoch ms; `closedAt` undefined while open). */
  readonly connectionLog: readonly { readonly openedAt: number; readonly closedAt: number | undefined }[];
  /** chat_message or ack frames carrying a message of another room. */
  readonly foreignFrames: number;
}

export interface CatchUpEntry {
  /** The newest messageId held when the catch-up started. */
  readonly after: string;
  /** Epoch ms when its first page was requested and when its last page came back. */
  readonly startedAt: number;
  readonly endedAt: number;
}

interface Outgoing {
  readonly clientMessageId: string;
  readonly content: string;
  attempts: number;
  firstSentAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
  readonly afterAck: boolean;
  readonly finish: (acked: boolean) => void;
}

interface Connection {
  readonly socket: WebSocket;
  readonly log: { openedAt: number; closedAt: number | undefined };
  /** The newest messageId received live from each sender on this connection. */
  readonly newestBySender: Map<string, string>;
  readonly liveIds: Set<string>;
  closing: 'close' | 'vanish' | undefined;
}

export function emptyCounters(): ClientCounters {
  return {
    timeoutResends: 0,
    errorResends: 0,
    retriesBeforeAck: 0,
    retriesAfterAck: 0,
    gaveUp: 0,
    closedByClient: 0,
    vanished: 0,
    closedByServer: 0,
    reconnects: 0,
    failedHandshakes: 0,
    catchUps: 0,
    recoveredByCatchUp: 0,
    redeliveries: 0,
    liveOutOfSendingOrder: 0,
    errorFrames: {},
  };
}

const MAX_ACK_WAIT_MS = 30_000;
/** The SDK's second catch-up after a reconnect (web/sdk/connection.ts SETTLE_CATCH_UP_MS). */
const SETTLE_CATCH_UP_MS = 11_000;
const ERROR_RESEND_DELAY_MS: readonly [number, number] = [50, 300];

export class LoadClient implements ClientRecord {
  readonly userId: string;
  readonly peerId: string;
  readonly roomId: string;
  readonly held = new Map<string, ChatMessage>();
  readonly acks = new Map<string, Set<string>>();
  readonly lastAckAt = new Map<string, number>();
  /** Milliseconds from a message's first transmission to its first ack. */
  readonly ackLatencies: number[] = [];
  readonly sentOrder: string[] = [];
  readonly orderViolations: string[] = [];
  readonly failures: string[] = [];
  readonly catchUpLog: CatchUpEntry[] = [];
  readonly connectionLog: { openedAt: number; closedAt: number | undefined }[] = [];
  foreignFrames = 0;
  readonly counters: ClientCounters = emptyCounters();

  private readonly options: ClientOptions;
  private connection: Connection | undefined;
  private readonly outbox: Outgoing[] = [];
  /** Sends that are still owed an ack, including deliberate retries after an ack. */
  private readonly unsettled = new Set<Promise<boolean>>();
  private connecting: Promise<void> | undefined;
  private catchUpChain: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private settleCursor: string | undefined;
  private stopped = false;
  private everConnected = false;

  constructor(options: ClientOptions) {
    this.options = options;
    this.userId = options.userId;
    this.peerId = options.peerId;
    this.roomId = options.roomId;
  }

  get isOpen(): boolean {
    return this.connection?.socket.readyState === WebSocket.OPEN;
  }

  /** Opens the connection (again); resolves once it is open. Retries refused handshakes with backoff. */
  connect(): Promise<void> {
    this.connecting ??= this.openWithRetries().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Sends one message and resolves when it is acked (true) or given up (false). `retry` adds a
   * deliberate second send of the same clientMessageId, at once or once the ack is in.
   */
  send(clientMessageId: string, content: string, retry: DeliberateRetry = 'none'): Promise<boolean> {
    this.sentOrder.push(clientMessageId);
    const acked = this.enqueue(clientMessageId, content, false);
    if (retry === 'before-ack') {
      // The same frame again in the same tick: both are in flight before any ack can come back.
      if (this.transmitAgain(clientMessageId, content)) this.counters.retriesBeforeAck++;
    } else if (retry === 'after-ack') {
      void acked.then((ok) => {
        if (!ok || this.stopped) return;
        this.counters.retriesAfterAck++;
        const delay = between(this.options.random, 0, 200);
        const later = new Promise<boolean>((resolve) =>
          setTimeout(() => resolve(this.enqueue(clientMessageId, content, true)), delay),
        );
        this.track(later);
      });
    }
    return acked;
  }

  /** Ends the connection as the load driver chooses; the client reconnects by itself. */
  disconnect(how: 'close' | 'vanish'): void {
    const connection = this.connection;
    if (connection === undefined || connection.socket.readyState !== WebSocket.OPEN) return;
    connection.closing = how;
    if (how === 'close') connection.socket.close(1000, 'load: reconnecting');
    else connection.socket.terminate();
  }

  /** Resolves when every send is acked or given up, or the deadline passes (false). */
  async drained(deadline: number): Promise<boolean> {
    while (this.unsettled.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await Promise.race([
        Promise.allSettled([...this.unsettled]),
        new Promise((resolve) => setTimeout(resolve, Math.min(remaining, 1000))),
      ]);
    }
    return true;
  }

  /**
   * Resolves once the client is connected and no catch-up is running, or the deadline passes (false).
   * Called once every send is answered, so every message is stored: a second catch-up still waiting
   * for the send function's lifetime to pass runs at once.
   */
  async settled(deadline: number): Promise<boolean> {
    if (this.settleTimer !== undefined) this.settleCatchUpNow();
    for (;;) {
      if (this.isOpen && this.connecting === undefined && this.reconnectTimer === undefined) {
        const chain = this.catchUpChain;
        await chain;
        if (chain === this.catchUpChain && this.isOpen) return true;
      }
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Closes the connection for good (close frame) and stops every timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.settleTimer);
    this.reconnectTimer = undefined;
    for (const entry of this.outbox) clearTimeout(entry.timer);
    await this.connecting?.catch(() => undefined);
    const socket = this.connection?.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const cutOff = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 3000);
      socket.once('close', () => {
        clearTimeout(cutOff);
        resolve();
      });
      socket.close(1000, 'load: done');
    });
  }

  // ------------------------------------------------------------------ connection

  private async openWithRetries(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.open();
        return;
      } catch {
        this.counters.failedHandshakes++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
  }

  private open(): Promise<void> {
    const url = new URL(this.options.target.wsUrl);
    url.searchParams.set('token', this.options.token);
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: 10_000, perMessageDeflate: false });
      const connection: Connection = {
        socket,
        log: { openedAt: 0, closedAt: undefined },
        newestBySender: new Map(),
        liveIds: new Set(),
        closing: undefined,
      };
      // Listening from the start: a frame right after the upgrade must not be missed.
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        const frame = parseFrame(data.toString());
        if (frame !== undefined) this.onFrame(connection, frame);
      });
      socket.once('open', () => {
        socket.on('error', () => undefined);
        socket.on('close', () => this.onClose(connection));
        this.connection = connection;
        connection.log.openedAt = Date.now();
        this.connectionLog.push(connection.log);
        const reconnected = this.everConnected;
        this.everConnected = true;
        if (reconnected) {
          this.counters.reconnects++;
          // The cursor is taken now: frames of the new connection can be dispatched before any
          // promise callback runs, and one of them must not move the cursor past a missed message.
          const cursor = this.cursor();
          this.catchUp(cursor);
          this.scheduleSettleCatchUp(cursor);
        }
        for (const entry of this.outbox) this.transmit(entry);
        resolve();
      });
      socket.once('error', (error) => {
        socket.terminate();
        reject(error);
      });
    });
  }

  private onClose(connection: Connection): void {
    connection.log.closedAt = Date.now();
    if (connection.closing === 'close') this.counters.closedByClient++;
    else if (connection.closing === 'vanish') this.counters.vanished++;
    else if (!this.stopped) this.counters.closedByServer++;
    if (this.connection === connection) this.connection = undefined;
    // Their ack would come on the closed connection: they go out again on the next one.
    for (const entry of this.outbox) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    if (this.stopped) return;
    const [min, max] = this.options.reconnectDelayMs;
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        void this.connect();
      },
      between(this.options.random, min, max),
    );
  }

  // ------------------------------------------------------------------ frames

  private onFrame(connection: Connection, frame: ServerFrame): void {
    switch (frame.type) {
      case 'ack': {
        if (!('message' in frame)) return;
        if (frame.message.roomId !== this.roomId) this.foreignFrames++;
        const clientMessageId = frame.clientMessageId ?? '';
        const ids = this.acks.get(clientMessageId) ?? new Set<string>();
        ids.add(frame.message.messageId);
        this.acks.set(clientMessageId, ids);
        this.lastAckAt.set(clientMessageId, Date.now());
        this.hold(frame.message);
        const entry = this.outbox.find((e) => e.clientMessageId === clientMessageId && !e.done);
        if (entry !== undefined && !entry.afterAck && entry.firstSentAt !== undefined) {
          this.ackLatencies.push(Date.now() - entry.firstSentAt);
        }
        entry?.finish(true);
        return;
      }
      case 'chat_message': {
        if (!('message' in frame)) return;
        const { message } = frame;
        if (message.roomId !== this.roomId) {
          this.foreignFrames++;
          return;
        }
        if (connection.liveIds.has(message.messageId)) this.counters.redeliveries++;
        connection.liveIds.add(message.messageId);
        const newest = connection.newestBySender.get(message.senderId);
        if (newest !== undefined && message.messageId < newest) this.counters.liveOutOfSendingOrder++;
        if (newest === undefined || message.messageId > newest) {
          connection.newestBySender.set(message.senderId, message.messageId);
        }
        this.hold(message);
        return;
      }
      case 'error': {
        if (!('code' in frame)) return;
        const key = `${frame.action ?? 'none'}:${frame.code}`;
        this.counters.errorFrames[key] = (this.counters.errorFrames[key] ?? 0) + 1;
        const entry = this.outbox.find((e) => e.clientMessageId === frame.clientMessageId && !e.done);
        if (frame.action !== 'sendMessage' || entry === undefined) return;
        clearTimeout(entry.timer);
        const [min, max] = ERROR_RESEND_DELAY_MS;
        entry.timer = setTimeout(
          () => {
            this.counters.errorResends++;
            this.transmit(entry);
          },
          between(this.options.random, min, max),
        );
        return;
      }
      default:
        return;
    }
  }

  private hold(message: ChatMessage): void {
    if (!this.held.has(message.messageId)) this.held.set(message.messageId, message);
  }

  // ------------------------------------------------------------------ sending

  private enqueue(clientMessageId: string, content: string, afterAck: boolean): Promise<boolean> {
    let finish: (acked: boolean) => void = () => {};
    const acked = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    const entry: Outgoing = {
      clientMessageId,
      content,
      attempts: 0,
      firstSentAt: undefined,
      timer: undefined,
      done: false,
      afterAck,
      finish: (ok) => {
        if (entry.done) return;
        entry.done = true;
        clearTimeout(entry.timer);
        const index = this.outbox.indexOf(entry);
        if (index !== -1) this.outbox.splice(index, 1);
        if (!ok) this.counters.gaveUp++;
        finish(ok);
      },
    };
    this.outbox.push(entry);
    this.track(acked);
    this.transmit(entry);
    return acked;
  }

  private track(promise: Promise<boolean>): void {
    this.unsettled.add(promise);
    void promise.finally(() => this.unsettled.delete(promise));
  }

  /** One transmission; the ack timer sends it again. Nothing goes out while disconnected. */
  private transmit(entry: Outgoing): void {
    if (entry.done || this.stopped) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const socket = this.connection?.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    if (entry.attempts >= this.options.maxAttempts) {
      entry.finish(false);
      return;
    }
    entry.attempts++;
    entry.firstSentAt ??= Date.now();
    this.sendFrame(socket, entry.clientMessageId, entry.content);
    // Doubling waits: an overloaded server is not sent ever more copies of what it is working on.
    const wait = Math.min(MAX_ACK_WAIT_MS, this.options.ackTimeoutMs * 2 ** (entry.attempts - 1));
    entry.timer = setTimeout(() => {
      this.counters.timeoutResends++;
      this.transmit(entry);
    }, wait);
  }

  /** The deliberate duplicate: not tracked as its own send (the first ack settles both). */
  private transmitAgain(clientMessageId: string, content: string): boolean {
    const socket = this.connection?.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return false;
    this.sendFrame(socket, clientMessageId, content);
    return true;
  }

  private sendFrame(socket: WebSocket, clientMessageId: string, content: string): void {
    socket.send(JSON.stringify({ action: 'sendMessage', roomId: this.roomId, content, clientMessageId }));
  }

  // ------------------------------------------------------------------ catch-up

  /**
   * Catches up once more a while after a reconnect, as the SDK does: a send that read the connections
   * before this one opened posts nothing to it and may store its message after the first catch-up ran
   * (the send function's 10 s timeout bounds how long after).
   */
  private scheduleSettleCatchUp(cursor: string): void {
    clearTimeout(this.settleTimer);
    this.settleCursor = cursor;
    this.settleTimer = setTimeout(() => this.settleCatchUpNow(), SETTLE_CATCH_UP_MS);
  }

  private settleCatchUpNow(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    if (!this.stopped && this.settleCursor !== undefined) this.catchUp(this.settleCursor);
  }

  /** Queues a catch-up of the room from `cursor` (one at a time, in order). */
  private catchUp(cursor: string): void {
    this.catchUpChain = this.catchUpChain
      .then(() => this.catchUpOnce(cursor))
      .catch((error: unknown) => {
        this.failures.push(`catch-up of ${this.roomId} failed: ${String(error)}`);
      });
  }

  private async catchUpOnce(cursor: string): Promise<void> {
    this.counters.catchUps++;
    const startedAt = Date.now();
    let after = cursor;
    for (;;) {
      const page = await messagesAfter(this.options.target, this.options.token, this.roomId, after);
      let previous = after;
      for (const message of page.messages) {
        if (message.messageId <= previous) {
          this.orderViolations.push(
            `catch-up after ${after}: ${message.messageId} follows ${previous} (oldest first, after the cursor)`,
          );
        }
        if (message.messageId > previous) previous = message.messageId;
        if (message.roomId !== this.roomId) {
          this.orderViolations.push(
            `catch-up of ${this.roomId} returned ${message.messageId} of ${message.roomId}`,
          );
          continue;
        }
        if (!this.held.has(message.messageId)) this.counters.recoveredByCatchUp++;
        this.hold(message);
      }
      const last = page.messages.at(-1);
      if (!page.hasMore || last === undefined || last.messageId <= after) break;
      after = last.messageId;
    }
    this.catchUpLog.push({ after: cursor, startedAt, endedAt: Date.now() });
  }

  private cursor(): string {
    const newest = this.newestHeld();
    if (newest === undefined) return BEFORE_EVERY_MESSAGE;
    const margin = this.options.catchUpMarginMs;
    return margin > 0 ? smallestUlidAt(ulidTime(newest) - margin) : newest;
  }

  private newestHeld(): string | undefined {
    let newest: string | undefined;
    for (const id of this.held.keys()) if (newest === undefined || id > newest) newest = id;
    return newest;
  }
}
