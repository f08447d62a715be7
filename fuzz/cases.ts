/**
 * The generated cases: bad WebSocket frames and bad REST requests, written once and used by
 * `npm run fuzz` (fuzz/run.ts) and by the in-suite run (test/integration/hardening/fuzz.test.ts).
 *
 * Cases are symbolic: `{ $$ref: 'roomMine' }` stands for the world's room of me and peer, `$$repeat`
 * for a long string, `$$deep` for deeply nested JSON. So a counterexample prints short and means the
 * same in every world (a replay with the printed seed and path builds a fresh world).
 * The generators aim at inputs that must be refused; what each one must get is decided by the
 * oracle (fuzz/oracle.ts) from the contract, not here.
 */
import fc from 'fast-check';
import { ATTACHMENT_TYPES, AVATAR_TYPES, KNOWN_ACTIONS, MAX_AVATAR_BYTES } from './model.js';

export const WS_ROUTES = [
  'ws sendMessage',
  'ws markRead',
  'ws typing',
  'ws ping',
  'ws unknown action',
  'ws $default',
  'ws raw bytes',
] as const;
export const REST_ROUTES = [
  'GET /chat/list',
  'GET /chat/messages/{roomId}',
  'POST /chat/start/{userId}',
  'POST /chat/read/{roomId}',
  'GET /users/me',
  'PUT /users/me',
  'POST /chat/uploads/{roomId}',
  'POST /users/me/avatar',
] as const;
export type WsRoute = (typeof WS_ROUTES)[number];
export type RestRoute = (typeof REST_ROUTES)[number];
export type Route = WsRoute | RestRoute;
export const ROUTES: readonly Route[] = [...WS_ROUTES, ...REST_ROUTES];
export const isWsRoute = (route: Route): route is WsRoute => (WS_ROUTES as readonly string[]).includes(route);

// ------------------------------------------------------------------ symbolic values

export type Ref =
  | 'me'
  | 'peer'
  | 'ghost'
  | 'roomMine'
  | 'roomOthers'
  | 'roomNeverStarted'
  | 'msgMine'
  | 'msgOthers'
  | 'uniqueCmid'
  | 'probeCmid'
  /** me's first good upload in roomMine that no send has claimed (world.ts). */
  | 'uploadFresh'
  /** Uploads that must never be attached or set: see world.ts. */
  | 'uploadPeer'
  | 'uploadNeverPosted'
  | 'uploadFake'
  | 'uploadAttached'
  | 'avatarPeer'
  | 'avatarNeverPosted'
  | 'avatarFake'
  | 'avatarFromAttachment';

export type Sym =
  | { readonly $$ref: Ref }
  | { readonly $$concat: readonly SymString[] }
  /** `chat_{a}_{b}` with the two ids sorted, as API.md names rooms. */
  | { readonly $$roomOf: readonly [SymString, SymString] }
  | { readonly $$repeat: readonly [string, number] }
  /** base64url of a JSON text (forged cursors). */
  | { readonly $$b64json: JsonSym }
  /** JSON text only: nesting `depth` deep; unbalanced leaves it unclosed. */
  | { readonly $$deep: readonly [open: '[' | '{"a":' | '{"a":[', depth: number, balanced: boolean] }
  /** JSON text only: a string that makes the frame exceed the frame limit by n bytes. */
  | { readonly $$pad: number }
  /** A JSON number: the stack's largest attachment (MAX_UPLOAD_BYTES) plus n. */
  | { readonly $$maxUpload: number };

export type SymString = string | Sym;
export type JsonSym =
  | null
  | boolean
  | number
  | string
  | Sym
  | readonly JsonSym[]
  | { readonly [key: string]: JsonSym };
export type Field = readonly [string, JsonSym];
/** A piece of a frame or body: raw text, a JSON value, a JSON object from fields (in order), raw bytes. */
export type Part =
  | string
  | { readonly json: JsonSym }
  | { readonly fields: readonly Field[] }
  | { readonly bytes: readonly number[] };

export interface WsCase {
  readonly parts: readonly Part[];
  readonly binary: boolean;
}

export type QueryValue = SymString | { readonly raw: string };

export interface RestCase {
  readonly route: RestRoute;
  /** The path parameter: a value (percent-encoded when sent) or a raw, already encoded segment. */
  readonly param: { readonly value: SymString } | { readonly raw: string } | null;
  readonly slash: boolean;
  readonly query: readonly (readonly [string, QueryValue])[];
  readonly body: readonly Part[] | null;
  readonly contentType: string | null;
  /** Headers a confused server might take the caller from. */
  readonly headers: readonly (readonly [string, SymString])[];
}

export const ref = (name: Ref): Sym => ({ $$ref: name });
const repeat = (unit: string, count: number): Sym => ({ $$repeat: [unit, count] });
const concat = (...parts: SymString[]): Sym => ({ $$concat: parts });

// ------------------------------------------------------------------ strings

const SAFE_UNITS = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...' .,!?-\'"\\/:{}[]<>&%#',
  'é',
  'ß',
  'Ж',
  '中',
  'ا',
  '😀',
  '👍🏽',
  '\t',
  '\n',
];
const safeText = (minLength: number, maxLength: number) =>
  fc.array(fc.constantFrom(...SAFE_UNITS), { minLength, maxLength }).map((units) => units.join(''));

// VT and FF are left out: whether they are "line breaks" (allowed in content) is unsettled.
const c0 = fc
  .integer({ min: 0, max: 0x1f })
  .filter((code) => code < 0x09 || code > 0x0d)
  .map((code) => String.fromCharCode(code));
const del = fc.constant('\u007f');
const c1 = fc
  .integer({ min: 0x80, max: 0x9f })
  .filter((code) => code !== 0x85)
  .map((code) => String.fromCharCode(code));
const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800');
const whitespaceOnly = fc
  .array(
    fc.constantFrom(
      ' ',
      '\t',
      '\n',
      '\r',
      '\u00a0',
      '\u2028',
      '\u2029',
      '\u3000',
      '\ufeff',
      '\u2003',
      '\u1680',
    ),
    { maxLength: 12 },
  )
  .map((units) => units.join(''));
const injected = (inner: fc.Arbitrary<string>) =>
  fc.tuple(safeText(0, 10), inner, safeText(0, 10)).map(([before, bad, after]) => before + bad + after);

const NASTY_CONSTANTS = [
  'null',
  'undefined',
  'NaN',
  'true',
  '0',
  '-1',
  '1e309',
  '[object Object]',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '$default',
  '$connect',
  // A log4j lookup, spelled in two pieces so that no linter takes it for a template.
  ['$', '{jndi:ldap://127.0.0.1/a}'].join(''),
  "' OR '1'='1",
  '{"$ne":null}',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%ZZ',
  '%',
  '\\u0000',
  '\u202e',
  '\u200b',
  'ｃｈａｔ',
  '\ufeffchat',
  '#',
  'a#b',
  'a/b',
  'a b',
  '*',
  '?',
  '&',
  '=',
  '%2F',
  '%2e%2e',
];

/** Strings that are wrong for any id-like field. `maxRepeat` keeps paths within header limits. */
const nastyString = (maxRepeat: number): fc.Arbitrary<SymString> =>
  fc.oneof(
    fc.constant(''),
    whitespaceOnly,
    injected(fc.oneof(c0, del, c1, loneSurrogate)),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom(...NASTY_CONSTANTS),
    fc.integer({ min: 129, max: Math.min(3000, maxRepeat) }).map((n) => repeat('a', n)),
    fc.integer({ min: Math.min(4001, maxRepeat), max: maxRepeat }).map((n) => repeat('x', n)),
  );
