import type { Logger } from '../domain/ports.js';
import { parseAvatarUpload, type UploadService } from '../domain/uploads.js';
import { logger } from '../shared/logger.js';
import type { ServiceNeeds } from '../shared/service.js';
import { buildUploadService } from '../shared/upload-service.js';
import { httpHandler, jsonBody } from './respond.js';

/** POST /users/me/avatar — 201 with a form that uploads the caller's new avatar (then PUT /users/me). */
export const makeHandler = (uploads: Pick<UploadService, 'avatarUpload'>, log: Logger) =>
  httpHandler(log, async ({ callerId, event }) => ({
    status: 201,
    body: await uploads.avatarUpload(callerId, parseAvatarUpload(jsonBody(event))),
  }));

export const needs: ServiceNeeds = { tables: [], posts: false };

export const handler = makeHandler(buildUploadService(needs), logger);
