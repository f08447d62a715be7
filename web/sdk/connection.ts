/**
 * One WebSocket connection to the chat, kept alive: reconnects with exponential backoff and jitter,
 * pings inside API Gateway's 10-minute idle limit, replaces itself before the 2-hour limit, catches up
 * the rooms it watches after every reconnect, and retries each sent message (same clientMessageId,
 * so the server stores it once) until the server acknowledges it. Sends go out one at a time per
 * room, in the order of `send()` calls (see `pump`).
 */
import { UPLOAD_ID } from '../../definitions/uploads.js';
import { type ChatApi, resolveToken } from './api.js';
import { Emitter } from './emitter.js';
import {
  type ClientFrame,
  type ErrorCode,
  type ErrorFrame,
  MAX_CONTENT_LENGTH,
  type Message,
  type PresenceEvent,
  type ReadEvent,
  type ServerFrame,
  type TokenSource,
  type TypingEvent,
} from './types.js';
import { smallestUlidAt, ulidTime } from './ulid-time.js';
import { MAX_ATTACHMENTS } from './uploads.js';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';
export type OutgoingStatus = 'pending' | 'sent' | 'failed';

/** The part of a WebSocket this class uses: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `never` parameters let both implementations' handler types fit; the events are read defensively.
  onopen: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A finished upload to attach to a message, as the sendMessage frame carries it. */
export interface AttachmentRef {
  readonly uploadId: string;
}

export interface OutgoingMessage {
  readonly clientMessageId: string;
  readonly roomId: string;
  readonly content: string;
  /** The uploads it carries (empty for none); every retry carries them again. */
  readonly attachments: readonly AttachmentRef[];
  readonly status: OutgoingStatus;
  /** How many times the frame went out; more than one is a retry. */
  readonly attempts: number;
  /** The stored message, once acknowledged. */
  readonly message?: Message;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  /** Resolves with the stored message; rejects when the server refuses it. */
  readonly done: Promise<Message>;
}

export interface ChatEvents {
  /** Every message once (live, acknowledged or caught up), the caller's own included. */
  message: Message;
  read: ReadEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  connection: ConnectionState;
  /** A sent message changed status. */
  outgoing: OutgoingMessage;
  /** An error frame not tied to a sent message, or a failed catch-up. */
  error: ErrorFrame | Error;
}

export interface ChatConnectionOptions {
  /** The WebSocket API URL, without `?token=`. */
  readonly wsUrl: string;
  readonly token: TokenSource;
  /** Used to catch up watched rooms after a reconnect; without it there is no catch-up. */
  readonly api?: ChatApi;
  /** Defaults to the platform's WebSocket; in Node 20 pass one, e.g. `WebSocket` from `ws`. */
  readonly WebSocket?: WebSocketConstructor;
  /** Ping interval; API Gateway closes a connection idle for 10 minutes. Default 5 minutes. */
  readonly heartbeatMs?: number;
  /** A ping unanswered this long means a dead connection. Default 30 s. */
  readonly pongTimeoutMs?: number;
  /** Replace the connection after this long; API Gateway closes it at 2 hours. Default 110 minutes. */
  readonly maxConnectionMs?: number;
  /** Resend a message not acknowledged within this time. Default 10 s. */
  readonly ackTimeoutMs?: number;
  /** Reconnect delay: `initialMs * 2^attempt`, capped at `maxMs`, the upper half jittered. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Follow the browser's online/offline events. Default true where they exist. */
  readonly watchNetwork?: boolean;
  readonly random?: () => number;
  readonly newClientMessageId?: () => string;
}

interface Outgoing {
  clientMessageId: string;
  roomId: string;
  content: string;
  attachments: readonly AttachmentRef[];
  status: OutgoingStatus;
  attempts: number;
  message?: Message;
  error?: { code: ErrorCode; message: string };
  done: Promise<Message>;
  settle: (result: { message: Message } | { error: { code: ErrorCode; message: string } }) => void;
  timer?: ReturnType<typeof setTimeout>;
  /** Went out on the current socket and awaits its ack: the next message to its room waits. */
  inFlight: boolean;
}

