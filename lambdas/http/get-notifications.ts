import type { Logger } from '../domain/ports.js';
import { logger } from '../shared/logger.js';
import { buildPrefsStore, type PrefsStore } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** GET /users/me/notifications — the caller's e-mail preferences (defaults until they change them). */
export const makeHandler = (store: Pick<PrefsStore, 'getNotificationPrefs'>, log: Logger) =>
  httpHandler(log, async ({ callerId }) => ({
    status: 200,
    body: await store.getNotificationPrefs(callerId),
  }));

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildPrefsStore(needs), logger);
