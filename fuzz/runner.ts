/**
 * Runs the generated cases of one route against a world and applies the oracle to each: the exact
 * refusal, the connection still open (ping → pong), nothing stored or changed, no internal detail, and
 * a valid request of the same route still served afterwards.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import {
  examples,
  isWsRoute,
  type RestCase,
  type RestRoute,
  type Route,
  restCases,
  type WsCase,
  type WsRoute,
  wsCases,
} from './cases.js';
import { send, sendJson } from './http.js';
import { type HttpRequestSpec, restRequest, wsFrame } from './materialize.js';
import {
  isPlainObject,
  isRoomName,
  isUploadId,
  isUserId,
  roomOf,
  tryDecodeURIComponent,
  tryParseJson,
} from './model.js';
import {
  claimOf,
  echoable,
  predictRest,
  predictWs,
  type RestExpectation,
  restErrorProblems,
  wsErrorProblems,
} from './oracle.js';
import { frameType, type Received } from './socket.js';
import { isStorableKey } from './store.js';
import type { Target } from './target.js';
import {
  createWorld,
  disposeWorld,
  ensureSockets,
  type StoredMessage,
  sendOver,
  type World,
  type WorldFiles,
} from './world.js';

const REPLY_TIMEOUT_MS = 6_000;
const CASE_TIMEOUT_MS = 25_000;

/** The room ids a frame names: its `roomId` and, when the key is repeated, the earlier values too. */
function roomIdsIn(bytes: Buffer, request: unknown): unknown[] {
  const ids = isPlainObject(request) ? [request.roomId] : [];
  const text = bytes.toString('utf8');
  for (const match of text.matchAll(/"roomId"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    const parsed = tryParseJson(match[1] ?? '');
    if (parsed.ok && !ids.includes(parsed.value)) ids.push(parsed.value);
  }
  return ids;
}

/** Text with invisible and control characters spelled \uXXXX, so that a report shows what was sent. */
export function visible(text: string): string {
  const invisible = (unit: number) =>
    (unit < 0x20 && unit !== 0x09 && unit !== 0x0a) ||
    (unit >= 0x7f && unit <= 0x9f) ||
    unit === 0xad ||
    (unit >= 0x200b && unit <= 0x200f) ||
    (unit >= 0x2028 && unit <= 0x202e) ||
    unit === 0x2060 ||
    unit === 0xfeff ||
    unit === 0xfffd;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += text.slice(i, i + 2);
      i++;
    } else if (invisible(unit) || (unit >= 0xd800 && unit <= 0xdfff)) {
      out += `\\u${unit.toString(16).padStart(4, '0')}`;
    } else {
      out += text[i];
    }
  }
  return out;
}

const clip = (text: string, max = 400) =>
  text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;

const notPresence = (frame: Received) => frameType(frame) !== 'presence';

/**
 * Frames that say nothing about a case: presence, and a chat_message repeating a message already
 * stored and announced (a retried send may deliver it again: at-least-once, as API.md allows).
 */
const relevantTo = (world: World) => (frame: Received) => {
  if (!notPresence(frame)) return false;
  if (frameType(frame) !== 'chat_message') return true;
  const message = json(frame).message as { messageId?: unknown; senderId?: unknown } | undefined;
  return !(
    typeof message?.messageId === 'string' &&
    world.messagesInMine.has(message.messageId) &&
    world.announced.has(message.messageId)
  );
};
const describe = (frames: readonly Received[]) => frames.map((f) => f.text.slice(0, 200)).join(' | ');
const json = (frame: Received | undefined) => (isPlainObject(frame?.json) ? frame.json : {});

async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/**
 * Nothing stored: the messages table holds exactly what the world expects in the rooms a case named
 * (its three rooms as counted so far; any other well-formed room: nothing). `rooms` undefined checks
 * the world's three rooms (after every chunk of cases).
 */
async function storedItemProblems(world: World, rooms: readonly unknown[] | undefined): Promise<string[]> {
  const expected = new Map<string, number>();
  for (const room of rooms ?? [...world.storedItems.keys()]) {
    if (isStorableKey(room)) expected.set(room, world.storedItems.get(room) ?? 0);
  }
  const found = await Promise.all(
    [...expected].map(async ([room, count]) => [room, count, await world.store.messageItems(room)] as const),
  );
  return found
    .filter(([, count, now]) => count !== now)
    .map(([room, count, now]) => `messages table items in ${room}: expected ${count}, found ${now}`);
}

