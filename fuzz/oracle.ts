/**
 * The checking oracle: what the contract says a request must get (predictWs, predictRest), and the
 * checks of what came back (error shape, stable code, echo, no internal detail).
 */
import { isUtf8 } from 'node:buffer';
import type { HttpRequestSpec } from './materialize.js';
import {
  ATTACHMENT_TYPES,
  AVATAR_TYPES,
  attachmentIdsOf,
  avatarUrlIsValid,
  clientMessageIdIsValid,
  contentIsValid,
  contentTypeOf,
  cursorCouldBeGenuine,
  displayNameIsValid,
  ERROR_CODES,
  type ErrorCode,
  fileNameIsValid,
  isPlainObject,
  isRoomName,
  isUlid,
  isUploadId,
  isUserId,
  limitIsValid,
  MAX_AVATAR_BYTES,
  own,
  roomCandidates,
  STATUS_OF,
  sizeProblem,
  tryDecodeURIComponent,
  tryParseJson,
} from './model.js';
import type { Profile, StoredMessage, World } from './world.js';

// ------------------------------------------------------------------ predictions

export type WsExpectation =
  | {
      readonly kind: 'error';
      readonly code: ErrorCode;
      /** The frame as the server parsed it, for the echo of `action` and `clientMessageId`. */
      readonly request: Record<string, unknown> | undefined;
    }
  | { readonly kind: 'pong' }
  | {
      readonly kind: 'ack';
      readonly content: string;
      readonly clientMessageId: string | undefined;
      /** Set when the clientMessageId was used before: the answer is that message, nothing is stored. */
      readonly existing: StoredMessage | undefined;
      /** A new message's uploads, in order (each passes the check: the message carries them). */
      readonly attachments: readonly string[] | undefined;
    }
  | { readonly kind: 'typing'; readonly isTyping: boolean }
  | { readonly kind: 'close'; readonly code: 1003 | 1007 | 1009; readonly why: string }
  /** A valid markRead of a message already read: it answers nothing at all, so it cannot be observed. */
  | { readonly kind: 'unobservable' };

/** Whether the caller may use a well-formed room: 403 for rooms of others, 404 for never started. */
function access(world: World, roomId: string): 'ok' | 'forbidden' | 'not_found' {
  if (!roomCandidates(roomId).includes(world.me.userId)) return 'forbidden';
  return roomId === world.roomMine ? 'ok' : 'not_found';
}

export function predictWs(world: World, bytes: Buffer, binary: boolean): WsExpectation {
  if (binary) return { kind: 'close', code: 1003, why: 'binary frames are not accepted' };
  if (bytes.length > world.target.maxFrameBytes) {
    return {
      kind: 'close',
      code: 1009,
      why: `frame of ${bytes.length} bytes > ${world.target.maxFrameBytes}`,
    };
  }
  if (!isUtf8(bytes)) return { kind: 'close', code: 1007, why: 'RFC 6455: a text frame must be UTF-8' };

  const parsed = tryParseJson(bytes.toString('utf8'));
  const request = parsed.ok && isPlainObject(parsed.value) ? parsed.value : undefined;
  const error = (code: ErrorCode): WsExpectation => ({ kind: 'error', code, request });
  if (request === undefined) return error('bad_request');
  const action = own(request, 'action');
  const roomId = own(request, 'roomId');

  switch (action) {
    case 'ping':
      return { kind: 'pong' };
    case 'sendMessage': {
      const content = own(request, 'content');
      const cmid = own(request, 'clientMessageId');
      const listed = own(request, 'attachments');
      const uploads = listed === undefined ? undefined : attachmentIdsOf(listed);
      // With attachments the content may be empty or absent (docs/api.md "Files").
      const blank = content === undefined || (typeof content === 'string' && content.trim() === '');
      if (
        (cmid !== undefined && !clientMessageIdIsValid(cmid)) ||
        !isRoomName(roomId) ||
        (listed !== undefined && uploads === undefined) ||
        !(contentIsValid(content) || (uploads !== undefined && blank))
      ) {
        return error('bad_request');
      }
      const allowed = access(world, roomId);
      if (allowed !== 'ok') return error(allowed);
      const clientMessageId = cmid as string | undefined;
      const existing = clientMessageId === undefined ? undefined : world.sentByMe.get(clientMessageId);
      // A retry answers the stored message whatever it names; a new message gets its uploads only if
      // every one passes the check (nothing is claimed otherwise).
      if (existing === undefined && uploads?.some((id) => !attachable(world, id, clientMessageId))) {
        return error('bad_request');
      }
      return {
        kind: 'ack',
        content: typeof content === 'string' ? content.trim() : '',
        clientMessageId,
        existing,
        attachments: existing === undefined ? uploads : undefined,
      };
    }
    case 'markRead': {
      const messageId = own(request, 'messageId');
      if (!isRoomName(roomId) || !isUlid(messageId)) return error('bad_request');
      const allowed = access(world, roomId);
      if (allowed !== 'ok') return error(allowed);
      if (!world.messagesInMine.has(messageId)) return error('not_found');
      return { kind: 'unobservable' };
    }
    case 'typing': {
      const isTyping = own(request, 'isTyping');
      if (!isRoomName(roomId) || typeof isTyping !== 'boolean') return error('bad_request');
      const allowed = access(world, roomId);
      if (allowed !== 'ok') return error(allowed);
      return { kind: 'typing', isTyping };
    }
    default:
      return error('bad_request');
  }
}

