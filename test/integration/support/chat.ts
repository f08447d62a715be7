/** Scenario helpers built on the REST and WebSocket clients. */
import { expect } from 'vitest';
import type { RoomEntry } from './api-types.js';
import { expectOk } from './rest.js';
import type { TestUser } from './users.js';

/** The caller's chat-list entry for a room (the list holds every room of a test's fresh users). */
export async function roomEntry(user: TestUser, roomId: string): Promise<RoomEntry> {
  const list = expectOk(await user.api.listRooms({ limit: 100 }));
  const room = list.rooms.find((r) => r.roomId === roomId);
  expect(room, `${roomId} in ${user.userId}'s chat list`).toBeDefined();
  return room as RoomEntry;
}

/** The room's newest 100 messages as `user` sees them. Like any newest page, this marks the room read for `user`. */
export async function history(user: TestUser, roomId: string) {
  return expectOk(await user.api.messages(roomId, { limit: 100 })).messages;
}
