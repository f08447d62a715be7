import type { Context } from 'aws-lambda';
import { parseCheckTarget } from '../domain/notifications.js';
import type { CheckOutcome } from '../domain/notify-check.js';
import type { Logger } from '../domain/ports.js';
import { logger } from '../shared/logger.js';
import { buildNotifyService, type NotifyFunction } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';

/**
 * The e-mail check (definitions/routes.ts `notifier`), invoked by a one-time schedule with
 * `{"userId", "roomId"}`. A failure throws, so the invocation is retried: the notified marks keep a
 * retry from sending what was sent, and a re-check's schedule name keeps it from scheduling twice.
 */
export const makeHandler =
  (
    notify: { readonly service: Pick<NotifyFunction['service'], 'check'> } & Pick<
      NotifyFunction,
      'invokedAs'
    >,
    log: Logger,
  ) =>
  async (
    input: unknown,
    context: Pick<Context, 'invokedFunctionArn'>,
  ): Promise<{ outcome: CheckOutcome | 'invalid' }> => {
    // What a re-check invokes: this function, as Lambda names it (its own ARN cannot be in its environment).
    notify.invokedAs(context.invokedFunctionArn);
    const target = parseCheckTarget(input);
    if (target === undefined) {
      // No retry can make it valid.
      log.error('notification check without a valid userId and roomId');
      return { outcome: 'invalid' };
    }
    const outcome = await notify.service.check(target);
    log.info('notification check', { roomId: target.roomId, outcome });
    return { outcome };
  };

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users'], posts: false };

export const handler = makeHandler(buildNotifyService(needs), logger);
