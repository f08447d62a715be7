import type { Logger } from '../domain/ports.js';
import type { ProfileService } from '../domain/profiles.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';
import { profileView } from './profile-view.js';
import { httpHandler } from './respond.js';

/** GET /users/me — the caller's profile, created from the token's name on first use. */
export const makeHandler = (chat: ProfileService, log: Logger) =>
  httpHandler(log, async ({ callerId, suggestedName }) => ({
    status: 200,
    body: profileView(await chat.getProfile(callerId, suggestedName)),
  }));

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs), logger);
