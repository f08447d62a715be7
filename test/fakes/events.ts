/** API Gateway events as the HTTP API, the WebSocket API and their authorizers deliver them. */
import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { HttpEvent, HttpResult } from '../../lambdas/http/respond.js';
import type { WebSocketEvent, WebSocketResult } from '../../lambdas/ws/respond.js';

export interface HttpEventInit {
  readonly callerId: string;
  readonly name?: string;
  readonly routeKey?: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export function httpEvent(init: HttpEventInit): HttpEvent {
  const routeKey = init.routeKey ?? 'GET /chat/list';
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers: { 'content-type': 'application/json' },
    ...(init.query === undefined ? {} : { queryStringParameters: init.query }),
    ...(init.pathParameters === undefined ? {} : { pathParameters: init.pathParameters }),
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: init.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'request-1',
      routeKey,
      stage: '$default',
      time: '24/Nov/2026:10:00:00 +0000',
      timeEpoch: Date.parse('2026-11-24T10:00:00.000Z'),
      authorizer: {
        lambda: { userId: init.callerId, ...(init.name === undefined ? {} : { name: init.name }) },
      },
    },
  };
}

/** The same event as it arrives when no authorizer context was attached (a misconfigured route). */
export function withoutAuthorizer(event: HttpEvent): HttpEvent {
  const requestContext = { ...event.requestContext };
  Reflect.deleteProperty(requestContext, 'authorizer');
  return { ...event, requestContext };
}

export interface ParsedHttpResult {
  readonly status: number | undefined;
  readonly body: unknown;
  readonly headers: HttpResult['headers'];
  readonly rawBody: string;
}

export function parseHttpResult(result: HttpResult): ParsedHttpResult {
  const rawBody = result.body ?? '';
  return {
    status: result.statusCode,
    body: rawBody === '' ? undefined : JSON.parse(rawBody),
    headers: result.headers,
    rawBody,
  };
}

export interface WebSocketEventInit {
  readonly routeKey: string;
  readonly connectionId: string;
  /** Omit for an event without authorizer context. */
  readonly userId?: string;
  readonly roomId?: string;
  readonly name?: string;
  readonly body?: string;
}

export function wsEvent(init: WebSocketEventInit): WebSocketEvent {
  const eventType =
    init.routeKey === '$connect' ? 'CONNECT' : init.routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  return {
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: false,
    requestContext: {
      routeKey: init.routeKey,
      messageId: 'message-1',
      eventType,
      extendedRequestId: 'extended-1',
      requestTime: '24/Nov/2026:10:00:00 +0000',
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: Date.parse('2026-11-24T10:00:00.000Z'),
      requestTimeEpoch: Date.parse('2026-11-24T10:00:00.000Z'),
      requestId: 'request-1',
      domainName: 'example.execute-api.us-east-1.amazonaws.com',
      connectionId: init.connectionId,
      apiId: 'example',
      ...(init.userId === undefined
        ? {}
        : {
            authorizer: {
              principalId: init.userId,
              userId: init.userId,
              ...(init.roomId === undefined ? {} : { roomId: init.roomId }),
              ...(init.name === undefined ? {} : { name: init.name }),
            },
          }),
    },
  };
}

/** The frame a WebSocket route answered with, decoded; undefined when it answered no frame. */
export function frameOf(result: WebSocketResult): unknown {
  return result.body === undefined ? undefined : JSON.parse(result.body);
}

export function httpAuthorizerEvent(
  headers: Record<string, string> | undefined,
): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/chat/list',
    identitySource: headers?.authorization === undefined ? [] : [headers.authorization],
    routeKey: 'GET /chat/list',
    rawPath: '/chat/list',
    rawQueryString: '',
    cookies: [],
    ...(headers === undefined ? {} : { headers }),
    requestContext: httpEvent({ callerId: 'unused' }).requestContext,
  };
}

export const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:example/prod/$connect';

export function wsAuthorizerEvent(query: Record<string, string> | null): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '$connect',
    path: '/prod',
    httpMethod: 'GET',
    headers: { Host: 'example.execute-api.us-east-1.amazonaws.com' },
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'example',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        userArn: null,
      },
      path: '/prod',
      stage: 'prod',
      requestId: 'request-1',
      requestTimeEpoch: Date.parse('2026-11-24T10:00:00.000Z'),
      resourceId: 'connect',
      resourcePath: '$connect',
      eventType: 'CONNECT',
      routeKey: '$connect',
    },
  };
}
