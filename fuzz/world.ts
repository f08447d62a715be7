/**
 * One route's fuzzing world: fresh users and rooms that no other route touches, so that "nothing was
 * stored" and "nothing changed" can be checked exactly while routes run side by side.
 *
 *   me, peer   share roomMine, where peer wrote msgMine (and, on WebSocket worlds, me a probe message)
 *   x, y       share roomOthers (msgOthers): me is not a participant
 *   z          a user me never started a room with: roomNeverStarted = roomOf(me, z)
 *   ghost      a well-formed user id nobody signed in as
 *
 * Worlds of the routes that take uploads also hold files (docs/api.md "Files"): uploads that must be
 * refused whatever else the case says (peer's, a form never posted, bytes not of the declared type,
 * one attached already), a few good uploads of me for sends that must be accepted, and avatar
 * uploads that must not be settable.
 *
 * Ids sort as ghost < me < peer < x < y < z, so that symbolic cases mean the same thing in every world.
 */
import { randomBytes } from 'node:crypto';
import { sendJson } from './http.js';
import { DEFAULT_MAX_UPLOAD_BYTES, roomOf } from './model.js';
import { FrameSocket, frameType } from './socket.js';
import { StoreReader } from './store.js';
import type { Target } from './target.js';

export interface Party {
  readonly userId: string;
  readonly token: string;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly roomId: string;
  readonly senderId: string;
  readonly content: string;
  readonly clientMessageId?: string;
}

/** What the world knows of an upload it made: who, where, and whether it could be used. */
export interface UploadInfo {
  readonly kind: 'attachment' | 'avatar';
  readonly owner: 'me' | 'peer';
  /** The room an attachment upload was made for. */
  readonly roomId?: string;
  /** The file was posted to storage. */
  readonly posted: boolean;
  /** The posted bytes are of the declared type and size. */
  readonly valid: boolean;
}

/** The world's uploads that cases name symbolically (cases.ts `Ref`). */
export type FileRef =
  | 'uploadPeer'
  | 'uploadNeverPosted'
  | 'uploadFake'
  | 'uploadAttached'
  | 'avatarPeer'
  | 'avatarNeverPosted'
  | 'avatarFake'
  | 'avatarFromAttachment';

/** Which files a world sets up: for attachments (sendMessage) or avatars (PUT /users/me). */
export type WorldFiles = 'attachments' | 'avatars' | undefined;

export interface Profile {
  displayName: string;
  avatarUrl: string | null;
}

export interface World {
  readonly target: Target;
  readonly store: StoreReader;
  readonly base: string;
  readonly me: Party;
  readonly peer: Party;
  readonly x: Party;
  readonly y: Party;
  readonly z: Party;
  readonly ghost: string;
  readonly roomMine: string;
  readonly roomOthers: string;
  readonly roomNeverStarted: string;
  readonly msgMine: string;
  readonly msgOthers: string;
  /** Every message id stored in roomMine. */
  readonly messagesInMine: Set<string>;
  /** Messages of roomMine whose chat_message peer has had (a repeat of one is no news). */
  readonly announced: Set<string>;
  /** me's clientMessageIds in roomMine and the message each one stored. */
  readonly sentByMe: Map<string, StoredMessage>;
  /**
   * A clientMessageId of me's newest message in roomMine (WebSocket worlds): sending it again stores
   * nothing and must answer the same ack.
   */
  probeCmid: string | undefined;
  profile: Profile;
  /** me's and peer's connections (WebSocket worlds). */
  main: FrameSocket | undefined;
  peerSocket: FrameSocket | undefined;
  mainOpenedAt: number;
  peerOpenedAt: number;
  counter: number;
  /** Items the messages table must hold per room (the three rooms above; any other room: none). */
  readonly storedItems: Map<string, number>;
  /** Items one message adds to its room's partition (measured, not assumed). */
  itemsPerMessage: number;
  /** The stack's largest attachment (MAX_UPLOAD_BYTES, 25 MB by default). */
  readonly maxUploadBytes: number;
  /** Every upload the world made, by id. */
  readonly uploads: Map<string, UploadInfo>;
  readonly fileRefs: Partial<Record<FileRef, string>>;
  /** me's good attachment uploads in roomMine, in the order sends may use them. */
  readonly freshUploads: string[];
  /** Which send claimed each attached upload: `cmid:<clientMessageId>`, or `attempt:<n>` without one. */
  readonly claims: Map<string, string>;
  /** Items of the rooms table under roomMine's key: the room and one claim per attached upload. */
  roomItems: number;
}