const OPEN = 1;
/** Error codes that say "not now" rather than "never": the message stays pending and is retried. */
const RETRYABLE = new Set<ErrorCode>(['rate_limited', 'internal']);
/** The first pause before sending a message again after a retryable error frame. */
const RETRY_BASE_MS = 250;
/** How far before the newest held message a catch-up starts (see catchUpRoom). */
const CATCH_UP_MARGIN_MS = 30_000;
/**
 * A second catch-up this long after a reconnect. A send that read its recipients' connections before
 * this one opened posts nothing to it, and may store its message after the first catch-up has run;
 * the send function's 10 s timeout bounds that, so by now the message is in history.
 */
export const SETTLE_CATCH_UP_MS = 11_000;
const MAX_CATCH_UP_PAGES = 20;
const SEEN_LIMIT = 5000;

type Timer = ReturnType<typeof setTimeout>;
type NetworkTarget = Pick<Window, 'addEventListener' | 'removeEventListener'>;

export class ChatConnection {
  private readonly events = new Emitter<ChatEvents>();
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly heartbeatMs: number;
  private readonly pongTimeoutMs: number;
  private readonly maxConnectionMs: number;
  private readonly ackTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly newClientMessageId: () => string;
  private readonly network: NetworkTarget | undefined;

  private currentState: ConnectionState = 'offline';
  private running = false;
  private opening = false;
  /** The socket in use. */
  private socket: WebSocketLike | undefined;
  /** A socket being opened: a reconnect, or the replacement of `socket` before the 2-hour limit. */
  private candidate: WebSocketLike | undefined;
  /** The token in the candidate's URL. */
  private candidateToken: string | undefined;
  /**
   * The token of the last attempt that closed without ever opening: `$connect` may have refused it
   * (expired, revoked, signed by a pool that no longer trusts it), so the next attempt asks for a
   * refreshed one instead of retrying it forever.
   */
  private refusedToken: string | undefined;
  /**
   * Whether this run of failed attempts has forced a refresh already: once per run (until a socket
   * opens). A fresh token that is still refused says the token is not the cause (the API is down, a
   * proxy blocks WebSockets), and forcing on every attempt would cost a Cognito call per reconnect.
   */
  private forcedThisRun = false;
  private attempt = 0;
  private reconnectTimer: Timer | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: Timer | undefined;
  private rotateTimer: Timer | undefined;
  private settleTimer: Timer | undefined;

  /** Pending messages by clientMessageId, in `send()` order (a Map keeps insertion order). */
  private readonly outbox = new Map<string, Outgoing>();
  /** Watched rooms and the newest message id held for each. */
  private readonly watched = new Map<string, string | undefined>();
  private readonly seen = new Set<string>();

