/**
 * Lambda's asynchronous (Event) invocation of a function, as the notify function is configured in lib
 * (definitions/notifications.ts `notifyAsyncSettings`): a failed invocation (thrown or timed out) is retried `retryAttempts` times,
 * one minute then two minutes later (Lambda's documented waits), within `maxEventAgeSeconds`; then the
 * on-failure destination gets Lambda's invocation record (requestContext, requestPayload,
 * responseContext, responsePayload). Source: Lambda Developer Guide, "Asynchronous invocation" and
 * "Capturing records of Lambda asynchronous invocations".
 */
import { randomUUID } from 'node:crypto';
import type { HandlerDefinition } from '../definitions/routes.js';
import type { DeadLetterQueue, DeadLetters } from './dead-letters.js';
import { type HandlerResolver, HandlerTimeoutError, invoke, localFunctionArn } from './lambda.js';
import type { Log } from './log.js';

export interface AsyncInvokeSettings {
  readonly retryAttempts: number;
  readonly maxEventAgeSeconds: number;
  readonly timeoutMs: number;
  /** Waits before each retry; default Lambda's 1 and 2 minutes. Tests shorten them. */
  readonly retryDelaysMs?: readonly number[];
  readonly onFailure: DeadLetterQueue;
}

export interface AsyncInvoker {
  /** Accepts the event (as Lambda's 202) and runs it in the background with the retries. */
  invoke(definition: HandlerDefinition, event: unknown): void;
  /** Waits for everything accepted so far (stop, tests). */
  settle(): Promise<void>;
  /** Drops the retries still waiting (stop). */
  cancel(): void;
}

const errorPayload = (error: unknown, requestId: string, timeoutMs: number) =>
  error instanceof HandlerTimeoutError
    ? {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
      }
    : error instanceof Error
      ? { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') }
      : { errorType: typeof error, errorMessage: String(error), trace: [] };

export function makeAsyncInvoker(
  resolve: HandlerResolver,
  settings: AsyncInvokeSettings,
  deadLetters: DeadLetters,
  log: Log,
): AsyncInvoker {
  const running = new Set<Promise<void>>();
  const timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  let cancelled = false;
  const delays = settings.retryDelaysMs ?? [60_000, 120_000];
  const wait = (ms: number) =>
    new Promise<void>((wake) => {
      const entry = { timer: setTimeout(() => done(), ms), wake: () => done() };
      const done = () => {
        clearTimeout(entry.timer);
        timers.delete(entry);
        wake();
      };
      timers.add(entry);
    });

  async function run(definition: HandlerDefinition, event: unknown): Promise<void> {
    const requestId = randomUUID();
    const acceptedAt = Date.now();
    let attempts = 0;
    let lastError: unknown;
    for (;;) {
      attempts += 1;
      try {
        await invoke(resolve, definition, event, settings.timeoutMs);
        return;
      } catch (error) {
        lastError = error;
        log.error(`${definition.functionId} (asynchronous invocation, attempt ${attempts}) failed`, error);
      }
      const delay = delays[Math.min(attempts - 1, delays.length - 1)] ?? 0;
      const tooOld = Date.now() + delay - acceptedAt > settings.maxEventAgeSeconds * 1000;
      if (attempts > settings.retryAttempts || tooOld || cancelled) break;
      await wait(delay);
      if (cancelled) return;
    }
    deadLetters.add(settings.onFailure, {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: `${localFunctionArn(definition.functionId)}:$LATEST`,
        condition: attempts > settings.retryAttempts ? 'RetriesExhausted' : 'EventAgeExceeded',
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: errorPayload(lastError, requestId, settings.timeoutMs),
    });
  }

  return {
    invoke(definition, event) {
      const job = run(definition, event).catch((error: unknown) =>
        log.error('Asynchronous invocation failed', error),
      );
      running.add(job);
      job.finally(() => running.delete(job));
    },
    async settle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    cancel() {
      cancelled = true;
      for (const entry of [...timers]) entry.wake();
    },
  };
}
