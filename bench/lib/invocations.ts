/**
 * Counts the local stack's handler invocations, by function, with their wall times: every invocation
 * (API routes, stream mappings, Scheduler's asynchronous invokes) goes through local/lambda.ts
 * `invoke`, which runs the handler inside `runningFunction.run(functionId, …)`. That one method is
 * wrapped on the instance (nothing in local/ changes; `stop()` takes the wrapper off again). On AWS
 * each of these is a billed Lambda invocation.
 */
import { runningFunction } from '../../local/lambda.js';

export interface InvocationMeter {
  reset(): void;
  /** Wall time of each invocation that finished since the last reset, ms, by function id. */
  snapshot(): Readonly<Record<string, readonly number[]>>;
  /** What a function's invocations answered as `{"outcome": …}` (the notify function's checks), in order. */
  outcomes(functionId: string): readonly string[];
  /** Invocations started and not finished yet, all functions. */
  inFlight(): number;
  stop(): void;
}

export function watchInvocations(): InvocationMeter {
  let finished = new Map<string, number[]>();
  let answered = new Map<string, string[]>();
  let running = 0;
  const original = runningFunction.run;
  const wrapped: typeof original = function <R, TArgs extends unknown[]>(
    this: typeof runningFunction,
    store: string,
    callback: (...args: TArgs) => R,
    ...args: TArgs
  ): R {
    const started = performance.now();
    const done = () => {
      running--;
      const list = finished.get(store) ?? [];
      list.push(performance.now() - started);
      finished.set(store, list);
    };
    running++;
    let result: R;
    try {
      result = original.call(this, store, callback, ...args) as R;
    } catch (error) {
      done();
      throw error;
    }
    if (result instanceof Promise) {
      result.then((value: unknown) => {
        const outcome = (value as { outcome?: unknown } | undefined)?.outcome;
        if (typeof outcome === 'string') answered.set(store, [...(answered.get(store) ?? []), outcome]);
        done();
      }, done);
    } else done();
    return result;
  };
  runningFunction.run = wrapped;
  return {
    reset() {
      finished = new Map();
      answered = new Map();
    },
    snapshot() {
      return Object.fromEntries([...finished].map(([id, ms]) => [id, [...ms]]));
    },
    outcomes: (functionId) => [...(answered.get(functionId) ?? [])],
    inFlight: () => running,
    stop() {
      // The method lives on AsyncLocalStorage's prototype: removing the own property restores it.
      Reflect.deleteProperty(runningFunction, 'run');
    },
  };
}
