import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { matchPathTemplate } from '../../definitions/route-paths.js';
import { type HttpRouteDefinition, httpRoutes } from '../../definitions/routes.js';
import { errorResponse } from './respond.js';

/** One path segment, percent-encoded once whether it arrived encoded or decoded. */
function encodeSegment(segment: string): string {
  try {
    return encodeURIComponent(decodeURIComponent(segment));
  } catch {
    // Not decodable (e.g. "%ED%A0%80", invalid UTF-8): already encoded, passed on untouched.
    return segment;
  }
}

/**
 * Where a request with a trailing slash belongs: the same path without it, when that path and method
 * name a route behind the authorizer. Undefined otherwise, so that nothing else is ever redirected
 * (no open redirect: the target always starts with a route's own literal first segment).
 */
export function canonicalLocation(
  routes: readonly HttpRouteDefinition[],
  method: string,
  rawPath: string,
  rawQueryString: string,
): string | undefined {
  if (!rawPath.endsWith('/')) return undefined;
  const path = rawPath.slice(0, -1);
  const known = routes.some(
    (route) =>
      route.unauthenticated !== true &&
      route.method === method &&
      matchPathTemplate(route.path, path) !== undefined,
  );
  if (!known) return undefined;
  // Whether rawPath arrives percent-encoded or decoded is not documented: re-encoding each decoded
  // segment gives a valid Location either way.
  const location = path.split('/').map(encodeSegment).join('/');
  return rawQueryString === '' ? location : `${location}?${rawQueryString}`;
}

/**
 * `ANY /{proxy+}`: 308 Permanent Redirect from "/chat/list/" to "/chat/list" (a 308 keeps the method
 * and the body, and a same-origin redirect keeps the Authorization header); 404 in the contract's
 * shape for every other path. No authorizer: the answer says nothing about any user.
 */
export const makeHandler =
  (routes: readonly HttpRouteDefinition[]) =>
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const { method } = event.requestContext.http;
    const location = canonicalLocation(routes, method, event.rawPath, event.rawQueryString);
    if (location === undefined) return errorResponse('not_found', 'No such route');
    return {
      statusCode: 308,
      // Permanent and the same for every caller, so browsers may skip the hop for a while.
      headers: { location, 'cache-control': 'public, max-age=3600' },
      body: '',
    };
  };

export const handler = makeHandler(httpRoutes);

export const needs = { tables: [], posts: false } as const;
