/**
 * The signed-in user's avatar in the top bar, as a button: pick an image, it uploads (with progress)
 * and becomes the avatar; errors show next to it.
 */
import { AVATAR_TYPES, type ChatApi, ChatApiError, type Profile, UploadError } from '../sdk/index.js';
import { h, part } from './dom.js';
import { avatar } from './format.js';

export interface AvatarControlDeps {
  readonly api: ChatApi;
  /** The profile changed (the new avatar is set). */
  readonly onProfile: (profile: Profile) => void;
  /** Errors that are not about the image (an expired session). */
  readonly onError: (error: unknown) => void;
}

/** How long "Photo updated" stays. */
const DONE_SHOWN_MS = 4000;

export class AvatarControl {
  readonly element: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly input: HTMLInputElement;
  private readonly progress: HTMLProgressElement;
  private readonly status: HTMLElement;
  private busy = false;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    profile: Profile,
    private readonly deps: AvatarControlDeps,
  ) {
    this.element = h(
      'span',
      { class: 'avatar-control', 'data-testid': 'avatar-control' },
      h('button', {
        type: 'button',
        class: 'avatar-button',
        'aria-label': 'Change your profile photo',
        title: 'Change your profile photo',
        'data-testid': 'avatar-button',
        onclick: () => this.input.click(),
      }),
      h('input', {
        type: 'file',
        accept: AVATAR_TYPES.join(','),
        hidden: true,
        'aria-label': 'Profile photo',
        'data-testid': 'avatar-input',
        onchange: () => this.picked(),
      }),
      h('progress', {
        class: 'avatar-progress',
        max: 100,
        value: 0,
        hidden: true,
        'aria-label': 'Uploading your photo',
        'data-testid': 'avatar-progress',
      }),
      h('span', { class: 'avatar-status', role: 'status', 'data-testid': 'avatar-status' }),
    );
    this.button = part(this.element, 'avatar-button');
    this.input = part(this.element, 'avatar-input');
    this.progress = part(this.element, 'avatar-progress');
    this.status = part(this.element, 'avatar-status');
    this.show(profile);
  }

  show(profile: Profile): void {
    const picture = avatar(profile);
    picture.dataset.testid = 'my-avatar';
    this.button.replaceChildren(picture);
  }

  private async picked(): Promise<void> {
    const file = this.input.files?.[0];
    // The same image may be picked again after a failure.
    this.input.value = '';
    if (file === undefined || this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    this.progress.value = 0;
    this.progress.hidden = false;
    this.say('Uploading your photo…');
    try {
      const avatarUploadId = await this.deps.api.uploadAvatar(file, ({ loaded, total }) => {
        if (total > 0) this.progress.value = Math.min(100, (100 * loaded) / total);
      });
      const profile = await this.deps.api.updateMe({ avatarUploadId });
      this.show(profile);
      this.deps.onProfile(profile);
      this.say('Photo updated.', DONE_SHOWN_MS);
    } catch (error) {
      if (error instanceof UploadError) this.say(error.message, undefined, true);
      else if (error instanceof ChatApiError && error.status !== 401)
        this.say(`Could not set the photo: ${error.message}`, undefined, true);
      else {
        this.say('');
        this.deps.onError(error);
      }
    } finally {
      this.busy = false;
      this.button.disabled = false;
      this.progress.hidden = true;
    }
  }

  private say(text: string, clearAfterMs?: number, isError = false): void {
    clearTimeout(this.statusTimer);
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
    this.status.dataset.state = isError ? 'error' : text === '' ? '' : 'info';
    if (clearAfterMs !== undefined) this.statusTimer = setTimeout(() => this.say(''), clearAfterMs);
  }
}
