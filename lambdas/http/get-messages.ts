import type { MessagingService } from '../domain/messaging.js';
import type { Logger } from '../domain/ports.js';
import { parseLimit, parseMessageId, parseRoomId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildReadingService } from '../shared/posting-service.js';
import { downloadSigner } from '../shared/s3-files.js';
import type { ServiceNeeds } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** GET /chat/messages/{roomId} — a page of history; the newest page marks the room read. */
export const makeHandler = (chat: Pick<MessagingService, 'getMessages'>, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => {
    const roomId = parseRoomId(event.pathParameters?.roomId);
    const query = event.queryStringParameters ?? {};
    const page = await chat.getMessages(callerId, roomId, {
      limit: parseLimit(query.limit),
      ...(query.before === undefined ? {} : { before: parseMessageId(query.before, 'before') }),
      ...(query.after === undefined ? {} : { after: parseMessageId(query.after, 'after') }),
    });
    return { status: 200, body: page };
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildReadingService(needs, downloadSigner()), logger);
