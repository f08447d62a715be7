import { badRequest } from '../domain/errors.js';
import type { Logger } from '../domain/ports.js';
import type { ProfileService } from '../domain/profiles.js';
import { parseAvatarUrl, parseDisplayName } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';
import { profileView } from './profile-view.js';
import { httpHandler, jsonBody } from './respond.js';

const FIELDS = new Set(['displayName', 'avatarUrl']);

/** PUT /users/me — changes the display name and/or avatar URL. */
export const makeHandler = (chat: ProfileService, log: Logger) =>
  httpHandler(log, async ({ callerId, suggestedName, event }) => {
    const body = jsonBody(event);
    const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.join(', ')}`);
    if (body.displayName === undefined && body.avatarUrl === undefined) {
      throw badRequest('Give displayName and/or avatarUrl');
    }
    const changes = {
      ...(body.displayName === undefined ? {} : { displayName: parseDisplayName(body.displayName) }),
      ...(body.avatarUrl === undefined ? {} : { avatarUrl: parseAvatarUrl(body.avatarUrl) }),
    };
    return { status: 200, body: profileView(await chat.updateProfile(callerId, changes, suggestedName)) };
  });

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs), logger);