/** An upload id that no upload has (well-formed). */
export const UNKNOWN_UPLOAD = '0123456789abcdef'.repeat(2);

export async function signIn(target: Target, userId: string, displayName: string): Promise<Party> {
  const result = await sendJson(target.restUrl, 'POST', '/dev/token', undefined, { userId, displayName });
  const token = (result.body as { token?: unknown } | undefined)?.token;
  if (result.status !== 200 || typeof token !== 'string') {
    throw new Error(`sign-in of ${userId} failed: ${result.status} ${result.text}`);
  }
  return { userId, token };
}

export const wsUrl = (target: Target, token: string, extra: Record<string, string> = {}) => {
  const url = new URL(target.wsUrl);
  url.searchParams.set('token', token);
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  return url.toString();
};

async function startRoom(target: Target, from: Party, to: Party): Promise<string> {
  const result = await sendJson(target.restUrl, 'POST', `/chat/start/${to.userId}/`, from.token);
  const roomId = (result.body as { room?: { roomId?: unknown } } | undefined)?.room?.roomId;
  if (result.status !== 201 || typeof roomId !== 'string') {
    throw new Error(`start ${from.userId} -> ${to.userId} failed: ${result.status} ${result.text}`);
  }
  return roomId;
}

/** Sends a message over `socket` and returns the acknowledged message. */
export async function sendOver(
  socket: FrameSocket,
  roomId: string,
  content: string,
  clientMessageId: string,
  attachments?: readonly string[],
): Promise<StoredMessage> {
  socket.send(
    JSON.stringify({
      action: 'sendMessage',
      roomId,
      content,
      clientMessageId,
      ...(attachments === undefined ? {} : { attachments: attachments.map((uploadId) => ({ uploadId })) }),
    }),
  );
  const ack = await socket.next(
    (frame) =>
      frameType(frame) === 'ack' &&
      (frame.json as { clientMessageId?: unknown }).clientMessageId === clientMessageId,
    10_000,
  );
  const message = (ack?.json as { message?: StoredMessage } | undefined)?.message;
  if (!message) throw new Error(`${socket.label}: no ack for ${clientMessageId}`);
  return message;
}

async function sendAs(
  target: Target,
  party: Party,
  roomId: string,
  content: string,
  options: { clientMessageId?: string; attachments?: readonly string[] } = {},
): Promise<StoredMessage> {
  const socket = await FrameSocket.open(wsUrl(target, party.token), `${party.userId} setup`);
  try {
    return await sendOver(
      socket,
      roomId,
      content,
      options.clientMessageId ?? `setup-${randomBytes(6).toString('hex')}`,
      options.attachments,
    );
  } finally {
    await socket.close();
  }
}

