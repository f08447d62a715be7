/** Profiles: what other participants see of a user in their chat list. */
import { type AttachmentChecker, avatarUrlOf, checkedAttachments, type DownloadSigner } from './files.js';
import type { UserId, UserProfile } from './model.js';
import type { UserStore } from './ports.js';

/** The profile as `GET`/`PUT /users/me` answer it: presence and connections stay private. */
export interface ProfileView {
  readonly userId: UserId;
  readonly displayName: string;
  readonly avatarUrl: string | null;
}

export interface ProfileUpdate {
  readonly displayName?: string;
  /** A URL the user gives (https); null clears the avatar. */
  readonly avatarUrl?: string | null;
  /** An avatar upload (`POST /users/me/avatar`), checked before it is set. */
  readonly avatarUploadId?: string;
}

/** Deletes a kept avatar that a new one (or a URL) replaced. */
export interface AvatarRemoval {
  remove(key: string): Promise<void>;
}

export interface ProfileFiles {
  readonly signer: DownloadSigner;
  readonly checker: AttachmentChecker;
  readonly avatars: AvatarRemoval;
}

export type ProfileStore = Pick<UserStore, 'getUser' | 'createProfileIfMissing' | 'updateProfile'>;

export class ProfileService {
  /** `files` may be absent where no avatar is shown or set (the Cognito trigger). */
  constructor(
    private readonly store: ProfileStore,
    private readonly files?: ProfileFiles,
  ) {}

  async getProfile(callerId: UserId, suggestedName: string | undefined): Promise<UserProfile> {
    return (
      (await this.store.getUser(callerId)) ??
      (await this.store.createProfileIfMissing(callerId, suggestedName ?? callerId))
    );
  }

  /**
   * A confirmed sign-up (Cognito): the profile, created unless it exists, and the account's address,
   * which offline e-mail notifications go to (replacing any earlier one: the trigger also runs when a
   * forgotten password is reset, with the address as it is then).
   */
  async confirmAccount(
    userId: UserId,
    suggestedName: string,
    email: string | undefined,
  ): Promise<UserProfile> {
    return this.store.createProfileIfMissing(userId, suggestedName, email);
  }

  async view(profile: UserProfile): Promise<ProfileView> {
    return {
      userId: profile.userId,
      displayName: profile.displayName,
      avatarUrl: await avatarUrlOf(this.requireFiles().signer, profile),
    };
  }

  /**
   * Applies the changes. An uploaded avatar is checked (and kept) first; the avatar it replaces,
   * known exactly from the update's old image, is deleted, so each avatar an update displaces is
   * deleted once, whatever the order of concurrent updates, and never the one that stays.
   */
  async updateProfile(
    callerId: UserId,
    update: ProfileUpdate,
    suggestedName: string | undefined,
  ): Promise<UserProfile> {
    let avatarKey: string | undefined;
    if (update.avatarUploadId !== undefined) {
      const [avatar] = await checkedAttachments(this.requireFiles().checker, {
        kind: 'avatar',
        userId: callerId,
        uploadId: update.avatarUploadId,
      });
      avatarKey = avatar?.key;
    }
    const { profile, before } = await this.store.updateProfile(
      callerId,
      {
        ...(update.displayName === undefined ? {} : { displayName: update.displayName }),
        ...(update.avatarUrl === undefined ? {} : { avatarUrl: update.avatarUrl }),
        ...(avatarKey === undefined ? {} : { avatarKey }),
      },
      suggestedName ?? callerId,
    );
    const replaced = before?.avatarKey;
    if (replaced != null && replaced !== profile.avatarKey) {
      await this.requireFiles().avatars.remove(replaced);
    }
    return profile;
  }

  private requireFiles(): ProfileFiles {
    if (this.files === undefined) throw new Error('ProfileService was built without files');
    return this.files;
  }
}