const nasty = nastyString(20_000);

const deep: fc.Arbitrary<Sym> = fc
  .constantFrom('[' as const, '{"a":' as const, '{"a":[' as const)
  .chain((open) =>
    fc
      .tuple(
        fc.integer({ min: 32, max: open === '[' ? 6000 : 2000 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      )
      .map(([depth, balanced]): Sym => ({ $$deep: [open, depth, balanced] })),
  );

const wrongType: fc.Arbitrary<JsonSym> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }) as fc.Arbitrary<JsonSym>,
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 3,
  }) as fc.Arbitrary<JsonSym>,
  deep,
);

// ------------------------------------------------------------------ ids

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const randomUlid = fc
  .tuple(
    fc.constantFrom(...'01234567'),
    fc.array(fc.constantFrom(...CROCKFORD), { minLength: 25, maxLength: 25 }),
  )
  .map(([first, rest]) => first + rest.join(''));
const badUlidOf = (maxRepeat: number): fc.Arbitrary<SymString> =>
  fc.oneof(
    nastyString(maxRepeat),
    randomUlid.map((id) => id.slice(0, 25)),
    randomUlid.map((id) => `${id}A`),
    randomUlid.map((id) => `8${id.slice(1)}`),
    randomUlid.map((id) => `Z${id.slice(1)}`),
    randomUlid.map((id) => `${id.slice(0, 12)}U${id.slice(13)}`),
    randomUlid.map((id) => `${id.slice(0, 12)}-${id.slice(13)}`),
    randomUlid.map((id) => `${id.slice(0, 12)}é${id.slice(13)}`),
    fc.constantFrom(
      concat(ref('msgMine'), ' '),
      concat(' ', ref('msgMine')),
      concat(ref('msgMine'), '\u0000'),
    ),
  );
const badUlid = badUlidOf(20_000);
/** A message id: one of the room's, another room's, one that does not exist, or malformed. */
const messageIdOf = (bad: fc.Arbitrary<SymString>): fc.Arbitrary<SymString> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(ref('msgMine')) },
    { weight: 3, arbitrary: fc.constant(ref('msgOthers')) },
    { weight: 3, arbitrary: randomUlid },
    { weight: 4, arbitrary: bad },
  );
const messageIdValue = messageIdOf(badUlid);

/** Well-formed user ids that nobody signed in as. */
const nxId = fc.stringMatching(/^[a-z0-9]{2,10}$/).map((s) => `nx${s}`);

const MALFORMED_ROOMS = [
  'chat_',
  'chat__',
  'chat_a',
  'chat_a_',
  'chat__a',
  'chat_b_a',
  'chat_a_a',
  'CHAT_a_b',
  ' chat_a_b',
  'chat_a_b ',
  'chat_a#x_b',
  'chat_a/b_c',
  'chat_a b_c',
  'room_a_b',
  'chat_a_b\u0000',
  '../chat_a_b',
  'chat_a_b/..',
  'chat_a_b?x=1',
];
const malformedRoom = (maxRepeat: number): fc.Arbitrary<SymString> =>
  fc.oneof(
    nastyString(maxRepeat),
    fc.constantFrom(...MALFORMED_ROOMS),
    fc.constantFrom(
      concat('chat_', ref('peer'), '_', ref('me')),
      concat('chat_', ref('me'), '_', ref('me')),
      concat('chat_', ref('me'), '_'),
      concat('chat_', ref('me'), '_', ref('peer'), '_'),
      concat(ref('roomMine'), ' '),
      concat(' ', ref('roomMine')),
      concat(ref('roomMine'), '\u0000'),
      concat(ref('roomMine'), '\ud800'),
      concat(ref('roomMine'), '#'),
      concat('chat_', ref('me'), '_', repeat('a', 129)),
      concat(ref('roomMine'), '_', ref('roomMine')),
    ),
  );

/** A room id: mine, of others, never started, well-formed names of strangers, or malformed. */
const roomValue = (maxRepeat: number): fc.Arbitrary<SymString> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(ref('roomMine')) },
    { weight: 2, arbitrary: fc.constant(ref('roomOthers')) },
    { weight: 2, arbitrary: fc.constant(ref('roomNeverStarted')) },
    { weight: 1, arbitrary: fc.tuple(nxId, nxId).map(([a, b]): SymString => ({ $$roomOf: [a, `${b}q`] })) },
    { weight: 1, arbitrary: nxId.map((a): SymString => ({ $$roomOf: [ref('me'), a] })) },
    {
      weight: 1,
      arbitrary: fc.tuple(nxId, nxId).map(([a, b]): SymString => ({ $$roomOf: [ref('peer'), `${a}_${b}`] })),
    },
    { weight: 4, arbitrary: malformedRoom(maxRepeat) },
  );

// ------------------------------------------------------------------ message fields

const validContent: fc.Arbitrary<SymString> = fc.oneof(
  { weight: 8, arbitrary: safeText(1, 60) },
  { weight: 1, arbitrary: fc.constant(repeat('a', 4000)) },
  { weight: 1, arbitrary: fc.constant(concat('  ', repeat('😀', 4000), '\n')) },
  { weight: 1, arbitrary: injected(fc.constant('\u0085')) },
);
const badContent: fc.Arbitrary<SymString> = fc.oneof(
  fc.constant(''),
  whitespaceOnly,
  injected(c0),
  injected(del),
  injected(c1),
  injected(loneSurrogate),
  fc
    .tuple(fc.constantFrom('a', 'é', '中', '😀'), fc.integer({ min: 4001, max: 4100 }))
    .map(([u, n]) => repeat(u, n)),
  fc.constant(concat(' ', repeat('a', 4001), ' ')),
);
const contentValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 3, arbitrary: validContent },
  { weight: 6, arbitrary: badContent },
  { weight: 2, arbitrary: wrongType },
);
const clientMessageIdValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(ref('uniqueCmid')) },
  { weight: 1, arbitrary: fc.constant(ref('probeCmid')) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constant(''),
      fc.integer({ min: 65, max: 200 }).map((n) => repeat('k', n)),
      fc.constant(repeat('😀', 65)),
      injected(loneSurrogate),
      injected(c0),
    ),
  },
  { weight: 1, arbitrary: wrongType },
);
const isTypingValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 3, arbitrary: fc.boolean() },
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.constantFrom<JsonSym>('true', 'false', '1', '0', 'yes', '', [], {}, [true]),
      fc.integer({ min: 0, max: 1 }),
      wrongType,
    ),
  },
);

/** Fields the server must ignore (a forged senderId above all) or that a confused parser might use. */
const extraField: fc.Arbitrary<Field> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constant('senderId'),
      fc.oneof(fc.constant(ref('peer')), fc.constant(ref('ghost')), nasty, wrongType),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'messageId',
        'sentAt',
        'userId',
        'type',
        'read',
        'connectionId',
        'requestContext',
        'authorizer',
        '__proto__',
        'constructor',
        'prototype',
        'toString',
      ),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonSym>, fc.constant(ref('peer')), deep),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonSym>, deep),
    ),
  },
);
const extras = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Field[]>([]) },
  { weight: 1, arbitrary: fc.array(extraField, { minLength: 1, maxLength: 3 }) },
);

