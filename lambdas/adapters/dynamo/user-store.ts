/** The users and connections tables: profiles, and the live connections kept on each profile. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRef, UserId, UserProfile } from '../../domain/model.js';
import type { Clock, ConnectionStore, ProfileChanges, UserStore } from '../../domain/ports.js';
import { DynamoConnectionStore } from './connection-store.js';
import type { TableNames } from './items.js';
import { DynamoProfileWrites } from './profile-writes.js';
import { DynamoUserReads } from './user-reads.js';

/**
 * Every user and connection operation. Handlers on the hot paths build only the part they call
 * (user-reads, connection-store, profile-writes): each part is code in their bundle.
 */
export class DynamoUserStore extends DynamoUserReads implements UserStore, ConnectionStore {
  private readonly profiles: DynamoProfileWrites;
  private readonly connectionStore: DynamoConnectionStore;

  constructor(db: DynamoDBDocumentClient, tables: Pick<TableNames, 'users' | 'connections'>, clock: Clock) {
    super(db, tables, clock);
    this.profiles = new DynamoProfileWrites(db, tables, clock);
    this.connectionStore = new DynamoConnectionStore(db, tables, clock);
  }

  createProfileIfMissing(userId: UserId, displayName: string, email?: string): Promise<UserProfile> {
    return this.profiles.createProfileIfMissing(userId, displayName, email);
  }

  updateProfile(userId: UserId, changes: ProfileChanges, defaultDisplayName: string) {
    return this.profiles.updateProfile(userId, changes, defaultDisplayName);
  }

  addConnection(
    userId: UserId,
    connection: ConnectionRef,
    connectedAt: string,
    defaultDisplayName: string,
  ): Promise<number> {
    return this.connectionStore.addConnection(userId, connection, connectedAt, defaultDisplayName);
  }

  removeConnection(userId: UserId, connectionId: string, lastSeenAt: string | null): Promise<number> {
    return this.connectionStore.removeConnection(userId, connectionId, lastSeenAt);
  }
}
