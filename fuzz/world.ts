/**
 * One route's fuzzing world: fresh users and rooms that no other route touches, so that "nothing was
 * stored" and "nothing changed" can be checked exactly while routes run side by side.
 *
 *   me, peer   share roomMine, where peer wrote msgMine (and, on WebSocket worlds, me a probe message)
 *   x, y       share roomOthers (msgOthers): me is not a participant
 *   z          a user me never started a room with: roomNeverStarted = roomOf(me, z)
 *   ghost      a well-formed user id nobody signed in as
 *
 * Ids sort as ghost < me < peer < x < y < z, so that symbolic cases mean the same thing in every world.
 */
import { randomBytes } from 'node:crypto';
import { sendJson } from './http.js';
import { roomOf } from './model.js';
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
}

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
): Promise<StoredMessage> {
  socket.send(JSON.stringify({ action: 'sendMessage', roomId, content, clientMessageId }));
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

async function sendAs(target: Target, party: Party, roomId: string, content: string): Promise<StoredMessage> {
  const socket = await FrameSocket.open(wsUrl(target, party.token), `${party.userId} setup`);
  try {
    return await sendOver(socket, roomId, content, `setup-${randomBytes(6).toString('hex')}`);
  } finally {
    await socket.close();
  }
}

export async function createWorld(
  target: Target,
  tag: string,
  options: { sockets: boolean },
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
  };
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