interface Offer {
  readonly uploadId: string;
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** An upload form from `POST /chat/uploads/{roomId}` (with `roomId`) or `POST /users/me/avatar`. */
async function uploadForm(
  target: Target,
  party: Party,
  body: { fileName?: string; contentType: string; size: number },
  roomId?: string,
): Promise<Offer> {
  const path = roomId === undefined ? '/users/me/avatar/' : `/chat/uploads/${roomId}/`;
  const result = await sendJson(target.restUrl, 'POST', path, party.token, body);
  const offer = result.body as Partial<Offer> | undefined;
  if (result.status !== 201 || typeof offer?.uploadId !== 'string' || typeof offer.url !== 'string') {
    throw new Error(`upload form for ${party.userId}: ${result.status} ${result.text}`);
  }
  return { uploadId: offer.uploadId, url: offer.url, fields: offer.fields ?? {} };
}

/** Posts the form as a browser does: its fields, then the file. */
async function postFile(offer: Offer, bytes: Buffer): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(offer.fields)) form.append(name, value);
  form.append('file', new Blob([Uint8Array.from(bytes)]), 'file');
  const response = await fetch(offer.url, {
    method: 'POST',
    body: form,
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status !== 204) throw new Error(`storage refused a setup upload: ${await response.text()}`);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const textFile = (text: string) => Buffer.from(text, 'utf8');

/**
 * An upload of `party`, posted or not. `bytes` is what is posted; `declared` the type the form says
 * (`valid` is whether the bytes are of it, as the world knows since it chose them).
 */
async function makeUpload(
  world: World,
  party: Party,
  owner: 'me' | 'peer',
  file: { contentType: string; bytes: Buffer; valid: boolean; post: boolean },
  roomId?: string,
): Promise<string> {
  const offer = await uploadForm(
    world.target,
    party,
    {
      ...(roomId === undefined ? {} : { fileName: 'fuzz.txt' }),
      contentType: file.contentType,
      size: file.bytes.length,
    },
    roomId,
  );
  if (file.post) await postFile(offer, file.bytes);
  world.uploads.set(offer.uploadId, {
    kind: roomId === undefined ? 'avatar' : 'attachment',
    owner,
    ...(roomId === undefined ? {} : { roomId }),
    posted: file.post,
    valid: file.post && file.valid,
  });
  return offer.uploadId;
}

/** Fresh attachment uploads of me in roomMine: sends may use each once. */
const FRESH_UPLOADS = 8;

/** The world's files; for attachments, me's setup message that claims `uploadAttached`. */
async function setUpFiles(world: World, files: WorldFiles): Promise<void> {
  const { me, peer, roomMine } = world;
  const text = (label: string) => ({
    contentType: 'text/plain',
    bytes: textFile(`${label} of ${world.base}\n`),
    valid: true,
    post: true,
  });
  if (files === 'attachments') {
    const [uploadPeer, uploadNeverPosted, uploadFake, uploadAttached, ...fresh] = await Promise.all([
      makeUpload(world, peer, 'peer', text('peer upload'), roomMine),
      makeUpload(world, me, 'me', { ...text('never posted'), post: false }, roomMine),
      makeUpload(
        world,
        me,
        'me',
        { contentType: 'image/png', bytes: textFile('text declared as a PNG\n'), valid: false, post: true },
        roomMine,
      ),
      makeUpload(world, me, 'me', text('attached upload'), roomMine),
      ...Array.from({ length: FRESH_UPLOADS }, (_, i) =>
        makeUpload(world, me, 'me', text(`fresh ${i}`), roomMine),
      ),
    ]);
    Object.assign(world.fileRefs, { uploadPeer, uploadNeverPosted, uploadFake, uploadAttached });
    world.freshUploads.push(...fresh.filter((id): id is string => id !== undefined));
    if (uploadAttached === undefined) throw new Error('harness: no upload to attach');
    const clientMessageId = `setup-files-${world.base}`;
    const sent = await sendAs(world.target, me, roomMine, 'a file', {
      clientMessageId,
      attachments: [uploadAttached],
    });
    world.claims.set(uploadAttached, `cmid:${clientMessageId}`);
    world.sentByMe.set(clientMessageId, sent);
    world.messagesInMine.add(sent.messageId);
    world.announced.add(sent.messageId);
  }
  if (files === 'avatars') {
    const png = {
      contentType: 'image/png',
      bytes: Buffer.concat([PNG_SIGNATURE, Buffer.alloc(24)]),
      valid: true,
      post: true,
    };
    const [avatarPeer, avatarNeverPosted, avatarFake, avatarFromAttachment] = await Promise.all([
      makeUpload(world, peer, 'peer', png),
      makeUpload(world, me, 'me', { ...png, post: false }),
      makeUpload(world, me, 'me', { ...png, bytes: textFile('text declared as a PNG\n'), valid: false }),
      makeUpload(world, me, 'me', png, roomMine),
    ]);
    Object.assign(world.fileRefs, { avatarPeer, avatarNeverPosted, avatarFake, avatarFromAttachment });
  }
}

export async function createWorld(
  target: Target,
  tag: string,
  options: { sockets: boolean; files?: WorldFiles },
): Promise<World> {
  // Letters and digits only: room names then parse one way.
  const base = `f${tag.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const [me, peer, x, y, z] = await Promise.all(
    ['m', 'p', 'x', 'y', 'z'].map((role) => signIn(target, `${base}${role}`, `Fuzz ${role.toUpperCase()}`)),
  );
  if (!me || !peer || !x || !y || !z) throw new Error('sign-in gave too few users');
  const [roomMine, roomOthers] = await Promise.all([startRoom(target, me, peer), startRoom(target, x, y)]);
  const [msgMine, msgOthers] = await Promise.all([
    sendAs(target, peer, roomMine, 'hello from peer'),
    sendAs(target, x, roomOthers, 'hello from x'),
  ]);
  const world: World = {
    target,
    store: new StoreReader(target),
    base,
    me,
    peer,
    x,
    y,
    z,
    ghost: `${base}g`,
    roomMine,
    roomOthers,
    roomNeverStarted: roomOf(me.userId, z.userId),
    msgMine: msgMine.messageId,
    msgOthers: msgOthers.messageId,
    messagesInMine: new Set([msgMine.messageId]),
    announced: new Set([msgMine.messageId]),
    sentByMe: new Map(),
    probeCmid: undefined,
    profile: { displayName: 'Fuzz M', avatarUrl: null },
    main: undefined,
    peerSocket: undefined,
    mainOpenedAt: 0,
    peerOpenedAt: 0,
    counter: 0,
    storedItems: new Map(),
    itemsPerMessage: 1,
    maxUploadBytes: Number(target.env.MAX_UPLOAD_BYTES ?? DEFAULT_MAX_UPLOAD_BYTES),
    uploads: new Map(),
    fileRefs: {},
    freshUploads: [],
    claims: new Map(),
    roomItems: 0,
  };
  await setUpFiles(world, options.files);
  // Reading the newest page puts me's read pointer on the newest message, so that the REST probes
  // (a history page, a read of msgMine) change nothing from here on.
  const page = await sendJson(target.restUrl, 'GET', `/chat/messages/${roomMine}/`, me.token);
  if (page.status !== 200) throw new Error(`history of ${roomMine}: ${page.status} ${page.text}`);
  if (options.sockets) {
    await ensureSockets(world);
    const main = world.main;
    if (!main) throw new Error('no main socket');
    world.probeCmid = `probe-${base}`;
    const probe = await sendOver(main, roomMine, 'probe message', world.probeCmid);
    world.sentByMe.set(world.probeCmid, probe);
    world.messagesInMine.add(probe.messageId);
    await world.peerSocket?.next((frame) => frameType(frame) === 'chat_message', 10_000);
    world.announced.add(probe.messageId);
  }
  for (const room of [roomMine, roomOthers, world.roomNeverStarted]) {
    world.storedItems.set(room, await world.store.messageItems(room));
  }
  world.roomItems = await world.store.roomsItems(roomMine);
  if (world.roomItems !== 1 + world.claims.size) {
    throw new Error(
      `harness: ${world.roomItems} items under ${roomMine}, expected the room and ${world.claims.size} claim(s)`,
    );
  }
  world.itemsPerMessage = (world.storedItems.get(roomMine) ?? 0) / world.messagesInMine.size;
  if (!Number.isInteger(world.itemsPerMessage) || world.itemsPerMessage < 1) {
    throw new Error(
      `harness: ${world.messagesInMine.size} messages left ${world.storedItems.get(roomMine)} items`,
    );
  }
  return world;
}

/**
 * (Re)opens me's and peer's connections when closed or (with `renew`) close to the stack's
 * connection-time limit, and sends a control ping on both so that the idle limit never closes one
 * mid-case. Mid-case, only a closed connection is reopened: the case's checks hold the others.
 */
export async function ensureSockets(world: World, { renew = true } = {}): Promise<void> {
  const { target } = world;
  const maxAge =
    target.maxConnectionMs === undefined || !renew
      ? Number.POSITIVE_INFINITY
      : target.maxConnectionMs - 4_000;
  const now = Date.now();
  if (!world.main?.isOpen || now - world.mainOpenedAt > maxAge) {
    await world.main?.close();
    world.main = await FrameSocket.open(wsUrl(target, world.me.token), `${world.me.userId} main`);
    world.mainOpenedAt = Date.now();
  }
  if (!world.peerSocket?.isOpen || now - world.peerOpenedAt > maxAge) {
    await world.peerSocket?.close();
    world.peerSocket = await FrameSocket.open(wsUrl(target, world.peer.token), `${world.peer.userId} peer`);
    world.peerOpenedAt = Date.now();
  }
  world.main.ws.ping();
  world.peerSocket.ws.ping();
}

export async function disposeWorld(world: World): Promise<void> {
  await Promise.all([world.main?.close(), world.peerSocket?.close()]);
  world.store.destroy();
}
