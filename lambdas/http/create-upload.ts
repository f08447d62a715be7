import type { Logger } from '../domain/ports.js';
import { parseAttachmentUpload, type UploadService } from '../domain/uploads.js';
import { parseRoomId } from '../domain/validation.js';
import { filesConfig } from '../shared/config.js';
import { logger } from '../shared/logger.js';
import type { ServiceNeeds } from '../shared/service.js';
import { buildUploadService } from '../shared/upload-service.js';
import { httpHandler, jsonBody } from './respond.js';

/** POST /chat/uploads/{roomId} — 201 with a form that uploads one file into the room. */
export const makeHandler = (
  uploads: Pick<UploadService, 'attachmentUpload'>,
  maxBytes: number,
  log: Logger,
) =>
  httpHandler(log, async ({ callerId, event }) => {
    const roomId = parseRoomId(event.pathParameters?.roomId);
    const request = parseAttachmentUpload(jsonBody(event), maxBytes);
    return { status: 201, body: await uploads.attachmentUpload(callerId, roomId, request) };
  });

export const needs: ServiceNeeds = { tables: ['rooms'], posts: false };

export const handler = makeHandler(buildUploadService(needs), filesConfig().maxUploadBytes, logger);
