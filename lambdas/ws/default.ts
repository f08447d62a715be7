import { badRequest } from '../domain/errors.js';
import { logger } from '../shared/logger.js';
import { webSocketHandler } from './respond.js';

const KNOWN_ACTIONS = ['sendMessage', 'markRead', 'typing', 'ping'];

/** `$default`: frames whose `action` matches no route (non-JSON frames are answered by the wrapper). */
export const handler = webSocketHandler(logger, async ({ body }) => {
  const action =
    typeof body.action === 'string' ? `Unknown action "${body.action}"` : 'The frame has no action';
  throw badRequest(`${action}; expected one of ${KNOWN_ACTIONS.join(', ')}`);
});