/** The claim a send makes on its uploads: its clientMessageId, or (without one) itself alone. */
export const claimOf = (clientMessageId: string | undefined) =>
  clientMessageId === undefined ? 'attempt' : `cmid:${clientMessageId}`;

/**
 * Whether an upload passes the check for a send: me's, made for roomMine, posted with bytes of its
 * declared type and size, and claimed by no other send (the same clientMessageId may claim it again).
 */
function attachable(world: World, uploadId: string, clientMessageId: string | undefined): boolean {
  const upload = world.uploads.get(uploadId);
  const claim = world.claims.get(uploadId);
  return (
    upload?.kind === 'attachment' &&
    upload.owner === 'me' &&
    upload.roomId === world.roomMine &&
    upload.valid &&
    (claim === undefined || (clientMessageId !== undefined && claim === claimOf(clientMessageId)))
  );
}

export type RestExpectation =
  | { readonly kind: 'reject'; readonly codes: readonly ErrorCode[] }
  /** An upload form (201) for `key` + its uploadId, binding `contentType`. */
  | {
      readonly kind: 'upload';
      readonly keyPrefix: string;
      readonly contentType: string;
      readonly maxBytes: number;
    }
  | { readonly kind: 'list'; readonly cursor: boolean }
  | { readonly kind: 'messages' }
  | { readonly kind: 'room'; readonly status: 200 }
  | { readonly kind: 'read' }
  | { readonly kind: 'profile'; readonly profile: Profile };

const ROUTES: readonly { method: string; pattern: RegExp; name: string }[] = [
  { method: 'GET', pattern: /^\/chat\/list\/?$/, name: 'list' },
  { method: 'GET', pattern: /^\/chat\/messages\/([^/]+)\/?$/, name: 'messages' },
  { method: 'POST', pattern: /^\/chat\/start\/([^/]+)\/?$/, name: 'start' },
  { method: 'POST', pattern: /^\/chat\/read\/([^/]+)\/?$/, name: 'read' },
  { method: 'GET', pattern: /^\/users\/me\/?$/, name: 'me' },
  { method: 'PUT', pattern: /^\/users\/me\/?$/, name: 'updateMe' },
  { method: 'POST', pattern: /^\/chat\/uploads\/([^/]+)\/?$/, name: 'upload' },
  { method: 'POST', pattern: /^\/users\/me\/avatar\/?$/, name: 'avatarUpload' },
];