// ------------------------------------------------------------------ WebSocket

async function runWsCase(world: World, route: WsRoute, c: WsCase): Promise<void> {
  await ensureSockets(world);
  const { main, peerSocket: peer } = world;
  if (!main || !peer) throw new Error('harness: sockets missing');
  const problems: string[] = [];
  const relevant = relevantTo(world);
  const stale = [...main.takeAll(), ...peer.takeAll()].filter(relevant);
  if (stale.length > 0) problems.push(`frames left over from an earlier case: ${describe(stale)}`);

  const frame = wsFrame(world, c);
  const expected = predictWs(world, frame.bytes, frame.binary);
  fc.pre(expected.kind !== 'unobservable');
  const parsed = frame.binary ? undefined : tryParseJson(frame.bytes.toString('utf8'));
  const request = parsed?.ok ? parsed.value : undefined;
  const inputs = echoable(request, [frame.bytes.toString('utf8')]);
  // Every roomId the frame gives (a repeated key included): the rooms a broken handler could write to.
  const named = roomIdsIn(frame.bytes, request);

  main.send(frame.bytes, frame.binary);
  switch (expected.kind) {
    case 'close': {
      const closed = await main.waitClosed(REPLY_TIMEOUT_MS);
      if (closed === undefined)
        problems.push(`expected close ${expected.code} (${expected.why}); still open`);
      else if (closed.code !== expected.code) {
        problems.push(
          `expected close ${expected.code} (${expected.why}), got ${closed.code} ${closed.reason}`,
        );
      }
      const records = await eventually(
        () => {
          // The peer's connection must outlive the wait (the suite's idle limit is 4 s).
          if (peer.isOpen) peer.ws.ping();
          return world.store.connectionRecords(world.me.userId);
        },
        (n) => n === 0,
        5_000,
      );
      if (records !== 0) problems.push(`${records} connection record(s) left after the close`);
      await ensureSockets(world, { renew: false });
      break;
    }
    case 'error': {
      const reply = await main.next(relevant, REPLY_TIMEOUT_MS);
      if (!reply) problems.push(`expected an error frame (${expected.code}), got nothing`);
      else problems.push(...wsErrorProblems(reply.json, reply.text, expected.code, expected.request, inputs));
      break;
    }
    case 'pong': {
      const reply = await main.next(relevant, REPLY_TIMEOUT_MS);
      if (frameType(reply ?? ({} as Received)) !== 'pong')
        problems.push(`expected pong, got ${reply?.text ?? 'nothing'}`);
      break;
    }
    case 'ack': {
      const reply = await main.next(relevant, REPLY_TIMEOUT_MS);
      const ack = json(reply);
      const message = (isPlainObject(ack.message) ? ack.message : {}) as Partial<StoredMessage>;
      const wanted = expected.existing;
      if (ack.type !== 'ack') problems.push(`expected ack, got ${reply?.text.slice(0, 300) ?? 'nothing'}`);
      if (message.senderId !== world.me.userId) {
        problems.push(
          `ack senderId ${JSON.stringify(message.senderId)}, expected the caller ${world.me.userId}`,
        );
      }
      if (message.roomId !== world.roomMine) problems.push(`ack roomId ${JSON.stringify(message.roomId)}`);
      if (ack.clientMessageId !== expected.clientMessageId)
        problems.push(`ack clientMessageId ${JSON.stringify(ack.clientMessageId)}`);
      if (wanted !== undefined) {
        if (message.messageId !== wanted.messageId || message.content !== wanted.content) {
          problems.push(
            `a retried clientMessageId must answer the first message ${wanted.messageId}, got ${reply?.text.slice(0, 300)}`,
          );
        }
      } else if (message.content !== expected.content) {
        problems.push(
          `ack content ${JSON.stringify(message.content)?.slice(0, 80)}, expected the trimmed content`,
        );
      }
      if (ack.type === 'ack' && typeof message.messageId === 'string' && wanted === undefined) {
        world.storedItems.set(
          world.roomMine,
          (world.storedItems.get(world.roomMine) ?? 0) + world.itemsPerMessage,
        );
        world.messagesInMine.add(message.messageId);
        if (expected.clientMessageId !== undefined) {
          world.sentByMe.set(expected.clientMessageId, message as StoredMessage);
          // The probe retries the newest message (any message may be retried; the newest is enough).
          world.probeCmid = expected.clientMessageId;
        }
        const delivered = await peer.next(
          (f) =>
            frameType(f) === 'chat_message' &&
            (json(f).message as { messageId?: unknown })?.messageId === message.messageId,
          REPLY_TIMEOUT_MS,
        );
        world.announced.add(message.messageId);
        const sender = (json(delivered).message as { senderId?: unknown } | undefined)?.senderId;
        if (sender !== world.me.userId)
          problems.push(`peer's chat_message senderId ${JSON.stringify(sender)}`);
        const stored = await world.store.storedMessage(world.roomMine, message.messageId);
        if (stored?.senderId !== world.me.userId) {
          problems.push(
            `stored senderId ${JSON.stringify(stored?.senderId)}, expected the caller ${world.me.userId}`,
          );
        }
        problems.push(...attachmentProblems(ack.message, expected.attachments, 'ack'));
        problems.push(
          ...attachmentProblems(json(delivered).message, expected.attachments, "peer's chat_message"),
        );
        for (const uploadId of expected.attachments ?? []) {
          if (!world.claims.has(uploadId)) world.roomItems += 1;
          world.claims.set(uploadId, claimOf(expected.clientMessageId));
        }
      }
      break;
    }
    case 'typing': {
      const relayed = await peer.next((f) => frameType(f) === 'typing', REPLY_TIMEOUT_MS);
      const typing = json(relayed);
      if (
        typing.roomId !== world.roomMine ||
        typing.userId !== world.me.userId ||
        typing.isTyping !== expected.isTyping
      ) {
        problems.push(
          `expected peer to get typing ${expected.isTyping} from the caller, got ${relayed?.text ?? 'nothing'}`,
        );
      }
      break;
    }
  }

  // The connection stays open and is still served.
  const current = world.main;
  if (!current?.isOpen) problems.push(`the connection closed (${JSON.stringify(main.closeInfo)})`);
  else {
    current.send(JSON.stringify({ action: 'ping' }));
    const pong = await current.next(relevant, REPLY_TIMEOUT_MS);
    if (frameType(pong ?? ({} as Received)) !== 'pong')
      problems.push(`ping answered ${pong?.text.slice(0, 300) ?? 'nothing'}`);
    await routeProbeWs(world, route, problems);
    const extra = [...current.takeAll(), ...peer.takeAll()].filter(relevant);
    if (extra.length > 0) problems.push(`unexpected frames: ${describe(extra)}`);
    // 1001 is the stack's own limits (short in the suite); anything else closed the peer's connection.
    if (!peer.isOpen && peer.closeInfo?.code !== 1001) {
      problems.push(`the peer's connection closed: ${JSON.stringify(peer.closeInfo)}`);
    }
  }
  problems.push(...(await storedItemProblems(world, named)));
  // Nothing claimed: the room's partition of the rooms table holds the room and the claims of the
  // messages sent so far, no more (a refused send claims no upload).
  const roomItems = await world.store.roomsItems(world.roomMine);
  if (roomItems !== world.roomItems) {
    problems.push(
      `rooms table items under ${world.roomMine}: expected ${world.roomItems}, found ${roomItems}`,
    );
  }
  if (problems.length > 0) {
    // Whatever this case set off must not be blamed on the next one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    world.main?.takeAll();
    peer.takeAll();
    await resync(world);
    const bytes = frame.bytes.toString(isUtf8(frame.bytes) ? 'utf8' : 'latin1');
    throw new Error(
      visible(
        [
          ...problems,
          `sent (${frame.bytes.length} bytes${frame.binary ? ', binary' : ''}${isUtf8(frame.bytes) ? '' : ', not UTF-8, shown as latin1'}): ${clip(bytes)}`,
          `expected: ${clip(JSON.stringify(expected, (key, value) => (key === 'request' ? undefined : value)))}`,
        ].join('\n'),
      ),
    );
  }
}

