/**
 * The order of sends: API Gateway runs the frames of one connection concurrently, so the SDK keeps
 * one message per room on the wire and sends the next only once the one before is settled.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ChatConnection,
  type ChatConnectionOptions,
  type Message,
  type OutgoingMessage,
} from '../../../web/sdk/index.js';
import { type FakeSocket, fakeWebSocket, messageId, ROOM } from './fakes.js';

const OTHER_ROOM = 'chat_ann_cat';
const settleAsync = () => vi.advanceTimersByTimeAsync(0);

function setup(options: Partial<ChatConnectionOptions> = {}) {
  const ws = fakeWebSocket();
  let ids = 0;
  const connection = new ChatConnection({
    wsUrl: 'ws://chat.test/local',
    token: 't',
    WebSocket: ws.WebSocket,
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 100 },
    ackTimeoutMs: 1000,
    newClientMessageId: () => `client-${++ids}`,
    ...options,
  });
  let stored = 0;
  /** The server's answer to `frame`: the message stored with the next id. */
  const ack = (socket: FakeSocket, frame: Record<string, unknown>): Message => {
    const message: Message = {
      messageId: messageId(++stored),
      roomId: String(frame.roomId),
      senderId: 'ann',
      content: String(frame.content),
      sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, stored)).toISOString(),
      clientMessageId: String(frame.clientMessageId),
    };
    socket.push({ type: 'ack', clientMessageId: frame.clientMessageId, message });
    return message;
  };
  return { ws, connection, ack };
}

async function online(ws: ReturnType<typeof fakeWebSocket>, connection: ChatConnection): Promise<FakeSocket> {
  connection.connect();
  await settleAsync();
  ws.last().accept();
  return ws.last();
}

/** What went out on `socket`, as `room:content`. */
const wire = (socket: FakeSocket) =>
  socket
    .framesOf('sendMessage')
    .map((frame) => `${frame.roomId === ROOM ? 'r' : 'o'}:${String(frame.content)}`);

