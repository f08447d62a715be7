import { parseNotificationPrefs } from '../domain/notifications.js';
import type { Logger } from '../domain/ports.js';
import { logger } from '../shared/logger.js';
import { buildPrefsStore, type PrefsStore } from '../shared/notification-service.js';
import type { ServiceNeeds } from '../shared/service.js';
import { httpHandler, jsonBody } from './respond.js';

/**
 * PUT /users/me/notifications — `{"email"?, "delayMinutes"?}`: changes only the fields given and
 * answers the preferences as they now stand.
 */
export const makeHandler = (store: Pick<PrefsStore, 'updateNotificationPrefs'>, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => ({
    status: 200,
    body: await store.updateNotificationPrefs(callerId, parseNotificationPrefs(jsonBody(event))),
  }));

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildPrefsStore(needs), logger);
