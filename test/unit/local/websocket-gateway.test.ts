import { request } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../../local/lambda.js';
import { newConnectionId } from '../../../local/websocket-api.js';
import {
  type Client,
  connect,
  eventually,
  startTestGateway,
  type TestGateway,
  tokenAuthorizer,
} from './support.js';

interface SeenEvent {
  body?: string;
  requestContext: Record<string, unknown> & { connectionId: string; routeKey: string };
  queryStringParameters?: Record<string, string>;
}

let events: SeenEvent[];
let connectResult: unknown;
let clients: Client[];
const record: LambdaHandler = async (event) => {
  events.push(event as SeenEvent);
};
const handlers: Record<string, LambdaHandler> = {
  WsAuthorizer: async (event, context) => {
    const { queryStringParameters, methodArn } = event as {
      queryStringParameters?: Record<string, string>;
      methodArn: string;
    };
    const allow = (extra: Record<string, unknown>) => ({
      principalId: 'ann',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
      context: extra,
    });
    if (queryStringParameters?.token === 'oversized') return allow({ pad: 'x'.repeat(8 * 1024) });
    if (queryStringParameters?.token === 'nested') return allow({ user: { id: 'ann' } });
    return tokenAuthorizer(event, context);
  },
  Connect: async (event) => {
    events.push(event as SeenEvent);
    return connectResult;
  },
  Disconnect: record,
  WsEcho: async (event) => {
    events.push(event as SeenEvent);
    const body = JSON.parse((event as SeenEvent).body ?? '{}') as { fail?: boolean };
    if (body.fail) throw new Error('boom');
    return { statusCode: 200, body: JSON.stringify({ type: 'echo', body }) };
  },
  Silent: async () => ({ statusCode: 200, body: 'never sent: returnResponse is false' }),
  Default: async (event) => ({ statusCode: 200, body: `default:${(event as SeenEvent).body}` }),
};

