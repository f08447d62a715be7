import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SETTLE_CATCH_UP_MS } from '../../../web/sdk/connection.js';
import {
  ChatApi,
  ChatConnection,
  type ChatConnectionOptions,
  type ConnectionState,
  type Message,
  TokenProvider,
  type TokenRequest,
} from '../../../web/sdk/index.js';
import { smallestUlidAt, ulidTime } from '../../../web/sdk/ulid-time.js';
import { type FetchCall, fakeFetch, fakeWebSocket, message, messageId, ROOM } from './fakes.js';

/** Lets the connection's promise chains (token, fetch) run; with fake timers nothing else moves. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function setup(options: Partial<ChatConnectionOptions> = {}) {
  const ws = fakeWebSocket();
  let ids = 0;
  const connection = new ChatConnection({
    wsUrl: 'ws://chat.test/local',
    token: 'tok en',
    WebSocket: ws.WebSocket,
    random: () => 1,
    backoff: { initialMs: 1000, maxMs: 8000 },
    newClientMessageId: () => `client-${++ids}`,
    ...options,
  });
  const states: ConnectionState[] = [];
  const messages: Message[] = [];
  connection.on('connection', (state) => states.push(state));
  connection.on('message', (m) => messages.push(m));
  return { ws, connection, states, messages };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatConnection: connecting and reconnecting', () => {
  it('connects with the token in the query string and reports connecting then online', async () => {
    const { ws, connection, states } = setup();

    connection.connect();
    await settle();
    ws.last().accept();

    expect(ws.last().url).toBe('ws://chat.test/local?token=tok+en');
    expect(states).toEqual(['connecting', 'online']);
    expect(connection.state).toBe('online');
  });

  it('asks a token provider for a fresh token for every (re)connect URL, refreshed tokens included', async () => {
    const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`;
    const start = Date.now();
    let n = 0;
    const provider = new TokenProvider({
      tokens: {
        idToken: jwt(0),
        accessToken: 'a',
        refreshToken: 'r',
        issuedAt: start,
        expiresAt: start + 60_000,
      },
      refresh: async () => ({ idToken: jwt(++n), accessToken: 'a', expiresIn: 60 }),
      now: () => Date.now(),
    });
    const { ws, connection } = setup({ token: provider.getToken });
    connection.connect();
    await settle();
    ws.last().accept();
    expect(new URL(ws.last().url).searchParams.get('token')).toBe(jwt(0));

    // Past 80% of the lifetime, a reconnect's URL carries a refreshed token.
    await vi.advanceTimersByTimeAsync(50_000);
    connection.reconnect();
    await settle();
    ws.last().accept();
    expect(new URL(ws.last().url).searchParams.get('token')).toBe(jwt(1));
    connection.close();
  });

  it('asks for a refreshed token after a handshake refused, once per run of failed attempts', async () => {
    let n = 0;
    // A token source whose every forced refresh succeeds with a new token.
    const token = vi.fn(async (request?: TokenRequest) => {
      if (request?.forceRefresh === true) n += 1;
      return `t${n}`;
    });
    const { ws, connection } = setup({ token });
    const urlToken = () => new URL(ws.last().url).searchParams.get('token');
    connection.connect();
    await settle();
    expect(urlToken()).toBe('t0');

    // `$connect` refuses t0: the socket closes without opening, and the next attempt forces a refresh.
    ws.last().refuse();
    await vi.advanceTimersByTimeAsync(1000);
    expect(token.mock.calls.at(-1)).toEqual([{ forceRefresh: true, refusedToken: 't0' }]);
    expect(urlToken()).toBe('t1');

    // The fresh t1 refused too: the token is not the cause (the API is down, a proxy blocks
    // WebSockets), so the attempts go on without forcing another refresh each.
    for (let i = 0; i < 5; i++) {
      ws.last().refuse();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(token.mock.calls.filter(([request]) => request?.forceRefresh === true)).toHaveLength(1);
    expect(urlToken()).toBe('t1');

    // Once a socket opened, a later refused handshake may force one refresh again.
    ws.last().accept();
    ws.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(token.mock.calls.at(-1)).toEqual([undefined]);
    ws.last().refuse();
    await vi.advanceTimersByTimeAsync(2000);
    expect(token.mock.calls.at(-1)).toEqual([{ forceRefresh: true, refusedToken: 't1' }]);
    expect(token.mock.calls.filter(([request]) => request?.forceRefresh === true)).toHaveLength(2);
    connection.close();
  });

  it('gets a new token from a TokenProvider when $connect refuses the current one', async () => {
    let n = 0;
    const now = Date.now();
    const provider = new TokenProvider({
      tokens: {
        idToken: 'revoked',
        accessToken: 'a',
        refreshToken: 'r',
        issuedAt: now,
        expiresAt: now + 3600_000,
      },
      refresh: async () => ({ idToken: `fresh-${++n}`, accessToken: 'a', expiresIn: 3600 }),
    });
    const { ws, connection } = setup({ token: provider.getToken });
    connection.connect();
    await settle();
    ws.last().refuse();
    await vi.advanceTimersByTimeAsync(1000);
    ws.last().accept();
    expect(ws.sockets.map((socket) => new URL(socket.url).searchParams.get('token'))).toEqual([
      'revoked',
      'fresh-1',
    ]);
    expect(connection.state).toBe('online');
    connection.close();
  });

  it('reconnects with exponential backoff, capped, and starts over after a success', async () => {
    const { ws, connection, states } = setup();
    connection.connect();
    await settle();
    ws.last().accept();

    ws.last().drop();
    expect(connection.state).toBe('reconnecting');
    // random() = 1 makes each delay the full ceiling: 1 s, 2 s, 4 s, 8 s, 8 s.
    const delays: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = ws.sockets.length;
      let waited = 0;
      while (ws.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
      }
      delays.push(waited);
      ws.last().refuse();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);

    await vi.advanceTimersByTimeAsync(8000);
    ws.last().accept();
    ws.last().drop();
    await vi.advanceTimersByTimeAsync(999);
    const count = ws.sockets.length;
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.sockets.length).toBe(count + 1);
    expect(states).toEqual(['connecting', 'online', 'reconnecting', 'online', 'reconnecting']);
  });

  it('jitters each delay within the upper half of the ceiling', async () => {
    const { ws, connection } = setup({ random: () => 0 });
    connection.connect();
    await settle();
    ws.last().accept();

    ws.last().drop();
    await vi.advanceTimersByTimeAsync(499);
    expect(ws.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.sockets).toHaveLength(2);
  });

  it('reconnects at once when asked to', async () => {
    const { ws, connection, states } = setup();
    connection.connect();
    await settle();
    const first = ws.last();
    first.accept();

    connection.reconnect();
    await settle();
    ws.last().accept();

    expect(first.closedByClient).toBe(true);
    expect(ws.sockets).toHaveLength(2);
    expect(states).toEqual(['connecting', 'online', 'reconnecting', 'online']);
  });

  it('stops reconnecting once closed', async () => {
    const { ws, connection, states } = setup();
    connection.connect();
    await settle();
    ws.last().accept();

    connection.close();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(ws.sockets).toHaveLength(1);
    expect(ws.last().closedByClient).toBe(true);
    expect(states.at(-1)).toBe('offline');
  });
});

describe('ChatConnection: heartbeat and connection lifetime', () => {
  it('pings on schedule and keeps a connection that answers', async () => {
    const { ws, connection } = setup({ heartbeatMs: 5 * 60_000, pongTimeoutMs: 30_000 });
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(socket.framesOf('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.framesOf('ping')).toHaveLength(1);
    socket.push({ type: 'pong' });

    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(socket.framesOf('ping')).toHaveLength(2);
    socket.push({ type: 'pong' });
    expect(connection.state).toBe('online');
    expect(ws.sockets).toHaveLength(1);
  });

  it('gives up on a connection whose ping goes unanswered, and reconnects', async () => {
    const { ws, connection } = setup({ heartbeatMs: 60_000, pongTimeoutMs: 10_000 });
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    await vi.advanceTimersByTimeAsync(60_000 + 10_000);

    expect(socket.closedByClient).toBe(true);
    expect(connection.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.sockets).toHaveLength(2);
  });

  it('opens a replacement before the connection limit and closes the old one only once it is open', async () => {
    const { ws, connection, states } = setup({ maxConnectionMs: 60 * 60_000, heartbeatMs: 3 * 60 * 60_000 });
    connection.connect();
    await settle();
    const first = ws.last();
    first.accept();

    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(ws.sockets).toHaveLength(2);
    expect(first.closedByClient).toBe(false);

    ws.last().accept();
    expect(first.closedByClient).toBe(true);
    expect(states).toEqual(['connecting', 'online']);
  });
});

describe('ChatConnection: sending', () => {
  it('retries with the same clientMessageId until acked, across a reconnect, and yields one message', async () => {
    const { ws, connection, messages } = setup({ ackTimeoutMs: 5000 });
    const outgoingEvents: string[] = [];
    connection.on('outgoing', (outgoing) => outgoingEvents.push(outgoing.status));
    connection.connect();
    await settle();
    ws.last().accept();

    const outgoing = connection.send(ROOM, 'hello');
    expect(outgoing.status).toBe('pending');
    expect(connection.pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000); // no ack: sent again on the same socket
    ws.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    const second = ws.last();
    second.accept(); // sent again after the reconnect

    const frames = ws.sockets.flatMap((socket) => socket.framesOf('sendMessage'));
    expect(frames).toHaveLength(3);
    expect(new Set(frames.map((frame) => frame.clientMessageId))).toEqual(new Set(['client-1']));
    expect(frames[0]).toEqual({
      action: 'sendMessage',
      roomId: ROOM,
      content: 'hello',
      clientMessageId: 'client-1',
    });

    const stored = message(1, { senderId: 'ann', content: 'hello', clientMessageId: 'client-1' });
    second.push({ type: 'ack', clientMessageId: 'client-1', message: stored });
    second.push({ type: 'ack', clientMessageId: 'client-1', message: stored }); // a late duplicate ack

    await expect(outgoing.done).resolves.toEqual(stored);
    expect(outgoing.status).toBe('sent');
    expect(outgoing.message).toEqual(stored);
    expect(outgoing.attempts).toBe(3);
    expect(outgoingEvents).toEqual(['sent']);
    expect(messages).toEqual([stored]);
    expect(connection.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(second.framesOf('sendMessage')).toHaveLength(1);
  });

  it('queues a message sent while disconnected and sends it once connected', async () => {
    const { ws, connection } = setup();
    const outgoing = connection.send(ROOM, 'queued');
    connection.connect();
    await settle();
    expect(outgoing.attempts).toBe(0);

    ws.last().accept();

    expect(ws.last().framesOf('sendMessage')).toEqual([
      { action: 'sendMessage', roomId: ROOM, content: 'queued', clientMessageId: 'client-1' },
    ]);
  });

  it('marks a message failed after a clear error frame and stops retrying it', async () => {
    const { ws, connection } = setup({ ackTimeoutMs: 5000 });
    const errors: unknown[] = [];
    connection.on('error', (error) => errors.push(error));
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    const outgoing = connection.send('chat_ann_zed', 'hi');
    socket.push({
      type: 'error',
      code: 'forbidden',
      message: 'You are not a participant of this room',
      action: 'sendMessage',
      clientMessageId: 'client-1',
    });

    await expect(outgoing.done).rejects.toMatchObject({ code: 'forbidden' });
    expect(outgoing.status).toBe('failed');
    expect(outgoing.error).toEqual({ code: 'forbidden', message: 'You are not a participant of this room' });
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.framesOf('sendMessage')).toHaveLength(1);
  });

  it('keeps a message pending after a retryable error and sends it again', async () => {
    const { ws, connection } = setup({ ackTimeoutMs: 5000 });
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    const outgoing = connection.send(ROOM, 'hi');
    socket.push({ type: 'error', code: 'rate_limited', message: 'Slow down', clientMessageId: 'client-1' });
    // After a short pause, well before the ack timeout.
    await vi.advanceTimersByTimeAsync(500);

    expect(outgoing.status).toBe('pending');
    expect(socket.framesOf('sendMessage')).toHaveLength(2);
  });

  it('refuses empty or over-long content without sending it', async () => {
    const { ws, connection } = setup();
    connection.connect();
    await settle();
    ws.last().accept();

    const empty = connection.send(ROOM, '   ');
    const long = connection.send(ROOM, 'x'.repeat(4001));
    const longest = connection.send(ROOM, '😀'.repeat(4000)); // 4,000 code points, 8,000 UTF-16 units

    expect(empty.status).toBe('failed');
    expect(long.status).toBe('failed');
    expect(longest.status).toBe('pending');
    expect(ws.last().framesOf('sendMessage')).toHaveLength(1);
  });

  it('reports error frames that belong to no message', async () => {
    const { ws, connection } = setup();
    const errors: unknown[] = [];
    connection.on('error', (error) => errors.push(error));
    connection.connect();
    await settle();
    ws.last().accept();

    ws.last().push({ type: 'error', code: 'bad_request', message: 'Unknown action' });

    expect(errors).toEqual([{ type: 'error', code: 'bad_request', message: 'Unknown action' }]);
  });
});

describe('ChatConnection: sending files', () => {
  const upload = (n: number) => ({ uploadId: n.toString(16).padStart(32, '0') });
  const stored = (n: number, clientMessageId: string) =>
    message(n, {
      senderId: 'ann',
      content: '',
      clientMessageId,
      attachments: [
        {
          attachmentId: 'a1',
          fileName: 'brief.pdf',
          contentType: 'application/pdf',
          size: 12,
          url: 'https://files.test/a1',
        },
      ],
    });

  it('sends the uploads with the message, and with empty content when there is no text', async () => {
    const { ws, connection } = setup();
    connection.connect();
    await settle();
    ws.last().accept();

    const outgoing = connection.send(ROOM, '  \n', [upload(1), upload(2)]);

    expect(outgoing.status).toBe('pending');
    expect(outgoing.attachments).toEqual([upload(1), upload(2)]);
    expect(ws.last().framesOf('sendMessage')).toEqual([
      {
        action: 'sendMessage',
        roomId: ROOM,
        content: '',
        clientMessageId: 'client-1',
        attachments: [upload(1), upload(2)],
      },
    ]);
    ws.last().push({ type: 'ack', clientMessageId: 'client-1', message: stored(1, 'client-1') });
    expect((await outgoing.done).attachments?.[0]?.fileName).toBe('brief.pdf');
  });

  it('keeps the uploads of a message queued offline, and on every retry', async () => {
    const { ws, connection } = setup({ ackTimeoutMs: 5000 });
    const outgoing = connection.send(ROOM, 'the brief', [upload(7)]);
    connection.connect();
    await settle();
    const first = ws.last();
    first.accept();
    await vi.advanceTimersByTimeAsync(5000);
    first.drop();
    await vi.advanceTimersByTimeAsync(1000);
    const second = ws.last();
    second.accept();

    const frames = [...first.framesOf('sendMessage'), ...second.framesOf('sendMessage')];
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(frame).toEqual({
        action: 'sendMessage',
        roomId: ROOM,
        content: 'the brief',
        clientMessageId: 'client-1',
        attachments: [upload(7)],
      });
    }
    expect(outgoing.status).toBe('pending');
  });

  it('sends a message with files only after the one before it to the room is acknowledged', async () => {
    const { ws, connection } = setup();
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    connection.send(ROOM, 'first');
    connection.send(ROOM, '', [upload(3)]);
    expect(socket.framesOf('sendMessage').map((frame) => frame.clientMessageId)).toEqual(['client-1']);

    socket.push({
      type: 'ack',
      clientMessageId: 'client-1',
      message: message(1, { clientMessageId: 'client-1' }),
    });

    expect(socket.framesOf('sendMessage').at(-1)).toMatchObject({
      clientMessageId: 'client-2',
      attachments: [upload(3)],
    });
  });

  it('fails a message whose upload the server refuses, and goes on with the next', async () => {
    const { ws, connection } = setup();
    connection.connect();
    await settle();
    const socket = ws.last();
    socket.accept();

    const refused = connection.send(ROOM, '', [upload(4)]);
    connection.send(ROOM, 'next');
    socket.push({
      type: 'error',
      code: 'bad_request',
      message: 'That upload was already attached',
      action: 'sendMessage',
      clientMessageId: 'client-1',
    });

    await expect(refused.done).rejects.toMatchObject({ code: 'bad_request' });
    expect(socket.framesOf('sendMessage').at(-1)).toMatchObject({
      clientMessageId: 'client-2',
      content: 'next',
    });
  });

  it('refuses too many files, a file twice, or something that is not an upload id, without sending', async () => {
    const { ws, connection } = setup();
    connection.connect();
    await settle();
    ws.last().accept();

    const eleven = connection.send(
      ROOM,
      '',
      Array.from({ length: 11 }, (_, i) => upload(i + 1)),
    );
    const twice = connection.send(ROOM, 'x', [upload(1), upload(1)]);
    const notAnId = connection.send(ROOM, 'x', [{ uploadId: '../other-room/abc' }]);
    const ten = connection.send(
      ROOM,
      '',
      Array.from({ length: 10 }, (_, i) => upload(i + 1)),
    );

    expect(eleven.error).toEqual({ code: 'bad_request', message: 'A message has at most 10 files' });
    expect(twice.error?.message).toBe('The same file is attached twice');
    expect(notAnId.status).toBe('failed');
    expect(ten.status).toBe('pending');
    expect(ws.last().framesOf('sendMessage')).toHaveLength(1);
  });
});

describe('ChatConnection: catching up', () => {
  function catchUpSetup(respond: (call: FetchCall) => { body: unknown }) {
    const { fetch, calls } = fakeFetch(respond);
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 't', fetch });
    return { ...setup({ api }), calls };
  }

  it('catches up each watched room from 30 s before the newest held message, de-duplicating', async () => {
    // Ids are given before messages are stored and posted: one older than the newest held may be missing.
    const margin = smallestUlidAt(ulidTime(messageId(2)) - 30_000);
    const { ws, connection, messages, calls } = catchUpSetup(({ url }) => {
      const after = url.searchParams.get('after');
      if (after === margin) return { body: { messages: [message(3), message(4)], hasMore: true } };
      if (after === messageId(4)) return { body: { messages: [message(5)], hasMore: false } };
      return { body: { messages: [], hasMore: false } };
    });
    connection.watchRoom(ROOM, [message(1)]);
    connection.connect();
    await settle();
    ws.last().accept();
    await settle();
    calls.length = 0;

    ws.last().push({ type: 'chat_message', message: message(1) }); // already held: not emitted again
    ws.last().push({ type: 'chat_message', message: message(2) }); // live, then the connection is lost
    ws.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    ws.last().accept();
    ws.last().push({ type: 'chat_message', message: message(3) }); // live again before the catch-up answers
    await settle();

    expect(calls.map(({ url }) => `${url.pathname}${url.search}`)).toEqual([
      `/chat/messages/${ROOM}?after=${margin}&limit=100`,
      `/chat/messages/${ROOM}?after=${messageId(4)}&limit=100`,
    ]);
    // Each message once; the order of arrival is the fake sockets', the views sort by messageId.
    expect(messages.map((m) => m.messageId).sort()).toEqual([
      messageId(2),
      messageId(3),
      messageId(4),
      messageId(5),
    ]);
  });

  it('settles a pending message that the catch-up shows was stored before its ack was lost', async () => {
    const stored = message(5, { senderId: 'ann', content: 'lost ack', clientMessageId: 'client-1' });
    const { ws, connection, messages } = catchUpSetup(() => ({
      body: { messages: [stored], hasMore: false },
    }));
    connection.watchRoom(ROOM, [message(4)]);
    connection.connect();
    await settle();
    ws.last().accept();
    const outgoing = connection.send(ROOM, 'lost ack');
    ws.last().drop();

    await vi.advanceTimersByTimeAsync(1000);
    ws.last().accept();
    await settle();

    expect(outgoing.status).toBe('sent');
    expect(messages).toEqual([stored]);
  });

  it('catches up again 11 s after a reconnect, for a message stored after the first catch-up ran', async () => {
    // A send that read the connections before this socket opened posts nothing to it, and may store
    // its message only after the first catch-up: the second one finds it.
    let stored = false;
    const { ws, connection, messages, calls } = catchUpSetup(() => ({
      body: { messages: stored ? [message(2)] : [], hasMore: false },
    }));
    connection.watchRoom(ROOM, [message(1)]);
    connection.connect();
    await settle();
    ws.last().accept();
    await settle();
    ws.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    ws.last().accept();
    await settle();
    const afterFirst = calls.length;
    stored = true;

    await vi.advanceTimersByTimeAsync(SETTLE_CATCH_UP_MS);

    expect(calls.length).toBeGreaterThan(afterFirst);
    expect(messages.map((m) => m.messageId)).toEqual([messageId(2)]);
  });

  it('counts a message acknowledged between watchRoom() and the page it then holds', async () => {
    // The page was read before the message was stored, and arrives after its ack.
    const margin = smallestUlidAt(ulidTime(messageId(5)) - 30_000);
    const { ws, connection, calls } = catchUpSetup(() => ({ body: { messages: [], hasMore: false } }));
    connection.connect();
    await settle();
    ws.last().accept();
    connection.watchRoom(ROOM);
    connection.send(ROOM, 'sent while the page loads');
    ws.last().push({
      type: 'ack',
      clientMessageId: 'client-1',
      message: message(5, {
        senderId: 'ann',
        content: 'sent while the page loads',
        clientMessageId: 'client-1',
      }),
    });
    connection.watchRoom(ROOM, []);
    await settle();
    calls.length = 0;

    ws.last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    ws.last().accept();
    await settle();

    // From the ack's message, not the newest page (which would miss anything older than it).
    expect(calls.map(({ url }) => `${url.pathname}${url.search}`)).toEqual([
      `/chat/messages/${ROOM}?after=${margin}&limit=100`,
    ]);
  });

  it('does not catch up rooms it stopped watching', async () => {
    const { ws, connection, calls } = catchUpSetup(() => ({ body: { messages: [], hasMore: false } }));
    connection.watchRoom(ROOM, [message(1)]);
    connection.unwatchRoom(ROOM);
    connection.connect();
    await settle();
    ws.last().accept();
    await settle();

    expect(calls).toHaveLength(0);
  });
});

describe('ChatConnection: events', () => {
  it('emits read, typing and presence frames as typed events', async () => {
    const { ws, connection } = setup();
    const seen: string[] = [];
    connection.on('read', (event) => seen.push(`read ${event.userId} ${event.messageId}`));
    connection.on('typing', (event) => seen.push(`typing ${event.userId} ${event.isTyping}`));
    connection.on('presence', (event) => seen.push(`presence ${event.userId} ${event.online}`));
    connection.connect();
    await settle();
    ws.last().accept();

    ws.last().push({ type: 'read', roomId: ROOM, userId: 'bob', messageId: messageId(1), readAt: 'now' });
    ws.last().push({ type: 'typing', roomId: ROOM, userId: 'bob', isTyping: true });
    ws.last().push({ type: 'presence', userId: 'bob', online: false, lastSeenAt: 'now' });
    ws.last().push({ type: 'pong' });

    expect(seen).toEqual([`read bob ${messageId(1)}`, 'typing bob true', 'presence bob false']);
  });

  it('sends typing and markRead frames only while online', async () => {
    const { ws, connection } = setup();
    expect(connection.typing(ROOM, true)).toBe(false);
    connection.connect();
    await settle();
    ws.last().accept();

    expect(connection.typing(ROOM, true)).toBe(true);
    expect(connection.markRead(ROOM, messageId(1))).toBe(true);
    expect(ws.last().frames).toEqual([
      { action: 'typing', roomId: ROOM, isTyping: true },
      { action: 'markRead', roomId: ROOM, messageId: messageId(1) },
    ]);
  });
});

describe('ChatConnection: the browser network state', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('drops the socket when the browser goes offline and reconnects as soon as it is back online', async () => {
    const network = new EventTarget();
    const navigator = { onLine: true };
    vi.stubGlobal('navigator', navigator);
    vi.stubGlobal('addEventListener', network.addEventListener.bind(network));
    vi.stubGlobal('removeEventListener', network.removeEventListener.bind(network));
    const { ws, connection, states } = setup({ backoff: { initialMs: 1000, maxMs: 60_000 } });
    connection.connect();
    await settle();
    ws.last().accept();

    navigator.onLine = false;
    network.dispatchEvent(new Event('offline'));
    expect(ws.last().closedByClient).toBe(true);
    expect(connection.state).toBe('offline');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ws.sockets).toHaveLength(1);

    navigator.onLine = true;
    network.dispatchEvent(new Event('online'));
    await settle();
    expect(ws.sockets).toHaveLength(2);
    ws.last().accept();
    expect(states).toEqual(['connecting', 'online', 'offline', 'online']);
  });
});
