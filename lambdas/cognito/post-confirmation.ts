import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import type { ProfileService } from '../domain/profiles.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';

/** Cognito post-confirmation: a new user gets a profile, so others can start a chat with them. */
export const makeHandler = (chat: ProfileService) => async (event: PostConfirmationTriggerEvent) => {
  const attributes = event.request.userAttributes;
  const userId = attributes.sub;
  if (userId) {
    const name =
      attributes.name || attributes.preferred_username || attributes.email?.split('@')[0] || event.userName;
    await chat.getProfile(userId, name);
  } else {
    logger.warn('post-confirmation event without sub', { userName: event.userName });
  }
  return event;
};

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs));
