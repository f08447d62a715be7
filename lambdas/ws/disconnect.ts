import { withCorrelation } from '../adapters/console-logger.js';
import type { Logger } from '../domain/ports.js';
import type { PresenceService } from '../domain/presence.js';
import { logger } from '../shared/logger.js';
import { buildPresenceService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { callerOf, correlationOf, type WebSocketEvent, type WebSocketResult } from './respond.js';

/** `$disconnect`: forgets the connection; the user's last one going offline is announced. */
export const makeHandler =
  (chat: PresenceService, log: Logger) =>
  (event: WebSocketEvent): Promise<WebSocketResult> =>
    withCorrelation(correlationOf(event), async () => {
      const caller = callerOf(event);
      if (!caller) return { statusCode: 200 };
      try {
        await chat.disconnect(caller);
      } catch (error) {
        // The connection is gone either way; its record expires by TTL if this failed.
        log.error('disconnect failed', { connectionId: caller.connectionId, error: String(error) });
      }
      return { statusCode: 200 };
    });

export const needs: ServiceNeeds = { tables: ['rooms', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildPresenceService(needs), logger);
