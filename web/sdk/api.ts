/** Typed REST calls for every route in API.md. */
import type {
  ErrorCode,
  MessagePage,
  Profile,
  ProfileChanges,
  ReadPointer,
  Room,
  RoomPage,
  TokenRequest,
  TokenSource,
  UploadForm,
  UploadRequest,
} from './types.js';
import {
  attachmentRules,
  avatarRules,
  checkUpload,
  contentTypeOf,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  fileNameFor,
  type ProgressListener,
  postWithFetch,
  postWithXhr,
  storageError,
  tooLarge,
  UploadError,
  type UploadFile,
  uploadBody,
  type XhrConstructor,
} from './uploads.js';

/** A REST call that failed: `status` 0 and code `network_error` when no response arrived at all. */
export class ChatApiError extends Error {
  override readonly name = 'ChatApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error',
    message: string,
  ) {
    super(message);
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ChatApiOptions {
  /** The HTTP API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  readonly restUrl: string;
  readonly token: TokenSource;
  /** Defaults to the platform's `fetch`. */
  readonly fetch?: FetchLike;
  /**
   * Posts upload forms, for their progress events; defaults to the platform's. `null`, or none on the
   * platform (Node), posts them with `fetch`, without progress.
   */
  readonly XMLHttpRequest?: XhrConstructor | null;
  /**
   * The largest attachment, for the check before any request. Defaults to the stack's default (25 MB);
   * every upload form's `maxBytes` replaces it, so only a stack deployed with another limit needs it.
   */
  readonly maxAttachmentBytes?: number;
}

/** What `POST /users/me/avatar` takes. */
export interface AvatarUploadRequest {
  readonly contentType: string;
  readonly size: number;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
};

export const resolveToken = async (token: TokenSource, request?: TokenRequest): Promise<string> =>
  typeof token === 'string' ? token : token(request);

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const platformFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

async function toError(response: Response): Promise<ChatApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code =
    typeof error?.code === 'string'
      ? (error.code as ErrorCode)
      : (CODE_BY_STATUS[response.status] ?? 'internal');
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
  return new ChatApiError(response.status, code, message);
}

