import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import type { Logger } from '../domain/ports.js';
import type { ProfileService } from '../domain/profiles.js';
import { logger } from '../shared/logger.js';
import { buildProfileService, type ServiceNeeds } from '../shared/service.js';

/**
 * Cognito post-confirmation: a new user gets a profile, so others can start a chat with them, and the
 * account's address is kept for offline e-mail notifications (only a verified one: an address Cognito
 * has not verified may be someone else's).
 */
export const makeHandler =
  (chat: ProfileService, log: Logger) => async (event: PostConfirmationTriggerEvent) => {
    const attributes = event.request.userAttributes;
    const userId = attributes.sub;
    if (userId) {
      const name =
        attributes.name || attributes.preferred_username || attributes.email?.split('@')[0] || event.userName;
      const email = attributes.email_verified === 'true' ? attributes.email : undefined;
      await chat.confirmAccount(userId, name, email || undefined);
    } else {
      // Not the userName: in a pool that signs in by email it is the email address.
      log.warn('post-confirmation event without sub', {
        userPoolId: event.userPoolId,
        triggerSource: event.triggerSource,
      });
    }
    return event;
  };

export const needs: ServiceNeeds = { tables: ['users'], posts: false };

export const handler = makeHandler(buildProfileService(needs, 'none'), logger);
