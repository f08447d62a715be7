/**
 * The client's URLs: `/` is the chat list, `/rooms/<roomId>` an open room (reload and back/forward
 * work), and `/?with=<userId>` opens, starting it if needed, the chat with that user: the link a
 * marketplace page puts next to a freelancer. No DOM here, so the unit tests run it in Node.
 */

export interface Route {
  /** The room to show, from `/rooms/<roomId>`. */
  readonly roomId?: string;
  /** The user to chat with, from `?with=<userId>`. */
  readonly withUser?: string;
}

const ROOM_PATH = /^\/rooms\/([^/]+)\/?$/;

export function parseRoute(pathname: string, search: string): Route {
  const withUser = new URLSearchParams(search).get('with')?.trim();
  if (withUser) return { withUser };
  const encoded = ROOM_PATH.exec(pathname)?.[1];
  if (encoded === undefined) return {};
  try {
    return { roomId: decodeURIComponent(encoded) };
  } catch {
    return {};
  }
}

export const roomPath = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;

export const LIST_PATH = '/';

/** The link that opens a chat with `userId` for whoever follows it (signing in first if needed). */
export const chatLink = (origin: string, userId: string) => `${origin}/?with=${encodeURIComponent(userId)}`;

/**
 * The other participant of `roomId` when `userId` is one of its two (the room name is
 * `chat_{a}_{b}`, ids sorted as strings), else undefined. Ids may hold `_`, so a name may split more
 * than one way (`chat_a_b_c`: a with b_c, or a_b with c); only the splits with `userId` on one side
 * count, and the answer is given only when there is exactly one. Lets a deep link open a room the
 * loaded part of the chat list does not hold.
 */
export function peerIn(roomId: string, userId: string): string | undefined {
  if (!roomId.startsWith('chat_')) return undefined;
  const rest = roomId.slice('chat_'.length);
  const peers: string[] = [];
  for (let i = rest.indexOf('_'); i !== -1; i = rest.indexOf('_', i + 1)) {
    const [a, b] = [rest.slice(0, i), rest.slice(i + 1)];
    if (a === '' || b === '' || a >= b) continue;
    if (a === userId) peers.push(b);
    else if (b === userId) peers.push(a);
  }
  return peers.length === 1 ? peers[0] : undefined;
}