/** The request as API Gateway hands it over: route, decoded path parameter, query joined by commas. */
function parseRequest(request: HttpRequestSpec) {
  const url = new URL(request.path, 'http://localhost');
  const route = ROUTES.find((r) => r.method === request.method && r.pattern.test(url.pathname));
  if (!route) throw new Error(`harness: ${request.method} ${request.path} reaches no route`);
  const raw = route.pattern.exec(url.pathname)?.[1];
  const query = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const before = query.get(name);
    query.set(name, before === undefined ? value : `${before},${value}`);
  }
  return { name: route.name, param: raw === undefined ? undefined : tryDecodeURIComponent(raw), query };
}

/** Body rules shared by the routes that read one: present, at most 16 KB, UTF-8, a JSON object. */
function jsonObjectBody(body: Buffer | undefined): { codes: ErrorCode[]; value?: Record<string, unknown> } {
  if (body === undefined || body.length === 0) return { codes: ['bad_request'] };
  const codes: ErrorCode[] = [];
  // The limit is the implementation's (16 KB); generated bodies are far from it either way.
  if (body.length > 16 * 1024 || Buffer.byteLength(body.toString('utf8')) > 16 * 1024)
    codes.push('too_large');
  if (!isUtf8(body)) return { codes: [...codes, 'bad_request'] };
  const parsed = tryParseJson(body.toString('utf8'));
  if (!parsed.ok || !isPlainObject(parsed.value)) return { codes: [...codes, 'bad_request'] };
  return codes.length > 0 ? { codes } : { codes, value: parsed.value };
}

export function predictRest(world: World, request: HttpRequestSpec): RestExpectation {
  const { name, param, query } = parseRequest(request);
  const reject = (...codes: ErrorCode[]): RestExpectation => ({ kind: 'reject', codes });
  const limit = query.get('limit');
  const limitBad = limit !== undefined && !limitIsValid(limit);
  switch (name) {
    case 'list': {
      const cursor = query.get('cursor');
      const cursorBad = cursor !== undefined && cursor !== '' && !cursorCouldBeGenuine(cursor);
      if (limitBad || cursorBad) return reject('bad_request');
      return { kind: 'list', cursor: cursor !== undefined && cursor !== '' };
    }
    case 'messages': {
      const before = query.get('before');
      const after = query.get('after');
      if (
        !isRoomName(param) ||
        limitBad ||
        (before !== undefined && !isUlid(before)) ||
        (after !== undefined && !isUlid(after)) ||
        (before !== undefined && after !== undefined)
      ) {
        return reject('bad_request');
      }
      const allowed = access(world, param);
      return allowed === 'ok' ? { kind: 'messages' } : reject(allowed);
    }
    case 'start': {
      if (!isUserId(param) || param === world.me.userId) return reject('bad_request');
      return param === world.peer.userId ? { kind: 'room', status: 200 } : reject('not_found');
    }
    case 'read': {
      const body = jsonObjectBody(request.body);
      const codes = [...body.codes];
      if (!isRoomName(param)) codes.push('bad_request');
      const messageId = body.value === undefined ? undefined : own(body.value, 'messageId');
      if (body.value !== undefined && !isUlid(messageId)) codes.push('bad_request');
      if (codes.length > 0 || !isRoomName(param) || !isUlid(messageId)) return reject(...codes);
      const allowed = access(world, param);
      if (allowed !== 'ok') return reject(allowed);
      return world.messagesInMine.has(messageId) ? { kind: 'read' } : reject('not_found');
    }
    case 'me':
      return { kind: 'profile', profile: { ...world.profile } };
    case 'updateMe': {
      const body = jsonObjectBody(request.body);
      if (body.value === undefined) return reject(...body.codes);
      const fields = body.value;
      const displayName = own(fields, 'displayName');
      const avatarUrl = own(fields, 'avatarUrl');
      const avatarUploadId = own(fields, 'avatarUploadId');
      if (
        Object.keys(fields).some((key) => !['displayName', 'avatarUrl', 'avatarUploadId'].includes(key)) ||
        (displayName === undefined && avatarUrl === undefined && avatarUploadId === undefined) ||
        (avatarUrl !== undefined && avatarUploadId !== undefined) ||
        (displayName !== undefined && !displayNameIsValid(displayName)) ||
        (avatarUrl !== undefined && !avatarUrlIsValid(avatarUrl)) ||
        (avatarUploadId !== undefined && !settableAvatar(world, avatarUploadId))
      ) {
        return reject('bad_request');
      }
      if (avatarUploadId !== undefined) {
        // Its avatarUrl would be signed per answer: the generators never name a settable avatar.
        throw new Error(`harness: ${String(avatarUploadId)} is a settable avatar`);
      }
      return {
        kind: 'profile',
        profile: {
          displayName: displayName === undefined ? world.profile.displayName : displayName.trim(),
          avatarUrl: avatarUrl === undefined ? world.profile.avatarUrl : avatarUrl,
        },
      };
    }
    case 'upload': {
      const body = jsonObjectBody(request.body);
      const codes = [...body.codes];
      if (!isRoomName(param)) codes.push('bad_request');
      if (body.value !== undefined)
        codes.push(
          ...formProblems(
            body.value,
            ['fileName', 'contentType', 'size'],
            world.maxUploadBytes,
            ATTACHMENT_TYPES,
          ),
        );
      if (codes.length > 0 || body.value === undefined || !isRoomName(param)) return reject(...codes);
      const allowed = access(world, param);
      if (allowed !== 'ok') return reject(allowed);
      return {
        kind: 'upload',
        keyPrefix: `uploads/${world.roomMine}/${world.me.userId}/`,
        contentType: contentTypeOf(own(body.value, 'contentType'), ATTACHMENT_TYPES) ?? '',
        maxBytes: world.maxUploadBytes,
      };
    }
    case 'avatarUpload': {
      const body = jsonObjectBody(request.body);
      if (body.value === undefined) return reject(...body.codes);
      const codes = formProblems(body.value, ['contentType', 'size'], MAX_AVATAR_BYTES, AVATAR_TYPES);
      if (codes.length > 0) return reject(...codes);
      return {
        kind: 'upload',
        keyPrefix: `avatars/${world.me.userId}/`,
        contentType: contentTypeOf(own(body.value, 'contentType'), AVATAR_TYPES) ?? '',
        maxBytes: MAX_AVATAR_BYTES,
      };
    }
    default:
      throw new Error(`harness: no prediction for ${name}`);
  }
}