  constructor(private readonly options: ChatConnectionOptions) {
    const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    const impl = options.WebSocket ?? platform;
    if (impl === undefined) {
      throw new Error(
        'No WebSocket implementation: pass one as the WebSocket option (e.g. from the ws package)',
      );
    }
    this.WebSocketImpl = impl;
    this.heartbeatMs = options.heartbeatMs ?? 5 * 60_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 30_000;
    this.maxConnectionMs = options.maxConnectionMs ?? 110 * 60_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.initialBackoffMs = options.backoff?.initialMs ?? 500;
    this.maxBackoffMs = options.backoff?.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.newClientMessageId = options.newClientMessageId ?? (() => crypto.randomUUID());
    const target = globalThis as Partial<NetworkTarget>;
    this.network =
      options.watchNetwork !== false && typeof target.addEventListener === 'function'
        ? (target as NetworkTarget)
        : undefined;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Sent messages not yet acknowledged, oldest first. */
  get pending(): OutgoingMessage[] {
    return [...this.outbox.values()].filter((outgoing) => outgoing.status === 'pending');
  }

  on<K extends keyof ChatEvents>(type: K, listener: (event: ChatEvents[K]) => void): () => void {
    return this.events.on(type, listener);
  }

  connect(): this {
    if (this.running) return this;
    this.running = true;
    this.network?.addEventListener('online', this.onNetworkOnline);
    this.network?.addEventListener('offline', this.onNetworkOffline);
    this.setState(isNetworkOffline() ? 'offline' : 'connecting');
    void this.open();
    return this;
  }

  /** Closes for good (until `connect()` again); pending messages stay pending. */
  close(): void {
    this.running = false;
    this.network?.removeEventListener('online', this.onNetworkOnline);
    this.network?.removeEventListener('offline', this.onNetworkOffline);
    clearTimeout(this.reconnectTimer);
    for (const socket of [this.socket, this.candidate]) if (socket) discard(socket);
    this.socket = undefined;
    this.candidate = undefined;
    this.socketLost();
    this.setState('offline');
  }

  /** Drops the current socket and reconnects at once (a "retry now" button; also a test hook). */
  reconnect(): void {
    if (!this.running) return;
    this.attempt = 0;
    if (this.socket) this.drop(this.socket);
    this.openNow();
  }

  /**
   * Sends `content` to `roomId`, with up to 10 uploaded files (`ChatApi.uploadAttachment`); `content`
   * may be empty when there are files. The message is pending until acknowledged: it goes out again
   * after `ackTimeoutMs` and after every reconnect, always with the same clientMessageId and files. It
   * goes out only once every earlier message to the same room is acknowledged or failed, so the
   * server stores a room's messages in the order they were sent.
   */
  send(roomId: string, content: string, attachments: readonly AttachmentRef[] = []): OutgoingMessage {
    let settle: Outgoing['settle'] = () => {};
    const done = new Promise<Message>((resolve, reject) => {
      settle = (result) => ('message' in result ? resolve(result.message) : reject(toError(result.error)));
    });
    // Nobody may be awaiting `done`; the status and the `outgoing` event carry the failure too.
    done.catch(() => {});
    // Whitespace alone is no text: with files it goes as the empty content the server expects.
    const length = [...content.trim()].length;
    const outgoing: Outgoing = {
      clientMessageId: this.newClientMessageId(),
      roomId,
      content: length === 0 && attachments.length > 0 ? '' : content,
      attachments: attachments.map(({ uploadId }) => ({ uploadId })),
      status: 'pending',
      attempts: 0,
      done,
      settle,
      inFlight: false,
    };
    const problem = sendProblem(length, outgoing.attachments);
    if (problem !== undefined) {
      this.settle(outgoing, { error: { code: 'bad_request', message: problem } });
      return outgoing;
    }
    this.outbox.set(outgoing.clientMessageId, outgoing);
    this.pump(roomId);
    return outgoing;
  }

  /** `send`, under the name of the API's action (`sendMessage`). */
  sendMessage(roomId: string, content: string, attachments: readonly AttachmentRef[] = []): OutgoingMessage {
    return this.send(roomId, content, attachments);
  }

  /** Fire and forget: false when offline. */
  typing(roomId: string, isTyping: boolean): boolean {
    return this.sendFrame({ action: 'typing', roomId, isTyping });
  }

  /** Moves the read pointer over the socket; false when offline (use the REST `markRead` then). */
  markRead(roomId: string, messageId: string): boolean {
    return this.sendFrame({ action: 'markRead', roomId, messageId });
  }

  /**
   * Catch up `roomId` after every reconnect, from the newest of `held` (the messages already shown).
   * Held messages also count as seen, so they are never emitted again. Call it before reading the
   * room's first page, and again with that page: a message acknowledged or received in between then
   * moves the catch-up point too. Watched only after, it would not, and with a page read before that
   * message was stored, a catch-up would start from the newest page and miss older messages.
   */
  watchRoom(roomId: string, held: readonly Message[] = []): void {
    if (!this.watched.has(roomId)) this.watched.set(roomId, undefined);
    for (const message of held) {
      this.remember(message.messageId);
      this.advance(message);
    }
  }

  unwatchRoom(roomId: string): void {
    this.watched.delete(roomId);
  }

  // ------------------------------------------------------------------ socket lifecycle

  private async open(): Promise<void> {
    if (!this.running || this.opening || this.candidate) return;
    this.opening = true;
    let url: string;
    let token: string;
    const refused = this.refusedToken;
    this.refusedToken = undefined;
    const force = refused !== undefined && !this.forcedThisRun;
    if (force) this.forcedThisRun = true;
    try {
      token = await resolveToken(
        this.options.token,
        force ? { forceRefresh: true, refusedToken: refused } : undefined,
      );
      url = withToken(this.options.wsUrl, token);
    } catch (error) {
      this.opening = false;
      this.events.emit('error', error instanceof Error ? error : new Error(String(error)));
      this.scheduleReconnect();
      return;
    }
    this.opening = false;
    if (!this.running) return;
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(url);
    } catch (error) {
      // A malformed URL: retrying will not fix it, but the state and the error say what is wrong.
      this.events.emit('error', error instanceof Error ? error : new Error(String(error)));
      this.scheduleReconnect();
      return;
    }
    this.candidate = socket;
    this.candidateToken = token;
    socket.onopen = () => this.adopt(socket);
    socket.onclose = () => this.lost(socket);
    // A close event always follows an error event; that is where the reconnect happens.
    socket.onerror = () => {};
    socket.onmessage = ((event: { data: unknown }) => this.receive(socket, event.data)) as (
      event: never,
    ) => void;
  }

