/**
 * The WebSocket side of every message route: caller and scope from the authorizer context, the JSON
 * frame in, and the route response out (API Gateway sends a returned body to the calling connection).
 * Every failure becomes an error frame; the connection stays open.
 */
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { withCorrelation } from '../adapters/console-logger.js';
import { ChatError } from '../domain/errors.js';
import type { ErrorCode, ServerFrame } from '../domain/model.js';
import type { Logger } from '../domain/ports.js';
import type { Caller } from '../domain/room-access.js';

/** What the `$connect` authorizer put in its context; API Gateway repeats it on every route. */
export interface WebSocketAuthorizerContext {
  readonly principalId?: string;
  readonly userId?: string;
  readonly roomId?: string;
  readonly name?: string;
}

export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly authorizer?: WebSocketAuthorizerContext;
  };
};

export type WebSocketResult = APIGatewayProxyResultV2 & { statusCode: number; body?: string };

export interface WebSocketRequest {
  readonly caller: Caller & { readonly connectionId: string };
  readonly body: Record<string, unknown>;
}

export function callerOf(event: WebSocketEvent): (Caller & { readonly connectionId: string }) | undefined {
  const context = event.requestContext.authorizer;
  if (!context?.userId) return undefined;
  return {
    userId: context.userId,
    connectionId: event.requestContext.connectionId,
    ...(context.roomId ? { scopeRoomId: context.roomId } : {}),
  };
}

export const frameResponse = (frame: ServerFrame | undefined): WebSocketResult =>
  frame === undefined ? { statusCode: 200 } : { statusCode: 200, body: JSON.stringify(frame) };

function parseFrame(body: string | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function errorFrame(
  code: ErrorCode,
  message: string,
  body: Record<string, unknown> | undefined,
): ServerFrame {
  const action = typeof body?.action === 'string' ? body.action : undefined;
  const clientMessageId = typeof body?.clientMessageId === 'string' ? body.clientMessageId : undefined;
  return {
    type: 'error',
    code,
    message,
    ...(action === undefined ? {} : { action }),
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
  };
}

export function webSocketHandler(
  logger: Logger,
  route: (request: WebSocketRequest) => Promise<ServerFrame | undefined>,
): (event: WebSocketEvent) => Promise<WebSocketResult> {
  return (event) => {
    const body = parseFrame(event.body);
    return withCorrelation(correlationOf(event, body), () => handle(event, body));
  };

  async function handle(event: WebSocketEvent, body: Record<string, unknown> | undefined) {
    const caller = callerOf(event);
    if (!caller)
      return frameResponse(errorFrame('unauthorized', 'This connection is not authenticated', body));
    if (!body) return frameResponse(errorFrame('bad_request', 'A frame must be a JSON object', body));
    try {
      return frameResponse(await route({ caller, body }));
    } catch (error) {
      if (error instanceof ChatError) return frameResponse(errorFrame(error.code, error.message, body));
      logger.error('unhandled error', {
        routeKey: event.requestContext.routeKey,
        connectionId: event.requestContext.connectionId,
        error: error instanceof Error ? error.stack : String(error),
      });
      return frameResponse(errorFrame('internal', 'Internal server error', body));
    }
  }
}

/** What ties a log line to API Gateway's logs and to the client's frame. */
export function correlationOf(
  event: WebSocketEvent,
  body?: Record<string, unknown>,
): Record<string, unknown> {
  const { requestId, connectionId } = event.requestContext;
  const clientMessageId = body?.clientMessageId;
  return {
    requestId,
    connectionId,
    ...(typeof clientMessageId === 'string' ? { clientMessageId } : {}),
  };
}