/** After a failure the world's idea of what is stored may be off (an unexpected ack): read it again. */
async function resync(world: World): Promise<void> {
  for (const room of world.storedItems.keys())
    world.storedItems.set(room, await world.store.messageItems(room));
  world.roomItems = await world.store.roomsItems(world.roomMine);
}

/**
 * A new message's attachments as an answer carries them (docs/api.md "Files"): the uploads sent, in
 * order, each with its id, name, type, size and a download URL, and never the storage key.
 */
function attachmentProblems(
  message: unknown,
  uploads: readonly string[] | undefined,
  where: string,
): string[] {
  const listed = isPlainObject(message) ? message.attachments : undefined;
  if (uploads === undefined) {
    return listed === undefined
      ? []
      : [`${where}: attachments ${JSON.stringify(listed).slice(0, 200)} on a message without`];
  }
  if (!Array.isArray(listed)) return [`${where}: no attachments, expected ${uploads.join(', ')}`];
  const problems: string[] = [];
  const ids = listed.map((a) => (isPlainObject(a) ? a.attachmentId : undefined));
  if (JSON.stringify(ids) !== JSON.stringify(uploads)) {
    problems.push(`${where}: attachments ${JSON.stringify(ids)}, expected ${JSON.stringify(uploads)}`);
  }
  for (const attachment of listed) {
    const a = isPlainObject(attachment) ? attachment : {};
    const keys = Object.keys(a)
      .filter((key) => !['width', 'height'].includes(key))
      .sort()
      .join();
    if (
      keys !== 'attachmentId,contentType,fileName,size,url' ||
      typeof a.url !== 'string' ||
      !/^https?:\/\//.test(a.url) ||
      typeof a.size !== 'number' ||
      !isUploadId(a.attachmentId)
    ) {
      problems.push(`${where}: not an attachment: ${JSON.stringify(attachment).slice(0, 300)}`);
    }
  }
  return problems;
}

