import type { Logger } from '../domain/ports.js';
import type { RoomService } from '../domain/rooms.js';
import { parseUserId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildRoomService, type ServiceNeeds } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** POST /chat/start/{userId} — 201 with the new room, 200 with the existing one. */
export const makeHandler = (chat: RoomService, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => {
    const otherUserId = parseUserId(event.pathParameters?.userId);
    const { created, room } = await chat.startChat(callerId, otherUserId);
    return { status: created ? 201 : 200, body: { room } };
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'users'], posts: false };

export const handler = makeHandler(buildRoomService(needs), logger);