/** A request's own fields, each either left out or set. */
function fieldsOf(
  action: string,
  record: fc.Arbitrary<Partial<Record<string, JsonSym>>>,
  duplicates: fc.Arbitrary<Field[]>,
): fc.Arbitrary<WsCase> {
  return fc.tuple(record, extras, duplicates, fc.boolean()).map(([own, more, dupes, actionLast]) => {
    const fields: Field[] = Object.entries(own).flatMap(([key, value]) =>
      value === undefined ? [] : [[key, value] as Field],
    );
    const all = [...fields, ...more, ...dupes];
    return {
      parts: [{ fields: actionLast ? [...all, ['action', action]] : [['action', action], ...all] }],
      binary: false,
    };
  });
}

/** A key of the request given twice: JSON.parse keeps the last. */
const duplicateOf = (keys: readonly string[], value: fc.Arbitrary<JsonSym>) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Field[]>([]) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...keys), value).map((field): Field[] => [field]) },
  );

const wsRoomValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 10, arbitrary: roomValue(20_000) },
  { weight: 2, arbitrary: wrongType },
);

// ------------------------------------------------------------------ attachments

const HEX = '0123456789abcdef';
const hexId = (length: number) =>
  fc.array(fc.constantFrom(...HEX), { minLength: length, maxLength: length }).map((d) => d.join(''));
/** Well-formed ids: the world's uploads (each to be refused but the fresh one) and ids of no upload. */
const uploadRef: fc.Arbitrary<SymString> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ref('uploadFresh')) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ref('uploadPeer'),
      ref('uploadNeverPosted'),
      ref('uploadFake'),
      ref('uploadAttached'),
    ),
  },
  { weight: 2, arbitrary: hexId(32) },
);
/** Ids that are no upload id: other lengths, upper case, paths, keys, injected junk. */
const badUploadId: fc.Arbitrary<JsonSym> = fc.oneof(
  hexId(31),
  hexId(33),
  hexId(32).map((id) => id.toUpperCase()),
  hexId(32).map((id) => `${id.slice(0, 16)}g${id.slice(17)}`),
  fc.constantFrom<JsonSym>(
    concat(ref('uploadFresh'), ' '),
    concat(' ', ref('uploadFresh')),
    concat('../', ref('uploadPeer')),
    concat(ref('me'), '/', ref('uploadFresh')),
    concat('uploads/', ref('roomMine'), '/', ref('peer'), '/', ref('uploadPeer')),
    concat(ref('uploadFresh'), '\u0000'),
  ),
  fc.integer({ min: 200, max: 20_000 }).map((n) => repeat('a', n)),
  nasty,
  wrongType,
);
const entry = (id: JsonSym): JsonSym => ({ uploadId: id });
/** The `attachments` field: mostly malformed, sometimes well-formed (then the check decides). */
const attachmentsValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 4, arbitrary: fc.array(uploadRef.map(entry), { minLength: 1, maxLength: 3 }) },
  { weight: 2, arbitrary: fc.constant<JsonSym>([entry(ref('uploadFresh'))]) },
  {
    weight: 6,
    arbitrary: fc.oneof(
      // Not a list of objects.
      wrongType.filter((value) => !Array.isArray(value)),
      uploadRef,
      fc.constant<JsonSym>([]),
      fc.array(uploadRef, { minLength: 1, maxLength: 3 }),
      fc.array(fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant<JsonSym>([])), {
        minLength: 1,
        maxLength: 3,
      }),
      // Too many: 11 distinct ids (the first may be a good upload).
      fc
        .array(hexId(32), { minLength: 10, maxLength: 10 })
        .map((ids): JsonSym => [entry(ref('uploadFresh')), ...ids.map(entry)]),
      fc.array(hexId(32).map(entry), { minLength: 11, maxLength: 14 }),
      // The same upload twice.
      uploadRef.map((id): JsonSym => [entry(id), entry(id)]),
      // An entry with more than its uploadId, or without one.
      fc
        .tuple(
          uploadRef,
          fc.constantFrom(
            'key',
            'fileName',
            'contentType',
            'size',
            'url',
            'roomId',
            'senderId',
            '__proto__',
            'uploadID',
          ),
          fc.oneof(nasty, wrongType, fc.constant(ref('peer'))),
        )
        .map(([id, key, value]): JsonSym => [{ uploadId: id, [key]: value }]),
      fc.constantFrom<JsonSym>(
        [{}],
        [{ uploadID: ref('uploadFresh') }],
        [{ attachmentId: ref('uploadFresh') }],
      ),
      fc.array(badUploadId.map(entry), { minLength: 1, maxLength: 2 }),
      fc.tuple(uploadRef, badUploadId).map(([good, bad]): JsonSym => [entry(good), entry(bad)]),
    ),
  },
);
/** With attachments the content may be empty or absent. */
const attachmentContent: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<JsonSym>('', ' ', '\n') },
  { weight: 2, arbitrary: whitespaceOnly },
  { weight: 4, arbitrary: contentValue },
);

const sendMessageFrame = fc.oneof(
  {
    weight: 3,
    arbitrary: fieldsOf(
      'sendMessage',
      fc.record(
        { roomId: wsRoomValue, content: contentValue, clientMessageId: clientMessageIdValue },
        { requiredKeys: [] },
      ),
      duplicateOf(['roomId', 'content', 'clientMessageId'], fc.oneof(nasty, fc.constant(ref('roomMine')))),
    ),
  },
  {
    weight: 2,
    arbitrary: fieldsOf(
      'sendMessage',
      fc.record(
        {
          roomId: fc.oneof(
            { weight: 6, arbitrary: fc.constant(ref('roomMine')) },
            { weight: 2, arbitrary: wsRoomValue },
          ),
          content: attachmentContent,
          clientMessageId: clientMessageIdValue,
          attachments: attachmentsValue,
        },
        { requiredKeys: ['roomId', 'attachments'] },
      ),
      duplicateOf(['attachments', 'content'], attachmentsValue),
    ),
  },
);
const markReadFrame = fieldsOf(
  'markRead',
  fc.record(
    {
      roomId: wsRoomValue,
      messageId: fc.oneof({ weight: 5, arbitrary: messageIdValue }, { weight: 1, arbitrary: wrongType }),
    },
    { requiredKeys: [] },
  ),
  duplicateOf(['roomId', 'messageId'], fc.oneof(nasty, randomUlid)),
);
const typingFrame = fieldsOf(
  'typing',
  fc.record({ roomId: wsRoomValue, isTyping: isTypingValue }, { requiredKeys: [] }),
  duplicateOf(['roomId', 'isTyping'], fc.oneof(nasty, fc.constant<JsonSym>('true'))),
);

const NEAR_MISS_PING = [
  'Ping',
  'PING',
  'ping ',
  ' ping',
  'ping\u0000',
  'pi ng',
  'ping\u200b',
  'pıng',
  'ｐｉｎｇ',
  'ping\n',
];
const pingFrame: fc.Arbitrary<WsCase> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('clientMessageId', 'roomId')),
            fc.oneof(nasty, wrongType) as fc.Arbitrary<JsonSym>,
          ),
          { maxLength: 4 },
        ),
        fc.boolean(),
      )
      .map(
        ([fields, actionLast]): WsCase => ({
          parts: [{ fields: actionLast ? [...fields, ['action', 'ping']] : [['action', 'ping'], ...fields] }],
          binary: false,
        }),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...NEAR_MISS_PING), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }))
      .map(
        ([action, cmid]): WsCase => ({
          parts: [
            {
              fields: [
                ['action', action],
                ...(cmid === undefined ? [] : [['clientMessageId', cmid] as Field]),
              ],
            },
          ],
          binary: false,
        }),
      ),
  },
);

