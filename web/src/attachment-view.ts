/** The files of a message: images as previews that open full size, documents as file cards that download. */
import type { Attachment } from '../sdk/index.js';
import { h } from './dom.js';
import {
  fileBadge,
  fileDetails,
  fileTypeName,
  humanSize,
  isImageType,
  previewWidth,
  safeLink,
} from './files.js';

export function attachmentList(attachments: readonly Attachment[]): HTMLElement {
  return h('div', { class: 'attachments', 'data-testid': 'attachments' }, ...attachments.map(attachmentView));
}

function attachmentView(attachment: Attachment): HTMLElement {
  const url = safeLink(attachment.url);
  return isImageType(attachment.contentType) && url !== undefined
    ? imagePreview(attachment, url)
    : fileCard(attachment, url);
}

function imagePreview(attachment: Attachment, url: string): HTMLElement {
  const { width, height } = attachment;
  const sized = width !== undefined && height !== undefined && width > 0 && height > 0;
  const image = h('img', {
    src: url,
    alt: attachment.fileName,
    loading: 'lazy',
    decoding: 'async',
    // The attributes give the browser the shape to reserve before the bytes arrive.
    width: sized ? width : undefined,
    height: sized ? height : undefined,
    // Shown at most 320 px either way; `max-width: 100%` (styles.css) narrows it on a phone.
    style: sized ? `width: ${previewWidth(width, height)}px` : undefined,
    'data-testid': 'image-preview',
  });
  image.addEventListener('error', () => image.closest('.image-attachment')?.classList.add('broken'), {
    once: true,
  });
  return h(
    'a',
    {
      class: 'image-attachment',
      href: url,
      target: '_blank',
      rel: 'noopener noreferrer',
      title: `${attachment.fileName} (${humanSize(attachment.size)}): open full size in a new tab`,
      'data-testid': 'image-attachment',
    },
    image,
  );
}

function fileCard(attachment: Attachment, url: string | undefined): HTMLElement {
  const details = fileDetails(attachment);
  const children = [
    h('span', { class: 'file-icon', 'aria-hidden': 'true' }, fileBadge(attachment.contentType)),
    h(
      'span',
      { class: 'file-text' },
      h('span', { class: 'file-name', 'data-testid': 'file-name' }, attachment.fileName),
      h('span', { class: 'file-meta', 'data-testid': 'file-meta' }, details),
    ),
  ];
  const label = `${attachment.fileName}, ${fileTypeName(attachment.contentType)}, ${humanSize(attachment.size)}`;
  if (url === undefined)
    return h('span', { class: 'file-card', 'data-testid': 'file-card', 'aria-label': label }, ...children);
  // The server serves documents as downloads under their name; `download` says so to same-origin URLs too.
  return h(
    'a',
    {
      class: 'file-card',
      href: url,
      download: attachment.fileName,
      rel: 'noopener noreferrer',
      'aria-label': `Download ${label}`,
      'data-testid': 'file-card',
    },
    ...children,
  );
}