/** A valid request of the route, after the bad one: it must still work. */
async function routeProbeWs(world: World, route: WsRoute, problems: string[]): Promise<void> {
  const { main, peerSocket: peer, probeCmid } = world;
  if (!main || !peer || probeCmid === undefined) return;
  if (route === 'ws sendMessage') {
    const first = world.sentByMe.get(probeCmid);
    const again = await sendOver(main, world.roomMine, 'a retry', probeCmid).catch((e: Error) => e);
    if (again instanceof Error || again.messageId !== first?.messageId) {
      problems.push(
        `a valid (retried) sendMessage after the case: ${again instanceof Error ? again.message : again.messageId}`,
      );
    }
  }
  if (route === 'ws typing') {
    main.send(JSON.stringify({ action: 'typing', roomId: world.roomMine, isTyping: false }));
    const relayed = await peer.next((f) => frameType(f) === 'typing', REPLY_TIMEOUT_MS);
    if (json(relayed).userId !== world.me.userId)
      problems.push(`a valid typing after the case was not relayed`);
  }
}

// ------------------------------------------------------------------ REST

/**
 * What a refused request must leave as it was, read through the API (each read is itself a valid
 * request that must work): the caller's profile, the caller's rooms (read pointer, unread count, last
 * message) and, where a forged userId could reach it, the peer's view of the room.
 */
type View = 'profile' | 'rooms' | 'peerRooms';
const VIEWS: Readonly<Record<RestRoute, readonly View[]>> = {
  'GET /chat/list': ['rooms'],
  'GET /chat/messages/{roomId}': ['rooms'],
  'POST /chat/start/{userId}': ['rooms'],
  'POST /chat/read/{roomId}': ['rooms', 'peerRooms'],
  'GET /users/me': ['profile'],
  'PUT /users/me': ['profile'],
  'POST /chat/uploads/{roomId}': ['rooms'],
  'POST /users/me/avatar': ['profile'],
};
/** Routes that name a room: the messages table is checked too. */
const COUNTS: readonly RestRoute[] = [
  'GET /chat/messages/{roomId}',
  'POST /chat/read/{roomId}',
  'POST /chat/uploads/{roomId}',
];

type Baseline = Partial<Record<View, string>>;

const roomsView = (body: unknown) =>
  JSON.stringify(
    ((body as { rooms?: Record<string, unknown>[] } | undefined)?.rooms ?? []).map((room) => ({
      roomId: room.roomId,
      last: (room.lastMessage as { messageId?: unknown } | null)?.messageId ?? null,
      unreadCount: room.unreadCount,
      lastReadMessageId: room.lastReadMessageId,
    })),
  );

