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
