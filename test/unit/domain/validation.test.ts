import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGE_LIMIT,
  isUlid,
  isValidUserId,
  MAX_PAGE_LIMIT,
  parseAvatarUrl,
  parseBoolean,
  parseClientMessageId,
  parseContent,
  parseDisplayName,
  parseLimit,
  parseMessageId,
  parseRoomId,
  parseUserId,
  participantCandidates,
  roomIdFor,
} from '../../../lambdas/domain/validation.js';
import { FixedClock, sequentialUlids } from '../../fakes/clock.js';

const badRequest = expect.objectContaining({ name: 'ChatError', code: 'bad_request' });
const EMOJI = '😀'; // one code point, two UTF-16 units

/** Runs `parse` and answers what it threw, or undefined. */
function thrown(parse: () => unknown): unknown {
  try {
    parse();
    return undefined;
  } catch (error) {
    return error;
  }
}

const userIdChar = fc.constantFrom(...'abcxyzABZ0189_.@+-');
const userId = fc.string({ unit: userIdChar, minLength: 1, maxLength: 20 });
/** Any UTF-16 code unit, lone surrogates and controls included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

describe('parseContent', () => {
  it('trims surrounding white space and keeps inner line breaks and tabs', () => {
    expect(parseContent('  \n\thello\n\tworld \r\n ')).toBe('hello\n\tworld');
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only line breaks and tabs', '\n\t\r\n'],
    ['only unicode spaces', '\u3000\u00a0'],
  ])('refuses content that is %s', (_label, value) => {
    expect(thrown(() => parseContent(value))).toEqual(badRequest);
  });

  it('accepts 4,000 code points and refuses 4,001', () => {
    expect(parseContent('x'.repeat(4000))).toHaveLength(4000);
    expect(thrown(() => parseContent('x'.repeat(4001)))).toEqual(badRequest);
  });

  it('counts an emoji as one character: 4,000 emoji are accepted, 4,001 refused', () => {
    expect(parseContent(EMOJI.repeat(4000))).toBe(EMOJI.repeat(4000));
    expect(thrown(() => parseContent(EMOJI.repeat(4001)))).toEqual(badRequest);
  });

  it('counts the length after trimming', () => {
    expect(parseContent(`   ${'x'.repeat(4000)}   `)).toHaveLength(4000);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['BEL', 'a\u0007b'],
    ['ESC', 'a\u001b[31mred'],
    ['DEL', 'a\u007fb'],
  ])('refuses the control character %s', (_label, value) => {
    expect(thrown(() => parseContent(value))).toEqual(badRequest);
  });

  it.each([
    ['a lone high surrogate', 'a\ud83d b'],
    ['a lone low surrogate', 'a\ude00b'],
    ['a reversed pair', 'a\ude00\ud83db'],
    ['a high surrogate at the end', 'ab\ud83d'],
  ])('refuses %s', (_label, value) => {
    expect(thrown(() => parseContent(value))).toEqual(badRequest);
  });

  it.each([null, 42, undefined, ['hi'], { text: 'hi' }])('refuses the non-string %j', (value) => {
    expect(thrown(() => parseContent(value))).toEqual(badRequest);
  });

  it('either refuses with bad_request or answers trimmed text of 1 to 4,000 code points with no lone surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyCodeUnit, maxLength: 60 }), (value) => {
        const error = thrown(() => parseContent(value));
        if (error !== undefined) {
          expect(error).toEqual(badRequest);
          return;
        }
        const parsed = parseContent(value);
        expect(parsed).toBe(value.trim());
        expect([...parsed].length).toBeGreaterThanOrEqual(1);
        // Well-formed UTF-16 survives a UTF-8 round trip; a lone surrogate would come back as U+FFFD.
        expect(Buffer.from(parsed, 'utf8').toString('utf8')).toBe(parsed);
      }),
    );
  });

  it('accepts any well-formed printable text of up to 4,000 code points unchanged', () => {
    const printable = fc.oneof(
      fc.integer({ min: 0x21, max: 0x7e }),
      fc.integer({ min: 0xa1, max: 0xd7ff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    );
    const edge = fc.integer({ min: 0x21, max: 0x7e });
    const text = fc
      .tuple(edge, fc.array(printable, { maxLength: 3998 }), edge)
      .map(([first, middle, last]) => String.fromCodePoint(first, ...middle, last));
    fc.assert(
      fc.property(text, (value) => {
        expect(parseContent(value)).toBe(value);
      }),
      { numRuns: 20 },
    );
  });
});

describe('parseClientMessageId', () => {
  it('is optional', () => {
    expect(parseClientMessageId(undefined)).toBeUndefined();
  });

  it('accepts 1 to 64 characters, e.g. a UUID', () => {
    expect(parseClientMessageId('c')).toBe('c');
    expect(parseClientMessageId('6f1c1d2e-8a1b-4c3d-9e4f-0a1b2c3d4e5f')).toBe(
      '6f1c1d2e-8a1b-4c3d-9e4f-0a1b2c3d4e5f',
    );
    expect(parseClientMessageId('x'.repeat(64))).toHaveLength(64);
  });

  it.each([
    ['empty', ''],
    ['65 characters long', 'x'.repeat(65)],
    ['a number', 42],
    ['null', null],
    ['with a control character', 'id\u0000'],
    ['with a lone surrogate', 'id\ud800'],
  ])('refuses a clientMessageId that is %s', (_label, value) => {
    expect(thrown(() => parseClientMessageId(value))).toEqual(badRequest);
  });
});

describe('roomIdFor', () => {
  it('names the room chat_{a}_{b} with the ids sorted as strings', () => {
    expect(roomIdFor('u2', 'u1')).toBe('chat_u1_u2');
    expect(roomIdFor('Zed', 'ann')).toBe('chat_Zed_ann');
  });

  it('gives the same name for a pair whichever side starts', () => {
    fc.assert(
      fc.property(userId, userId, (a, b) => {
        expect(roomIdFor(a, b)).toBe(roomIdFor(b, a));
      }),
    );
  });

  it('gives a name whose candidates include both users, for any two different valid ids', () => {
    fc.assert(
      fc.property(userId, userId, (a, b) => {
        fc.pre(a !== b);
        const candidates = participantCandidates(roomIdFor(a, b));
        expect(candidates).toContain(a);
        expect(candidates).toContain(b);
      }),
    );
  });

  it('gives a name that parseRoomId accepts, for any two different valid ids', () => {
    fc.assert(
      fc.property(userId, userId, (a, b) => {
        fc.pre(a !== b);
        expect(parseRoomId(roomIdFor(a, b))).toBe(roomIdFor(a, b));
      }),
    );
  });
});

describe('participantCandidates', () => {
  it('answers the two users of an unambiguous name', () => {
    expect(participantCandidates('chat_ann_bob').sort()).toEqual(['ann', 'bob']);
  });

  it('answers every reading of a name whose user ids contain underscores', () => {
    expect(participantCandidates('chat_a_b_c').sort()).toEqual(['a', 'a_b', 'b_c', 'c']);
  });

  it('answers only readings with the ids in sorted order', () => {
    // (b, a) would be named chat_a_b, so chat_b_a has no reading.
    expect(participantCandidates('chat_b_a')).toEqual([]);
  });

  it.each([
    ['without the prefix', 'room_ann_bob'],
    ['with one user', 'chat_ann'],
    ['with an empty id', 'chat__bob'],
    ['with the same user twice', 'chat_ann_ann'],
    ['with a character no user id has', 'chat_ann_b#b'],
    ['that is only the prefix', 'chat_'],
  ])('answers nothing for a name %s', (_label, roomId) => {
    expect(participantCandidates(roomId)).toEqual([]);
  });
});

describe('parseRoomId', () => {
  it('accepts a room name', () => {
    expect(parseRoomId('chat_ann_bob')).toBe('chat_ann_bob');
  });

  it.each([
    ['not a room name', 'lobby'],
    ['longer than 300 characters', `chat_a_${'b'.repeat(300)}`],
    ['not a string', 7],
    ['missing', undefined],
  ])('refuses a room id that is %s', (_label, value) => {
    expect(thrown(() => parseRoomId(value))).toEqual(badRequest);
  });
});

describe('parseUserId', () => {
  it.each([
    'ann',
    'u1',
    '3f0e1c2a-7b6d-4e5f-8a9b-0c1d2e3f4a5b',
    'first.last@example.com',
    'a_b',
    'x'.repeat(128),
  ])('accepts %s', (value) => {
    expect(parseUserId(value)).toBe(value);
  });

  it.each(['', 'a#b', 'a/b', 'a b', 'x'.repeat(129), 'ünï'])('refuses %j', (value) => {
    expect(thrown(() => parseUserId(value))).toEqual(badRequest);
  });

  it('refuses a non-string', () => {
    expect(thrown(() => parseUserId(12))).toEqual(badRequest);
    expect(isValidUserId(null)).toBe(false);
  });
});

describe('ULIDs', () => {
  it('accepts a ULID as a message id', () => {
    expect(parseMessageId('01HNZX8JGFACFA36RBXDHEQN6E')).toBe('01HNZX8JGFACFA36RBXDHEQN6E');
  });

  it.each([
    ['lower case', '01hnzx8jgfacfa36rbxdheqn6e'],
    ['25 characters', '01HNZX8JGFACFA36RBXDHEQN6'],
    ['27 characters', '01HNZX8JGFACFA36RBXDHEQN6EE'],
    ['a letter Crockford excludes (I)', '01HNZX8JGFACFA36RBXDHEQN6I'],
    ['a letter Crockford excludes (U)', '01HNZX8JGFACFA36RBXDHEQN6U'],
    ['a time past the maximum', '81HNZX8JGFACFA36RBXDHEQN6E'],
    ['not a string', 1],
  ])('refuses a message id in %s', (_label, value) => {
    expect(thrown(() => parseMessageId(value))).toEqual(badRequest);
  });

  it('names the field in the message', () => {
    expect(thrown(() => parseMessageId('x', 'before'))).toMatchObject({
      message: expect.stringContaining('before'),
    });
  });

  it('gets valid, strictly increasing ULIDs from the test generator', () => {
    const clock = new FixedClock();
    const next = sequentialUlids();
    const generated = Array.from({ length: 40 }, (_, i) => {
      if (i % 10 === 0) clock.advance(1);
      return next(clock.now());
    });

    expect(generated.every(isUlid)).toBe(true);
    expect([...generated].sort()).toEqual(generated);
    expect(new Set(generated).size).toBe(generated.length);
  });
});

describe('parseLimit', () => {
  it('defaults to 50 and accepts 1 to 100', () => {
    expect(parseLimit(undefined)).toBe(DEFAULT_PAGE_LIMIT);
    expect(DEFAULT_PAGE_LIMIT).toBe(50);
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('100')).toBe(MAX_PAGE_LIMIT);
  });

  it.each(['0', '101', '-1', '1.5', 'ten', '', ' 5', '1e2', '1000'])('refuses %j', (value) => {
    expect(thrown(() => parseLimit(value))).toEqual(badRequest);
  });
});

describe('parseDisplayName', () => {
  it('trims and accepts 1 to 80 characters, emoji counted as one', () => {
    expect(parseDisplayName('  Ann  ')).toBe('Ann');
    expect(parseDisplayName('x'.repeat(80))).toHaveLength(80);
    expect(parseDisplayName(EMOJI.repeat(80))).toBe(EMOJI.repeat(80));
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['81 characters long', 'x'.repeat(81)],
    ['81 emoji long', EMOJI.repeat(81)],
    ['with a control character', 'Ann\u0007'],
    ['not a string', 5],
  ])('refuses a name that is %s', (_label, value) => {
    expect(thrown(() => parseDisplayName(value))).toEqual(badRequest);
  });
});

describe('parseAvatarUrl', () => {
  it('accepts an https URL unchanged', () => {
    expect(parseAvatarUrl('https://cdn.example.com/a.png?s=64')).toBe('https://cdn.example.com/a.png?s=64');
  });

  it.each([
    ['http', 'http://example.com/a.png'],
    ['javascript', 'javascript:alert(1)'],
    ['data', 'data:image/png;base64,AAAA'],
    ['not a URL', 'a.png'],
    ['too long', `https://example.com/${'a'.repeat(2048)}`],
    ['not a string', null],
  ])('refuses a %s avatar', (_label, value) => {
    expect(thrown(() => parseAvatarUrl(value))).toEqual(badRequest);
  });
});

describe('parseBoolean', () => {
  it('accepts true and false only', () => {
    expect(parseBoolean(true, 'isTyping')).toBe(true);
    expect(parseBoolean(false, 'isTyping')).toBe(false);
    expect(thrown(() => parseBoolean('true', 'isTyping'))).toEqual(badRequest);
    expect(thrown(() => parseBoolean(1, 'isTyping'))).toEqual(badRequest);
  });
});