async function baseline(world: World, route: RestRoute): Promise<Baseline> {
  const { restUrl } = world.target;
  const reads: Readonly<Record<View, () => Promise<string>>> = {
    profile: async () => {
      const me = await sendJson(restUrl, 'GET', '/users/me/', world.me.token);
      if (me.status !== 200)
        throw new Error(`valid GET /users/me after the case: ${me.status} ${me.text.slice(0, 300)}`);
      const profile = me.body as { userId?: unknown; displayName?: unknown; avatarUrl?: unknown };
      return JSON.stringify({
        userId: profile.userId,
        displayName: profile.displayName,
        avatarUrl: profile.avatarUrl,
      });
    },
    rooms: async () => {
      const list = await sendJson(restUrl, 'GET', '/chat/list/?limit=100', world.me.token);
      if (list.status !== 200)
        throw new Error(`valid GET /chat/list after the case: ${list.status} ${list.text.slice(0, 300)}`);
      return roomsView(list.body);
    },
    peerRooms: async () => {
      const list = await sendJson(restUrl, 'GET', '/chat/list/?limit=100', world.peer.token);
      if (list.status !== 200) throw new Error(`peer's GET /chat/list after the case: ${list.status}`);
      return roomsView(list.body);
    },
  };
  const views = VIEWS[route];
  const values = await Promise.all(views.map((view) => reads[view]()));
  return Object.fromEntries(views.map((view, i) => [view, values[i]]));
}

const baselines = new WeakMap<World, Baseline>();

function startTarget(world: World, request: HttpRequestSpec, c: RestCase): string | undefined {
  if (c.route !== 'POST /chat/start/{userId}') return undefined;
  const segment = /^\/chat\/start\/([^/?]+)/.exec(request.path)?.[1];
  const userId = segment === undefined ? undefined : tryDecodeURIComponent(segment);
  return isUserId(userId) && userId !== world.me.userId ? roomOf(world.me.userId, userId) : undefined;
}

function acceptProblems(world: World, expected: RestExpectation, status: number, text: string): string[] {
  if (expected.kind === 'reject') return [];
  const parsed = tryParseJson(text);
  const body = parsed.ok && isPlainObject(parsed.value) ? parsed.value : {};
  const wantStatus = expected.kind === 'room' ? expected.status : expected.kind === 'upload' ? 201 : 200;
  const problems =
    status === wantStatus ? [] : [`expected ${wantStatus}, got ${status} ${text.slice(0, 300)}`];
  switch (expected.kind) {
    case 'list': {
      const ids = Array.isArray(body.rooms)
        ? body.rooms.map((room) => (room as { roomId?: unknown }).roomId)
        : null;
      if (ids === null || ids.some((id) => id !== world.roomMine))
        problems.push(`a list with rooms not the caller's: ${text.slice(0, 300)}`);
      if (!expected.cursor && JSON.stringify(ids) !== JSON.stringify([world.roomMine]))
        problems.push(`list ${JSON.stringify(ids)}`);
      break;
    }
    case 'messages': {
      const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : null;
      const foreign = messages?.filter(
        (m) =>
          m.roomId !== world.roomMine ||
          !world.messagesInMine.has(m.messageId as string) ||
          (m.senderId !== world.me.userId && m.senderId !== world.peer.userId),
      );
      if (messages === null || (foreign?.length ?? 0) > 0 || typeof body.hasMore !== 'boolean') {
        problems.push(`history with messages not of the room: ${text.slice(0, 300)}`);
      }
      break;
    }
    case 'room':
      if ((body.room as { roomId?: unknown } | undefined)?.roomId !== world.roomMine)
        problems.push(`start answered ${text.slice(0, 300)}`);
      break;
    case 'read':
      if (
        body.userId !== world.me.userId ||
        body.roomId !== world.roomMine ||
        !world.messagesInMine.has(body.lastReadMessageId as string)
      ) {
        problems.push(`read answered ${text.slice(0, 300)} (userId must be the caller)`);
      }
      break;
    case 'profile': {
      const want = { userId: world.me.userId, ...expected.profile };
      if (
        JSON.stringify({ userId: body.userId, displayName: body.displayName, avatarUrl: body.avatarUrl }) !==
        JSON.stringify(want)
      ) {
        problems.push(`profile ${text.slice(0, 300)}, expected ${JSON.stringify(want)}`);
      }
      world.profile = { ...expected.profile };
      break;
    }
    case 'upload': {
      const fields = isPlainObject(body.fields) ? body.fields : {};
      const expiresAt = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : Number.NaN;
      if (
        Object.keys(body).sort().join() !== 'expiresAt,fields,maxBytes,uploadId,url' ||
        !isUploadId(body.uploadId) ||
        typeof body.url !== 'string' ||
        !/^https?:\/\//.test(body.url) ||
        body.maxBytes !== expected.maxBytes ||
        !(expiresAt > Date.now() && expiresAt <= Date.now() + 5 * 60_000 + 5_000)
      ) {
        problems.push(`not an upload form: ${text.slice(0, 300)}`);
      }
      // The form binds the key in me's folder (of the room, or of avatars) and the checked type.
      if (fields.key !== `${expected.keyPrefix}${String(body.uploadId)}`) {
        problems.push(`form key ${JSON.stringify(fields.key)}, expected ${expected.keyPrefix}<uploadId>`);
      }
      if (fields['Content-Type'] !== expected.contentType) {
        problems.push(
          `form Content-Type ${JSON.stringify(fields['Content-Type'])}, expected ${expected.contentType}`,
        );
      }
      break;
    }
  }
  return problems;
}

