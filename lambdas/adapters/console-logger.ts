/**
 * The Logger port through console.info/warn/error, one object per entry. With Lambda's JSON log
 * format the runtime writes it as the `message` of its own JSON line (timestamp, level, Lambda
 * requestId), filtered by the function's application log level; elsewhere (the local stack) the
 * line is this object alone. Powertools Logger would cost ~24 KB per bundle for the same lines.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../domain/ports.js';

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
type Level = keyof typeof LEVELS;

const isLevel = (value: string): value is Level => value in LEVELS;

/**
 * Correlation fields of the request being handled (API Gateway's requestId, the connectionId, the
 * frame's clientMessageId), added to every entry logged while it runs, the domain's included.
 * Async-local rather than a module variable: the local stack runs concurrent requests in one process.
 */
const correlation = new AsyncLocalStorage<Record<string, unknown>>();

export function withCorrelation<T>(fields: Record<string, unknown>, run: () => T): T {
  return correlation.run(fields, run);
}

export function makeConsoleLogger(level = process.env.LOG_LEVEL ?? 'INFO'): Logger {
  const threshold = LEVELS[isLevel(level.toUpperCase()) ? (level.toUpperCase() as Level) : 'INFO'];
  const write =
    (name: Level, sink: (entry: Record<string, unknown>) => void) =>
    (message: string, details?: Record<string, unknown>): void => {
      if (LEVELS[name] >= threshold) sink({ level: name, message, ...correlation.getStore(), ...details });
    };
  return {
    info: write('INFO', console.info),
    warn: write('WARN', console.warn),
    error: write('ERROR', console.error),
  };
}
