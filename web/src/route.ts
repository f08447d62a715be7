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
 * `chat_{a}_{b}`, ids sorted as strings), else undefined. Only for a name that splits one way:
 * ids may hold `_`, so `chat_a_b_c` could be a with b_c or a_b with c. Lets a deep link open a room
 * the loaded part of the chat list does not hold.
 */
export function peerIn(roomId: string, userId: string): string | undefined {
  if (!roomId.startsWith('chat_')) return undefined;
  const rest = roomId.slice('chat_'.length);
  const splits: [string, string][] = [];
  for (let i = rest.indexOf('_'); i !== -1; i = rest.indexOf('_', i + 1)) {
    const [a, b] = [rest.slice(0, i), rest.slice(i + 1)];
    if (a !== '' && b !== '' && a < b) splits.push([a, b]);
  }
  const [only] = splits;
  if (splits.length !== 1 || only === undefined) return undefined;
  return only[0] === userId ? only[1] : only[1] === userId ? only[0] : undefined;
}
