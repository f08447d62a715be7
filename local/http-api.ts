/**
 * The HTTP API half of the gateway emulator: route matching, the Lambda REQUEST authorizer (simple
 * responses), payload format 2.0 events, and the mapping of handler results back to HTTP responses.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { compareSpecificity, matchPathTemplate } from '../definitions/route-paths.js';
import type { HandlerDefinition, HttpRouteDefinition } from '../definitions/routes.js';
import {
  BodyTooLargeError,
  lowerCaseHeaders,
  queryParameters,
  readBody,
  requestTime,
  sendError,
  sendInternalError,
  shortRequestId,
  sourceIp,
} from './http-util.js';
import { type HandlerResolver, invoke } from './lambda.js';
import type { Log } from './log.js';

export const HTTP_API_ID = 'localhttp';
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
/** HTTP API quotas: "Timeout for Lambda authorizer response: 10000 ms". */
export const AUTHORIZER_TIMEOUT_MS = 10_000;

export interface HttpRouteMatch {
  readonly route: HttpRouteDefinition;
  readonly pathParameters: Record<string, string> | undefined;
}

function decodeParameter(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Route selection as an HTTP API does it ("Create routes for HTTP APIs in API Gateway", Routing API
 * requests): exact templates only (no trailing-slash tolerance: a route key cannot end in "/"), the
 * most specific matching route wins, a route naming the method wins over `ANY` on the same path.
 */
export function makeRouteMatcher(routes: readonly HttpRouteDefinition[]) {
  return (method: string, path: string): HttpRouteMatch | undefined => {
    const candidates: { route: HttpRouteDefinition; values: Record<string, string> }[] = [];
    for (const route of routes) {
      if (route.method !== method && route.method !== 'ANY') continue;
      const values = matchPathTemplate(route.path, path);
      if (values !== undefined) candidates.push({ route, values });
    }
    candidates.sort(
      (a, b) =>
        compareSpecificity(a.route.path, b.route.path) ||
        Number(a.route.method === 'ANY') - Number(b.route.method === 'ANY'),
    );
    const best = candidates[0];
    if (best === undefined) return undefined;
    const entries = Object.entries(best.values);
    if (entries.length === 0) return { route: best.route, pathParameters: undefined };
    // API Gateway decodes URL-encoded request parameters before passing them to the integration.
    return {
      route: best.route,
      pathParameters: Object.fromEntries(entries.map(([name, raw]) => [name, decodeParameter(raw)])),
    };
  };
}

/** HTTP API quotas: "Total combined size of request line and header values: 10240 bytes". */
export const MAX_REQUEST_LINE_AND_HEADER_BYTES = 10_240;

export function requestLineAndHeaderBytes(req: IncomingMessage): number {
  const requestLine = Buffer.byteLength(`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`);
  let headerValues = 0;
  for (let index = 1; index < req.rawHeaders.length; index += 2) {
    headerValues += Buffer.byteLength(req.rawHeaders[index] ?? '');
  }
  return requestLine + headerValues;
}

/** HTTP APIs pass these content types as text; every other body reaches the handler base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

export interface HttpApiOptions {
  readonly routes: readonly HttpRouteDefinition[];
  readonly authorizer: HandlerDefinition;
  readonly resolve: HandlerResolver;
  readonly log: Log;
  readonly timeoutMs?: number;
}

export interface HttpApi {
  match(method: string, path: string): HttpRouteMatch | undefined;
  /** Serves a matched route: authorizer, then the route's handler. Never throws. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, match: HttpRouteMatch): Promise<void>;
}

type AuthorizerDecision =
  | { readonly kind: 'allow'; readonly context: Record<string, unknown> }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'deny' }
  | { readonly kind: 'error' };

export function createHttpApi(options: HttpApiOptions): HttpApi {
  const { resolve, log } = options;
  const match = makeRouteMatcher(options.routes);

  async function authorize(event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerDecision> {
    let result: unknown;
    try {
      // "Timeout for Lambda authorizer response: 10000 ms" (HTTP API quotas); a test's shorter timeout wins.
      result = await invoke(
        resolve,
        options.authorizer,
        event,
        Math.min(options.timeoutMs ?? AUTHORIZER_TIMEOUT_MS, AUTHORIZER_TIMEOUT_MS),
      );
    } catch (error) {
      // A REQUEST authorizer that throws 'Unauthorized' is the documented way to say 401.
      if (error instanceof Error && error.message === 'Unauthorized') return { kind: 'unauthorized' };
      log.error(`${options.authorizer.functionId} failed`, error);
      return { kind: 'error' };
    }
    return authorizerDecision(result);
  }

  return {
    match,
    async serve(req, res, url, { route, pathParameters }) {
      const method = req.method ?? 'GET';
      const routeKey = `${route.method} ${route.path}`;
      // Node accepts 16 KB of headers; the HTTP API does not. The status AWS answers is not documented.
      if (requestLineAndHeaderBytes(req) > MAX_REQUEST_LINE_AND_HEADER_BYTES) {
        sendError(req, res, 431, 'bad_request', 'Request line and headers are larger than 10,240 bytes');
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendError(req, res, 413, 'too_large', 'Request body is larger than 10 MB');
        } else {
          res.destroy();
        }
        return;
      }

      const now = new Date();
      const headers = lowerCaseHeaders(req);
      const cookies = req.headers.cookie?.split(/;\s*/).filter((cookie) => cookie.length > 0);
      const queryStringParameters = queryParameters(url.searchParams);
      const host = req.headers.host ?? '127.0.0.1';
      const requestContext = {
        accountId: ACCOUNT_ID,
        apiId: HTTP_API_ID,
        domainName: host,
        domainPrefix: host.split('.')[0] ?? host,
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: sourceIp(req),
          userAgent: req.headers['user-agent'] ?? '',
        },
        requestId: shortRequestId(),
        routeKey,
        stage: '$default',
        time: requestTime(now),
        timeEpoch: now.getTime(),
      };
      const common = {
        version: '2.0' as const,
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.startsWith('?') ? url.search.slice(1) : url.search,
        ...(cookies !== undefined && cookies.length > 0 ? { cookies } : {}),
        headers,
        ...(queryStringParameters !== undefined ? { queryStringParameters } : {}),
        ...(pathParameters !== undefined ? { pathParameters } : {}),
      };

      // A route without an authorizer (authorization type NONE) gets no `authorizer` in its context.
      let authorizerContext: Record<string, unknown> | undefined;
      if (route.unauthenticated !== true) {
        // The identity source is the Authorization header: without it API Gateway never calls the authorizer.
        const authorization = req.headers.authorization;
        if (authorization === undefined || authorization === '') {
          sendError(req, res, 401, 'unauthorized', 'Missing Authorization header');
          return;
        }
        const decision = await authorize({
          ...common,
          type: 'REQUEST',
          routeArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${HTTP_API_ID}/$default/${route.method}${route.path}`,
          identitySource: [authorization],
          requestContext,
        } as APIGatewayRequestAuthorizerEventV2);
        if (decision.kind === 'error') {
          sendInternalError(req, res);
          return;
        }
        if (decision.kind === 'unauthorized') {
          sendError(req, res, 401, 'unauthorized', 'Missing or invalid token');
          return;
        }
        // API Gateway answers an authorizer's `isAuthorized: false` (or a Deny policy) with 403.
        if (decision.kind === 'deny') {
          sendError(req, res, 403, 'forbidden', 'Forbidden');
          return;
        }
        authorizerContext = decision.context;
      }

      // A text body that is not valid UTF-8 cannot travel as a string: pass it base64-encoded.
      const isText = body.length === 0 || (isTextContentType(req.headers['content-type']) && isUtf8(body));
      const event = {
        ...common,
        requestContext:
          authorizerContext === undefined
            ? requestContext
            : { ...requestContext, authorizer: { lambda: authorizerContext } },
        ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
        isBase64Encoded: !isText,
      } as unknown as APIGatewayProxyEventV2;

      let result: unknown;
      try {
        result = await invoke(resolve, route, event, options.timeoutMs);
      } catch (error) {
        log.error(`${route.functionId} failed on ${method} ${url.pathname}`, error);
        sendInternalError(req, res);
        return;
      }
      writeResult(req, res, result, route, log);
    },
  };
}

/** Simple responses (`isAuthorized`) and, for completeness, IAM policy responses. */
export function authorizerDecision(result: unknown): AuthorizerDecision {
  if (typeof result !== 'object' || result === null) return { kind: 'error' };
  const record = result as Record<string, unknown>;
  const context = (
    typeof record.context === 'object' && record.context !== null ? record.context : {}
  ) as Record<string, unknown>;
  if (typeof record.isAuthorized === 'boolean') {
    return record.isAuthorized ? { kind: 'allow', context } : { kind: 'deny' };
  }
  if (typeof record.policyDocument === 'object' && record.policyDocument !== null) {
    return policyAllows(record.policyDocument, undefined) ? { kind: 'allow', context } : { kind: 'deny' };
  }
  return { kind: 'error' };
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

/**
 * IAM evaluation reduced to what an authorizer policy can say about one method ARN: an explicit Deny
 * wins, then any Allow. `resource` undefined matches every statement (the HTTP API's route ARN
 * format differs from what authorizers usually write, and AWS matches them leniently).
 */
export function policyAllows(policyDocument: object, resource: string | undefined): boolean {
  const statements = (policyDocument as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements];
  let allowed = false;
  for (const statement of list) {
    if (typeof statement !== 'object' || statement === null) continue;
    const { Effect, Resource } = statement as { Effect?: unknown; Resource?: unknown };
    const resources = (Array.isArray(Resource) ? Resource : [Resource]).filter(
      (r): r is string => typeof r === 'string',
    );
    const applies = resource === undefined || resources.some((pattern) => globMatches(pattern, resource));
    if (!applies) continue;
    if (Effect === 'Deny') return false;
    if (Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function writeResult(
  req: IncomingMessage,
  res: ServerResponse,
  result: unknown,
  route: HttpRouteDefinition,
  log: Log,
): void {
  // Payload 2.0: a result without `statusCode` is taken as a 200 JSON body.
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const { statusCode, headers, cookies, body, isBase64Encoded } = result as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    cookies?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    log.error(`${route.functionId} returned an invalid statusCode: ${String(statusCode)}`);
    sendInternalError(req, res);
    return;
  }
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && value !== null) outgoing[name.toLowerCase()] = String(value);
  }
  if (Array.isArray(cookies) && cookies.length > 0) outgoing['set-cookie'] = cookies.map(String);
  const payload =
    typeof body === 'string'
      ? Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8')
      : Buffer.alloc(0);
  outgoing['content-length'] = payload.length;
  res.writeHead(statusCode, outgoing);
  res.end(payload);
}
