import type { UserProfile } from '../domain/model.js';

/** The profile as GET/PUT /users/me answer it: presence and connections stay private. */
export const profileView = (profile: UserProfile) => ({
  userId: profile.userId,
  displayName: profile.displayName,
  avatarUrl: profile.avatarUrl,
});
