import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { makeTokenVerifier, type TokenVerifier } from '../shared/auth.js';
import { authConfig } from '../shared/config.js';

/**
 * The WebSocket `$connect` REQUEST authorizer: browsers cannot set headers on a WebSocket, so the
 * JWT comes as `?token=`. Throwing "Unauthorized" makes API Gateway refuse the handshake with 401.
 * The optional `&room=` scope travels in the context; `$connect` checks the caller may use it.
 */
export const makeHandler =
  (verify: TokenVerifier) =>
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = event.queryStringParameters?.token;
    const caller = token ? await verify(token) : undefined;
    if (!caller) throw new Error('Unauthorized');
    const roomId = event.queryStringParameters?.room;
    return {
      principalId: caller.userId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: {
        userId: caller.userId,
        ...(roomId ? { roomId } : {}),
        ...(caller.suggestedName ? { name: caller.suggestedName } : {}),
      },
    };
  };

export const handler = makeHandler(makeTokenVerifier(authConfig()));
