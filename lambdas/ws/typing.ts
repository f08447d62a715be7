import type { MessagingService } from '../domain/messaging.js';
import type { Logger } from '../domain/ports.js';
import { parseBoolean, parseRoomId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildReadingService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { webSocketHandler } from './respond.js';

/** `typing`: relayed to the other participants' connections, never stored. */
export const makeHandler = (chat: Pick<MessagingService, 'typing'>, log: Logger) =>
  webSocketHandler(log, async ({ caller, body }) => {
    await chat.typing(caller, parseRoomId(body.roomId), parseBoolean(body.isTyping, 'isTyping'));
    return undefined;
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildReadingService(needs), logger);
