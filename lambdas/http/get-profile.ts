import type { Logger } from '../domain/ports.js';
import type { ProfileService } from '../domain/profiles.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';
import { httpHandler } from './respond.js';

/** GET /users/me — the caller's profile, created from the token's name on first use. */
export const makeHandler = (chat: Pick<ProfileService, 'getProfile' | 'view'>, log: Logger) =>
  httpHandler(log, async ({ callerId, suggestedName }) => ({
    status: 200,
    body: await chat.view(await chat.getProfile(callerId, suggestedName)),
  }));

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs, 'show'), logger);
