/**
 * A `ws` client that keeps every frame the server sends, so that the oracle can wait for the one it
 * expects and then look at everything else that arrived (nothing else may have).
 */
import WebSocket from 'ws';

export interface Received {
  readonly text: string;
  /** The parsed frame; undefined when the frame was not JSON (itself a contract violation). */
  readonly json: unknown;
  readonly binary: boolean;
  readonly at: number;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export type Handshake =
  | { readonly outcome: 'open'; readonly socket: FrameSocket }
  | { readonly outcome: 'refused'; readonly status: number; readonly body: string };

type Waiter = { readonly match: (frame: Received) => boolean; readonly resolve: (frame: Received) => void };

export const frameType = (frame: Received): unknown =>
  typeof frame.json === 'object' && frame.json !== null ? (frame.json as { type?: unknown }).type : undefined;

export class FrameSocket {
  /** Frames not yet taken by `next` or `takeAll`. */
  private pending: Received[] = [];
  private waiters: Waiter[] = [];
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly label: string,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data;
      const text = buffer.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.deliver({ text, json, binary: isBinary, at: Date.now() });
    });
  }

  static connect(url: string, label: string, timeoutMs = 10_000): Promise<Handshake> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const socket = new FrameSocket(ws, label);
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => {});
        resolve({ outcome: 'open', socket });
      });
      ws.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = () => {
          ws.terminate();
          resolve({
            outcome: 'refused',
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        };
        response.on('end', done);
        response.on('error', done);
      });
      ws.once('error', (error) => reject(error));
    });
  }

  static async open(url: string, label: string): Promise<FrameSocket> {
    const result = await FrameSocket.connect(url, label);
    if (result.outcome === 'refused') {
      throw new Error(`${label}: handshake refused with ${result.status} ${result.body}`);
    }
    return result.socket;
  }

  private deliver(frame: Received): void {
    const waiter = this.waiters.find((w) => w.match(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.pending.push(frame);
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The first frame matching `match`, waiting up to `timeoutMs`; undefined on timeout. */
  next(match: (frame: Received) => boolean, timeoutMs: number): Promise<Received | undefined> {
    const index = this.pending.findIndex(match);
    if (index !== -1) {
      const [frame] = this.pending.splice(index, 1);
      return Promise.resolve(frame);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Takes every buffered frame. */
  takeAll(): Received[] {
    const frames = this.pending;
    this.pending = [];
    return frames;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(1000);
    const timeout = new Promise<void>((resolve) =>
      setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 3_000).unref(),
    );
    await Promise.race([this.closed.then(() => undefined), timeout]);
  }

  /** Waits for the server to close the connection; undefined if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<CloseInfo | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
