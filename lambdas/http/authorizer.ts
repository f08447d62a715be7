import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { makeTokenVerifier, type TokenVerifier } from '../shared/auth.js';
import { authConfig } from '../shared/config.js';
import type { HttpAuthorizerContext } from './respond.js';

type Result = APIGatewaySimpleAuthorizerWithContextResult<HttpAuthorizerContext>;

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The HTTP API's Lambda authorizer (simple responses): `Authorization: Bearer <JWT>`. A bad token
 * throws "Unauthorized", which API Gateway answers with 401 as API.md requires
 * (`isAuthorized: false` would be a 403).
 */
export const makeHandler =
  (verify: TokenVerifier) =>
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<Result> => {
    const header = event.headers?.authorization ?? event.identitySource?.[0] ?? '';
    const token = BEARER.exec(header)?.[1];
    const caller = token === undefined ? undefined : await verify(token);
    if (!caller) throw new Error('Unauthorized');
    return {
      isAuthorized: true,
      context: { userId: caller.userId, ...(caller.suggestedName ? { name: caller.suggestedName } : {}) },
    };
  };

export const handler = makeHandler(makeTokenVerifier(authConfig()));
