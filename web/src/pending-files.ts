/**
 * Files picked for the next message, above the composer: each uploads at once, with a progress bar,
 * a remove button, and its error next to it (with Retry when trying again may work).
 */
import {
  type Attachment,
  type AttachmentRef,
  ChatApiError,
  contentTypeOf,
  MAX_ATTACHMENTS,
  type ProgressListener,
  UploadError,
} from '../sdk/index.js';
import { append, h } from './dom.js';
import { fileBadge, fileDetails, isImageType, type UploadState } from './files.js';

export interface PendingFilesDeps {
  /** Uploads `file` into the room and gives its uploadId. */
  readonly upload: (file: File, onProgress: ProgressListener, signal: AbortSignal) => Promise<string>;
  /** The tray changed: the composer decides again whether Send is allowed. */
  readonly onChange: () => void;
  /** Errors that are not about the file (an expired session). */
  readonly onError: (error: unknown) => void;
}

interface PendingFile {
  readonly file: File;
  state: UploadState;
  uploadId?: string;
  error?: { readonly message: string; readonly retryable: boolean };
  controller: AbortController;
  readonly element: HTMLLIElement;
  progress?: HTMLProgressElement;
}

/** Files taken for a message: what the frame carries, and what its bubble shows until the server's copy. */
export interface TakenFiles {
  readonly refs: readonly AttachmentRef[];
  /** Like the server's attachments, with `blob:` URLs for images (revoke them with `releaseLocal`). */
  readonly local: readonly Attachment[];
}

export class PendingFiles {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly notice: HTMLElement;
  private readonly files: PendingFile[] = [];

  constructor(private readonly deps: PendingFilesDeps) {
    this.list = h('ul', {
      class: 'pending-files',
      'data-testid': 'pending-attachments',
      'aria-label': 'Files to send',
    });
    this.notice = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'attachments-notice' });
    this.element = h('div', { class: 'attachments-tray', hidden: true }, this.list, this.notice);
  }

  /** Every upload, for `canSend`. */
  get states(): readonly { readonly state: UploadState }[] {
    return this.files;
  }

  /** Adds files to the tray and starts their uploads; more than a message holds are left out, saying so. */
  add(files: Iterable<File>): void {
    const picked = [...files];
    const room = Math.max(0, MAX_ATTACHMENTS - this.files.length);
    const left = picked.length - room;
    this.notice.textContent =
      left > 0
        ? `A message can carry ${MAX_ATTACHMENTS} files: ${left === 1 ? '1 file was' : `${left} files were`} not added.`
        : '';
    for (const file of picked.slice(0, room)) {
      const pending: PendingFile = {
        file,
        state: 'uploading',
        controller: new AbortController(),
        element: h('li', { class: 'pending-file', 'data-testid': 'pending-attachment' }),
      };
      this.files.push(pending);
      this.list.append(pending.element);
      void this.upload(pending);
    }
    this.changed();
  }

  /** Takes the finished uploads out of the tray for a message; failed ones stay, with their errors. */
  take(): TakenFiles {
    const done = this.files.filter((pending) => pending.state === 'done' && pending.uploadId !== undefined);
    for (const pending of done) this.drop(pending);
    this.notice.textContent = '';
    this.changed();
    return {
      refs: done.map(({ uploadId }) => ({ uploadId: uploadId ?? '' })),
      local: done.map(({ file }, index) => {
        const contentType = contentTypeOf(file);
        return {
          attachmentId: `local-${index}`,
          fileName: file.name,
          contentType,
          size: file.size,
          url: isImageType(contentType) ? URL.createObjectURL(file) : '',
        };
      }),
    };
  }

  /** Stops every upload: the room is closing. */
  destroy(): void {
    for (const pending of this.files) pending.controller.abort();
  }

  private async upload(pending: PendingFile): Promise<void> {
    pending.state = 'uploading';
    pending.error = undefined;
    pending.controller = new AbortController();
    this.render(pending);
    try {
      pending.uploadId = await this.deps.upload(
        pending.file,
        ({ loaded, total }) => {
          if (pending.progress && total > 0) pending.progress.value = Math.min(100, (100 * loaded) / total);
        },
        pending.controller.signal,
      );
      pending.state = 'done';
    } catch (error) {
      // Removed while uploading: nothing left to show.
      if (error instanceof UploadError && error.code === 'aborted') return;
      pending.state = 'failed';
      pending.error = describe(error);
      if (!(error instanceof UploadError)) this.deps.onError(error);
    }
    if (!this.files.includes(pending)) return;
    this.render(pending);
    this.changed();
  }

  private remove(pending: PendingFile): void {
    const index = this.files.indexOf(pending);
    pending.controller.abort();
    this.drop(pending);
    this.notice.textContent = '';
    this.changed();
    // Keep the keyboard in the tray: on the next file's remove button, or back on the composer.
    const next = this.files[Math.min(index, this.files.length - 1)];
    next?.element.querySelector<HTMLElement>('[data-testid="remove-attachment"]')?.focus();
  }

  private drop(pending: PendingFile): void {
    const index = this.files.indexOf(pending);
    if (index >= 0) this.files.splice(index, 1);
    pending.element.remove();
  }

  private changed(): void {
    this.element.hidden = this.files.length === 0 && this.notice.textContent === '';
    this.deps.onChange();
  }

  private render(pending: PendingFile): void {
    const { file, state, error, element } = pending;
    const name = file.name;
    element.dataset.state = state;
    element.dataset.fileName = name;
    pending.progress =
      state === 'uploading'
        ? h('progress', {
            max: 100,
            value: 0,
            'aria-label': `Uploading ${name}`,
            'data-testid': 'upload-progress',
          })
        : undefined;
    element.replaceChildren();
    append(
      element,
      h('span', { class: 'file-icon', 'aria-hidden': 'true' }, fileBadge(contentTypeOf(file))),
      h(
        'span',
        { class: 'file-text' },
        h('span', { class: 'file-name', 'data-testid': 'pending-attachment-name' }, name),
        h('span', { class: 'file-meta' }, fileDetails({ contentType: contentTypeOf(file), size: file.size })),
        pending.progress ?? null,
        state === 'done' && h('span', { class: 'visually-hidden' }, 'Uploaded'),
        error !== undefined &&
          h('span', { class: 'file-error', role: 'alert', 'data-testid': 'attachment-error' }, error.message),
      ),
      error?.retryable === true &&
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-testid': 'retry-upload',
            onclick: () => {
              void this.upload(pending);
              element.querySelector<HTMLElement>('[data-testid="remove-attachment"]')?.focus();
            },
          },
          'Retry',
        ),
      h(
        'button',
        {
          type: 'button',
          class: 'remove',
          'aria-label': `Remove ${name}`,
          title: 'Remove',
          'data-testid': 'remove-attachment',
          onclick: () => this.remove(pending),
        },
        '×',
      ),
    );
  }
}

function describe(error: unknown): { message: string; retryable: boolean } {
  if (error instanceof UploadError) return { message: error.message, retryable: error.retryable };
  if (error instanceof ChatApiError && error.status === 401)
    return { message: 'Your session has expired.', retryable: false };
  return {
    message: `The upload failed: ${error instanceof Error ? error.message : String(error)}`,
    retryable: true,
  };
}

/** Frees the `blob:` URLs of files shown before the server's copy arrived. */
export function releaseLocal(local: readonly Attachment[]): void {
  for (const { url } of local) if (url.startsWith('blob:')) URL.revokeObjectURL(url);
}
