import { makeEmfMetrics } from '../adapters/emf-metrics.js';
import { type Metrics, noMetrics } from '../domain/ports.js';

/**
 * One metrics writer per container. Only on Lambda, where CloudWatch Logs extracts them: elsewhere
 * (the local stack, tests) the lines would only be noise on stdout.
 */
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
export const metrics: Metrics = functionName === undefined ? noMetrics : makeEmfMetrics(functionName);
