import type { MessagingService } from '../domain/messaging.js';
import type { Logger } from '../domain/ports.js';
import { parseMessageId, parseRoomId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildReadingService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { httpHandler, jsonBody } from './respond.js';

/** POST /chat/read/{roomId} — moves the caller's read pointer forward (never back). */
export const makeHandler = (chat: Pick<MessagingService, 'markRead'>, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => {
    const roomId = parseRoomId(event.pathParameters?.roomId);
    const messageId = parseMessageId(jsonBody(event).messageId);
    return { status: 200, body: await chat.markRead({ userId: callerId }, roomId, messageId) };
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildReadingService(needs), logger);