const lastFrame = (socket: FakeSocket): Record<string, unknown> => {
  const frame = socket.framesOf('sendMessage').at(-1);
  if (frame === undefined) throw new Error('nothing was sent');
  return frame;
};

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatConnection: one send per room in flight', () => {
  it('sends the next message to a room only after the previous one is acknowledged', async () => {
    const { ws, connection, ack } = setup();
    const socket = await online(ws, connection);

    const first = connection.send(ROOM, '1');
    const second = connection.send(ROOM, '2');
    const third = connection.send(ROOM, '3');
    expect(wire(socket)).toEqual(['r:1']);
    expect([first.status, second.status, third.status]).toEqual(['pending', 'pending', 'pending']);
    expect(second.attempts).toBe(0);

    ack(socket, lastFrame(socket));
    expect(first.status).toBe('sent');
    expect(wire(socket)).toEqual(['r:1', 'r:2']);
    ack(socket, lastFrame(socket));
    expect(wire(socket)).toEqual(['r:1', 'r:2', 'r:3']);
    ack(socket, lastFrame(socket));

    const stored = await Promise.all([first.done, second.done, third.done]);
    expect(stored.map((m) => m.content)).toEqual(['1', '2', '3']);
    expect(stored.map((m) => m.messageId)).toEqual([messageId(1), messageId(2), messageId(3)]);
    expect(connection.pending).toEqual([]);
  });

  it('fails a message on a clear error frame and sends the next one then', async () => {
    const { ws, connection, ack } = setup();
    const socket = await online(ws, connection);

    const refused = connection.send(ROOM, 'refused');
    const next = connection.send(ROOM, 'next');
    expect(wire(socket)).toEqual(['r:refused']);

    socket.push({
      type: 'error',
      code: 'bad_request',
      message: 'No control characters',
      action: 'sendMessage',
      clientMessageId: refused.clientMessageId,
    });

    expect(refused.status).toBe('failed');
    await expect(refused.done).rejects.toMatchObject({ code: 'bad_request' });
    expect(wire(socket)).toEqual(['r:refused', 'r:next']);
    ack(socket, lastFrame(socket));
    expect(next.status).toBe('sent');
  });

  it('retries a message whose ack timed out before the messages after it', async () => {
    const { ws, connection, ack } = setup({ ackTimeoutMs: 1000 });
    const socket = await online(ws, connection);

    const slow = connection.send(ROOM, 'slow');
    connection.send(ROOM, 'after');
    await vi.advanceTimersByTimeAsync(1000);
    expect(wire(socket)).toEqual(['r:slow', 'r:slow']);
    // A retryable error keeps its place too: the ack timer sends it again, still first.
    socket.push({
      type: 'error',
      code: 'rate_limited',
      message: 'Slow down',
      clientMessageId: slow.clientMessageId,
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(wire(socket)).toEqual(['r:slow', 'r:slow', 'r:slow']);
    expect(slow.attempts).toBe(3);

    ack(socket, lastFrame(socket));
    expect(wire(socket)).toEqual(['r:slow', 'r:slow', 'r:slow', 'r:after']);
    // The late answers to the first two attempts change nothing.
    ack(socket, { roomId: ROOM, content: 'slow', clientMessageId: slow.clientMessageId });
    expect(wire(socket)).toHaveLength(4);
    expect(connection.pending.map((m) => m.content)).toEqual(['after']);
  });

  it('lets rooms proceed independently: a room waiting for its ack does not hold up another', async () => {
    const { ws, connection, ack } = setup({ ackTimeoutMs: 60_000 });
    const socket = await online(ws, connection);

    connection.send(ROOM, '1');
    connection.send(ROOM, '2');
    connection.send(OTHER_ROOM, 'a');
    connection.send(OTHER_ROOM, 'b');
    connection.send(OTHER_ROOM, 'c');
    expect(wire(socket)).toEqual(['r:1', 'o:a']);

    ack(socket, lastFrame(socket)); // 'a'
    ack(socket, lastFrame(socket)); // 'b'
    expect(wire(socket)).toEqual(['r:1', 'o:a', 'o:b', 'o:c']);
    expect(connection.pending.map((m) => m.content)).toEqual(['1', '2', 'c']);
  });

  it('flushes a queue of 8 written offline strictly in order, one at a time, across a reconnect', async () => {
    const { ws, connection, ack } = setup();
    const queued: OutgoingMessage[] = [];
    for (let n = 1; n <= 8; n++) queued.push(connection.send(ROOM, String(n)));
    expect(queued.map((m) => m.attempts)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);

    let socket = await online(ws, connection);
    const order: string[] = [];
    for (let n = 1; n <= 8; n++) {
      if (n === 3) {
        connection.send(ROOM, '9'); // written online while the queue drains: it goes last
        socket.drop(); // '3' is in flight: its ack is lost with the socket
        await vi.advanceTimersByTimeAsync(100);
        ws.last().accept();
        socket = ws.last();
      }
      // Exactly one frame in flight: the next message in the order written.
      expect(wire(socket)).toEqual([`r:${n}`]);
      const frame = lastFrame(socket);
      socket.frames.length = 0;
      order.push(ack(socket, frame).content);
    }
    expect(wire(socket)).toEqual(['r:9']);
    ack(socket, lastFrame(socket));

    expect(order).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    const stored = await Promise.all(queued.map((m) => m.done));
    expect(stored.map((m) => m.messageId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(messageId));
    expect(queued.map((m) => m.attempts)).toEqual([1, 1, 2, 1, 1, 1, 1, 1]);
  });

  it('sends the message in flight again first after a reconnect', async () => {
    const { ws, connection, ack } = setup({ ackTimeoutMs: 60_000 });
    const first = await online(ws, connection);
    connection.send(ROOM, '1');
    connection.send(ROOM, '2');
    first.drop(); // the ack of '1' is lost with the socket

    await vi.advanceTimersByTimeAsync(100);
    ws.last().accept();
    const second = ws.last();
    expect(wire(second)).toEqual(['r:1']);
    ack(second, lastFrame(second));
    expect(wire(second)).toEqual(['r:1', 'r:2']);
  });
});

/**
 * Random interleavings of sends to three rooms, acks, error frames (clear and retryable), ack
 * timeouts, lost sockets and reconnects, ending with a server that answers everything.
 */
describe('ChatConnection: send order against random interleavings', () => {
  const ROOMS = [ROOM, OTHER_ROOM, 'chat_ann_dan'] as const;
  type Action =
    | { kind: 'send'; room: number }
    | { kind: 'ack'; room: number }
    | { kind: 'lateAck'; pick: number }
    | { kind: 'error'; room: number; code: 'bad_request' | 'forbidden' | 'rate_limited' | 'internal' }
    | { kind: 'time'; ms: number }
    | { kind: 'drop' }
    | { kind: 'accept' };

  const room = fc.integer({ min: 0, max: ROOMS.length - 1 });
  const action: fc.Arbitrary<Action> = fc.oneof(
    { arbitrary: room.map<Action>((r) => ({ kind: 'send', room: r })), weight: 4 },
    { arbitrary: room.map<Action>((r) => ({ kind: 'ack', room: r })), weight: 4 },
    { arbitrary: fc.nat().map<Action>((pick) => ({ kind: 'lateAck', pick })), weight: 1 },
    {
      arbitrary: fc
        .tuple(room, fc.constantFrom('bad_request', 'forbidden', 'rate_limited', 'internal' as const))
        .map<Action>(([r, code]) => ({ kind: 'error', room: r, code })),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(50, 100, 1000).map<Action>((ms) => ({ kind: 'time', ms })), weight: 2 },
    { arbitrary: fc.constant<Action>({ kind: 'drop' }), weight: 1 },
    { arbitrary: fc.constant<Action>({ kind: 'accept' }), weight: 2 },
  );

  it('keeps at most one unsettled message per room on the wire, first sent in send() order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 60, size: 'max' }), async (actions) => {
        const { ws, connection, ack } = setup({ ackTimeoutMs: 1000 });
        const sent = new Map<string, OutgoingMessage>();
        const sendOrder = new Map<string, string[]>(ROOMS.map((r) => [r, []]));
        /** Per room, the clientMessageIds in the order their first attempt went out. */
        const firstOut = new Map<string, string[]>(ROOMS.map((r) => [r, []]));
        const acked: { socketFrame: Record<string, unknown> }[] = [];
        let framesSeen = new Map<FakeSocket, number>();
        const current = () => ws.sockets.findLast((socket) => socket.readyState === 1);

        /** Reads what went out since last time and checks the invariants. */
        const observe = () => {
          const next = new Map<FakeSocket, number>();
          for (const socket of ws.sockets) {
            const frames = socket.framesOf('sendMessage');
            for (const frame of frames.slice(framesSeen.get(socket) ?? 0)) {
              const id = String(frame.clientMessageId);
              const out = firstOut.get(String(frame.roomId)) ?? [];
              if (!out.includes(id)) out.push(id);
            }
            next.set(socket, frames.length);
          }
          framesSeen = next;
          for (const r of ROOMS) {
            const out = firstOut.get(r) ?? [];
            // First attempts in send() order, none skipped.
            expect(out).toEqual((sendOrder.get(r) ?? []).slice(0, out.length));
            // Of the messages that went out, at most one is not settled yet.
            expect(out.filter((id) => sent.get(id)?.status === 'pending').length).toBeLessThanOrEqual(1);
          }
          // Online, each room's oldest pending message is on the current socket, waiting for its ack.
          const socket = current();
          if (connection.state === 'online' && socket !== undefined) {
            const onSocket = new Set(socket.framesOf('sendMessage').map((frame) => frame.clientMessageId));
            for (const r of ROOMS) {
              const head = connection.pending.find((m) => m.roomId === r);
              if (head !== undefined) expect(onSocket.has(head.clientMessageId)).toBe(true);
            }
          }
        };

        /** The newest frame on the current socket for `roomId` whose message is still pending. */
        const inFlight = (roomId: string) =>
          current()
            ?.framesOf('sendMessage')
            .findLast(
              (frame) =>
                frame.roomId === roomId && sent.get(String(frame.clientMessageId))?.status === 'pending',
            );

        connection.connect();
        await settleAsync();
        let n = 0;
        for (const a of actions) {
          switch (a.kind) {
            case 'send': {
              const roomId = ROOMS[a.room] ?? ROOM;
              const outgoing = connection.send(roomId, `m${++n}`);
              sent.set(outgoing.clientMessageId, outgoing);
              sendOrder.get(roomId)?.push(outgoing.clientMessageId);
              break;
            }
            case 'ack': {
              const socket = current();
              const frame = inFlight(ROOMS[a.room] ?? ROOM);
              if (socket && frame) {
                ack(socket, frame);
                acked.push({ socketFrame: frame });
              }
              break;
            }
            case 'lateAck': {
              // The server answering an earlier attempt again: same clientMessageId, a duplicate.
              const socket = current();
              const again = acked[a.pick % Math.max(acked.length, 1)];
              if (socket && again) {
                const settled = sent.get(String(again.socketFrame.clientMessageId))?.message;
                if (settled)
                  socket.push({ type: 'ack', clientMessageId: settled.clientMessageId, message: settled });
              }
              break;
            }
            case 'error': {
              const socket = current();
              const frame = inFlight(ROOMS[a.room] ?? ROOM);
              if (socket && frame)
                socket.push({
                  type: 'error',
                  code: a.code,
                  message: a.code,
                  clientMessageId: frame.clientMessageId,
                });
              break;
            }
            case 'time':
              await vi.advanceTimersByTimeAsync(a.ms);
              break;
            case 'drop':
              current()?.drop();
              break;
            case 'accept': {
              const opening = ws.sockets.at(-1);
              if (opening?.readyState === 0) opening.accept();
              break;
            }
          }
          observe();
        }

        // Then a server that answers: everything is settled, each room in the order it was written.
        for (let round = 0; round < 500 && connection.pending.length > 0; round++) {
          const opening = ws.sockets.at(-1);
          if (opening?.readyState === 0) opening.accept();
          else if (current() === undefined) await vi.advanceTimersByTimeAsync(100);
          for (const roomId of ROOMS) {
            const socket = current();
            const frame = inFlight(roomId);
            if (socket && frame) ack(socket, frame);
          }
          observe();
        }
        expect(connection.pending).toEqual([]);
        for (const r of ROOMS) expect(firstOut.get(r)).toEqual(sendOrder.get(r));
        const storedOrder = [...sent.values()]
          .filter((m) => m.status === 'sent')
          .sort((x, y) => ((x.message?.messageId ?? '') < (y.message?.messageId ?? '') ? -1 : 1));
        for (const r of ROOMS) {
          const byId = storedOrder.filter((m) => m.roomId === r).map((m) => m.clientMessageId);
          expect(byId).toEqual((sendOrder.get(r) ?? []).filter((id) => sent.get(id)?.status === 'sent'));
        }
        connection.close();
      }),
      { numRuns: 300 },
    );
  });
});
