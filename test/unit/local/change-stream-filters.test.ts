/**
 * The change consumer's stream filters are declared once (definitions/notifications.ts) and read by
 * lib and the local stack alike: here they are held to what the local matcher supports, to the rooms
 * item's sort key as the adapter writes it, and to what they must let through.
 */
import { describe, expect, it } from 'vitest';
import { changeStreamFilters } from '../../../definitions/notifications.js';
import { ROOM_SK } from '../../../lambdas/adapters/dynamo/items.js';
import { checkPattern, matchesAny } from '../../../local/event-pattern.js';

describe('the change stream filters', () => {
  it('use only what the local matcher supports, and the room item’s sort key', () => {
    for (const patterns of Object.values(changeStreamFilters))
      for (const pattern of patterns ?? []) checkPattern(pattern);
    expect(changeStreamFilters.rooms).toEqual([
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: [ROOM_SK] } } } },
    ]);
  });

  it('filter as Lambda does: room items inserted or modified, new messages only', () => {
    const record = (eventName: string, sk: string) => ({
      eventName,
      dynamodb: { Keys: { pk: { S: 'r' }, sk: { S: sk } } },
    });
    const rooms = changeStreamFilters.rooms ?? [];
    expect(matchesAny(rooms, record('INSERT', 'room'))).toBe(true);
    expect(matchesAny(rooms, record('MODIFY', 'room'))).toBe(true);
    expect(matchesAny(rooms, record('REMOVE', 'room'))).toBe(false);
    expect(matchesAny(rooms, record('INSERT', 'notified#r'))).toBe(false);
    expect(matchesAny(changeStreamFilters.messages ?? [], record('MODIFY', 'x'))).toBe(false);
    expect(() => checkPattern({ a: [{ numeric: ['>', 1] }] })).toThrow(/Unsupported/);
  });
});
