import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../definitions/routes.js';
import { canonicalLocation, handler } from '../../../lambdas/http/trailing-slash.js';

const event = (method: string, rawPath: string, rawQueryString = '') =>
  ({
    rawPath,
    rawQueryString,
    requestContext: { http: { method, path: rawPath } },
  }) as APIGatewayProxyEventV2;

describe('ANY /{proxy+}: the trailing-slash function', () => {
  it.each([
    ['GET', '/chat/list/', 'limit=20', '/chat/list?limit=20'],
    ['GET', '/users/me/', '', '/users/me'],
    ['PUT', '/users/me/', '', '/users/me'],
    ['POST', '/chat/start/bob/', '', '/chat/start/bob'],
    ['POST', '/chat/read/chat_ann_bob/', '', '/chat/read/chat_ann_bob'],
    [
      'GET',
      '/chat/messages/chat_ann_bob/',
      'after=01J&limit=100',
      '/chat/messages/chat_ann_bob?after=01J&limit=100',
    ],
  ])('redirects %s %s to the route without the slash', async (method, path, query, location) => {
    expect(await handler(event(method, path, query))).toMatchObject({
      statusCode: 308,
      headers: { location },
    });
  });

  it('gives a valid Location whether the path arrives percent-encoded or decoded', () => {
    expect(canonicalLocation(httpRoutes, 'POST', '/chat/start/a%40b/', '')).toBe('/chat/start/a%40b');
    expect(canonicalLocation(httpRoutes, 'POST', '/chat/start/a@b/', '')).toBe('/chat/start/a%40b');
    expect(canonicalLocation(httpRoutes, 'GET', '/chat/messages/%ED%A0%80/', '')).toBe(
      '/chat/messages/%ED%A0%80',
    );
  });

  it.each([
    ['GET', '/chat/list'],
    ['POST', '/chat/list/'],
    ['GET', '/chat/list//'],
    ['GET', '//evil.example/'],
    ['GET', '/chat/messages//'],
    ['GET', '/chat/start/bob/'],
    ['GET', '/nothing/'],
    ['OPTIONS', '/users/me/'],
  ])('answers 404 in the contract shape, never a redirect, for %s %s', async (method, path) => {
    const result = await handler(event(method, path));
    expect(result).toMatchObject({ statusCode: 404 });
    expect(
      JSON.parse(typeof result === 'object' && typeof result.body === 'string' ? result.body : ''),
    ).toEqual({
      error: { code: 'not_found', message: 'No such route' },
    });
  });
});
