import fc from 'fast-check';
import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { monotonicUlidFactory } from '../../../lambdas/domain/message-id.js';
import { isUlid } from '../../../lambdas/domain/validation.js';

const T = Date.UTC(2026, 10, 24, 10, 0, 0, 0);

describe('monotonicUlidFactory', () => {
  it('makes 26-character ULIDs whose time part decodes (with the ulid package) to the given time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (time) => {
        const id = monotonicUlidFactory()(time);

        expect(isUlid(id)).toBe(true);
        expect(decodeTime(id)).toBe(time);
      }),
    );
  });

  it('orders ids by time across milliseconds', () => {
    const next = monotonicUlidFactory();

    const ids = [T, T + 1, T + 2, T + 1000].map((time) => next(time));

    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps ids strictly increasing within one millisecond and when the clock steps back', () => {
    const next = monotonicUlidFactory();

    const ids = [T, T, T, T - 5, T].map((time) => next(time));

    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => decodeTime(id) === T)).toBe(true);
  });

  it('says so rather than wrapping around when the random part is exhausted within a millisecond', () => {
    const next = monotonicUlidFactory(() => new Uint8Array(16).fill(31));
    next(T);

    expect(() => next(T)).toThrow(RangeError);
  });

  it('carries into higher digits', () => {
    const bytes = new Uint8Array(16).fill(0);
    bytes[15] = 31;
    const next = monotonicUlidFactory(() => bytes);

    expect(next(T).slice(10)).toBe('000000000000000Z');
    expect(next(T).slice(10)).toBe('0000000000000010');
  });

  it('refuses a time that does not fit 48 bits', () => {
    expect(() => monotonicUlidFactory()(2 ** 48)).toThrow(RangeError);
    expect(() => monotonicUlidFactory()(-1)).toThrow(RangeError);
  });
});
