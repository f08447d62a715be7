import { withCorrelation } from '../adapters/console-logger.js';
import type { Logger } from '../domain/ports.js';
import type { PresenceService } from '../domain/presence.js';
import { logger } from '../shared/logger.js';
import { buildPresenceService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { callerOf, correlationOf, type WebSocketEvent, type WebSocketResult } from './respond.js';

/**
 * `$connect`: records the connection (any non-2xx answer refuses the handshake, and nothing is
 * written) and tells the user's chat partners when this is their first connection.
 */
export const makeHandler =
  (chat: PresenceService, log: Logger) =>
  (event: WebSocketEvent): Promise<WebSocketResult> =>
    withCorrelation(correlationOf(event), async () => {
      const caller = callerOf(event);
      if (!caller) return { statusCode: 401 };
      try {
        if (!(await chat.mayConnect(caller.userId, caller.scopeRoomId))) return { statusCode: 403 };
        await chat.connect(caller, event.requestContext.authorizer?.name);
        return { statusCode: 200 };
      } catch (error) {
        log.error('connect failed', { connectionId: caller.connectionId, error: String(error) });
        return { statusCode: 500 };
      }
    });

export const needs: ServiceNeeds = { tables: ['rooms', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildPresenceService(needs), logger);
