/**
 * The event pattern matcher the stream mappings' FilterCriteria and the local EventBridge's rules
 * share: AWS's leaf semantics, and the refusal (at start) of every rule it would not evaluate as AWS
 * does, rather than a silent match.
 */
import { describe, expect, it } from 'vitest';
import { checkPattern, matchesAny, matchesPattern } from '../../../local/event-pattern.js';

describe('event patterns', () => {
  it('match exact strings, prefix, exists and anything-but on leaves, any element of an array', () => {
    const event = { source: 'chat', detail: { type: 'message.new', to: ['ann', 'bob'], gone: null } };
    expect(matchesPattern({ source: ['chat'] }, event)).toBe(true);
    expect(matchesPattern({ source: ['Chat'] }, event)).toBe(false);
    expect(matchesPattern({ detail: { type: [{ prefix: 'message.' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { to: ['bob'] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { to: [{ 'anything-but': ['ann', 'bob'] }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { gone: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
    expect(matchesAny([{ source: ['other'] }, { detail: { type: ['message.new'] } }], event)).toBe(true);
  });

  it('match no rule against an intermediate node: exists, anything-but and values work on leaves only', () => {
    const record = { dynamodb: { Keys: { sk: { S: 'room' } } }, list: [{ a: 1 }] };
    expect(matchesPattern({ dynamodb: { Keys: [{ exists: true }] } }, record)).toBe(false);
    expect(matchesPattern({ dynamodb: { Keys: [{ exists: false }] } }, record)).toBe(false);
    expect(matchesPattern({ dynamodb: { Keys: [{ 'anything-but': 'x' }] } }, record)).toBe(false);
    expect(matchesPattern({ list: [{ 'anything-but': 'x' }] }, record)).toBe(false);
    expect(matchesPattern({ dynamodb: { Keys: { sk: { S: ['room'] } } } }, record)).toBe(true);
  });

  it('refuse at start what they would not evaluate as AWS does', () => {
    for (const rule of [
      { numeric: ['>', 1] },
      { prefix: { 'equals-ignore-case': 'ro' } },
      { 'anything-but': { prefix: 'ro' } },
      { 'anything-but': [] },
      { 'anything-but': 1 },
      { exists: 'yes' },
      { prefix: 'a', exists: true },
      300,
    ]) {
      expect(() => checkPattern({ a: [rule] }), JSON.stringify(rule)).toThrow(/Unsupported/);
    }
    expect(() => checkPattern({ a: [] })).toThrow(/Unsupported/);
    expect(() => checkPattern({ a: 'x' })).toThrow(/must be arrays/);
    expect(() =>
      checkPattern({ a: ['x', null, true, { prefix: 'p' }, { 'anything-but': ['y'] }] }),
    ).not.toThrow();
  });
});