async function routeProbeRest(world: World, route: RestRoute): Promise<string[]> {
  const { restUrl } = world.target;
  const token = world.me.token;
  const probes: Partial<Record<RestRoute, () => Promise<{ status: number; text: string }>>> = {
    'GET /chat/messages/{roomId}': () => sendJson(restUrl, 'GET', `/chat/messages/${world.roomMine}/`, token),
    'POST /chat/start/{userId}': () => sendJson(restUrl, 'POST', `/chat/start/${world.peer.userId}/`, token),
    'POST /chat/read/{roomId}': () =>
      sendJson(restUrl, 'POST', `/chat/read/${world.roomMine}/`, token, { messageId: world.msgMine }),
    'PUT /users/me': () =>
      sendJson(restUrl, 'PUT', '/users/me/', token, { displayName: world.profile.displayName }),
    'POST /chat/uploads/{roomId}': () =>
      sendJson(restUrl, 'POST', `/chat/uploads/${world.roomMine}/`, token, {
        fileName: 'probe.txt',
        contentType: 'text/plain',
        size: 5,
      }),
    'POST /users/me/avatar': () =>
      sendJson(restUrl, 'POST', '/users/me/avatar/', token, { contentType: 'image/png', size: 100 }),
  };
  const probe = probes[route];
  if (!probe) return [];
  const result = await probe();
  const status = route === 'POST /chat/uploads/{roomId}' || route === 'POST /users/me/avatar' ? 201 : 200;
  return result.status === status
    ? []
    : [`a valid ${route} after the case: ${result.status} ${result.text.slice(0, 300)}`];
}