const UNKNOWN_ACTIONS = [
  '$connect',
  '$disconnect',
  '$default',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  'sendmessage',
  'SendMessage',
  'send_message',
  'mark_read',
  'markread',
  'Typing',
  'pong',
  'ack',
  'error',
  'chat_message',
  'presence',
  'read',
  'sendMessage\u0000',
  'sendMessage ',
  ' sendMessage',
];
const unknownActionFrame: fc.Arbitrary<WsCase> = fc
  .tuple(
    fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom(...UNKNOWN_ACTIONS),
        fc.integer({ min: 100, max: 20_000 }).map((n) => repeat('a', n)),
        injected(loneSurrogate),
      )
      .filter(
        (action) => typeof action !== 'string' || !(KNOWN_ACTIONS as readonly string[]).includes(action),
      ),
    fc.option(fc.oneof(fc.constant(ref('uniqueCmid')), nasty, wrongType), { nil: undefined }),
    extras,
  )
  .map(
    ([action, cmid, more]): WsCase => ({
      parts: [
        {
          fields: [
            ['action', action],
            ...(cmid === undefined ? [] : [['clientMessageId', cmid] as Field]),
            ...more,
          ],
        },
      ],
      binary: false,
    }),
  );

const NON_JSON = [
  'hello {',
  '{',
  '}',
  '{"action":',
  "{'action':'ping'}",
  '{action:"ping"}',
  '{"action":"ping",}',
  '{"action":"ping"} x',
  '// {"action":"ping"}',
  'undefined',
  'NaN',
  'Infinity',
  '-',
  '{"action":"ping"}\u0000',
  '\u0000',
  '',
  ' ',
  '\n',
  '[',
];
const defaultFrame: fc.Arbitrary<WsCase> = fc
  .oneof(
    fc
      .oneof(fc.constantFrom(...NON_JSON), fc.string({ unit: 'binary', maxLength: 50 }))
      .map((text): Part[] => [text]),
    (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonSym>)
      .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
      .map((json): Part[] => [{ json }]),
    deep.map((json): Part[] => [{ json }]),
    fc
      .tuple(
        fc.constantFrom<JsonSym>(1, null, true, [], {}, ['ping'], { $ne: null }),
        fc.option(fc.oneof(fc.constant(ref('uniqueCmid')), nasty), { nil: undefined }),
        extras,
      )
      .map(([action, cmid, more]): Part[] => [
        {
          fields: [
            ['action', action],
            ...(cmid === undefined ? [] : [['clientMessageId', cmid] as Field]),
            ...more,
          ],
        },
      ]),
    fc
      .tuple(fc.option(fc.oneof(fc.constant(ref('uniqueCmid')), nasty), { nil: undefined }), extras)
      .map(([cmid, more]): Part[] => [
        { fields: [...(cmid === undefined ? [] : [['clientMessageId', cmid] as Field]), ...more] },
      ]),
    fc.constantFrom<Part[]>(
      ['\ufeff', { fields: [['action', 'ping']] }],
      [{ fields: [['action', 'ping']] }, ' x'],
      ['x', { fields: [['action', 'ping']] }],
      [{ fields: [['action', 'ping']] }, { fields: [['action', 'ping']] }],
    ),
    c0.map((control): Part[] => ['{"action":"ping","x":"', control, '"}']),
    loneSurrogate.map((lone): Part[] => ['{"action":"ping","x":"', lone, '"}']),
  )
  .map((parts): WsCase => ({ parts, binary: false }));

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xbf],
  [0xe2, 0x82],
  [0xc3],
];
const invalidUtf8 = fc.constantFrom(...INVALID_UTF8);
const validSendFields = (content: SymString): Field[] => [
  ['action', 'sendMessage'],
  ['roomId', ref('roomMine')],
  ['content', content],
  ['clientMessageId', ref('uniqueCmid')],
];
const rawBytesFrame: fc.Arbitrary<WsCase> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(invalidUtf8, fc.integer({ min: 0, max: 4 }), safeText(1, 10))
      .map(([bytes, where, text]): WsCase => {
        const b = { bytes };
        const layouts: Part[][] = [
          [
            '{"action":"sendMessage","roomId":',
            { json: ref('roomMine') },
            ',"content":"',
            text,
            b,
            '","clientMessageId":',
            { json: ref('uniqueCmid') },
            '}',
          ],
          ['{"action":"send', b, 'Message","roomId":', { json: ref('roomMine') }, ',"content":"', text, '"}'],
          [b, { fields: validSendFields(text) }],
          [{ fields: validSendFields(text) }, b],
          ['{"action":"ping","', b, '":1}'],
        ];
        return { parts: layouts[where] ?? [b], binary: false };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        safeText(1, 10).map((text): Part[] => [{ fields: validSendFields(text) }]),
        fc.constant<Part[]>([{ fields: [['action', 'ping']] }]),
        invalidUtf8.map((bytes): Part[] => [{ bytes }]),
      )
      .map((parts): WsCase => ({ parts, binary: true })),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 1, max: 2000 })
      .map((n): WsCase => ({ parts: [{ fields: validSendFields({ $$pad: n }) }], binary: false })),
  },
);

export const wsCases: Readonly<Record<WsRoute, fc.Arbitrary<WsCase>>> = {
  'ws sendMessage': sendMessageFrame,
  'ws markRead': markReadFrame,
  'ws typing': typingFrame,
  'ws ping': pingFrame,
  'ws unknown action': unknownActionFrame,
  'ws $default': defaultFrame,
  'ws raw bytes': rawBytesFrame,
};

// ------------------------------------------------------------------ REST

/** Path values stay under Node's 16 KB header limit once percent-encoded. */
const PATH_MAX_REPEAT = 1500;

const limitValue: fc.Arbitrary<QueryValue> = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }).map(String) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.constantFrom(
        '0',
        '-1',
        '101',
        '1000',
        '1e2',
        '1.0',
        '1.5',
        ' 5',
        '5 ',
        '+5',
        '0x10',
        'abc',
        '',
        'NaN',
        'Infinity',
        '٣',
        '５',
        '10,20',
        'null',
        '[]',
        '-0',
      ),
      fc.integer({ min: 101, max: 1_000_000_000 }).map(String),
      fc.integer({ min: -1_000_000_000, max: 0 }).map(String),
      nastyString(PATH_MAX_REPEAT),
    ),
  },
);
const RAW_QUERY = ['%', '%ZZ', '%FF', '%E0%A4', '%C0%AF', '%00', '%ED%A0%80', '%F8%88%80%80%80'];
const rawQuery = fc.constantFrom(...RAW_QUERY).map((raw) => ({ raw }));
const cursorValue: fc.Arbitrary<QueryValue> = fc.oneof(
  { weight: 3, arbitrary: nastyString(PATH_MAX_REPEAT) },
  { weight: 2, arbitrary: fc.base64String({ maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<JsonSym>(
        { updatedAt: 1, roomId: 'x' },
        {},
        [],
        null,
        'cursor',
        { updatedAt: 'x' },
        { roomId: ref('roomOthers') },
      )
      .map((json): SymString => ({ $$b64json: json })),
  },
  // Well-formed but forged: allowed, and must show nothing but the caller's own rooms.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<JsonSym>(
        { updatedAt: '9999-12-31T00:00:00.000Z', roomId: ref('roomOthers') },
        { updatedAt: '0000', roomId: '' },
        { updatedAt: '', roomId: ref('roomMine') },
      )
      .map((json): SymString => ({ $$b64json: json })),
  },
  { weight: 1, arbitrary: rawQuery },
);
const messageQueryValue: fc.Arbitrary<QueryValue> = fc.oneof(
  messageIdOf(badUlidOf(PATH_MAX_REPEAT)),
  rawQuery,
);
const JUNK_NAMES = [
  'foo',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  'LIMIT',
  'Limit',
  'limit[]',
  'limit ',
  'roomId',
  'userId',
  'token',
  'senderId',
  '',
];
const junkQuery = fc.tuple(
  fc.oneof(fc.constantFrom(...JUNK_NAMES), fc.string({ maxLength: 8 })),
  fc.oneof(nastyString(PATH_MAX_REPEAT), rawQuery, fc.constant(ref('peer'))),
);

