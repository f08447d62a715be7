/**
 * Files: what may be uploaded, where it lands in the bucket and how long each step lasts, declared
 * once. The CDK stack (bucket, lifecycle, CORS), the local S3 server, the handlers and the web client
 * all read these, so a limit or a key layout cannot differ between them.
 *
 * Plain data on purpose: no aws-cdk-lib or AWS SDK import.
 */

/** Upload kinds: a message attachment, or the caller's avatar. */
export type UploadKind = 'attachment' | 'avatar';

/**
 * The types a message may carry, by declared `contentType`. `detected` is what the file's first bytes
 * must show (see lambdas/files/detect.ts): office documents are ZIP (OOXML) or OLE compound files, so
 * the first bytes can only tell the container; plain text has no signature and is checked as UTF-8.
 */
export const attachmentTypes = {
  'image/png': { detected: 'png', image: true, extensions: ['png'] },
  'image/jpeg': { detected: 'jpg', image: true, extensions: ['jpg', 'jpeg'] },
  'image/gif': { detected: 'gif', image: true, extensions: ['gif'] },
  'image/webp': { detected: 'webp', image: true, extensions: ['webp'] },
  'application/pdf': { detected: 'pdf', image: false, extensions: ['pdf'] },
  'text/plain': { detected: 'text', image: false, extensions: ['txt', 'text', 'md', 'csv', 'log'] },
  'application/zip': { detected: 'zip', image: false, extensions: ['zip'] },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    detected: 'zip',
    image: false,
    extensions: ['docx'],
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    detected: 'zip',
    image: false,
    extensions: ['xlsx'],
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    detected: 'zip',
    image: false,
    extensions: ['pptx'],
  },
  'application/msword': { detected: 'cfb', image: false, extensions: ['doc'] },
  'application/vnd.ms-excel': { detected: 'cfb', image: false, extensions: ['xls'] },
  'application/vnd.ms-powerpoint': { detected: 'cfb', image: false, extensions: ['ppt'] },
} as const satisfies Record<
  string,
  { readonly detected: DetectedType; readonly image: boolean; readonly extensions: readonly string[] }
>;

export type DetectedType = 'png' | 'jpg' | 'gif' | 'webp' | 'pdf' | 'text' | 'zip' | 'cfb';
export type AttachmentContentType = keyof typeof attachmentTypes;

/** Avatars: images a browser shows everywhere. */
export const avatarTypes = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type AvatarContentType = (typeof avatarTypes)[number];

export const isAttachmentType = (value: string): value is AttachmentContentType =>
  Object.hasOwn(attachmentTypes, value);
export const isAvatarType = (value: string): value is AvatarContentType =>
  (avatarTypes as readonly string[]).includes(value);

/**
 * The name a download is saved under: the file's name, with its type's extension added when the name
 * ends in another (a checked text file named `invoice.pdf.js` saves as `invoice.pdf.js.txt`, so no
 * checked file opens as a script or a page). The name messages show is the one given.
 */
export function downloadName(fileName: string, contentType: string): string {
  if (!isAttachmentType(contentType)) return fileName;
  const { extensions } = attachmentTypes[contentType];
  const extension = /\.([^.]+)$/.exec(fileName)?.[1]?.toLowerCase();
  const allowed: readonly string[] = extensions;
  return extension !== undefined && allowed.includes(extension) ? fileName : `${fileName}.${extensions[0]}`;
}

/** Attachments per message (its own constant so that the send handler bundles only this limit). */
export const MAX_ATTACHMENTS = 10;

export const uploadLimits = {
  /** Default largest attachment; the stack's `maxUploadBytes` context value changes it. */
  defaultMaxAttachmentBytes: 25 * 1024 * 1024,
  /**
   * The largest `maxUploadBytes` a stack may set: the attachment check keeps a file by one server-side
   * copy within its timeout (while the sender waits for the ack), which S3 does at tens to hundreds of
   * MB a second; far below S3's 5 GiB for one POST.
   */
  maxAttachmentBytesLimit: 100 * 1024 * 1024,
  maxAvatarBytes: 2 * 1024 * 1024,
  /** How long an upload form is accepted by storage. */
  formSeconds: 5 * 60,
  /**
   * Uploads are deleted this many days after they were posted (the bucket's lifecycle rule on the
   * upload folders): an attached one has been copied to a kept folder by then.
   */
  stagingDays: 1,
  maxAttachments: MAX_ATTACHMENTS,
  /** Longest file name kept (code points). */
  maxFileName: 255,
  /**
   * How long a download URL works from the response that carried it: at least an hour, as API.md
   * promises, plus a margin for a page left open.
   */
  downloadSeconds: 2 * 60 * 60,
  /** Bytes read from the start of an upload to tell its type (and image size when it is there). */
  sniffBytes: 64 * 1024,
} as const;

/** Object metadata an upload form binds (as `x-amz-meta-<name>` fields). */
export const uploadMetadata = {
  /** The declared file name, percent-encoded (S3 metadata is US-ASCII). */
  fileName: 'filename',
  /** The declared size in bytes. */
  size: 'size',
} as const;

/** Upload ids: 32 lower-case hex digits (128 random bits), so a key built from one cannot escape its folder. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * The bucket's folders. A browser posts into `uploads/` (attachments) or `avatars/` through a form;
 * nothing there is kept: the lifecycle rule deletes it after `stagingDays`. Attaching an upload (or
 * setting it as the avatar) copies the checked object, on the condition that it is still the one that
 * was checked, into `files/` or `profiles/`, where nothing else writes, forms cannot reach, and
 * answers sign download URLs for. So an upload form posted again after its file was attached
 * changes nothing a message shows.
 */
export const bucketFolders = {
  uploads: 'uploads',
  avatars: 'avatars',
  files: 'files',
  profiles: 'profiles',
} as const;
export type BucketFolder = keyof typeof bucketFolders;

/**
 * Where an upload lives. The room and the uploader are in the key, so an upload id given by a sender
 * names an object only in that sender's folder of that room: another user's or another room's upload
 * is simply not found.
 */
export const uploadKey = {
  attachment: (roomId: string, uploaderId: string, uploadId: string) =>
    `${bucketFolders.uploads}/${roomId}/${uploaderId}/${uploadId}`,
  avatar: (userId: string, uploadId: string) => `${bucketFolders.avatars}/${userId}/${uploadId}`,
} as const;

/**
 * Where an attached upload is kept: the same ids in the kept folders. An attachment is kept once (its
 * claim makes it one message's); an avatar is kept under a key of its own each time it is set
 * (`version`), so deleting the avatar an update replaced never deletes one another update sets.
 */
export const keptKey = {
  attachment: (roomId: string, uploaderId: string, uploadId: string) =>
    `${bucketFolders.files}/${roomId}/${uploaderId}/${uploadId}`,
  avatar: (userId: string, uploadId: string, version: string) =>
    `${bucketFolders.profiles}/${userId}/${uploadId}/${version}`,
} as const;

/** CORS of the bucket: browsers POST upload forms from the web client's origins and may fetch files. */
export const bucketCors = {
  methods: ['POST', 'GET', 'HEAD'],
  /** Headers a browser may send (the form POST sends none of its own; range requests for previews). */
  allowedHeaders: ['*'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 3600,
} as const;
