/**
 * The HTTP side of every REST handler: caller from the authorizer, JSON in and out, and the mapping
 * of domain errors to API.md's status codes. No stack trace or internal detail reaches a client.
 */
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { withCorrelation } from '../adapters/console-logger.js';
import { badRequest, ChatError } from '../domain/errors.js';
import type { ErrorCode, UserId } from '../domain/model.js';
import type { Logger } from '../domain/ports.js';

/** What the HTTP authorizer puts in `requestContext.authorizer.lambda`. */
export interface HttpAuthorizerContext {
  readonly userId: UserId;
  readonly name?: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<HttpAuthorizerContext>;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpRequest {
  readonly callerId: UserId;
  readonly suggestedName: string | undefined;
  readonly event: HttpEvent;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: unknown;
}

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
};

/** Decoding that refuses invalid UTF-8 rather than storing U+FFFD in its place. */
// ignoreBOM keeps a leading BOM, so such a body fails JSON parsing as it does when sent as text.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Request bodies here are a few fields; anything larger is a mistake or an attack. */
const MAX_BODY_BYTES = 16 * 1024;

const json = (status: number, body: unknown): HttpResult => ({
  statusCode: status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export const errorResponse = (code: ErrorCode, message: string): HttpResult =>
  json(STATUS[code], { error: { code, message } });

/** The JSON object body of a request; 400 when it is missing, not JSON or not an object. */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  if (!event.body) throw badRequest('A JSON body is required');
  let text = event.body;
  if (event.isBase64Encoded) {
    try {
      text = strictUtf8.decode(Buffer.from(event.body, 'base64'));
    } catch {
      throw badRequest('The body is not valid UTF-8');
    }
  }
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new ChatError('too_large', 'The request body is too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('The body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function httpHandler(
  logger: Logger,
  route: (request: HttpRequest) => Promise<HttpResponse>,
): (event: HttpEvent) => Promise<HttpResult> {
  return (event) => withCorrelation({ requestId: event.requestContext.requestId }, () => handle(event));

  async function handle(event: HttpEvent): Promise<HttpResult> {
    const callerId = event.requestContext.authorizer?.lambda?.userId;
    if (typeof callerId !== 'string' || callerId === '') {
      return errorResponse('unauthorized', 'A valid bearer token is required');
    }
    try {
      const response = await route({
        callerId,
        suggestedName: event.requestContext.authorizer.lambda.name,
        event,
      });
      return json(response.status, response.body);
    } catch (error) {
      if (error instanceof ChatError) return errorResponse(error.code, error.message);
      logger.error('unhandled error', {
        routeKey: event.routeKey,
        requestId: event.requestContext.requestId,
        error: error instanceof Error ? error.stack : String(error),
      });
      return errorResponse('internal', 'Internal server error');
    }
  }
}