/**
 * Bodies of every kind, for the routes that read one and the routes that must ignore it. `payload` is
 * a valid body's field, so that a body broken only elsewhere (a bad byte in another key) still names it.
 */
function bodyOf(fields: fc.Arbitrary<Field[]>, payload: Field): fc.Arbitrary<Part[] | null> {
  const [key, value] = payload;
  return fc.oneof(
    { weight: 8, arbitrary: fields.map((f): Part[] => [{ fields: f }]) },
    {
      weight: 2,
      arbitrary: (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonSym>)
        .filter((json) => typeof json !== 'object' || json === null || Array.isArray(json))
        .map((json): Part[] => [{ json }]),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constantFrom(...NON_JSON).map((text): Part[] => [text]),
        fc.constantFrom<Part[]>(
          ['\ufeff', { fields: [payload] }],
          [{ fields: [payload] }, ' x'],
          [{ fields: [payload] }, { fields: [payload] }],
          [`{${JSON.stringify(key)}:`, { json: value }, ',}'],
        ),
        c0.map((control): Part[] => [{ fields: [payload] }, control]),
        c0.map((control): Part[] => [`{"x":"${control}",${JSON.stringify(key)}:`, { json: value }, '}']),
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(invalidUtf8, safeText(1, 6), fc.integer({ min: 0, max: 3 }))
        .map(([bytes, text, where]): Part[] => {
          const b = { bytes };
          const layouts: Part[][] = [
            [`{${JSON.stringify(key)}:"${text}`, b, '"}'],
            ['{"x', b, `":1,${JSON.stringify(key)}:`, { json: value }, '}'],
            ['{"x":"', b, `",${JSON.stringify(key)}:`, { json: value }, '}'],
            [{ fields: [payload] }, b],
          ];
          return layouts[where] ?? [b];
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 17 * 1024, max: 40 * 1024 })
        .map((n): Part[] => [{ fields: [payload, ['pad', repeat('x', n)]] }]),
    },
    { weight: 1, arbitrary: deep.map((d): Part[] => [{ fields: [payload, ['x', d]] }]) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
];
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const forgedHeaders = fc.oneof(
  { weight: 3, arbitrary: fc.constant<(readonly [string, SymString])[]>([]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(
        fc.constantFrom('x-user-id', 'x-amzn-oidc-identity', 'x-forwarded-user', 'x-apigateway-user'),
        fc.constant(ref('peer')),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  },
);

const messageIdBody = fc
  .tuple(
    fc.record(
      { messageId: fc.oneof({ weight: 5, arbitrary: messageIdValue }, { weight: 1, arbitrary: wrongType }) },
      { requiredKeys: [] },
    ),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant<Field[]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.oneof(
            fc.tuple(
              fc.constantFrom('userId', 'roomId', 'lastReadMessageId'),
              fc.oneof(fc.constant(ref('peer')), fc.constant(ref('roomOthers'))),
            ) as fc.Arbitrary<Field>,
            extraField,
          ),
          { minLength: 1, maxLength: 3 },
        ),
      },
    ),
  )
  .map(([own, more]): Field[] => [
    ...(own.messageId === undefined ? [] : [['messageId', own.messageId] as Field]),
    ...more,
  ]);

const displayNameValue: fc.Arbitrary<JsonSym> = fc.oneof(
  { weight: 3, arbitrary: safeText(1, 30) },
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.constant(''),
      whitespaceOnly,
      fc.integer({ min: 81, max: 300 }).map((n) => repeat('n', n)),
      fc.constant(repeat('😀', 81)),
      injected(c0),
      injected(del),
      injected(loneSurrogate),
    ),
  },
  { weight: 2, arbitrary: wrongType },
);
const avatarUrlValue: fc.Arbitrary<JsonSym> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'https://example.com/a.png',
      'https://cdn.example.org/u/1?s=64',
      'https://例え.jp/a',
      'HTTPS://EXAMPLE.COM/B',
    ),
  },
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.constantFrom(
        '',
        'http://example.com/a.png',
        'javascript:alert(1)',
        'data:image/png;base64,AAAA',
        'ftp://example.com/a',
        '//example.com/a',
        'example.com/a.png',
        'https://',
        'https:// space',
        'file:///etc/passwd',
        'https://exa mple.com',
      ),
      fc.constant(concat('https://e.com/', repeat('a', 3000))),
      nasty,
    ),
  },
  { weight: 2, arbitrary: wrongType },
);
const profileBody = fc
  .tuple(
    fc.record({ displayName: displayNameValue, avatarUrl: avatarUrlValue }, { requiredKeys: [] }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<Field[]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.oneof(
            fc.tuple(
              fc.constantFrom(
                'userId',
                'displayname',
                'avatarURL',
                '__proto__',
                'constructor',
                'connections',
              ),
              fc.constant(ref('peer')),
            ) as fc.Arbitrary<Field>,
            extraField,
          ),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
  )
  .map(([own, more]): Field[] => [
    ...Object.entries(own).flatMap(([key, value]) => (value === undefined ? [] : [[key, value] as Field])),
    ...more,
  ]);

// ------------------------------------------------------------------ upload forms and avatars

const fileNameValue: fc.Arbitrary<JsonSym> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.oneof(
      safeText(1, 40),
      fc.constantFrom<JsonSym>(
        'report.pdf',
        'Ünïcödé 中文 😀.docx',
        ' padded.txt ',
        "it's.txt",
        '.',
        '..',
        '%2e%2e',
        '<script>.png',
        repeat('n', 255),
        repeat('😀', 255),
        repeat('中', 255),
      ),
    ),
  },
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.constant(''),
      whitespaceOnly,
      fc.constantFrom<JsonSym>(repeat('n', 256), repeat('😀', 256), concat(' ', repeat('n', 256), ' ')),
      fc.constantFrom(
        '../etc/passwd',
        'a/b.txt',
        '/abs.txt',
        'a\\b.txt',
        'say "hi".txt',
        'tab\there.txt',
        'line\nbreak.txt',
        'cr\rhere.txt',
        'nel\u0085here.txt',
      ),
      injected(c0),
      injected(del),
      injected(c1),
      injected(loneSurrogate),
      nasty,
    ),
  },
  { weight: 2, arbitrary: wrongType },
);