  private openNow(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    void this.open();
  }

  private adopt(socket: WebSocketLike): void {
    if (socket !== this.candidate) return;
    this.candidate = undefined;
    const replaced = this.socket;
    if (replaced) {
      // The old socket served until now, so nothing was missed: no catch-up needed.
      discard(replaced);
      this.socketLost();
    }
    this.socket = socket;
    this.attempt = 0;
    this.forcedThisRun = false;
    clearTimeout(this.reconnectTimer);
    this.setState('online');
    this.heartbeatTimer = setInterval(() => this.heartbeat(socket), this.heartbeatMs);
    this.rotateTimer = setTimeout(() => void this.open(), this.maxConnectionMs);
    this.pumpAll();
    if (!replaced) {
      void this.catchUp();
      this.settleTimer = setTimeout(() => void this.catchUp(), SETTLE_CATCH_UP_MS);
    }
  }

  private lost(socket: WebSocketLike): void {
    if (socket === this.candidate) {
      this.candidate = undefined;
      // Closed before it opened: the handshake failed, perhaps because `$connect` refused the token.
      this.refusedToken = this.candidateToken;
      // A failed replacement leaves the current socket serving; it reconnects when it closes.
      if (!this.socket && this.running) this.scheduleReconnect();
      return;
    }
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.socketLost();
    if (!this.running) return;
    if (this.candidate) this.setState('reconnecting');
    else this.scheduleReconnect();
  }

  /** Gives up on `socket` now, without waiting for a close that a dead network may never deliver. */
  private drop(socket: WebSocketLike): void {
    discard(socket);
    this.lost(socket);
  }

  private socketLost(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.rotateTimer);
    clearTimeout(this.settleTimer);
    this.pongTimer = undefined;
    for (const outgoing of this.outbox.values()) {
      clearTimeout(outgoing.timer);
      // Its ack can no longer arrive: the next socket sends it again, before anything after it.
      outgoing.inFlight = false;
    }
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const offline = isNetworkOffline();
    this.setState(offline ? 'offline' : 'reconnecting');
    // Offline, the browser's `online` event reconnects; the slow timer is a fallback for a missed one.
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
    const delay = offline ? this.maxBackoffMs : ceiling / 2 + (this.random() * ceiling) / 2;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private heartbeat(socket: WebSocketLike): void {
    if (socket !== this.socket || !this.sendFrame({ action: 'ping' })) return;
    this.pongTimer ??= setTimeout(() => this.drop(socket), this.pongTimeoutMs);
  }