/**
 * What is wrong with an upload request's body (docs/api.md "Files"): unknown fields, a bad name or
 * type, an empty or fractional size are 400; a size over the limit 413. Several problems: any of
 * their codes.
 */
function formProblems(
  body: Record<string, unknown>,
  fields: readonly string[],
  maxBytes: number,
  types: readonly string[],
): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (Object.keys(body).some((key) => !fields.includes(key))) codes.push('bad_request');
  if (fields.includes('fileName') && !fileNameIsValid(own(body, 'fileName'))) codes.push('bad_request');
  if (contentTypeOf(own(body, 'contentType'), types) === undefined) codes.push('bad_request');
  codes.push(...(sizeProblem(own(body, 'size'), maxBytes) ?? []));
  return codes;
}

/** Whether PUT /users/me may set this avatar upload: me's, posted with bytes of its type. */
function settableAvatar(world: World, value: unknown): boolean {
  const upload = isUploadId(value) ? world.uploads.get(value) : undefined;
  return upload?.kind === 'avatar' && upload.owner === 'me' && upload.valid;
}

// ------------------------------------------------------------------ checks

/**
 * Internal detail a client must never see: stack frames, source files and paths, Node's error names,
 * AWS SDK exception names, and the marks of a value printed by accident.
 */
const LEAK =
  /\bat\s+\S+\s+\(|\n\s*at\s|\.(?:ts|js|mjs|cjs)\b|node_modules|"stack"|\b(?:Type|Reference|Syntax|Range|URI|Eval|Aggregate)?Error:|\/(?:work|home|tmp|var|usr|opt)\/|file:\/\/|[A-Z][A-Za-z]+Exception\b|\bDynamoDB\b|\bundefined\b|\[object Object\]|\bNaN\b/;

/** The strings of a parsed request that a message may quote back (keys and string values, top level). */
export function echoable(value: unknown, extra: readonly string[] = []): string[] {
  const found: string[] = [...extra];
  if (typeof value === 'string') found.push(value);
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      found.push(key);
      if (typeof item === 'string') found.push(item);
    }
  }
  return found.filter((s) => s.length > 0);
}

