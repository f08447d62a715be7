/** Profiles: what other participants see of a user in their chat list. */
import type { UserId, UserProfile } from './model.js';
import type { ProfileChanges, UserStore } from './ports.js';

export class ProfileService {
  constructor(private readonly store: UserStore) {}

  async getProfile(callerId: UserId, suggestedName: string | undefined): Promise<UserProfile> {
    return (
      (await this.store.getUser(callerId)) ??
      (await this.store.createProfileIfMissing(callerId, suggestedName ?? callerId))
    );
  }

  async updateProfile(
    callerId: UserId,
    changes: ProfileChanges,
    suggestedName: string | undefined,
  ): Promise<UserProfile> {
    return this.store.updateProfile(callerId, changes, suggestedName ?? callerId);
  }
}
