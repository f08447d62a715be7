import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { makeTokenVerifier, type TokenVerifier } from '../shared/auth.js';
import { authConfig } from '../shared/config.js';
import type { HttpAuthorizerContext } from './respond.js';

type Result = APIGatewaySimpleAuthorizerWithContextResult<HttpAuthorizerContext | Record<string, never>>;

const BEARER = /^Bearer\s+(\S+)$/i;

/** The HTTP API's Lambda authorizer (simple responses): `Authorization: Bearer <JWT>`. */
export const makeHandler =
  (verify: TokenVerifier) =>
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
    const header = event.headers?.authorization ?? event.identitySource?.[0] ?? '';
    const token = BEARER.exec(header)?.[1];
    const caller = token === undefined ? undefined : await verify(token);
    if (!caller) return { isAuthorized: false, context: {} };
    return {
      isAuthorized: true,
      context: { userId: caller.userId, ...(caller.suggestedName ? { name: caller.suggestedName } : {}) },
    };
  };

export const handler = makeHandler(makeTokenVerifier(authConfig()));