/** The first piece of internal detail in `text` once quoted input is taken out, if any. */
export function leakIn(text: string, inputs: readonly string[]): string | undefined {
  let scrubbed = text;
  const forms = inputs.flatMap((input) => [input, JSON.stringify(input).slice(1, -1)]);
  for (const input of forms.sort((a, b) => b.length - a.length)) {
    if (input.length > 0) scrubbed = scrubbed.split(input).join('');
  }
  return LEAK.exec(scrubbed)?.[0];
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
}

/** API.md's REST error: the status of one of `codes`, `{"error": {"code", "message"}}` and nothing else. */
export function restErrorProblems(
  answer: HttpAnswer,
  codes: readonly ErrorCode[],
  inputs: readonly string[],
): string[] {
  const problems: string[] = [];
  const expected = codes.map((code) => `${STATUS_OF[code]} ${code}`).join(' or ');
  if (answer.status >= 500) problems.push(`a ${answer.status} (never a 5xx)`);
  const parsed = tryParseJson(answer.text);
  const error = parsed.ok && isPlainObject(parsed.value) ? parsed.value.error : undefined;
  const code = isPlainObject(error) ? error.code : undefined;
  const message = isPlainObject(error) ? error.message : undefined;
  if (!codes.some((c) => STATUS_OF[c] === answer.status && c === code)) {
    problems.push(`expected ${expected}, got ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  if (
    answer.status >= 400 &&
    (!parsed.ok ||
      !isPlainObject(parsed.value) ||
      Object.keys(parsed.value).join() !== 'error' ||
      !isPlainObject(error) ||
      Object.keys(error).sort().join() !== 'code,message' ||
      typeof message !== 'string' ||
      message.length === 0)
  ) {
    problems.push(`not the contract's error shape: ${answer.text.slice(0, 300)}`);
  }
  if (!/^application\/json/.test(answer.contentType ?? ''))
    problems.push(`content-type ${answer.contentType}`);
  const leak = leakIn(answer.text, inputs);
  if (leak !== undefined) problems.push(`internal detail "${leak}" in ${answer.text.slice(0, 300)}`);
  return problems;
}

/** API.md's WebSocket error frame, with `action` and `clientMessageId` echoed when they were strings. */
export function wsErrorProblems(
  frame: unknown,
  text: string,
  code: ErrorCode,
  request: Record<string, unknown> | undefined,
  inputs: readonly string[],
): string[] {
  const problems: string[] = [];
  if (!isPlainObject(frame) || frame.type !== 'error') {
    return [`expected an error frame (${code}), got ${text.slice(0, 300)}`];
  }
  if (frame.code !== code) problems.push(`expected code ${code}, got ${text.slice(0, 300)}`);
  if (!ERROR_CODES.includes(frame.code as ErrorCode))
    problems.push(`code ${String(frame.code)} is not in API.md`);
  if (typeof frame.message !== 'string' || frame.message.length === 0) problems.push('no message');
  const allowed = ['type', 'code', 'message', 'action', 'clientMessageId'];
  const extra = Object.keys(frame).filter((key) => !allowed.includes(key));
  if (extra.length > 0) problems.push(`unexpected keys ${extra.join(', ')}`);
  for (const key of ['action', 'clientMessageId']) {
    const sent = request === undefined ? undefined : own(request, key);
    const echoed = own(frame, key);
    if (
      typeof sent === 'string'
        ? echoed !== sent
        : echoed !== undefined && JSON.stringify(echoed) !== JSON.stringify(sent)
    ) {
      problems.push(
        `${key}: sent ${JSON.stringify(sent)?.slice(0, 80)}, echoed ${JSON.stringify(echoed)?.slice(0, 80)}`,
      );
    }
  }
  const leak = leakIn(text, inputs);
  if (leak !== undefined) problems.push(`internal detail "${leak}" in ${text.slice(0, 300)}`);
  return problems;
}
