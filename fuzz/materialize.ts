/** Turns a symbolic case into the bytes and the request actually sent, against one world. */
import type { JsonSym, Part, QueryValue, Ref, RestCase, RestRoute, SymString, WsCase } from './cases.js';
import { roomOf } from './model.js';
import { UNKNOWN_UPLOAD, type World } from './world.js';

function resolveRef(world: World, name: Ref): string {
  switch (name) {
    case 'me':
      return world.me.userId;
    case 'peer':
      return world.peer.userId;
    case 'ghost':
      return world.ghost;
    case 'roomMine':
      return world.roomMine;
    case 'roomOthers':
      return world.roomOthers;
    case 'roomNeverStarted':
      return world.roomNeverStarted;
    case 'msgMine':
      return world.msgMine;
    case 'msgOthers':
      return world.msgOthers;
    case 'uniqueCmid':
      world.counter += 1;
      return `u-${world.base}-${world.counter}`;
    case 'probeCmid':
      // REST worlds have no probe message; any fresh id is as good there.
      return world.probeCmid ?? `p-${world.base}`;
    case 'uploadFresh':
      // The first good upload no send has claimed; once all are, the last (now refused: attached).
      return (
        world.freshUploads.find((id) => !world.claims.has(id)) ?? world.freshUploads.at(-1) ?? UNKNOWN_UPLOAD
      );
    case 'uploadPeer':
    case 'uploadNeverPosted':
    case 'uploadFake':
    case 'uploadAttached':
    case 'avatarPeer':
    case 'avatarNeverPosted':
    case 'avatarFake':
    case 'avatarFromAttachment':
      // A world without files: a well-formed id of no upload, refused all the same.
      return world.fileRefs[name] ?? UNKNOWN_UPLOAD;
  }
}

const isSym = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  (Object.keys(value)[0] ?? '').startsWith('$$');

export function resolveString(world: World, value: SymString): string {
  if (typeof value === 'string') return value;
  if ('$$ref' in value) return resolveRef(world, value.$$ref);
  if ('$$concat' in value) return value.$$concat.map((part) => resolveString(world, part)).join('');
  if ('$$roomOf' in value) {
    const [a, b] = value.$$roomOf;
    return roomOf(resolveString(world, a), resolveString(world, b));
  }
  if ('$$repeat' in value) return value.$$repeat[0].repeat(value.$$repeat[1]);
  if ('$$b64json' in value) return Buffer.from(toJsonText(world, value.$$b64json)).toString('base64url');
  if ('$$maxUpload' in value) return String(world.maxUploadBytes + value.$$maxUpload);
  throw new Error(`${JSON.stringify(value)} is not a string value`);
}

const CLOSE: Record<string, string> = { '[': ']', '{"a":': '}', '{"a":[': ']}' };

/** JSON text for a symbolic value; JSON.stringify does the escaping (lone surrogates as \uXXXX). */
export function toJsonText(world: World, value: JsonSym): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item: JsonSym) => toJsonText(world, item)).join(',')}]`;
  if (isSym(value)) {
    if ('$$deep' in value) {
      const [open, depth, balanced] = value.$$deep as [string, number, boolean];
      return `${open.repeat(depth)}0${balanced ? (CLOSE[open] ?? '').repeat(depth) : ''}`;
    }
    if ('$$pad' in value) {
      return JSON.stringify('x'.repeat(world.target.maxFrameBytes + (value.$$pad as number)));
    }
    if ('$$maxUpload' in value) return String(world.maxUploadBytes + (value.$$maxUpload as number));
    return JSON.stringify(resolveString(world, value as SymString));
  }
  const entries = Object.entries(value as unknown as Record<string, JsonSym>);
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(world, item)}`).join(',')}}`;
}

/** The bytes of a frame or body. A lone surrogate in raw text becomes U+FFFD, as on any wire. */
export function toBytes(world: World, parts: readonly Part[]): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      if (typeof part === 'string') return Buffer.from(part, 'utf8');
      if ('bytes' in part) return Buffer.from(part.bytes);
      if ('json' in part) return Buffer.from(toJsonText(world, part.json), 'utf8');
      const fields = part.fields.map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(world, item)}`);
      return Buffer.from(`{${fields.join(',')}}`, 'utf8');
    }),
  );
}

export interface Frame {
  readonly bytes: Buffer;
  readonly binary: boolean;
}

export const wsFrame = (world: World, c: WsCase): Frame => ({
  bytes: toBytes(world, c.parts),
  binary: c.binary,
});

/** encodeURIComponent over UTF-8 bytes, so that lone surrogates go out as U+FFFD instead of throwing. */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const TEMPLATES: Readonly<Record<RestRoute, { method: string; prefix: string; param: boolean }>> = {
  'GET /chat/list': { method: 'GET', prefix: '/chat/list', param: false },
  'GET /chat/messages/{roomId}': { method: 'GET', prefix: '/chat/messages/', param: true },
  'POST /chat/start/{userId}': { method: 'POST', prefix: '/chat/start/', param: true },
  'POST /chat/read/{roomId}': { method: 'POST', prefix: '/chat/read/', param: true },
  'GET /users/me': { method: 'GET', prefix: '/users/me', param: false },
  'PUT /users/me': { method: 'PUT', prefix: '/users/me', param: false },
  'POST /chat/uploads/{roomId}': { method: 'POST', prefix: '/chat/uploads/', param: true },
  'POST /users/me/avatar': { method: 'POST', prefix: '/users/me/avatar', param: false },
};

export interface HttpRequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
}

const queryValue = (world: World, value: QueryValue) =>
  typeof value === 'object' && 'raw' in value ? value.raw : percentEncode(resolveString(world, value));

export function restRequest(world: World, c: RestCase): HttpRequestSpec {
  const template = TEMPLATES[c.route];
  let path = template.prefix;
  if (template.param) {
    if (c.param === null) throw new Error(`${c.route} needs a path parameter`);
    path += 'raw' in c.param ? c.param.raw : percentEncode(resolveString(world, c.param.value));
  }
  if (c.slash) path += '/';
  if (c.query.length > 0) {
    path += `?${c.query.map(([name, value]) => `${percentEncode(name)}=${queryValue(world, value)}`).join('&')}`;
  }
  const headers: Record<string, string> = { authorization: `Bearer ${world.me.token}` };
  for (const [name, value] of c.headers) headers[name] = resolveString(world, value);
  if (c.contentType !== null) headers['content-type'] = c.contentType;
  return {
    method: template.method,
    path,
    headers,
    body: c.body === null ? undefined : toBytes(world, c.body),
  };
}
