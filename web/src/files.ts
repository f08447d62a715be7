/**
 * Files in the client's words: list previews, file card labels, when Send is allowed, which links
 * are safe to follow. No DOM here, so the unit tests run it in Node.
 */
import { type Attachment, fileTypeName, humanSize, isImageType, type Message } from '../sdk/index.js';

export { fileTypeName, humanSize, isImageType };

/** What a message shows in one line: its text, or for files alone a paperclip and the first file. */
export function messagePreview(message: Pick<Message, 'content' | 'attachments'>): string {
  const text = message.content.replace(/\s+/g, ' ').trim();
  if (text !== '') return text;
  const first = message.attachments?.[0];
  if (first === undefined) return '';
  return `📎 ${isImageType(first.contentType) ? 'Photo' : first.fileName}`;
}

/** A file card's second line: "PDF · 1.2 MB". */
export const fileDetails = (attachment: Pick<Attachment, 'contentType' | 'size'>) =>
  `${fileTypeName(attachment.contentType)} · ${humanSize(attachment.size)}`;

/** The short label on a file card's icon: "PDF", "DOC", "XLS", "PPT", "ZIP", "TXT", "IMG". */
export function fileBadge(contentType: string): string {
  if (isImageType(contentType)) return 'IMG';
  const badges: Record<string, string> = {
    PDF: 'PDF',
    Word: 'DOC',
    Excel: 'XLS',
    PowerPoint: 'PPT',
    ZIP: 'ZIP',
    Text: 'TXT',
  };
  return badges[fileTypeName(contentType)] ?? 'FILE';
}

/**
 * `url` when it is an http(s) URL (or a `blob:` URL this page made for a file being sent), else
 * undefined. Attachment URLs come from the server, but an href is where a `javascript:` URL would
 * run, so nothing else becomes a link.
 */
export function safeLink(url: string): string | undefined {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:' || protocol === 'blob:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export type UploadState = 'uploading' | 'done' | 'failed';

/**
 * Whether the composer may send: text within the limit, or at least one finished upload, and no
 * upload still going (the message would leave it behind, and the user picked it for this message).
 */
export function canSend(
  textLength: number,
  uploads: readonly { readonly state: UploadState }[],
  maxLength: number,
): boolean {
  if (textLength > maxLength) return false;
  if (uploads.some(({ state }) => state === 'uploading')) return false;
  return textLength > 0 || uploads.some(({ state }) => state === 'done');
}

/**
 * The width an image preview is shown at, in CSS pixels: its own, but inside a `box` square, keeping
 * its shape. Set before the image loads, with its width and height attributes, so nothing moves when
 * it arrives.
 */
export function previewWidth(width: number, height: number, box = 320): number {
  if (!(width > 0) || !(height > 0)) return box;
  return Math.max(1, Math.round(Math.min(width, box, (box * width) / height)));
}
