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
  'image/png': { detected: 'png', image: true },
  'image/jpeg': { detected: 'jpg', image: true },
  'image/gif': { detected: 'gif', image: true },
  'image/webp': { detected: 'webp', image: true },
  'application/pdf': { detected: 'pdf', image: false },
  'text/plain': { detected: 'text', image: false },
  'application/zip': { detected: 'zip', image: false },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    detected: 'zip',
    image: false,
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { detected: 'zip', image: false },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    detected: 'zip',
    image: false,
  },
  'application/msword': { detected: 'cfb', image: false },
  'application/vnd.ms-excel': { detected: 'cfb', image: false },
  'application/vnd.ms-powerpoint': { detected: 'cfb', image: false },
} as const satisfies Record<string, { readonly detected: DetectedType; readonly image: boolean }>;

export type DetectedType = 'png' | 'jpg' | 'gif' | 'webp' | 'pdf' | 'text' | 'zip' | 'cfb';
export type AttachmentContentType = keyof typeof attachmentTypes;

/** Avatars: images a browser shows everywhere. */
export const avatarTypes = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type AvatarContentType = (typeof avatarTypes)[number];

export const isAttachmentType = (value: string): value is AttachmentContentType =>
  Object.hasOwn(attachmentTypes, value);
export const isAvatarType = (value: string): value is AvatarContentType =>
  (avatarTypes as readonly string[]).includes(value);

/** Attachments per message (its own constant so that the send handler bundles only this limit). */
export const MAX_ATTACHMENTS = 10;

export const uploadLimits = {
  /** Default largest attachment; the stack's `maxUploadBytes` context value changes it. */
  defaultMaxAttachmentBytes: 25 * 1024 * 1024,
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

/** Where an attached upload is kept (the same ids, in the kept folders). */
export const keptKey = {
  attachment: (roomId: string, uploaderId: string, uploadId: string) =>
    `${bucketFolders.files}/${roomId}/${uploaderId}/${uploadId}`,
  avatar: (userId: string, uploadId: string) => `${bucketFolders.profiles}/${userId}/${uploadId}`,
} as const;

/** CORS of the bucket: browsers POST upload forms from the web client's origins and may fetch files. */
export const bucketCors = {
  methods: ['POST', 'GET', 'HEAD'],
  /** Headers a browser may send (the form POST sends none of its own; range requests for previews). */
  allowedHeaders: ['*'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 3600,
} as const;
