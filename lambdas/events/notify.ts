import { parseCheckTarget } from '../domain/notifications.js';
import type { CheckOutcome, NotifyService } from '../domain/notify-check.js';
import type { Logger } from '../domain/ports.js';
import { logger } from '../shared/logger.js';
import { buildNotifyService } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';

/**
 * The e-mail check (definitions/routes.ts `notifier`), invoked by a one-time schedule with
 * `{"userId", "roomId"}`. A failure throws, so the invocation is retried: the notified marks keep a
 * retry from sending what was sent.
 */
export const makeHandler =
  (service: Pick<NotifyService, 'check'>, log: Logger) =>
  async (input: unknown): Promise<{ outcome: CheckOutcome | 'invalid' }> => {
    const target = parseCheckTarget(input);
    if (target === undefined) {
      // No retry can make it valid.
      log.error('notification check without a valid userId and roomId');
      return { outcome: 'invalid' };
    }
    const outcome = await service.check(target);
    log.info('notification check', { roomId: target.roomId, outcome });
    return { outcome };
  };

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users'], posts: false };

export const handler = makeHandler(buildNotifyService(needs), logger);
