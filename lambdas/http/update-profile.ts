import { badRequest } from '../domain/errors.js';
import { parseUploadId } from '../domain/files.js';
import type { Logger } from '../domain/ports.js';
import type { ProfileService } from '../domain/profiles.js';
import { parseAvatarUrl, parseDisplayName } from '../domain/validation.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';
import { httpHandler, jsonBody } from './respond.js';

const FIELDS = new Set(['displayName', 'avatarUrl', 'avatarUploadId']);

/**
 * PUT /users/me — changes the display name and/or the avatar: a URL the user gives (https), or an
 * upload from POST /users/me/avatar, checked before it is set.
 */
export const makeHandler = (chat: Pick<ProfileService, 'updateProfile' | 'view'>, log: Logger) =>
  httpHandler(log, async ({ callerId, suggestedName, event }) => {
    const body = jsonBody(event);
    const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.join(', ')}`);
    if (body.displayName === undefined && body.avatarUrl === undefined && body.avatarUploadId === undefined) {
      throw badRequest('Give displayName, avatarUrl and/or avatarUploadId');
    }
    if (body.avatarUrl !== undefined && body.avatarUploadId !== undefined) {
      throw badRequest('Give avatarUrl or avatarUploadId, not both');
    }
    const changes = {
      ...(body.displayName === undefined ? {} : { displayName: parseDisplayName(body.displayName) }),
      ...(body.avatarUrl === undefined
        ? {}
        : { avatarUrl: body.avatarUrl === null ? null : parseAvatarUrl(body.avatarUrl) }),
      ...(body.avatarUploadId === undefined
        ? {}
        : { avatarUploadId: parseUploadId(body.avatarUploadId, 'avatarUploadId') }),
    };
    return { status: 200, body: await chat.view(await chat.updateProfile(callerId, changes, suggestedName)) };
  });

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs, 'set'), logger);