/** One JSON request; every failure becomes a `ChatApiError`. */
async function requestJson<T>(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch (error) {
    throw new ChatApiError(0, 'network_error', error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await toError(response);
  return { status: response.status, body: (await response.json()) as T };
}

export class ChatApi {
  readonly restUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly Xhr: XhrConstructor | undefined;
  private attachmentLimit: number;

  constructor(private readonly options: ChatApiOptions) {
    this.restUrl = trimSlash(options.restUrl);
    this.fetchImpl = options.fetch ?? platformFetch;
    const platformXhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
    this.Xhr = options.XMLHttpRequest === undefined ? platformXhr : (options.XMLHttpRequest ?? undefined);
    this.attachmentLimit = options.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
  }

  /** The largest attachment as last known: the option, then the latest upload form's `maxBytes`. */
  get maxAttachmentBytes(): number {
    return this.attachmentLimit;
  }

  /** The caller's rooms, most recent activity first. */
  listRooms(page: { limit?: number; cursor?: string } = {}): Promise<RoomPage> {
    return this.call('GET', `/chat/list${query(page)}`);
  }

  /** No `before`/`after`: the newest page (which also marks the room read). */
  getMessages(
    roomId: string,
    page: { before?: string; after?: string; limit?: number } = {},
  ): Promise<MessagePage> {
    return this.call('GET', `/chat/messages/${encodeURIComponent(roomId)}${query(page)}`);
  }

  /** Starts (or returns) the room with `userId`; `created` tells which. */
  async startChat(userId: string): Promise<{ room: Room; created: boolean }> {
    const { body, status } = await this.callWithStatus<{ room: Room }>(
      'POST',
      `/chat/start/${encodeURIComponent(userId)}`,
    );
    return { room: body.room, created: status === 201 };
  }

  /** Moves the caller's read pointer forward to `messageId` (never back). */
  markRead(roomId: string, messageId: string): Promise<ReadPointer> {
    return this.call('POST', `/chat/read/${encodeURIComponent(roomId)}`, { messageId });
  }

  getMe(): Promise<Profile> {
    return this.call('GET', '/users/me');
  }

  /** `{ avatarUploadId }` sets an uploaded avatar (see `uploadAvatar`); the answer has its `avatarUrl`. */
  updateMe(changes: ProfileChanges): Promise<Profile> {
    return this.call('PUT', '/users/me', changes);
  }

  /**
   * An upload form for a file to attach in `roomId`. The type and size are checked first, against the
   * same rules as the server's; a refusal, here or by the server, throws an `UploadError` (a 401 stays
   * a `ChatApiError`: it is about the session, not the file).
   */
  async createUpload(roomId: string, request: UploadRequest): Promise<UploadForm> {
    checkUpload(request, request.fileName, attachmentRules(this.attachmentLimit));
    try {
      const form = await this.call<UploadForm>(
        'POST',
        `/chat/uploads/${encodeURIComponent(roomId)}`,
        request,
      );
      this.attachmentLimit = form.maxBytes;
      return form;
    } catch (error) {
      throw uploadRefusal(error, `“${request.fileName}”`, request.size, this.attachmentLimit);
    }
  }

  /** An upload form for a new avatar (PNG, JPEG or WebP, at most 2 MB), checked first like `createUpload`. */
  async createAvatarUpload(request: AvatarUploadRequest, label = 'The image'): Promise<UploadForm> {
    checkUpload(request, label, avatarRules);
    try {
      return await this.call<UploadForm>('POST', '/users/me/avatar', request);
    } catch (error) {
      throw uploadRefusal(error, `“${label}”`, request.size, avatarRules.maxBytes);
    }
  }

  /**
   * Uploads `file` to attach in `roomId` and gives its `uploadId`, for `ChatConnection.send`. Progress
   * is reported while the bytes go out where the platform has XMLHttpRequest, and once at the end
   * otherwise. Every failure but a 401 is an `UploadError`.
   */
  async uploadAttachment(
    roomId: string,
    file: UploadFile,
    onProgress?: ProgressListener,
    signal?: AbortSignal,
  ): Promise<string> {
    const contentType = contentTypeOf(file);
    const request = { fileName: fileNameFor(file.name), contentType, size: file.size };
    const form = await this.createUpload(roomId, request);
    await this.postForm(form, file, contentType, onProgress, signal);
    return form.uploadId;
  }

  /** Uploads `file` as the next avatar and gives its `uploadId`: then `updateMe({ avatarUploadId })`. */
  async uploadAvatar(file: UploadFile, onProgress?: ProgressListener, signal?: AbortSignal): Promise<string> {
    const contentType = contentTypeOf(file);
    const form = await this.createAvatarUpload({ contentType, size: file.size }, file.name);
    await this.postForm(form, file, contentType, onProgress, signal);
    return form.uploadId;
  }

  /** Posts `file` with the form's fields to storage; its refusals become `UploadError`s. */
  private async postForm(
    form: UploadForm,
    file: UploadFile,
    contentType: string,
    onProgress: ProgressListener | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const body = uploadBody(form.fields, file, contentType);
    const answer =
      this.Xhr === undefined
        ? await postWithFetch(this.fetchImpl, form.url, body, signal)
        : await postWithXhr(this.Xhr, form.url, body, onProgress, signal);
    if (answer.status < 200 || answer.status > 299)
      throw storageError(answer.status, answer.body, form.maxBytes);
    onProgress?.({ loaded: file.size, total: file.size });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.callWithStatus<T>(method, path, body)).body;
  }

  private async callWithStatus<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ body: T; status: number }> {
    let sent = '';
    const attempt = async (request?: TokenRequest) => {
      sent = await resolveToken(this.options.token, request);
      const headers: Record<string, string> = { authorization: `Bearer ${sent}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return requestJson<T>(this.fetchImpl, `${this.restUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    };
    try {
      return await attempt();
    } catch (error) {
      // A token that expired (or was refused) between the provider's check and the server's: one
      // refresh and one retry. A plain string cannot be refreshed; a second 401 is the answer. The
      // refused token goes with the request: if another call's refresh already replaced it, the
      // provider gives the new one instead of refreshing again.
      if (!(error instanceof ChatApiError) || error.status !== 401 || typeof this.options.token === 'string')
        throw error;
      return attempt({ forceRefresh: true, refusedToken: sent });
    }
  }
}

/** A refused upload request in the words of an `UploadError`; a 401, or anything else, is left as it is. */
function uploadRefusal(error: unknown, name: string, size: number, limitBytes: number): unknown {
  if (!(error instanceof ChatApiError) || error.status === 401) return error;
  if (error.code === 'too_large') return tooLarge(name, size, limitBytes, error.status);
  if (error.code === 'network_error')
    return new UploadError('network_error', 'Cannot reach the server. Check the connection and try again.', {
      cause: error,
    });
  return new UploadError('rejected', error.message, { status: error.status, cause: error });
}

/** The local stack's sign-in (`POST /dev/token`); it never exists on a deployed stack. */
export async function signInLocal(
  signInUrl: string,
  user: { userId: string; displayName?: string },
  fetchImpl: FetchLike = platformFetch,
): Promise<{ token: string }> {
  const { body } = await requestJson<{ token: string }>(fetchImpl, signInUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  return body;
}