const BAD_TYPES = [
  'image/svg+xml',
  'text/html',
  'application/octet-stream',
  'application/javascript',
  'image/png; charset=utf-8',
  'image/png,text/html',
  'image/*',
  '*/*',
  'image/png\u0000',
  'image/x-png',
  'image/jpg',
  'text/plain; charset=utf-8',
  'image / png',
  'image/pngx',
  'application/x-msdownload',
  '',
];
const contentTypeValue = (types: readonly string[]): fc.Arbitrary<JsonSym> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...types) },
    { weight: 1, arbitrary: fc.constantFrom(...types).map((type) => type.toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...types).map((type) => ` ${type}\n`) },
    { weight: 4, arbitrary: fc.constantFrom(...BAD_TYPES, 'image/gif', 'application/pdf', 'text/plain') },
    { weight: 1, arbitrary: nasty },
    { weight: 2, arbitrary: wrongType },
  );

const sizeValue = (limit: readonly JsonSym[]): fc.Arbitrary<JsonSym> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 100_000 }) },
    { weight: 2, arbitrary: fc.constantFrom(...limit) },
    {
      weight: 4,
      arbitrary: fc.constantFrom<JsonSym>(
        0,
        -1,
        1.5,
        1e-9,
        2 ** 53,
        2 ** 53 + 2,
        1e21,
        '10',
        '1e3',
        ' 5',
        null,
        true,
        [10],
        {
          size: 10,
        },
      ),
    },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: wrongType },
  );

/** A body's own fields, then the extra ones a confused handler might use. */
const withExtras = (
  own: fc.Arbitrary<Partial<Record<string, JsonSym>>>,
  names: readonly string[],
): fc.Arbitrary<Field[]> =>
  fc
    .tuple(
      own,
      fc.oneof(
        { weight: 3, arbitrary: fc.constant<Field[]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.oneof(
              fc.tuple(
                fc.constantFrom(...names),
                fc.oneof(fc.constant(ref('peer')), fc.constant(ref('roomOthers')), nasty),
              ) as fc.Arbitrary<Field>,
              extraField,
            ),
            { minLength: 1, maxLength: 2 },
          ),
        },
      ),
    )
    .map(([fields, more]): Field[] => [
      ...Object.entries(fields).flatMap(([key, value]) =>
        value === undefined ? [] : [[key, value] as Field],
      ),
      ...more,
    ]);

const UPLOAD_EXTRAS = [
  'key',
  'bucket',
  'roomId',
  'userId',
  'uploadId',
  'Content-Type',
  'filename',
  'tagging',
  'maxBytes',
];
const uploadBody = withExtras(
  fc.record(
    {
      fileName: fileNameValue,
      contentType: contentTypeValue(ATTACHMENT_TYPES),
      size: sizeValue([
        { $$maxUpload: 0 },
        { $$maxUpload: 1 },
        { $$maxUpload: -1 },
        { $$maxUpload: 1_000_000 },
      ]),
    },
    { requiredKeys: [] },
  ),
  UPLOAD_EXTRAS,
);
const avatarBody = withExtras(
  fc.record(
    {
      contentType: contentTypeValue(AVATAR_TYPES),
      size: sizeValue([MAX_AVATAR_BYTES, MAX_AVATAR_BYTES + 1, MAX_AVATAR_BYTES - 1, 25 * 1024 * 1024]),
    },
    { requiredKeys: [] },
  ),
  [...UPLOAD_EXTRAS, 'fileName', 'userId'],
);

/** `avatarUploadId` of PUT /users/me: the world's unsettable avatar uploads, ids of none, junk. */
const avatarUploadIdValue: fc.Arbitrary<JsonSym> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ref('avatarPeer'),
      ref('avatarNeverPosted'),
      ref('avatarFake'),
      ref('avatarFromAttachment'),
    ),
  },
  { weight: 1, arbitrary: hexId(32) },
  { weight: 3, arbitrary: badUploadId },
);
const avatarProfileBody = withExtras(
  fc.record(
    { displayName: displayNameValue, avatarUrl: avatarUrlValue, avatarUploadId: avatarUploadIdValue },
    { requiredKeys: ['avatarUploadId'] },
  ),
  ['avatarKey', 'userId'],
);

/** Anything at all as a body, for routes that take none. */
const ignoredBody = bodyOf(fc.array(extraField, { maxLength: 2 }), ['x', 1]);

const segmentSafe = (value: SymString) =>
  typeof value !== 'string' || (value !== '' && value !== '.' && value !== '..');
const RAW_SEGMENTS = [
  '%',
  '%ZZ',
  '%FF',
  '%E0%A4',
  '%C0%AF',
  '%ED%A0%80',
  'chat_%ZZ_b',
  '%00',
  '%2F',
  'a%2Fb',
  'chat_a%23_b',
];
const pathParam = (value: fc.Arbitrary<SymString>) =>
  fc.oneof(
    { weight: 8, arbitrary: value.filter(segmentSafe).map((v) => ({ value: v })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((raw) => ({ raw })) },
  );
const userParam = pathParam(
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(ref('me')) },
    { weight: 2, arbitrary: fc.constant(ref('peer')) },
    { weight: 2, arbitrary: fc.constant(ref('ghost')) },
    { weight: 2, arbitrary: nxId },
    {
      weight: 4,
      arbitrary: fc.oneof(
        nastyString(PATH_MAX_REPEAT),
        fc.integer({ min: 129, max: 300 }).map((n) => repeat('a', n)),
        fc.constantFrom(
          'a#b',
          'a/b',
          'ünïcode',
          'a b',
          'a%b',
          'nx!',
          concat(ref('me'), ' '),
          concat(ref('peer'), '#'),
        ),
      ),
    },
  ),
);

function restCase(
  route: RestRoute,
  param: fc.Arbitrary<RestCase['param']>,
  query: fc.Arbitrary<(readonly [string, QueryValue])[]>,
  body: fc.Arbitrary<Part[] | null>,
): fc.Arbitrary<RestCase> {
  return fc
    .record({ param, slash: fc.boolean(), query, body, contentType, headers: forgedHeaders })
    .map((c): RestCase => ({ route, ...c }));
}

export const restCases: Readonly<Record<RestRoute, fc.Arbitrary<RestCase>>> = {
  'GET /chat/list': restCase(
    'GET /chat/list',
    fc.constant(null),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant('limit'), limitValue),
        fc.tuple(fc.constant('cursor'), cursorValue),
        junkQuery,
      ),
      { maxLength: 4 },
    ),
    ignoredBody,
  ),
  'GET /chat/messages/{roomId}': restCase(
    'GET /chat/messages/{roomId}',
    pathParam(roomValue(PATH_MAX_REPEAT)),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant('limit'), limitValue),
        fc.tuple(fc.constantFrom('before', 'after'), messageQueryValue),
        junkQuery,
      ),
      { maxLength: 4 },
    ),
    ignoredBody,
  ),
  'POST /chat/start/{userId}': restCase(
    'POST /chat/start/{userId}',
    userParam,
    fc.array(junkQuery, { maxLength: 2 }),
    ignoredBody,
  ),
  'POST /chat/read/{roomId}': restCase(
    'POST /chat/read/{roomId}',
    pathParam(roomValue(PATH_MAX_REPEAT)),
    fc.array(junkQuery, { maxLength: 2 }),
    bodyOf(messageIdBody, ['messageId', ref('msgMine')]),
  ),
  'GET /users/me': restCase(
    'GET /users/me',
    fc.constant(null),
    fc.array(junkQuery, { maxLength: 3 }),
    ignoredBody,
  ),
  'PUT /users/me': restCase(
    'PUT /users/me',
    fc.constant(null),
    fc.array(junkQuery, { maxLength: 2 }),
    bodyOf(fc.oneof({ weight: 3, arbitrary: profileBody }, { weight: 1, arbitrary: avatarProfileBody }), [
      'displayName',
      'Fuzz name',
    ]),
  ),
  'POST /chat/uploads/{roomId}': restCase(
    'POST /chat/uploads/{roomId}',
    pathParam(roomValue(PATH_MAX_REPEAT)),
    fc.array(junkQuery, { maxLength: 2 }),
    bodyOf(uploadBody, ['fileName', 'fuzz.txt']),
  ),
  'POST /users/me/avatar': restCase(
    'POST /users/me/avatar',
    fc.constant(null),
    fc.array(junkQuery, { maxLength: 2 }),
    bodyOf(avatarBody, ['contentType', 'image/png']),
  ),
};

