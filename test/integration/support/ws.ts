/**
 * A `ws` client that buffers every frame it receives, so that tests wait for the frame they expect
 * (with a timeout) instead of sleeping, and can assert that a frame did not arrive within a window.
 */
import WebSocket from 'ws';
import type { FrameOf, FrameType, Message, ServerFrame } from './api-types.js';
import { stack } from './stack-info.js';

export const FRAME_TIMEOUT_MS = 8_000;
/** How long "nothing arrives" is watched for, after a sync point proved the fan-out happened. */
export const QUIET_MS = 400;

export interface ConnectOptions {
  readonly token?: string;
  readonly room?: string;
  /** Extra query parameters, verbatim. */
  readonly query?: Record<string, string>;
  /** For a stack other than the run's shared one (a fault test's own). */
  readonly wsUrl?: string;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly at: number;
}

const open = new Set<WsClient>();

export function wsUrlFor(options: ConnectOptions): string {
  const url = new URL(options.wsUrl ?? stack().wsUrl);
  if (options.token !== undefined) url.searchParams.set('token', options.token);
  if (options.room !== undefined) url.searchParams.set('room', options.room);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  return url.toString();
}

type Waiter = {
  readonly match: (frame: ServerFrame) => boolean;
  readonly resolve: (frame: ServerFrame) => void;
};

export class WsClient {
  /** Every frame received, in order, including the ones already taken by `next`. */
  readonly received: ServerFrame[] = [];
  /** Frames the server sent that were not JSON objects with a `type`. */
  readonly invalid: string[] = [];
  private readonly pending: ServerFrame[] = [];
  private waiters: Waiter[] = [];
  readonly closed: Promise<CloseInfo>;
  readonly openedAt = Date.now();

  constructor(
    readonly socket: WebSocket,
    readonly label: string,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        open.delete(this);
        resolve({ code, reason: reason.toString('utf8'), at: Date.now() });
      });
    });
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        this.invalid.push(text);
        return;
      }
      if (
        typeof frame !== 'object' ||
        frame === null ||
        typeof (frame as { type?: unknown }).type !== 'string'
      ) {
        this.invalid.push(text);
        return;
      }
      this.deliver(frame as ServerFrame);
    });
    open.add(this);
  }

  private deliver(frame: ServerFrame): void {
    this.received.push(frame);
    const waiter = this.waiters.find((w) => w.match(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.pending.push(frame);
    }
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends an object as JSON. */
  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends a text frame verbatim. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Takes the first frame of `type` matching `predicate`, waiting up to `timeoutMs` for it. */
  next<K extends FrameType>(
    type: K,
    predicate: (frame: FrameOf<K>) => boolean = () => true,
    timeoutMs = FRAME_TIMEOUT_MS,
  ): Promise<FrameOf<K>> {
    const match = (frame: ServerFrame): boolean => frame.type === type && predicate(frame as FrameOf<K>);
    const index = this.pending.findIndex(match);
    if (index !== -1) {
      const [frame] = this.pending.splice(index, 1);
      return Promise.resolve(frame as FrameOf<K>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `${this.label}: no '${type}' frame matching ${predicate.toString()} within ${timeoutMs} ms; ` +
              `received ${JSON.stringify(this.received)}${this.isOpen ? '' : ' (socket closed)'}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame as FrameOf<K>);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Fails if a frame of `type` matching `predicate` is buffered or arrives within `ms`. */
  async expectNoFrame<K extends FrameType>(
    type: K,
    predicate: (frame: FrameOf<K>) => boolean = () => true,
    ms = QUIET_MS,
  ): Promise<void> {
    const unexpected = await this.next(type, predicate, ms).then(
      (frame) => frame,
      () => undefined,
    );
    if (unexpected !== undefined) {
      throw new Error(`${this.label}: unexpected frame ${JSON.stringify(unexpected)}`);
    }
  }

  /** Frames of `type` not yet taken by `next`. */
  buffered<K extends FrameType>(type: K): FrameOf<K>[] {
    return this.pending.filter((frame): frame is FrameOf<K> => frame.type === type);
  }

  /** ping, then the pong: proves the connection is open and served. */
  async ping(timeoutMs = FRAME_TIMEOUT_MS): Promise<void> {
    this.send({ action: 'ping' });
    await this.next('pong', () => true, timeoutMs);
  }

  /** Sends a message and waits for its `ack`. */
  async sendMessage(roomId: string, content: string, clientMessageId?: string): Promise<Message> {
    this.send({ action: 'sendMessage', roomId, content, clientMessageId });
    const ack = await this.next(
      'ack',
      (frame) => frame.message.roomId === roomId && frame.clientMessageId === clientMessageId,
    );
    return ack.message;
  }

  /** Sends a close frame and waits for the close to complete. */
  async close(code = 1000): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code);
    }
    const timeout = new Promise<CloseInfo>((resolve) =>
      setTimeout(() => {
        this.socket.terminate();
        resolve({ code: 1006, reason: 'terminated after close timeout', at: Date.now() });
      }, 3_000).unref(),
    );
    return Promise.race([this.closed, timeout]);
  }

  /** Destroys the TCP socket without a close frame: a connection that vanished (phone in a tunnel). */
  vanish(): void {
    this.socket.terminate();
  }

  /** Waits for the server to close the connection. */
  async waitClosed(timeoutMs: number): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label}: still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export type Handshake =
  | { readonly outcome: 'open'; readonly client: WsClient }
  | { readonly outcome: 'refused'; readonly status: number; readonly body: string };

/** Attempts a connection; a refused upgrade gives the HTTP status (ws 'unexpected-response'). */
export function handshake(options: ConnectOptions, label = 'ws'): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrlFor(options), { handshakeTimeout: 10_000 });
    // Listening for frames from the start, so that nothing sent right after the upgrade is lost.
    const client = new WsClient(socket, label);
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      resolve({ outcome: 'open', client });
    });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        socket.terminate();
        resolve({
          outcome: 'refused',
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      response.on('error', () => {
        socket.terminate();
        resolve({ outcome: 'refused', status: response.statusCode ?? 0, body: '' });
      });
    });
    socket.once('error', (error) => reject(error));
  });
}

/** Opens a connection and fails if the handshake is refused. */
export async function openWs(options: ConnectOptions, label?: string): Promise<WsClient> {
  const result = await handshake(options, label ?? `ws(${options.room ?? 'all rooms'})`);
  if (result.outcome === 'refused') {
    throw new Error(`handshake refused with ${result.status}: ${result.body}`);
  }
  return result.client;
}

/** Closes every connection a test left open; call from `afterEach`. */
export async function closeAllSockets(): Promise<void> {
  await Promise.all([...open].map((client) => client.close()));
}
