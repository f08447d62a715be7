import { describe, expect, it } from 'vitest';
import { isCaseSensitiveId, normalizeUserId } from '../../../web/src/user-ids.js';

describe('normalizeUserId', () => {
  it('lowercases a UUID-shaped id in any case: Cognito subs are lowercase UUIDs', () => {
    const sub = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(normalizeUserId(sub.toUpperCase())).toBe(sub);
    expect(normalizeUserId('0F8FAD5B-d9cb-469F-A165-70867728950e')).toBe(sub);
    expect(normalizeUserId(sub)).toBe(sub);
    expect(isCaseSensitiveId(sub.toUpperCase())).toBe(false);
  });

  it('keeps any other id exactly: the server folds no case, "Bob" and "bob" may be two users', () => {
    for (const id of ['Bob', 'bob', 'Ann.Smith@example.com', 'gus.MK3']) {
      expect(normalizeUserId(id)).toBe(id);
      expect(isCaseSensitiveId(id)).toBe(true);
    }
  });

  it('takes only the exact 8-4-4-4-12 shape for a UUID', () => {
    for (const id of [
      '0F8FAD5B-D9CB-469F-A165-70867728950',
      '0F8FAD5BD9CB469FA16570867728950E',
      '0F8FAD5B-D9CB-469F-A165-70867728950EX',
      'X0F8FAD5B-D9CB-469F-A165-70867728950E',
      '0G8FAD5B-D9CB-469F-A165-70867728950E',
    ]) {
      expect(normalizeUserId(id)).toBe(id);
    }
  });
});
