/**
 * For property tests with fast-check's scheduler: every method of `target`, delayed twice by the
 * scheduler, before it takes effect and before it answers, so that calls of racing operations
 * interleave in every order the scheduler picks.
 */
import type fc from 'fast-check';

/**
 * `instead(method)` may answer for a call (after its first delay, without calling the method), as a
 * store's write that loses to a concurrent transaction would: `{ answer }`, or undefined to call it.
 */
export function scheduled<T extends object>(
  target: T,
  s: fc.Scheduler,
  instead: (method: string) => { readonly answer: unknown } | undefined = () => undefined,
): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await s.schedule(Promise.resolve(), `${String(property)} starts`);
        const replaced = instead(String(property));
        const result: unknown = replaced !== undefined ? replaced.answer : await value.apply(object, args);
        await s.schedule(Promise.resolve(), `${String(property)} answers`);
        return result;
      };
    },
  });
}