// ------------------------------------------------------------------ examples

const send = (fields: Field[]): WsCase => ({
  parts: [{ fields: [['action', 'sendMessage'], ...fields] }],
  binary: false,
});
const frame = (action: string, fields: Field[]): WsCase => ({
  parts: [{ fields: [['action', action], ...fields] }],
  binary: false,
});
const rest = (route: RestRoute, c: Partial<Omit<RestCase, 'route'>>): RestCase => ({
  route,
  param: null,
  slash: true,
  query: [],
  body: null,
  contentType: 'application/json',
  headers: [],
  ...c,
});
const mine = ref('roomMine');

/**
 * Cases every run starts with (fast-check `examples`): one or more of each kind the generators aim at,
 * including the ones that found defects, so that even a short run covers them.
 */
export const examples: Readonly<Record<Route, readonly (WsCase | RestCase)[]>> = {
  'ws sendMessage': [
    send([
      ['roomId', mine],
      ['content', 'C1 control \u0090 inside'],
      ['clientMessageId', ref('uniqueCmid')],
    ]),
    send([
      ['roomId', mine],
      ['content', 'lone \ud800 surrogate'],
    ]),
    send([
      ['roomId', mine],
      ['content', 'NUL \u0000 inside'],
    ]),
    send([
      ['roomId', mine],
      ['content', repeat('😀', 4001)],
    ]),
    send([
      ['roomId', mine],
      ['content', ' \n\t\u00a0\u3000 '],
    ]),
    send([
      ['roomId', mine],
      ['content', 'forged sender'],
      ['senderId', ref('peer')],
      ['clientMessageId', ref('uniqueCmid')],
    ]),
    send([
      ['roomId', ref('roomOthers')],
      ['content', 'let me in'],
      ['clientMessageId', ref('uniqueCmid')],
    ]),
    send([
      ['roomId', ref('roomNeverStarted')],
      ['content', 'hello?'],
    ]),
    send([
      ['roomId', mine],
      ['content', 'hi'],
      ['clientMessageId', repeat('k', 65)],
    ]),
    send([
      ['roomId', ref('roomOthers')],
      ['content', 'hi'],
      ['roomId', mine],
      ['senderId', ref('peer')],
    ]),
    send([
      ['roomId', mine],
      ['content', 'again'],
      ['clientMessageId', ref('probeCmid')],
    ]),
    send([
      ['roomId', { $$deep: ['[', 5000, true] }],
      ['content', 'deep'],
    ]),
    // Attachments: a good upload with empty content (accepted), then every way to get one wrong.
    send([
      ['roomId', mine],
      ['content', ''],
      ['clientMessageId', ref('uniqueCmid')],
      ['attachments', [{ uploadId: ref('uploadFresh') }]],
    ]),
    send([
      ['roomId', mine],
      ['clientMessageId', ref('uniqueCmid')],
      ['attachments', [{ uploadId: ref('uploadFresh') }]],
    ]),
    ...(['uploadPeer', 'uploadNeverPosted', 'uploadFake', 'uploadAttached'] as const).map((name) =>
      send([
        ['roomId', mine],
        ['content', `with ${name}`],
        ['clientMessageId', ref('uniqueCmid')],
        ['attachments', [{ uploadId: ref(name) }]],
      ]),
    ),
    send([
      ['roomId', mine],
      ['content', "a good upload beside another user's"],
      ['clientMessageId', ref('uniqueCmid')],
      ['attachments', [{ uploadId: ref('uploadFresh') }, { uploadId: ref('uploadPeer') }]],
    ]),
    send([
      ['roomId', mine],
      ['content', 'eleven'],
      ['attachments', Array.from({ length: 11 }, (_, i) => ({ uploadId: i.toString(16).repeat(32) }))],
    ]),
    send([
      ['roomId', mine],
      ['content', 'none'],
      ['attachments', []],
    ]),
    send([
      ['roomId', mine],
      ['content', 'not a list'],
      ['attachments', { uploadId: ref('uploadFresh') }],
    ]),
    send([
      ['roomId', mine],
      ['content', 'twice'],
      ['attachments', [{ uploadId: ref('uploadFresh') }, { uploadId: ref('uploadFresh') }]],
    ]),
    send([
      ['roomId', mine],
      ['content', 'upper case'],
      ['attachments', [{ uploadId: 'ABCDEF0123456789ABCDEF0123456789' }]],
    ]),
    send([
      ['roomId', mine],
      ['content', 'a key'],
      [
        'attachments',
        [{ uploadId: ref('uploadFresh'), key: concat('uploads/', mine, '/', ref('peer'), '/x') }],
      ],
    ]),
    send([
      ['roomId', mine],
      ['content', 'huge'],
      ['attachments', [{ uploadId: repeat('a', 30_000) }]],
    ]),
    send([
      ['roomId', ref('roomOthers')],
      ['content', ''],
      ['attachments', [{ uploadId: ref('uploadFresh') }]],
    ]),
    send([
      ['roomId', mine],
      ['content', ''],
      ['clientMessageId', ref('probeCmid')],
      ['attachments', [{ uploadId: ref('uploadPeer') }]],
    ]),
    send([
      ['roomId', mine],
      ['content', ''],
      ['clientMessageId', ref('uniqueCmid')],
    ]),
  ],
  'ws markRead': [
    frame('markRead', [
      ['roomId', mine],
      ['messageId', ref('msgOthers')],
    ]),
    frame('markRead', [
      ['roomId', ref('roomOthers')],
      ['messageId', ref('msgOthers')],
    ]),
    frame('markRead', [
      ['roomId', ref('roomNeverStarted')],
      ['messageId', ref('msgMine')],
    ]),
    frame('markRead', [
      ['roomId', mine],
      ['messageId', concat(ref('msgMine'), ' ')],
    ]),
    frame('markRead', [['roomId', mine]]),
  ],
  'ws typing': [
    frame('typing', [
      ['roomId', mine],
      ['isTyping', 'true'],
    ]),
    frame('typing', [
      ['roomId', ref('roomOthers')],
      ['isTyping', true],
    ]),
    frame('typing', [
      ['roomId', mine],
      ['isTyping', true],
      ['senderId', ref('peer')],
      ['userId', ref('peer')],
    ]),
    frame('typing', [['roomId', mine]]),
  ],
  'ws ping': [
    frame('ping', [
      ['x', { $$deep: ['{"a":', 2000, true] }],
      ['clientMessageId', '\ud800'],
    ]),
    frame('PING', [['clientMessageId', 'c-1']]),
  ],
  'ws unknown action': [
    frame('$connect', [['clientMessageId', 'c-2']]),
    frame('__proto__', []),
    frame('sendMessage\u0000', [
      ['roomId', mine],
      ['content', 'hi'],
    ]),
  ],
  'ws $default': [
    { parts: ['hello {'], binary: false },
    { parts: ['[1,2]'], binary: false },
    { parts: [{ json: { $$deep: ['[', 6000, true] } }], binary: false },
    { parts: ['\ufeff', { fields: [['action', 'ping']] }], binary: false },
    { parts: [''], binary: false },
    {
      parts: [
        {
          fields: [
            ['action', null],
            ['clientMessageId', 'c-3'],
          ],
        },
      ],
      binary: false,
    },
  ],
  'ws raw bytes': [
    {
      parts: [
        '{"action":"sendMessage","roomId":',
        { json: mine },
        ',"content":"bad ',
        { bytes: [0xff] },
        '"}',
      ],
      binary: false,
    },
    {
      parts: [
        {
          fields: [
            ['action', 'sendMessage'],
            ['roomId', mine],
            ['content', 'binary'],
          ],
        },
      ],
      binary: true,
    },
    {
      parts: [
        {
          fields: [
            ['action', 'sendMessage'],
            ['roomId', mine],
            ['content', { $$pad: 1 }],
          ],
        },
      ],
      binary: false,
    },
  ],
  'GET /chat/list': [
    rest('GET /chat/list', { query: [['limit', '0']] }),
    rest('GET /chat/list', { query: [['limit', '101']] }),
    rest('GET /chat/list', {
      query: [
        ['limit', '5'],
        ['limit', '7'],
      ],
    }),
    rest('GET /chat/list', { query: [['cursor', 'not-a-cursor']] }),
    rest('GET /chat/list', {
      query: [['cursor', { $$b64json: { updatedAt: '9999', roomId: ref('roomOthers') } }]],
    }),
  ],
  'GET /chat/messages/{roomId}': [
    rest('GET /chat/messages/{roomId}', { param: { value: ref('roomOthers') } }),
    rest('GET /chat/messages/{roomId}', { param: { value: ref('roomNeverStarted') } }),
    rest('GET /chat/messages/{roomId}', {
      param: { value: mine },
      query: [
        ['before', ref('msgMine')],
        ['after', ref('msgMine')],
      ],
    }),
    rest('GET /chat/messages/{roomId}', { param: { value: mine }, query: [['limit', 'abc']] }),
    rest('GET /chat/messages/{roomId}', { param: { value: mine }, query: [['after', ref('msgOthers')]] }),
    rest('GET /chat/messages/{roomId}', { param: { raw: '%ED%A0%80' } }),
  ],
  'POST /chat/start/{userId}': [
    rest('POST /chat/start/{userId}', { param: { value: ref('me') } }),
    rest('POST /chat/start/{userId}', { param: { value: ref('ghost') } }),
    rest('POST /chat/start/{userId}', { param: { value: 'a#b' } }),
    rest('POST /chat/start/{userId}', {
      param: { value: ref('peer') },
      headers: [['x-user-id', ref('ghost')]],
    }),
  ],
  'POST /chat/read/{roomId}': [
    rest('POST /chat/read/{roomId}', {
      param: { value: mine },
      body: ['{"x', { bytes: [0xff] }, '":1,"messageId":', { json: ref('msgMine') }, '}'],
    }),
    rest('POST /chat/read/{roomId}', {
      param: { value: ref('roomOthers') },
      body: [{ fields: [['messageId', ref('msgOthers')]] }],
    }),
    rest('POST /chat/read/{roomId}', {
      param: { value: mine },
      body: [{ fields: [['messageId', ref('msgOthers')]] }],
    }),
    rest('POST /chat/read/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['messageId', ref('msgMine')],
            ['userId', ref('peer')],
          ],
        },
      ],
    }),
    rest('POST /chat/read/{roomId}', { param: { value: mine }, body: null }),
  ],
  'GET /users/me': [
    rest('GET /users/me', { query: [['userId', ref('peer')]], headers: [['x-user-id', ref('peer')]] }),
  ],
  'PUT /users/me': [
    rest('PUT /users/me', { body: ['{"displayName":"bad ', { bytes: [0xff] }, '"}'] }),
    rest('PUT /users/me', {
      body: [
        {
          fields: [
            ['displayName', 'Mallory'],
            ['userId', ref('peer')],
          ],
        },
      ],
    }),
    rest('PUT /users/me', { body: [{ fields: [['displayName', repeat('n', 81)]] }] }),
    rest('PUT /users/me', { body: [{ fields: [['avatarUrl', 'http://example.com/a.png']] }] }),
    rest('PUT /users/me', {
      body: [
        {
          fields: [
            ['displayName', 'Deep'],
            ['x', repeat('x', 17 * 1024)],
          ],
        },
      ],
    }),
    rest('PUT /users/me', { body: [{ fields: [['displayName', 'lone \udc00']] }] }),
    ...(['avatarPeer', 'avatarNeverPosted', 'avatarFake', 'avatarFromAttachment'] as const).map((name) =>
      rest('PUT /users/me', { body: [{ fields: [['avatarUploadId', ref(name)]] }] }),
    ),
    rest('PUT /users/me', {
      body: [
        {
          fields: [
            ['avatarUploadId', ref('avatarPeer')],
            ['avatarUrl', 'https://example.com/a.png'],
          ],
        },
      ],
    }),
    rest('PUT /users/me', { body: [{ fields: [['avatarUploadId', null]] }] }),
  ],
  'POST /chat/uploads/{roomId}': [
    rest('POST /chat/uploads/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['fileName', 'ok.txt'],
            ['contentType', 'text/plain'],
            ['size', 5],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: ref('roomOthers') },
      body: [
        {
          fields: [
            ['fileName', 'ok.txt'],
            ['contentType', 'text/plain'],
            ['size', 5],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: ref('roomNeverStarted') },
      body: [
        {
          fields: [
            ['fileName', 'ok.txt'],
            ['contentType', 'text/plain'],
            ['size', 5],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['fileName', 'big.zip'],
            ['contentType', 'application/zip'],
            ['size', { $$maxUpload: 1 }],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['fileName', 'x.svg'],
            ['contentType', 'image/svg+xml'],
            ['size', 5],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['fileName', 'empty.txt'],
            ['contentType', 'text/plain'],
            ['size', 0],
          ],
        },
      ],
    }),
    rest('POST /chat/uploads/{roomId}', {
      param: { value: mine },
      body: [
        {
          fields: [
            ['fileName', '../../a.txt'],
            ['contentType', 'text/plain'],
            ['size', 5],
            ['key', concat('uploads/', mine, '/', ref('peer'), '/x')],
          ],
        },
      ],
    }),
  ],
  'POST /users/me/avatar': [
    rest('POST /users/me/avatar', {
      body: [
        {
          fields: [
            ['contentType', 'image/png'],
            ['size', 100],
          ],
        },
      ],
    }),
    rest('POST /users/me/avatar', {
      body: [
        {
          fields: [
            ['contentType', 'image/gif'],
            ['size', 100],
          ],
        },
      ],
    }),
    rest('POST /users/me/avatar', {
      body: [
        {
          fields: [
            ['contentType', 'image/png'],
            ['size', MAX_AVATAR_BYTES + 1],
          ],
        },
      ],
    }),
    rest('POST /users/me/avatar', {
      body: [
        {
          fields: [
            ['contentType', 'image/png'],
            ['size', 100],
            ['fileName', 'me.png'],
          ],
        },
      ],
    }),
  ],
};
