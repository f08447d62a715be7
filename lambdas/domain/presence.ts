/** Connections and presence: who is online, told to the users who share a room with them. */
import type { Deliveries } from './deliveries.js';
import { CONNECTION_LIFETIME_SECONDS, connectionsOf, type DeliveryTarget } from './fan-out.js';
import type { RoomId, UserId } from './model.js';
import type { Clock, ConnectionStore, RoomDirectory, RoomStore, UserStore } from './ports.js';

export type PresenceStore = Pick<RoomStore, 'getRoom'> &
  ConnectionStore &
  Pick<RoomDirectory, 'listMemberships'> &
  Pick<UserStore, 'getUsers'>;

import { type Caller, mayUseRoom } from './room-access.js';

export { CONNECTION_LIFETIME_SECONDS };

export class PresenceService {
  constructor(
    private readonly store: PresenceStore,
    private readonly deliveries: Deliveries,
    private readonly clock: Clock,
  ) {}

  /** Checks a room scope before a connection is accepted; false refuses the handshake (403). */
  mayConnect(callerId: UserId, scopeRoomId: RoomId | undefined): Promise<boolean> {
    return mayUseRoom(this.store, callerId, scopeRoomId);
  }

  async connect(
    caller: Caller & { readonly connectionId: string },
    suggestedName: string | undefined,
  ): Promise<void> {
    const now = this.clock.now();
    const live = await this.store.addConnection(
      caller.userId,
      {
        connectionId: caller.connectionId,
        expiresAt: Math.floor(now.getTime() / 1000) + CONNECTION_LIFETIME_SECONDS,
        ...(caller.scopeRoomId === undefined ? {} : { roomId: caller.scopeRoomId }),
      },
      now.toISOString(),
      suggestedName ?? caller.userId,
    );
    if (live === 1) await this.announcePresence(caller.userId, true, null);
  }

  async disconnect(caller: Caller & { readonly connectionId: string }): Promise<void> {
    const lastSeenAt = this.clock.now().toISOString();
    const live = await this.store.removeConnection(caller.userId, caller.connectionId, lastSeenAt);
    if (live === 0) await this.announcePresence(caller.userId, false, lastSeenAt);
  }

  private async announcePresence(userId: UserId, online: boolean, lastSeenAt: string | null): Promise<void> {
    const memberships = await this.store.listMemberships(userId);
    if (memberships.length === 0) return;
    const peers = await this.store.getUsers([...new Set(memberships.flatMap((m) => m.peers))]);
    const now = this.clock.now();
    // A peer's room-scoped connection hears of the user only through the room they share.
    const targets = new Map<string, DeliveryTarget>();
    for (const membership of memberships) {
      const peersHere = membership.peers.flatMap((id) => peers.get(id) ?? []);
      for (const target of connectionsOf(peersHere, membership.roomId, now))
        targets.set(target.connectionId, target);
    }
    await this.deliveries.toTargets([...targets.values()], { type: 'presence', userId, online, lastSeenAt });
  }
}
