import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HttpRouteDefinition } from '../../../definitions/routes.js';
import { headerCsp, pageCsp, serializeCsp } from '../../../definitions/web.js';
import { makeHandler as makeTrailingSlashHandler } from '../../../lambdas/http/trailing-slash.js';
import { makeTokenVerifier } from '../../../lambdas/shared/auth.js';
import { isTextContentType, makeRouteMatcher } from '../../../local/http-api.js';
import type { LambdaHandler } from '../../../local/lambda.js';
import { startTestGateway, stubHttpRoutes, type TestGateway } from './support.js';

describe('route matching', () => {
  const match = makeRouteMatcher(stubHttpRoutes);
  const route = (method: HttpRouteDefinition['method'], path: string): HttpRouteDefinition => ({
    functionId: `${method} ${path}`,
    entry: 'stub.ts',
    tables: {},
    postsToConnections: false,
    verifiesTokens: false,
    method,
    path,
  });
  const matched = (routes: HttpRouteDefinition[], method: string, path: string) =>
    makeRouteMatcher(routes)(method, path)?.route.functionId;

  it('matches the exact path only: a trailing slash is another path, left to the catch-all route', () => {
    expect(match('GET', '/chat/list')?.route.functionId).toBe('List');
    expect(match('GET', '/chat/list/')?.route.functionId).toBe('CatchAll');
    expect(match('POST', '/echo/x/')).toMatchObject({ route: { functionId: 'CatchAll' } });
    const exactOnly = [route('GET', '/chat/list'), route('POST', '/echo/{id}')];
    expect(matched(exactOnly, 'GET', '/chat/list/')).toBeUndefined();
    expect(matched(exactOnly, 'POST', '/echo/x/')).toBeUndefined();
    expect(matched(exactOnly, 'GET', '/Chat/List')).toBeUndefined();
    expect(matched(exactOnly, 'GET', '/chat//list')).toBeUndefined();
  });

  it('matches a {variable} to exactly one non-empty segment, decoded', () => {
    expect(match('POST', '/echo/a%20b')?.pathParameters).toEqual({ id: 'a b' });
    expect(match('POST', '/echo/a%2Fb')?.pathParameters).toEqual({ id: 'a/b' });
    const echoOnly = [route('POST', '/echo/{id}')];
    expect(matched(echoOnly, 'POST', '/echo/')).toBeUndefined();
    expect(matched(echoOnly, 'POST', '/echo')).toBeUndefined();
    expect(matched(echoOnly, 'POST', '/echo/x/y')).toBeUndefined();
    expect(matched(echoOnly, 'GET', '/echo/x')).toBeUndefined();
  });

  it('matches {proxy+} greedily, to one segment or more, and passes the rest as the parameter', () => {
    expect(match('DELETE', '/a/b/c/')?.pathParameters).toEqual({ proxy: 'a/b/c/' });
    expect(match('GET', '/')).toBeUndefined();
    expect(matched([route('GET', '/pets/{proxy+}')], 'GET', '/pets')).toBeUndefined();
    expect(matched([route('GET', '/pets/{proxy+}')], 'GET', '/pets/')).toBeUndefined();
  });

  it('picks the most specific route: literal, then {variable}, then the longest greedy prefix, then ANY', () => {
    const routes = [
      route('ANY', '/{proxy+}'),
      route('GET', '/pets/{proxy+}'),
      route('GET', '/pets/dog/{id}'),
      route('GET', '/pets/dog/1'),
      route('ANY', '/pets/cat'),
      route('GET', '/pets/cat'),
    ];
    expect(matched(routes, 'GET', '/pets/dog/1')).toBe('GET /pets/dog/1');
    expect(matched(routes, 'GET', '/pets/dog/2')).toBe('GET /pets/dog/{id}');
    expect(matched(routes, 'GET', '/pets/bird/1')).toBe('GET /pets/{proxy+}');
    expect(matched(routes, 'POST', '/pets/dog/1')).toBe('ANY /{proxy+}');
    expect(matched(routes, 'GET', '/pets/cat')).toBe('GET /pets/cat');
    expect(matched(routes, 'PUT', '/pets/cat')).toBe('ANY /pets/cat');
  });

  it('treats JSON and text bodies as text and everything else as binary, like an HTTP API', () => {
    expect(isTextContentType('application/json; charset=utf-8')).toBe(true);
    expect(isTextContentType('text/plain')).toBe(true);
    expect(isTextContentType('application/octet-stream')).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });
});