async function runRestCase(world: World, route: RestRoute, c: RestCase): Promise<void> {
  const request = restRequest(world, c);
  const expected = predictRest(world, request);
  const before = baselines.get(world) ?? (await baseline(world, route));
  const parsedBody = request.body === undefined ? undefined : tryParseJson(request.body.toString('utf8'));
  const url = new URL(request.path, 'http://localhost');
  const param = /^\/chat\/(?:messages|read|start|uploads)\/([^/]+)/.exec(url.pathname)?.[1];
  // An undecodable parameter is kept raw, as the gateway does.
  const decoded = param === undefined ? undefined : tryDecodeURIComponent(param);
  const inputs = echoable(parsedBody?.ok ? parsedBody.value : undefined, [
    ...(decoded === undefined ? [] : [decoded]),
    ...[...url.searchParams].flat(),
  ]);
  const created = startTarget(world, request, c);

  const response = await send(world.target.restUrl, request);
  const answer = {
    status: response.status,
    contentType: response.headers['content-type'],
    text: response.text,
  };
  const problems =
    expected.kind === 'reject'
      ? restErrorProblems(answer, expected.codes, inputs)
      : [
          ...acceptProblems(world, expected, response.status, response.text),
          ...(response.status >= 500 ? ['a 5xx'] : []),
        ];

  const after = await baseline(world, route);
  for (const view of VIEWS[route]) {
    if (view === 'profile' && expected.kind === 'profile') {
      const want = JSON.stringify({ userId: world.me.userId, ...world.profile });
      if (after.profile !== want) problems.push(`stored profile ${after.profile}, expected ${want}`);
    } else if (after[view] !== before[view]) {
      problems.push(`${view} changed: ${before[view]} -> ${after[view]}`);
    }
  }
  if (COUNTS.includes(route))
    problems.push(...(await storedItemProblems(world, isRoomName(decoded) ? [decoded] : [])));
  if (created !== undefined && created !== world.roomMine) {
    // Only the peer's room exists; any other start must create nothing.
    const items = await world.store.roomsItems(created);
    if (items !== 0) problems.push(`room ${created} was created (${items} item(s))`);
  }
  problems.push(...(await routeProbeRest(world, route)));
  baselines.set(world, after);
  if (problems.length > 0) {
    // Start the next case from what is there now, whatever this one did.
    baselines.delete(world);
    const me = await sendJson(world.target.restUrl, 'GET', '/users/me/', world.me.token);
    const profile = me.body as { displayName?: unknown; avatarUrl?: unknown } | undefined;
    if (typeof profile?.displayName === 'string') {
      world.profile = {
        displayName: profile.displayName,
        avatarUrl: typeof profile.avatarUrl === 'string' ? profile.avatarUrl : null,
      };
    }
    const body = request.body ?? Buffer.alloc(0);
    throw new Error(
      visible(
        [
          ...problems,
          `sent: ${request.method} ${clip(request.path)}${c.contentType === null ? '' : ` (content-type ${c.contentType})`}`,
          `body (${body.length} bytes${isUtf8(body) ? '' : ', not UTF-8, shown as latin1'}): ${clip(body.toString(isUtf8(body) ? 'utf8' : 'latin1'))}`,
          `expected: ${JSON.stringify(expected)}`,
        ].join('\n'),
      ),
    );
  }
}

// ------------------------------------------------------------------ route runs

export interface Failure {
  /** The fast-check seed and path that replay the case (`--seed`, `--path`). */
  readonly seed: number;
  readonly path: string;
  /** How many cases failed the same way (same first problem, ids and values aside). */
  readonly count: number;
  readonly report: string;
}

export interface RouteRun {
  readonly route: Route;
  readonly cases: number;
  readonly failures: readonly Failure[];
  readonly ms: number;
}

export interface RouteOptions {
  /** Generated cases, on top of the route's examples. */
  readonly runs: number;
  readonly seed: number;
  /** Replays one case (with `seed`, as printed) instead of running `runs`. */
  readonly path?: string;
  /** Epoch ms after which the run is interrupted. */
  readonly deadline?: number;
  /** Shrink the first case of each kind of failure to a small counterexample (slower). */
  readonly shrink?: boolean;
  /**
   * Replay the first case of each kind on its own after the run (default), for fast-check's report
   * and shrinking; `false` reports the case as it failed in the run (faster, for the in-suite run).
   */
  readonly replay?: boolean;
}

const withTimeout = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** FUZZ_TRACE=1 prints each case's time. */
async function traced<T>(route: Route, run: () => Promise<T>): Promise<T> {
  if (process.env.FUZZ_TRACE !== '1') return run();
  const started = performance.now();
  try {
    return await run();
  } finally {
    console.log(`trace ${route}: ${Math.round(performance.now() - started)} ms`);
  }
}

/** The routes whose cases name uploads, and the files their worlds set up. */
const FILES: Partial<Record<Route, WorldFiles>> = {
  'ws sendMessage': 'attachments',
  'PUT /users/me': 'avatars',
};

const tagOf = (route: Route) => `r${route.replace(/[^A-Za-z]/g, '').slice(0, 10)}`;

