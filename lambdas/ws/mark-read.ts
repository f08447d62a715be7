import type { MessagingService } from '../domain/messaging.js';
import type { Logger } from '../domain/ports.js';
import { parseMessageId, parseRoomId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildReadingService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { webSocketHandler } from './respond.js';

/** `markRead`: moves the read pointer forward; every participant's connections get a `read` event. */
export const makeHandler = (chat: Pick<MessagingService, 'markRead'>, log: Logger) =>
  webSocketHandler(log, async ({ caller, body }) => {
    await chat.markRead(caller, parseRoomId(body.roomId), parseMessageId(body.messageId));
    return undefined;
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildReadingService(needs), logger);