describe('HTTP API emulation', () => {
  let gateway: TestGateway;
  let authorizerEvents: APIGatewayRequestAuthorizerEventV2[];
  let authorizerBudgets: number[];
  let routeEvents: APIGatewayProxyEventV2[];
  let echo: LambdaHandler;
  const handlers: Record<string, LambdaHandler> = {
    HttpAuthorizer: async (event, context) => {
      const e = event as APIGatewayRequestAuthorizerEventV2;
      authorizerEvents.push(e);
      authorizerBudgets.push(context.getRemainingTimeInMillis());
      if (e.identitySource?.[0] === 'Bearer good') return { isAuthorized: true, context: { userId: 'ann' } };
      if (e.identitySource?.[0] === 'Bearer denied') return { isAuthorized: false };
      throw new Error('Unauthorized');
    },
    Echo: (event, context) => echo(event, context),
    List: async () => ({ rooms: [] }),
    CatchAll: makeTrailingSlashHandler(stubHttpRoutes) as LambdaHandler,
  };

  beforeAll(async () => {
    gateway = await startTestGateway(handlers, { allowedOrigins: ['http://example.test'] });
  });
  afterAll(() => gateway.close());
  beforeEach(() => {
    authorizerEvents = [];
    authorizerBudgets = [];
    routeEvents = [];
    echo = async (event) => {
      routeEvents.push(event as APIGatewayProxyEventV2);
      return { statusCode: 201, headers: { 'X-Echo': 'yes' }, body: JSON.stringify({ ok: true }) };
    };
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${gateway.baseUrl}${path}`, init);

  it('answers 401 in the contract shape without calling the authorizer when the header is missing', async () => {
    const response = await call('/chat/list');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(authorizerEvents).toHaveLength(0);
  });

  it('gives the authorizer 10 s, the HTTP API quota, while routes get the integration timeout', async () => {
    await call('/chat/list', { headers: { authorization: 'Bearer good' } });
    const [budget] = authorizerBudgets;
    expect(budget).toBeLessThanOrEqual(10_000);
    expect(budget).toBeGreaterThan(9_000);
  });

  it('refuses a request line and headers over 10,240 bytes (the HTTP API quota) before the authorizer', async () => {
    const padded = (bytes: number) =>
      call('/chat/list', { headers: { authorization: 'Bearer good', 'x-pad': 'x'.repeat(bytes) } });
    expect((await padded(10_300)).status).toBe(431);
    expect(authorizerEvents).toHaveLength(0);
    expect((await padded(9_000)).status).toBe(200);
  });

  it('answers 403 like API Gateway when the authorizer answers isAuthorized: false', async () => {
    const response = await call('/chat/list', { headers: { authorization: 'Bearer denied' } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('answers 401 when the authorizer throws Unauthorized', async () => {
    const response = await call('/chat/list', { headers: { authorization: 'Bearer bad' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect(authorizerEvents[0]).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeKey: 'GET /chat/list',
      identitySource: ['Bearer bad'],
      routeArn: expect.stringMatching(
        /^arn:aws:execute-api:us-east-1:\d{12}:[^/]+\/\$default\/GET\/chat\/list$/,
      ),
    });
  });

  it('passes a payload 2.0 event with the authorizer context and maps the result back', async () => {
    const response = await call('/echo/room%201?b=2&a=1&a=3', {
      method: 'POST',
      headers: {
        authorization: 'Bearer good',
        'content-type': 'application/json',
        'X-Custom': 'v',
        cookie: 'c=1; d=2',
        origin: 'http://example.test',
      },
      body: '{"hello":"world"}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://example.test');
    expect(await response.json()).toEqual({ ok: true });

    const event = routeEvents[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /echo/{id}',
      rawPath: '/echo/room%201',
      rawQueryString: 'b=2&a=1&a=3',
      queryStringParameters: { a: '1,3', b: '2' },
      pathParameters: { id: 'room 1' },
      cookies: ['c=1', 'd=2'],
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'POST /echo/{id}',
        stage: '$default',
        http: { method: 'POST', path: '/echo/room%201', sourceIp: '127.0.0.1' },
        authorizer: { lambda: { userId: 'ann' } },
      },
    });
    expect(event?.headers['x-custom']).toBe('v');
    expect(event?.headers.cookie).toBeUndefined();
    expect(typeof event?.requestContext.timeEpoch).toBe('number');
  });

  it('refuses a body over 10 MB (the HTTP API payload quota) with 413, before the handler', async () => {
    const response = await call('/echo/x', {
      method: 'POST',
      headers: { authorization: 'Bearer good', 'content-type': 'application/octet-stream' },
      body: new Uint8Array(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(routeEvents).toHaveLength(0);
  });

  it('base64-encodes a binary body', async () => {
    await call('/echo/x', {
      method: 'POST',
      headers: { authorization: 'Bearer good', 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 255, 1]),
    });
    expect(routeEvents[0]).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from([0, 255, 1]).toString('base64'),
    });
  });

  it('takes a result without statusCode as a 200 JSON body', async () => {
    const response = await call('/chat/list', { headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ rooms: [] });
  });

  it('answers 500 in the contract shape, without detail, when a handler throws', async () => {
    echo = async () => {
      throw new Error('secret detail at line 42');
    };
    const response = await call('/echo/x', { method: 'POST', headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    expect(text).not.toContain('secret');
  });

  it('answers 404 in the contract shape, from the catch-all route and without the authorizer, for an unknown path', async () => {
    const response = await call('/nope', { headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(authorizerEvents).toHaveLength(0);
  });

  it('answers API Gateway’s own 404 when no route at all matches', async () => {
    const response = await call('/', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
  });

  it('redirects a trailing slash with 308 to the route’s path, query kept, without the authorizer', async () => {
    const response = await call('/chat/list/?limit=5&cursor=a%2Bb', { redirect: 'manual' });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/chat/list?limit=5&cursor=a%2Bb');
    expect(authorizerEvents).toHaveLength(0);
    // Not for a method the path has no route for, nor for a path without the slash.
    expect((await call('/chat/list/', { method: 'PUT', redirect: 'manual' })).status).toBe(404);
    expect((await call('/chat/listing/', { redirect: 'manual' })).status).toBe(404);
  });

  it('is followed by fetch with the method, the body and the Authorization header (same origin)', async () => {
    const response = await call('/echo/room%201/', {
      method: 'POST',
      headers: { authorization: 'Bearer good', 'content-type': 'application/json' },
      body: '{"kept":true}',
    });
    expect(response.status).toBe(201);
    expect(response.redirected).toBe(true);
    expect(authorizerEvents).toHaveLength(1);
    expect(routeEvents[0]).toMatchObject({
      rawPath: '/echo/room%201',
      pathParameters: { id: 'room 1' },
      body: '{"kept":true}',
    });
  });

  it('answers a CORS preflight without the authorizer, with the configured methods and headers only', async () => {
    const response = await call('/chat/list', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://example.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, x-anything',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://example.test');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,PUT,OPTIONS');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(authorizerEvents).toHaveLength(0);
  });

  it('gives no CORS headers to an origin that is not allowed', async () => {
    const headers = { origin: 'http://elsewhere.test' };
    const preflight = await call('/chat/list', {
      method: 'OPTIONS',
      headers: { ...headers, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const response = await call('/chat/list', { headers: { ...headers, authorization: 'Bearer good' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the web client and its config', async () => {
    const index = await call('/');
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>chat</title>');
    expect((await call('/app.js')).headers.get('content-type')).toContain('javascript');
    expect((await call('/rooms/some-room', { headers: { accept: 'text/html' } })).status).toBe(200);
    expect((await call('/rooms/some-room')).status).toBe(404);
    // Room ids may hold dots, so a navigation gets the client whatever the path's "extension".
    expect((await call('/rooms/chat_ann.smith_bob.js', { headers: { accept: 'text/html' } })).status).toBe(
      200,
    );
    // A script or image that is not there is still a 404, not the page.
    expect((await call('/missing.js', { headers: { accept: '*/*' } })).status).toBe(404);
    expect((await call('/../package.json')).status).toBe(404);
    expect(await (await call('/config.json')).json()).toEqual({
      restUrl: gateway.baseUrl,
      wsUrl: gateway.wsUrl,
      signInUrl: `${gateway.baseUrl}/dev/token`,
    });
  });
});

describe('the web client’s Content-Security-Policy', () => {
  it('is sent with the client’s files as CloudFront sends it: the header’s policy and the page’s, naming the local origins', async () => {
    const webOrigins = { files: 'http://127.0.0.1:4569', cognito: 'http://127.0.0.1:9229' };
    const gateway = await startTestGateway({}, { webOrigins });
    try {
      const response = await fetch(`${gateway.baseUrl}/`);
      const policies = (response.headers.get('content-security-policy') ?? '').split(/,\s*/);
      expect(policies).toEqual([
        serializeCsp(headerCsp),
        serializeCsp(
          pageCsp({
            ...webOrigins,
            rest: new URL(gateway.baseUrl).origin,
            webSocket: new URL(gateway.wsUrl).origin,
          }),
        ),
      ]);
      expect(policies[1]).toContain(`connect-src 'self' ${new URL(gateway.baseUrl).origin}`);
      // Every file of the client, and a deep link's page, as CloudFront's policy covers every response.
      for (const [path, accept] of [
        ['/app.js', '*/*'],
        ['/rooms/chat_a_b', 'text/html'],
      ] as const) {
        const other = await fetch(`${gateway.baseUrl}${path}`, { headers: { accept } });
        expect(other.status, path).toBe(200);
        expect(other.headers.get('content-security-policy'), path).toBe(
          response.headers.get('content-security-policy'),
        );
      }
    } finally {
      await gateway.close();
    }
  });
});

describe('local sign-in', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({});
  });
  afterAll(() => gateway.close());

  const signIn = (body: unknown) =>
    fetch(`${gateway.baseUrl}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('issues a token that the handlers’ own verifier accepts, and creates the profile', async () => {
    const response = await signIn({ userId: 'ann', displayName: ' Ann ' });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const verify = makeTokenVerifier({
      userPoolId: 'us-east-1_localChat',
      clientId: 'local-client',
      jwksUrl: `${gateway.baseUrl}/dev/jwks.json`,
    });
    expect(await verify(token)).toEqual({ userId: 'ann', suggestedName: 'Ann' });
    expect(gateway.captured.profiles).toContainEqual({ userId: 'ann', displayName: 'Ann' });
  });

  it('passes the sign-in’s address on with the profile (the account’s verified e-mail)', async () => {
    expect((await signIn({ userId: 'dan', email: 'dan@example.com' })).status).toBe(200);
    expect(gateway.captured.profiles).toContainEqual({
      userId: 'dan',
      displayName: 'dan',
      email: 'dan@example.com',
    });
  });

  it('rejects a token for another client id', async () => {
    const { token } = (await (await signIn({ userId: 'bob' })).json()) as { token: string };
    const verify = makeTokenVerifier({
      userPoolId: 'us-east-1_localChat',
      clientId: 'another-client',
      jwksUrl: `${gateway.baseUrl}/dev/jwks.json`,
    });
    expect(await verify(token)).toBeUndefined();
    expect(gateway.captured.profiles).toContainEqual({ userId: 'bob', displayName: 'bob' });
  });

  it.each([
    [{ userId: 'has/slash' }],
    [{ userId: '' }],
    [{}],
    [{ userId: 'ann', displayName: 'x'.repeat(81) }],
    [{ userId: 'ann', displayName: 7 }],
    [{ userId: 'ann', email: 'not an address' }],
    [{ userId: 'ann', email: 7 }],
  ])('answers 400 for %j', async (body) => {
    const response = await signIn(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('lists the demo users and serves the JWKS', async () => {
    expect(await (await fetch(`${gateway.baseUrl}/dev/users`)).json()).toEqual({
      users: [{ userId: 'ann', displayName: 'Ann' }],
    });
    const { keys } = (await (await fetch(`${gateway.baseUrl}/dev/jwks.json`)).json()) as {
      keys: Record<string, string>[];
    };
    expect(keys).toEqual([
      expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: gateway.key.kid }),
    ]);
  });
});

describe('without allowed origins (the default)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      HttpAuthorizer: async () => ({ isAuthorized: true, context: { userId: 'ann' } }),
      List: async () => ({ rooms: [] }),
      CatchAll: makeTrailingSlashHandler(stubHttpRoutes) as LambdaHandler,
    });
  });
  afterAll(() => gateway.close());

  it('adds no CORS headers and routes a preflight like any request (here: the catch-all’s 404)', async () => {
    const origin = 'http://example.test';
    const preflight = await fetch(`${gateway.baseUrl}/chat/list`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(404);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const response = await fetch(`${gateway.baseUrl}/chat/list`, {
      headers: { origin, authorization: 'Bearer x' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