  private readonly onNetworkOnline = (): void => {
    if (this.socket || this.candidate) return;
    this.attempt = 0;
    this.openNow();
  };

  private readonly onNetworkOffline = (): void => {
    if (this.socket) this.drop(this.socket);
  };

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.events.emit('connection', state);
  }

  private sendFrame(frame: ClientFrame): boolean {
    if (this.socket?.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  // ------------------------------------------------------------------ frames

  private receive(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    // Any frame proves the connection alive.
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ack':
      case 'chat_message':
        this.accept(frame.message);
        return;
      case 'read':
      case 'typing':
      case 'presence':
        this.emitFrame(frame);
        return;
      case 'error':
        this.onErrorFrame(frame);
        return;
      default:
        return;
    }
  }

  private emitFrame(frame: ReadEvent | TypingEvent | PresenceEvent): void {
    if (frame.type === 'read') this.events.emit('read', frame);
    else if (frame.type === 'typing') this.events.emit('typing', frame);
    else this.events.emit('presence', frame);
  }

  private onErrorFrame(frame: ErrorFrame): void {
    const outgoing = frame.clientMessageId === undefined ? undefined : this.outbox.get(frame.clientMessageId);
    if (outgoing === undefined) {
      this.events.emit('error', frame);
      return;
    }
    if (!RETRYABLE.has(frame.code)) {
      this.settle(outgoing, { error: { code: frame.code, message: frame.message } });
      return;
    }
    // Nothing was stored: the same message goes again after a short, growing, jittered pause (not
    // the ack timeout), still ahead of the room's later messages.
    clearTimeout(outgoing.timer);
    const pause = Math.random() * Math.min(this.ackTimeoutMs, RETRY_BASE_MS * 2 ** outgoing.attempts);
    outgoing.timer = setTimeout(() => this.transmit(outgoing), pause);
  }

  /** A message from any source: settles our own pending copy, then is emitted once. */
  private accept(message: Message): void {
    this.advance(message);
    const outgoing =
      message.clientMessageId === undefined ? undefined : this.outbox.get(message.clientMessageId);
    if (outgoing?.roomId === message.roomId) this.settle(outgoing, { message });
    if (this.seen.has(message.messageId)) return;
    this.remember(message.messageId);
    this.events.emit('message', message);
  }

  private advance(message: Message): void {
    if (!this.watched.has(message.roomId)) return;
    const held = this.watched.get(message.roomId);
    if (held === undefined || message.messageId > held) this.watched.set(message.roomId, message.messageId);
  }

  private remember(messageId: string): void {
    this.seen.add(messageId);
    if (this.seen.size > SEEN_LIMIT) {
      // Sets keep insertion order: the first id is the oldest remembered.
      const [oldest] = this.seen;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  // ------------------------------------------------------------------ outbox and catch-up

  /**
   * Sends the oldest pending message to `roomId` unless it is already in flight. One message per
   * room at a time: API Gateway runs the frames of one connection concurrently, so two sends in
   * flight to a room may be stored (and given their ids) in either order. Rooms are independent.
   */
  private pump(roomId: string): void {
    for (const outgoing of this.outbox.values()) {
      if (outgoing.roomId !== roomId) continue;
      if (!outgoing.inFlight) this.transmit(outgoing);
      return;
    }
  }

  /** `pump` for every room with a pending message: on a new socket. */
  private pumpAll(): void {
    const heads = new Map<string, Outgoing>();
    for (const outgoing of this.outbox.values())
      if (!heads.has(outgoing.roomId)) heads.set(outgoing.roomId, outgoing);
    for (const head of heads.values()) if (!head.inFlight) this.transmit(head);
  }

  /** Sends `outgoing` now; an ack timeout sends it again, still ahead of the room's later messages. */
  private transmit(outgoing: Outgoing): void {
    clearTimeout(outgoing.timer);
    if (outgoing.status !== 'pending') return;
    const frame: ClientFrame = {
      action: 'sendMessage',
      roomId: outgoing.roomId,
      content: outgoing.content,
      clientMessageId: outgoing.clientMessageId,
      // Only when there are files: a text message's frame stays as it always was.
      ...(outgoing.attachments.length > 0 ? { attachments: outgoing.attachments } : {}),
    };
    outgoing.inFlight = this.sendFrame(frame);
    if (!outgoing.inFlight) return;
    outgoing.attempts += 1;
    outgoing.timer = setTimeout(() => this.transmit(outgoing), this.ackTimeoutMs);
  }

  private settle(
    outgoing: Outgoing,
    result: { message: Message } | { error: { code: ErrorCode; message: string } },
  ): void {
    if (outgoing.status !== 'pending') return;
    clearTimeout(outgoing.timer);
    outgoing.inFlight = false;
    this.outbox.delete(outgoing.clientMessageId);
    if ('message' in result) {
      outgoing.status = 'sent';
      outgoing.message = result.message;
    } else {
      outgoing.status = 'failed';
      outgoing.error = result.error;
    }
    outgoing.settle(result);
    this.events.emit('outgoing', outgoing);
    // Acknowledged or refused, it no longer holds up its room.
    this.pump(outgoing.roomId);
  }

  private async catchUp(): Promise<void> {
    const api = this.options.api;
    if (api === undefined) return;
    await Promise.all([...this.watched.keys()].map((roomId) => this.catchUpRoom(api, roomId)));
  }

  private async catchUpRoom(api: ChatApi, roomId: string): Promise<void> {
    // Ids are given before a message is stored and posted, so a message with an older id than the
    // newest held can still be missed (its post went to the dead socket): catch up from a margin
    // before the newest held, and let de-duplication drop what is already shown.
    const newest = this.watched.get(roomId);
    let after = newest === undefined ? undefined : smallestUlidAt(ulidTime(newest) - CATCH_UP_MARGIN_MS);
    try {
      for (let page = 0; page < MAX_CATCH_UP_PAGES && this.watched.has(roomId); page++) {
        // Nothing held yet: the newest page is all there is to catch up on.
        const { messages, hasMore } = await api.getMessages(
          roomId,
          after === undefined ? {} : { after, limit: 100 },
        );
        for (const message of messages) this.accept(message);
        const last = messages.at(-1);
        if (after === undefined || !hasMore || last === undefined) return;
        after = last.messageId;
      }
    } catch (error) {
      this.events.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Why the server would refuse this message, checked before it is queued; undefined when it would not. */
function sendProblem(length: number, attachments: readonly AttachmentRef[]): string | undefined {
  if (length > MAX_CONTENT_LENGTH || (length === 0 && attachments.length === 0))
    return attachments.length === 0
      ? `A message is 1 to ${MAX_CONTENT_LENGTH} characters`
      : `A message is at most ${MAX_CONTENT_LENGTH} characters`;
  if (attachments.length > MAX_ATTACHMENTS) return `A message has at most ${MAX_ATTACHMENTS} files`;
  const ids = attachments.map(({ uploadId }) => uploadId);
  if (ids.some((id) => !UPLOAD_ID.test(id))) return 'An attachment is not an upload id';
  if (new Set(ids).size !== ids.length) return 'The same file is attached twice';
  return undefined;
}

function withToken(wsUrl: string, token: string): string {
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  return url.toString();
}

function isNetworkOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
}

/** Closes `socket` with its handlers detached, so nothing it still reports reaches us. */
function discard(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onclose = null;
  socket.onmessage = null;
  socket.onerror = () => {};
  try {
    socket.close(1000);
  } catch {
    // Closing a socket that never opened may throw in some implementations; it is gone either way.
  }
}

function toError(error: { code: ErrorCode; message: string }): Error {
  return Object.assign(new Error(error.message), { name: 'ChatSendError', code: error.code });
}
