import { makeConsoleLogger } from '../adapters/console-logger.js';
import type { Logger } from '../domain/ports.js';

export { withCorrelation } from '../adapters/console-logger.js';

/** One logger per container, shared by the handler wrapper and the service. */
export const logger: Logger = makeConsoleLogger();
