/** Test doubles for the SDK: a scriptable WebSocket and a fetch that answers from a route table. */
import type { Message, WebSocketConstructor, WebSocketLike } from '../../../web/sdk/index.js';

type Handler = ((event: never) => void) | null;
const call = (handler: Handler, event: unknown) => (handler as ((event: unknown) => void) | null)?.(event);

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly frames: Record<string, unknown>[] = [];
  closedByClient = false;
  onopen: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  onmessage: Handler = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.frames.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    if (this.readyState === 3) return;
    this.closedByClient = true;
    this.readyState = 3;
    call(this.onclose, { code: 1000 });
  }

  // ---- the server's side

  accept(): void {
    this.readyState = 1;
    call(this.onopen, {});
  }

  refuse(): void {
    this.readyState = 3;
    call(this.onerror, {});
    call(this.onclose, { code: 1006 });
  }

  push(frame: unknown): void {
    call(this.onmessage, { data: JSON.stringify(frame) });
  }

  drop(): void {
    this.readyState = 3;
    call(this.onclose, { code: 1006 });
  }

  framesOf(action: string): Record<string, unknown>[] {
    return this.frames.filter((frame) => frame.action === action);
  }
}

export function fakeWebSocket(): {
  sockets: FakeSocket[];
  WebSocket: WebSocketConstructor;
  last(): FakeSocket;
} {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return {
    sockets,
    WebSocket: Recorded,
    last() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket was opened');
      return socket;
    },
  };
}

export interface FetchCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

interface FakeAnswer {
  readonly status?: number;
  readonly body?: unknown;
}

/**
 * A fetch whose answers come from `respond` (a promise may hold an answer back, or reject); every
 * call is recorded.
 */
export function fakeFetch(respond: (call: FetchCall) => FakeAnswer | Promise<FakeAnswer>) {
  const calls: FetchCall[] = [];
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const request: FetchCall = {
      method: init?.method ?? 'GET',
      url: new URL(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(request);
    const { status = 200, body } = await respond(request);
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, calls };
}

/** ULID-shaped ids that sort in `n` order. */
export const messageId = (n: number) => `01HZZZZZZZZZZZZZZZZZZZ${String(n).padStart(4, '0')}`;

export const ROOM = 'chat_ann_bob';

export function message(n: number, overrides: Partial<Message> = {}): Message {
  return {
    messageId: messageId(n),
    roomId: ROOM,
    senderId: 'bob',
    content: `message ${n}`,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ...overrides,
  };
}
