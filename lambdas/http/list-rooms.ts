import { handlerDefinition } from '../../definitions/routes.js';
import type { ChatService } from '../domain/chat-service.js';
import type { Logger } from '../domain/ports.js';
import { parseLimit } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildChatService } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** GET /chat/list/ — the caller's rooms, most recent activity first. */
export const makeHandler = (chat: ChatService, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => {
    const query = event.queryStringParameters ?? {};
    const result = await chat.listRooms(callerId, parseLimit(query.limit), query.cursor || undefined);
    return { status: 200, body: result };
  });

export const handler = makeHandler(buildChatService(handlerDefinition('ListRoomsFunction')), logger);
