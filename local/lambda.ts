/**
 * Running handler modules in-process the way Lambda would: one import per module (the "cold start",
 * which is where handlers read their configuration and build their SDK clients), then `handler(event,
 * context)` per invocation with a context shaped like Lambda's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { HandlerDefinition } from '../definitions/routes.js';
import { LOCAL_ACCOUNT } from './aws-endpoint.js';
import { LOCAL_REGION } from './dynamo-local.js';

/** What a handler module exports as `handler`. Only the async (promise) style: no callbacks. */
export type LambdaHandler = (event: unknown, context: Context) => unknown;

/** Finds the handler of a definition. Tests pass stubs; the stack imports the real modules. */
export type HandlerResolver = (definition: HandlerDefinition) => Promise<LambdaHandler>;

/** Lambda's ceiling for an API Gateway integration: HTTP APIs give up after 30 s, WebSocket after 29 s. */
export const INTEGRATION_TIMEOUT_MS = 29_000;

export class HandlerTimeoutError extends Error {
  constructor(functionId: string, ms: number) {
    super(`${functionId} did not answer within ${ms} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/** Imports `entry` (relative to `repoRoot`) once and caches the module's `handler`. */
export function moduleResolver(repoRoot: string): HandlerResolver {
  const cache = new Map<string, Promise<LambdaHandler>>();
  return (definition) => {
    let loaded = cache.get(definition.entry);
    if (loaded === undefined) {
      loaded = importHandler(repoRoot, definition);
      cache.set(definition.entry, loaded);
      // A failed import is retried on the next call: the file may have been missing or broken.
      loaded.catch(() => cache.delete(definition.entry));
    }
    return loaded;
  };
}

async function importHandler(repoRoot: string, definition: HandlerDefinition): Promise<LambdaHandler> {
  const module: unknown = await import(pathToFileURL(join(repoRoot, definition.entry)).href);
  const handler = (module as { handler?: unknown }).handler;
  if (typeof handler !== 'function') {
    throw new Error(`${definition.entry} does not export a function named handler`);
  }
  return handler as LambdaHandler;
}

/** A resolver that answers from `overrides` first (keyed by functionId), then from `fallback`. */
export function withOverrides(
  overrides: Readonly<Record<string, LambdaHandler>>,
  fallback?: HandlerResolver,
): HandlerResolver {
  return async (definition) => {
    const handler = overrides[definition.functionId];
    if (handler !== undefined) return handler;
    if (fallback === undefined) throw new Error(`No handler for ${definition.functionId}`);
    return fallback(definition);
  };
}

/**
 * A local function's unqualified ARN: what its context's invokedFunctionArn says, what the handlers'
 * environment names it by, and what the local Scheduler and mappings target. One spelling, since the
 * notify function schedules its re-checks by the ARN it was invoked with.
 */
export const localFunctionArn = (functionId: string): string =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionId}`;

export function fakeContext(functionId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  const unsupported = () => {
    throw new Error('Callback-style completion is not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: functionId,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionId),
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionId}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/**
 * The function whose invocation is running, through every await inside it. All handlers share one
 * process here; this lets local tooling and tests tell which function made a call (on AWS each one
 * is its own process with its own role).
 */
export const runningFunction = new AsyncLocalStorage<string>();

/** Resolves and calls the handler of `definition`, failing after `timeoutMs` like the integration would. */
export async function invoke(
  resolve: HandlerResolver,
  definition: HandlerDefinition,
  event: unknown,
  timeoutMs = INTEGRATION_TIMEOUT_MS,
): Promise<unknown> {
  const handler = await resolve(definition);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(definition.functionId, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([
      Promise.resolve().then(() =>
        runningFunction.run(definition.functionId, () =>
          handler(event, fakeContext(definition.functionId, timeoutMs)),
        ),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
