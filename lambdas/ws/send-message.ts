import { parseAttachmentRefs } from '../domain/files.js';
import type { MessagingService } from '../domain/messaging.js';
import type { Logger } from '../domain/ports.js';
import { parseClientMessageId, parseContent, parseRoomId } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildSendingService } from '../shared/posting-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { webSocketHandler } from './respond.js';

/**
 * `sendMessage`: stores the message (idempotent on clientMessageId), fans it out, answers `ack`. With
 * `attachments`, the uploads are checked and claimed first (the content may then be empty).
 */
export const makeHandler = (chat: Pick<MessagingService, 'sendMessage'>, log: Logger) =>
  webSocketHandler(log, async ({ caller, body }) => {
    const clientMessageId = parseClientMessageId(body.clientMessageId);
    const attachments = parseAttachmentRefs(body.attachments);
    const message = await chat.sendMessage(caller, {
      roomId: parseRoomId(body.roomId),
      content: parseContent(body.content, attachments !== undefined),
      ...(clientMessageId === undefined ? {} : { clientMessageId }),
      ...(attachments === undefined ? {} : { attachments }),
    });
    return { type: 'ack', ...(clientMessageId === undefined ? {} : { clientMessageId }), message };
  });

export const needs: ServiceNeeds = { tables: ['rooms', 'messages', 'users', 'connections'], posts: true };

export const handler = makeHandler(buildSendingService(needs), logger);
