import type { Logger } from '../domain/ports.js';
import type { RoomService } from '../domain/rooms.js';
import { parseLimit } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildRoomService, type ServiceNeeds } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** GET /chat/list — the caller's rooms, most recent activity first. */
export const makeHandler = (chat: RoomService, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => {
    const query = event.queryStringParameters ?? {};
    const result = await chat.listRooms(callerId, parseLimit(query.limit), query.cursor || undefined);
    return { status: 200, body: result };
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'users'], posts: false };

export const handler = makeHandler(buildRoomService(needs), logger);