/** A failure's kind: its first problem with ids, numbers and quoted values taken out. */
const kindOf = (message: string) =>
  (message.split('\n')[0] ?? '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/chat_\S+|\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b|\b[fF][A-Za-z0-9]{20,}\b/g, '…')
    .replace(/\d+/g, 'N')
    .slice(0, 160);

/**
 * Runs `options.runs` generated cases of one route. Every case runs (a failure does not end the run, so
 * one systematic defect does not hide the others); each failure is recorded with the seed and path
 * that replay it, and the first of each kind is then replayed (and shrunk, with `shrink`) on its own.
 */
export async function fuzzRoute(target: Target, route: Route, options: RouteOptions): Promise<RouteRun> {
  const started = Date.now();
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const sockets = isWsRoute(route);
  let world: World;
  try {
    world = await createWorld(target, tagOf(route), { sockets, files: FILES[route] });
  } catch (error) {
    const report = `the world could not be set up: ${error instanceof Error ? error.stack : String(error)}`;
    return {
      route,
      cases: 0,
      failures: [{ seed: options.seed, path: '-', count: 1, report }],
      ms: Date.now() - started,
    };
  }
  const arbitrary: fc.Arbitrary<WsCase | RestCase> = isWsRoute(route) ? wsCases[route] : restCases[route];
  const runCase = (c: WsCase | RestCase) =>
    traced(route, () =>
      withTimeout(
        isWsRoute(route) ? runWsCase(world, route, c as WsCase) : runRestCase(world, route, c as RestCase),
        CASE_TIMEOUT_MS,
        route,
      ),
    );
  // The examples run first and take the first paths.
  const given = examples[route].map((c): [WsCase | RestCase] => [c]);
  const timing = Number.isFinite(deadline)
    ? { interruptAfterTimeLimit: Math.max(1, deadline - Date.now()) }
    : {};
  const failures: { path: string; message: string; value?: string }[] = [];
  let index = 0;
  let cases = 0;
  try {
    if (options.path === undefined) {
      // fast-check numbers generated values from 0: value i replays with `path: String(i)`.
      const collecting = fc.asyncProperty(arbitrary, async (c) => {
        const path = String(index++);
        try {
          await runCase(c);
          cases++;
        } catch (error) {
          if (fc.PreconditionFailure.isFailure(error)) throw error;
          cases++;
          failures.push({
            path,
            message: error instanceof Error ? error.message : String(error),
            value: fc.stringify(c),
          });
        }
      });
      await fc.check(collecting, {
        seed: options.seed,
        numRuns: options.runs + given.length,
        examples: given,
        ...timing,
      });
      const leftovers = await storedItemProblems(world, undefined);
      if (leftovers.length > 0)
        failures.push({ path: '-', message: `after all cases: ${leftovers.join('; ')}` });
    } else {
      failures.push({ path: options.path, message: 'replay' });
    }

    const kinds = new Map<string, { path: string; message: string; value?: string; count: number }>();
    for (const failure of failures) {
      const kind = kindOf(failure.message);
      const seen = kinds.get(kind);
      if (seen) seen.count++;
      else kinds.set(kind, { ...failure, count: 1 });
    }
    const reports: Failure[] = [];
    for (const { path, message, value, count } of kinds.values()) {
      if (path === '-') {
        reports.push({ seed: options.seed, path, count, report: message });
        continue;
      }
      if (options.replay === false) {
        reports.push({
          seed: options.seed,
          path,
          count,
          report: `{ seed: ${options.seed}, path: "${path}" }\nCounterexample: ${value ?? '?'}\nProblems:\n${message}`,
        });
        continue;
      }
      // Replays the recorded case on its own through the plain property, so fast-check prints the
      // counterexample (shrunk when asked) and the seed and path that reproduce it.
      const details = await fc.check(fc.asyncProperty(arbitrary, runCase), {
        seed: options.seed,
        path,
        examples: given,
        endOnFailure: options.shrink !== true,
        ...(Number.isFinite(deadline)
          ? { interruptAfterTimeLimit: Math.max(5_000, deadline - Date.now()) }
          : {}),
      });
      if (options.path !== undefined) cases += details.numRuns;
      if (!details.failed) {
        if (options.path === undefined) {
          reports.push({
            seed: options.seed,
            path,
            count,
            report: `failed in the run, passed on replay:\n${message}`,
          });
        }
        continue;
      }
      const error =
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance);
      reports.push({
        seed: options.seed,
        path: details.counterexamplePath ?? path,
        count,
        report: `${fc.defaultReportMessage(details) ?? ''}\nProblems:\n${error}${
          options.path === undefined
            ? `\n(first seen at path ${path} as: ${message.split('\n')[0]?.slice(0, 300)})`
            : ''
        }`,
      });
    }
    return { route, cases, failures: reports, ms: Date.now() - started };
  } finally {
    await disposeWorld(world);
  }
}
