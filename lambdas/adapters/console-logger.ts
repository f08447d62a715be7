/**
 * The Logger port as one JSON line per entry on stdout/stderr, which CloudWatch (and Lambda's JSON
 * log format) indexes as is. Powertools Logger would cost ~24 KB per bundle for the same lines.
 */
import type { Logger } from '../domain/ports.js';

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
type Level = keyof typeof LEVELS;

const isLevel = (value: string): value is Level => value in LEVELS;

export function makeConsoleLogger(level = process.env.LOG_LEVEL ?? 'INFO'): Logger {
  const threshold = LEVELS[isLevel(level.toUpperCase()) ? (level.toUpperCase() as Level) : 'INFO'];
  const write =
    (name: Level, sink: (line: string) => void) =>
    (message: string, details?: Record<string, unknown>): void => {
      if (LEVELS[name] < threshold) return;
      sink(JSON.stringify({ level: name, message, ...details }));
    };
  return {
    info: write('INFO', console.info),
    warn: write('WARN', console.warn),
    error: write('ERROR', console.error),
  };
}