function setUp(limits = {}) {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway(handlers, { limits });
  });
  afterAll(() => gateway.close());
  beforeEach(() => {
    events = [];
    connectResult = { statusCode: 200 };
    clients = [];
  });
  afterEach(() => {
    for (const client of clients) client.ws.terminate();
  });
  return {
    gateway: () => gateway,
    /** Opens a client and finds its connection id (the one connection that was not there before). */
    open: async (query: string): Promise<Client & { connectionId: string }> => {
      const before = new Set(gateway.webSocketApi.connections().map((c) => c.connectionId));
      const client = await connect(`${gateway.wsUrl}?${query}`);
      clients.push(client);
      const connectionId = await eventually(
        () => gateway.webSocketApi.connections().find((c) => !before.has(c.connectionId))?.connectionId,
      );
      return Object.assign(client, { connectionId });
    },
    management: () =>
      new ApiGatewayManagementApiClient({
        endpoint: `${gateway.baseUrl}/local`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
  };
}

const eventsOf = (routeKey: string, connectionId?: string) =>
  events.filter(
    (event) =>
      event.requestContext.routeKey === routeKey &&
      (connectionId === undefined || event.requestContext.connectionId === connectionId),
  );
const disconnectOf = (connectionId: string) => eventually(() => eventsOf('$disconnect', connectionId)[0]);

describe('WebSocket connect', () => {
  const { open, gateway } = setUp();

  it('refuses with 401 without a token, without calling the authorizer', async () => {
    await expect(open('room=x')).rejects.toThrow('refused 401');
    expect(events).toHaveLength(0);
  });

  it('refuses a malformed handshake with 400 before any handler runs', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${gateway().wsUrl.replace('ws:', 'http:')}?token=good-ann`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' },
      });
      req.on('response', (res) => resolve(res.statusCode));
      req.on('upgrade', (res) => resolve(res.statusCode));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(events).toHaveLength(0);
  });

  it('refuses a URL over 4096 characters (the WebSocket quota) before any handler runs', async () => {
    await expect(open(`token=good-ann&pad=${'x'.repeat(4096)}`)).rejects.toThrow('refused 414');
    expect(events).toHaveLength(0);
    const { connectionId } = await open(`token=good-ann&pad=${'x'.repeat(3900)}`);
    expect(eventsOf('$connect', connectionId)).toHaveLength(1);
  });

  it('refuses with 401 when the authorizer throws Unauthorized and 403 on a Deny policy', async () => {
    await expect(open('token=nope')).rejects.toThrow('refused 401');
    await expect(open('token=deny')).rejects.toThrow('refused 403');
    expect(eventsOf('$connect')).toHaveLength(0);
  });

  it('refuses with 500 an authorizer result over 8 KB or a context with a non-primitive value', async () => {
    await expect(open('token=oversized')).rejects.toThrow('refused 500');
    await expect(open('token=nested')).rejects.toThrow('refused 500');
    expect(eventsOf('$connect')).toHaveLength(0);
  });

  it('refuses with the status $connect answers, and then runs no $disconnect', async () => {
    connectResult = { statusCode: 403 };
    await expect(open('token=good-ann')).rejects.toThrow('refused 403');
    expect(eventsOf('$connect')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventsOf('$disconnect')).toHaveLength(0);
  });

  it('passes $connect the flattened authorizer context and the query string', async () => {
    const { connectionId } = await open('token=good-ann&room=chat_ann_bob');
    const [event] = eventsOf('$connect', connectionId);
    expect(event).toMatchObject({
      queryStringParameters: { token: 'good-ann', room: 'chat_ann_bob' },
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'local',
        authorizer: { principalId: 'ann', userId: 'ann' },
        connectionId: expect.stringMatching(/^[A-Za-z0-9+/]{15}=$/) as unknown,
        connectedAt: expect.any(Number),
        domainName: new URL(gateway().baseUrl).host,
      },
    });
  });
});

describe('WebSocket messages', () => {
  const { open } = setUp();

  it('routes on body.action, returns two-way route responses, and falls back to $default', async () => {
    const client = await open('token=good-ann');
    client.ws.send(JSON.stringify({ action: 'echo', n: 1 }));
    expect(JSON.parse(await client.next())).toEqual({ type: 'echo', body: { action: 'echo', n: 1 } });
    client.ws.send('not json');
    expect(await client.next()).toBe('default:not json');
    client.ws.send(JSON.stringify({ action: 'unknown' }));
    expect(await client.next()).toBe('default:{"action":"unknown"}');
    client.ws.send(JSON.stringify({ action: 'silent' }));
    client.ws.send(JSON.stringify({ action: '$connect' }));
    expect(await client.next()).toBe('default:{"action":"$connect"}');

    const [message] = eventsOf('echo', client.connectionId);
    expect(message?.requestContext).toMatchObject({
      eventType: 'MESSAGE',
      messageDirection: 'IN',
      stage: 'local',
      authorizer: { principalId: 'ann', userId: 'ann' },
    });
  });

  it('answers a throwing handler like API Gateway and keeps the connection open', async () => {
    const client = await open('token=good-ann');
    client.ws.send(JSON.stringify({ action: 'echo', fail: true }));
    const frame = JSON.parse(await client.next()) as Record<string, string>;
    expect(frame).toEqual({
      message: 'Internal server error',
      connectionId: client.connectionId,
      requestId: expect.any(String),
    });
    client.ws.send(JSON.stringify({ action: 'echo' }));
    expect(JSON.parse(await client.next())).toMatchObject({ type: 'echo' });
  });

  it('runs $disconnect with the close code, also when the socket dies without a close frame', async () => {
    const polite = await open('token=good-ann');
    polite.ws.close(4000, 'bye');
    expect((await disconnectOf(polite.connectionId)).requestContext).toMatchObject({
      eventType: 'DISCONNECT',
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
      authorizer: { userId: 'ann' },
    });

    const rude = await open('token=good-bob');
    rude.ws.terminate();
    expect((await disconnectOf(rude.connectionId)).requestContext).toMatchObject({
      disconnectStatusCode: 1006,
    });
  });

  it('closes with 1009 on a frame over the limit and 1003 on a binary frame', async () => {
    const big = await open('token=good-ann');
    big.ws.send('x'.repeat(32 * 1024 + 1));
    expect((await big.closed).code).toBe(1009);
    expect((await disconnectOf(big.connectionId)).requestContext.disconnectStatusCode).toBe(1009);

    const binary = await open('token=good-ann');
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(1003);
  });
});

describe('connection limits', () => {
  const { open } = setUp({ idleTimeoutMs: 300, maxConnectionMs: 900 });

  it('closes an idle connection with 1001, and a busy one at the maximum age', async () => {
    const idle = await open('token=good-ann');
    const pinging = await open('token=good-cat');
    const busy = await open('token=good-bob');
    const openedAt = Date.now();
    // Control frames are not activity (not documented as such by AWS): only messages keep it open.
    const controlPings = setInterval(() => pinging.ws.ping(), 100);
    const keepAlive = setInterval(() => busy.ws.send('{"action":"silent"}'), 100);
    try {
      expect(await idle.closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(await pinging.closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(Date.now() - openedAt).toBeLessThan(800);
      expect(busy.ws.readyState).toBe(busy.ws.OPEN);
      expect(await busy.closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(850);
    } finally {
      clearInterval(keepAlive);
      clearInterval(controlPings);
    }
  });
});

describe('management API, through the SDK', () => {
  const { open, management, gateway } = setUp();

  it('posts to, describes and deletes a connection', async () => {
    const client = await open('token=good-ann');
    const { connectionId } = client;
    const sdk = management();
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"hi":1}') }),
    );
    expect(await client.next()).toBe('{"hi":1}');

    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');

    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await client.closed).code).toBe(1000);
    await disconnectOf(connectionId);
  });

  it('answers GoneException for an unknown or closed connection, with ids that need URL encoding', async () => {
    const sdk = management();
    const post = (id: string) =>
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([123, 125]) }));
    await expect(post('ab+/cd==')).rejects.toBeInstanceOf(GoneException);
    await expect(
      sdk.send(new GetConnectionCommand({ ConnectionId: newConnectionId() })),
    ).rejects.toMatchObject({
      name: 'GoneException',
    });

    const client = await open('token=good-bob');
    client.ws.close();
    await disconnectOf(client.connectionId);
    await expect(post(client.connectionId)).rejects.toBeInstanceOf(GoneException);
  });

  it('answers PayloadTooLargeException for a post over 128 KB, and delivers one of exactly 128 KB', async () => {
    const client = await open('token=good-dan');
    const sdk = management();
    const post = (bytes: number) =>
      sdk.send(
        new PostToConnectionCommand({
          ConnectionId: client.connectionId,
          Data: new Uint8Array(bytes).fill(97),
        }),
      );
    await expect(post(128 * 1024 + 1)).rejects.toMatchObject({
      name: 'PayloadTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    await post(128 * 1024);
    expect(await client.next()).toHaveLength(128 * 1024);
  });

  it('throttles the next posts on request', async () => {
    const client = await open('token=good-cat');
    const { connectionId } = client;
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: `${gateway().baseUrl}/local`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const response = await fetch(`${gateway().baseUrl}/dev/throttle`, {
      method: 'POST',
      body: JSON.stringify({ count: 1, connectionId }),
    });
    expect(response.status).toBe(204);
    const post = () =>
      sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new Uint8Array([49]) }));
    await expect(post()).rejects.toBeInstanceOf(LimitExceededException);
    await post();
    expect(await client.next()).toBe('1');
  });
});
