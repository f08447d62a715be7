import { logger } from '../shared/logger.js';
import { webSocketHandler } from './respond.js';

/** `ping`: a heartbeat that keeps the connection inside API Gateway's 10-minute idle limit. */
export const handler = webSocketHandler(logger, async () => ({ type: 'pong' }));
