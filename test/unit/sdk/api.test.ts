import { describe, expect, it, vi } from 'vitest';
import {
  ChatApi,
  ChatApiError,
  signInLocal,
  TokenProvider,
  type TokenRequest,
} from '../../../web/sdk/index.js';
import { fakeFetch, message, messageId, ROOM } from './fakes.js';

const room = {
  roomId: ROOM,
  participants: [],
  lastMessage: null,
  unreadCount: 0,
  lastReadMessageId: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('ChatApi', () => {
  it('sends the bearer token and pages the room list with limit and cursor', async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: { rooms: [room], nextCursor: 'next' } }));
    const api = new ChatApi({ restUrl: 'http://chat.test/', token: async () => 'jwt', fetch });

    const page = await api.listRooms({ limit: 10, cursor: 'abc' });

    expect(page).toEqual({ rooms: [room], nextCursor: 'next' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url.href).toBe('http://chat.test/chat/list?limit=10&cursor=abc');
    expect(calls[0]?.headers.authorization).toBe('Bearer jwt');
  });

  it('asks for message pages before or after a message', async () => {
    const { fetch, calls } = fakeFetch(() => ({
      body: { messages: [{ ...message(1), read: true }], hasMore: false },
    }));
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch });

    await api.getMessages(ROOM);
    await api.getMessages(ROOM, { before: messageId(9), limit: 20 });
    await api.getMessages(ROOM, { after: messageId(3) });

    expect(calls.map(({ url }) => `${url.pathname}${url.search}`)).toEqual([
      `/chat/messages/${ROOM}`,
      `/chat/messages/${ROOM}?before=${messageId(9)}&limit=20`,
      `/chat/messages/${ROOM}?after=${messageId(3)}`,
    ]);
  });

  it('tells a created room from an existing one by the status', async () => {
    let status = 201;
    const { fetch, calls } = fakeFetch(() => ({ status, body: { room } }));
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch });

    expect(await api.startChat('bob')).toEqual({ room, created: true });
    status = 200;
    expect(await api.startChat('bob')).toEqual({ room, created: false });
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe('/chat/start/bob');
  });

  it('marks read and updates the profile with JSON bodies', async () => {
    const { fetch, calls } = fakeFetch(({ url }) =>
      url.pathname.startsWith('/chat/read/')
        ? { body: { lastReadMessageId: messageId(2), unreadCount: 0 } }
        : { body: { userId: 'ann', displayName: 'Ann B', avatarUrl: null } },
    );
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch });

    expect(await api.markRead(ROOM, messageId(2))).toEqual({
      lastReadMessageId: messageId(2),
      unreadCount: 0,
    });
    expect(await api.updateMe({ displayName: 'Ann B' })).toEqual({
      userId: 'ann',
      displayName: 'Ann B',
      avatarUrl: null,
    });
    expect(await api.getMe()).toMatchObject({ userId: 'ann' });

    expect(calls.map(({ method, url, body }) => [method, url.pathname, body])).toEqual([
      ['POST', `/chat/read/${ROOM}`, { messageId: messageId(2) }],
      ['PUT', '/users/me', { displayName: 'Ann B' }],
      ['GET', '/users/me', undefined],
    ]);
    expect(calls[0]?.headers['content-type']).toBe('application/json');
  });

  it('turns an error body into a ChatApiError with status, code and message', async () => {
    const { fetch } = fakeFetch(() => ({
      status: 403,
      body: { error: { code: 'forbidden', message: 'Not yours' } },
    }));
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch });

    const error = await api.getMessages(ROOM).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ChatApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', message: 'Not yours' });
  });

  it('derives the code from the status when the body is not the API error shape', async () => {
    const { fetch } = fakeFetch(() => ({ status: 401 }));
    const api = new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch });

    await expect(api.getMe()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('reports a failed request as a network error', async () => {
    const api = new ChatApi({
      restUrl: 'http://chat.test',
      token: 'jwt',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });

    await expect(api.listRooms()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('signs in on the local stack', async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: { token: 'jwt' } }));

    expect(
      await signInLocal('http://chat.test/dev/token', { userId: 'ann', displayName: 'Ann' }, fetch),
    ).toEqual({
      token: 'jwt',
    });
    expect(calls[0]?.body).toEqual({ userId: 'ann', displayName: 'Ann' });
  });
});

describe('ChatApi with a refreshing token', () => {
  const me = { userId: 'ann', displayName: 'Ann', avatarUrl: null };
  const unauthorized = { status: 401, body: { message: 'Unauthorized' } };

  it('refreshes once on a 401 and retries with the new token', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.headers.authorization === 'Bearer fresh' ? { body: me } : unauthorized,
    );
    const token = vi.fn(async (request?: TokenRequest) =>
      request?.forceRefresh === true ? 'fresh' : 'stale',
    );
    const api = new ChatApi({ restUrl: 'http://chat.test', token, fetch });

    expect(await api.getMe()).toEqual(me);
    expect(calls.map((call) => call.headers.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(token.mock.calls).toEqual([[undefined], [{ forceRefresh: true, refusedToken: 'stale' }]]);
  });

  it('refreshes once for 401s that come one after another for the same token', async () => {
    // Two requests go out with the same token; the second's 401 arrives after the first's refresh
    // has finished, so single flight cannot merge them.
    let answerSecond: () => void = () => {};
    const secondRefused = new Promise<void>((resolve) => {
      answerSecond = resolve;
    });
    let staleCalls = 0;
    const { fetch, calls } = fakeFetch(async (call) => {
      if (call.headers.authorization !== 'Bearer stale') return { body: me };
      staleCalls += 1;
      if (staleCalls === 2) await secondRefused;
      return unauthorized;
    });
    let n = 0;
    const refresh = vi.fn(async () => ({ idToken: `fresh-${++n}`, accessToken: 'a', expiresIn: 3600 }));
    const provider = new TokenProvider({
      tokens: {
        idToken: 'stale',
        accessToken: 'a',
        refreshToken: 'r',
        issuedAt: Date.now(),
        expiresAt: Date.now() + 3600_000,
      },
      refresh,
    });
    const api = new ChatApi({ restUrl: 'http://chat.test', token: provider.getToken, fetch });

    const first = api.getMe();
    const second = api.listRooms();
    expect(await first).toEqual(me);
    answerSecond();
    await second;
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(calls.map((call) => call.headers.authorization)).toEqual([
      'Bearer stale',
      'Bearer stale',
      'Bearer fresh-1',
      'Bearer fresh-1',
    ]);
  });

  it('gives up after the one retry: a second 401 is the answer', async () => {
    const { fetch, calls } = fakeFetch(() => unauthorized);
    const api = new ChatApi({ restUrl: 'http://chat.test', token: async () => 'any', fetch });
    await expect(api.getMe()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(calls).toHaveLength(2);
  });

  it('does not retry a plain string token, nor other refusals', async () => {
    const plain = fakeFetch(() => unauthorized);
    await expect(
      new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch: plain.fetch }).getMe(),
    ).rejects.toMatchObject({
      status: 401,
    });
    expect(plain.calls).toHaveLength(1);
    const forbidden = fakeFetch(() => ({
      status: 403,
      body: { error: { code: 'forbidden', message: 'no' } },
    }));
    await expect(
      new ChatApi({ restUrl: 'http://chat.test', token: async () => 'jwt', fetch: forbidden.fetch }).getMe(),
    ).rejects.toMatchObject({ status: 403 });
    expect(forbidden.calls).toHaveLength(1);
  });
});
