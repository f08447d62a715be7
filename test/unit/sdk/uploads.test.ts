import { describe, expect, it } from 'vitest';
import {
  ChatApi,
  ChatApiError,
  type ChatApiOptions,
  contentTypeOf,
  fileTypeName,
  humanSize,
  storageError,
  typesInWords,
  UploadError,
  type UploadForm,
  type UploadProgress,
  type XhrLike,
} from '../../../web/sdk/index.js';
import { ROOM } from './fakes.js';

const MB = 1024 * 1024;
const UPLOAD_ID = '0123456789abcdef0123456789abcdef';
const PDF = 'application/pdf';

function form(overrides: Partial<UploadForm> = {}): UploadForm {
  return {
    uploadId: UPLOAD_ID,
    url: 'http://storage.test/files',
    fields: {
      key: `uploads/${ROOM}/ann/${UPLOAD_ID}`,
      'Content-Type': PDF,
      policy: 'p',
      'x-amz-signature': 's',
    },
    expiresAt: '2026-01-01T00:05:00.000Z',
    maxBytes: 25 * MB,
    ...overrides,
  };
}

/** A file of `size` bytes without allocating them: only the checks read the size. */
function sized(name: string, type: string, size: number): File {
  const file = new File(['x'], name, { type });
  Object.defineProperty(file, 'size', { value: size });
  return file;
}

interface ApiCall {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}
interface StorageCall {
  readonly url: string;
  readonly entries: [string, FormDataEntryValue][];
  readonly headers: unknown;
}

/**
 * The REST API and storage behind one fetch: API calls answer from `api`, form posts to
 * storage.test from `storage` (204 by default, as S3 answers a form without success_action_status).
 */
function backend(
  api: (call: ApiCall) => { status?: number; body?: unknown } = () => ({ status: 201, body: form() }),
  storage: () => { status: number; body?: string } = () => ({ status: 204 }),
) {
  const apiCalls: ApiCall[] = [];
  const storageCalls: StorageCall[] = [];
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    if (url.host === 'storage.test') {
      const body = init?.body;
      if (!(body instanceof FormData)) throw new Error('storage expects a multipart form');
      storageCalls.push({ url: input, entries: [...body.entries()], headers: init?.headers });
      const answer = storage();
      return new Response(answer.body ?? null, { status: answer.status });
    }
    const call: ApiCall = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    apiCalls.push(call);
    const { status = 200, body } = api(call);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return { fetch, apiCalls, storageCalls };
}

function chatApi(fetch: ChatApiOptions['fetch'], options: Partial<ChatApiOptions> = {}) {
  // No XMLHttpRequest unless a test gives one: the fetch path, as in Node.
  return new ChatApi({ restUrl: 'http://chat.test', token: 'jwt', fetch, XMLHttpRequest: null, ...options });
}

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>R</RequestId></Error>`;

describe('words for files', () => {
  it('gives sizes as people read them', () => {
    expect(humanSize(0)).toBe('0 B');
    expect(humanSize(512)).toBe('512 B');
    expect(humanSize(1024)).toBe('1 KB');
    expect(humanSize(1536)).toBe('1.5 KB');
    expect(humanSize(340 * 1024 + 100)).toBe('340 KB');
    expect(humanSize(1.2 * MB)).toBe('1.2 MB');
    expect(humanSize(25 * MB)).toBe('25 MB');
    expect(humanSize(1023.9 * 1024)).toBe('1 MB');
    expect(humanSize(3 * 1024 * MB)).toBe('3 GB');
  });

  it('names each allowed type in words', () => {
    expect(fileTypeName(PDF)).toBe('PDF');
    expect(fileTypeName('application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe(
      'Word',
    );
    expect(fileTypeName('application/msword')).toBe('Word');
    expect(fileTypeName('application/vnd.ms-excel')).toBe('Excel');
    expect(fileTypeName('application/vnd.openxmlformats-officedocument.presentationml.presentation')).toBe(
      'PowerPoint',
    );
    expect(fileTypeName('application/zip')).toBe('ZIP');
    expect(fileTypeName('text/plain')).toBe('Text');
    expect(fileTypeName('image/png')).toBe('PNG image');
    expect(fileTypeName('application/x-msdownload')).toBe('File');
  });

  it('lists types with the images grouped', () => {
    expect(typesInWords(['image/png', 'image/jpeg', 'image/webp'])).toBe('images (PNG, JPEG, WebP)');
    expect(typesInWords(['image/gif', PDF, 'application/msword', 'application/vnd.ms-excel'])).toBe(
      'images (GIF), PDF, Word, Excel',
    );
  });

  it('declares the browser’s type, normalized, or the extension’s when the browser has none', () => {
    expect(contentTypeOf({ name: 'a.pdf', type: PDF })).toBe(PDF);
    expect(contentTypeOf({ name: 'a.zip', type: 'application/x-zip-compressed' })).toBe('application/zip');
    expect(contentTypeOf({ name: 'photo.JPG', type: 'image/jpg' })).toBe('image/jpeg');
    expect(contentTypeOf({ name: 'plan.docx', type: '' })).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(contentTypeOf({ name: 'sheet.xls', type: 'application/octet-stream' })).toBe(
      'application/vnd.ms-excel',
    );
    expect(contentTypeOf({ name: 'notes.txt', type: 'text/plain;charset=utf-8' })).toBe('text/plain');
    expect(contentTypeOf({ name: 'tool.exe', type: 'application/x-msdownload' })).toBe(
      'application/x-msdownload',
    );
    expect(contentTypeOf({ name: 'README', type: '' })).toBe('');
  });
});

describe('ChatApi: checks before any request', () => {
  it('refuses a type that is not allowed, listing what is', async () => {
    const { fetch, apiCalls } = backend();
    const error = await chatApi(fetch)
      .uploadAttachment(ROOM, sized('tool.exe', 'application/x-msdownload', 10))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'type_not_allowed', status: 0 });
    expect((error as UploadError).message).toBe(
      '“tool.exe” cannot be sent: you can send images (PNG, JPEG, GIF, WebP), PDF, Text, ZIP, Word, Excel, PowerPoint.',
    );
    expect((error as UploadError).allowedTypes).toContain(PDF);
    expect(apiCalls).toEqual([]);
  });

  it('refuses an empty file', async () => {
    const { fetch, apiCalls } = backend();
    await expect(chatApi(fetch).uploadAttachment(ROOM, sized('a.pdf', PDF, 0))).rejects.toMatchObject({
      code: 'empty',
      message: '“a.pdf” is empty.',
    });
    expect(apiCalls).toEqual([]);
  });

  it('refuses a file over the limit, saying the limit in MB', async () => {
    const { fetch, apiCalls } = backend();
    const error = await chatApi(fetch)
      .uploadAttachment(ROOM, sized('big.pdf', PDF, 30 * MB))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'too_large',
      limitBytes: 25 * MB,
      message: '“big.pdf” (30 MB) is larger than the 25 MB limit.',
    });
    expect(apiCalls).toEqual([]);
  });

  it('takes the limit from the option, then from every upload form', async () => {
    const { fetch, apiCalls } = backend(() => ({ status: 201, body: form({ maxBytes: 5 * MB }) }));
    const api = chatApi(fetch, { maxAttachmentBytes: 40 * MB });
    const request = { fileName: 'a.pdf', contentType: PDF, size: 30 * MB };

    await api.createUpload(ROOM, request);
    expect(api.maxAttachmentBytes).toBe(5 * MB);
    await expect(api.createUpload(ROOM, request)).rejects.toMatchObject({
      code: 'too_large',
      limitBytes: 5 * MB,
    });
    expect(apiCalls).toHaveLength(1);
  });

  it('allows only PNG, JPEG and WebP avatars of at most 2 MB', async () => {
    const { fetch, apiCalls } = backend();
    const api = chatApi(fetch);

    await expect(api.uploadAvatar(sized('cat.gif', 'image/gif', 10))).rejects.toMatchObject({
      code: 'type_not_allowed',
      message: '“cat.gif” cannot be a profile photo: choose images (PNG, JPEG, WebP).',
    });
    await expect(api.uploadAvatar(sized('cat.png', 'image/png', 3 * MB))).rejects.toMatchObject({
      code: 'too_large',
      message: '“cat.png” (3 MB) is larger than the 2 MB limit.',
    });
    expect(apiCalls).toEqual([]);
  });
});

describe('ChatApi: upload forms', () => {
  it('asks for an attachment form with the file’s name, type and size', async () => {
    const { fetch, apiCalls } = backend();
    const answer = await chatApi(fetch).createUpload(ROOM, {
      fileName: 'brief.pdf',
      contentType: PDF,
      size: 123,
    });

    expect(answer).toEqual(form());
    expect(apiCalls).toEqual([
      {
        method: 'POST',
        path: `/chat/uploads/${ROOM}`,
        headers: { authorization: 'Bearer jwt', 'content-type': 'application/json' },
        body: { fileName: 'brief.pdf', contentType: PDF, size: 123 },
      },
    ]);
  });

  it('asks for an avatar form with the type and size', async () => {
    const { fetch, apiCalls } = backend();
    await chatApi(fetch).createAvatarUpload({ contentType: 'image/webp', size: 2048 });

    expect(apiCalls.map(({ method, path, body }) => [method, path, body])).toEqual([
      ['POST', '/users/me/avatar', { contentType: 'image/webp', size: 2048 }],
    ]);
  });

  it('turns the server’s refusals into UploadErrors, and leaves a 401 a ChatApiError', async () => {
    let answer: { status: number; body: unknown } = {
      status: 413,
      body: { error: { code: 'too_large', message: 'x' } },
    };
    const { fetch } = backend(() => answer);
    const api = chatApi(fetch);
    const request = { fileName: 'a.pdf', contentType: PDF, size: 24 * MB };

    await expect(api.createUpload(ROOM, request)).rejects.toMatchObject({
      name: 'UploadError',
      code: 'too_large',
      status: 413,
      message: '“a.pdf” (24 MB) is larger than the 25 MB limit.',
    });

    answer = { status: 403, body: { error: { code: 'forbidden', message: 'You are not a participant' } } };
    await expect(api.createUpload(ROOM, request)).rejects.toMatchObject({
      name: 'UploadError',
      code: 'rejected',
      status: 403,
      message: 'You are not a participant',
      retryable: false,
    });

    answer = { status: 429, body: { error: { code: 'rate_limited', message: 'Slow down' } } };
    await expect(api.createUpload(ROOM, request)).rejects.toMatchObject({
      code: 'rejected',
      retryable: true,
    });

    answer = { status: 401, body: { error: { code: 'unauthorized', message: 'Expired' } } };
    const error = await api.createUpload(ROOM, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatApiError);
    expect(error).toMatchObject({ status: 401 });
  });

  it('reports an unreachable server as a network error that may be retried', async () => {
    const api = chatApi(() => Promise.reject(new TypeError('Failed to fetch')));
    const error = await api.uploadAttachment(ROOM, sized('a.pdf', PDF, 10)).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'UploadError', code: 'network_error', retryable: true });
  });
});

describe('ChatApi: posting to storage with fetch (no XMLHttpRequest)', () => {
  it('posts every field in order, then the file last, without the API token, and gives the upload id', async () => {
    const { fetch, storageCalls } = backend();
    const progress: UploadProgress[] = [];
    const file = new File(['%PDF-1.7 hello'], 'brief.pdf', { type: PDF });

    const uploadId = await chatApi(fetch).uploadAttachment(ROOM, file, (p) => progress.push(p));

    expect(uploadId).toBe(UPLOAD_ID);
    expect(storageCalls).toHaveLength(1);
    const [call] = storageCalls;
    expect(call?.url).toBe('http://storage.test/files');
    expect(call?.headers).toBeUndefined();
    expect(call?.entries.map(([name]) => name)).toEqual([
      'key',
      'Content-Type',
      'policy',
      'x-amz-signature',
      'file',
    ]);
    const sent = call?.entries.at(-1)?.[1];
    expect(sent).toBeInstanceOf(File);
    expect((sent as File).name).toBe('brief.pdf');
    expect(await (sent as File).text()).toBe('%PDF-1.7 hello');
    // Without progress events, one report at the end.
    expect(progress).toEqual([{ loaded: file.size, total: file.size }]);
  });

  it('declares a normalized type and sends the file part with it', async () => {
    const { fetch, apiCalls, storageCalls } = backend();
    const file = new File(['PK'], 'a.zip', { type: 'application/x-zip-compressed' });

    await chatApi(fetch).uploadAttachment(ROOM, file);

    expect(apiCalls[0]?.body).toMatchObject({ contentType: 'application/zip' });
    const sent = storageCalls[0]?.entries.at(-1)?.[1];
    expect(sent instanceof File && sent.type).toBe('application/zip');
  });

  it.each([
    [s3Error('AccessDenied', 'Invalid according to Policy: Policy expired.'), 'expired', true],
    [s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'), 'too_large', false],
    [
      s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'),
      'rejected',
      false,
    ],
    [
      s3Error(
        'AccessDenied',
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]',
      ),
      'type_not_allowed',
      false,
    ],
    [s3Error('AccessDenied', 'Invalid according to Policy: Extra input fields: x'), 'rejected', false],
  ])('maps a storage refusal to an UploadError (%#)', async (xml, code, retryable) => {
    const { fetch } = backend(undefined, () => ({ status: 403, body: xml }));
    const error = await chatApi(fetch)
      .uploadAttachment(ROOM, sized('a.pdf', PDF, 10))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code, status: 403, retryable });
  });

  it('reports storage out of reach as a network error', async () => {
    const { fetch: apiFetch } = backend();
    const fetch = (input: string, init?: RequestInit) =>
      input.startsWith('http://storage.test')
        ? Promise.reject(new TypeError('Failed to fetch'))
        : apiFetch(input, init);

    await expect(chatApi(fetch).uploadAttachment(ROOM, sized('a.pdf', PDF, 10))).rejects.toMatchObject({
      code: 'network_error',
      retryable: true,
    });
  });

  it('uploads an avatar and sets it with avatarUploadId', async () => {
    const { fetch, apiCalls, storageCalls } = backend((call) =>
      call.path === '/users/me'
        ? { body: { userId: 'ann', displayName: 'Ann', avatarUrl: 'https://files.test/avatars/ann/x' } }
        : { status: 201, body: form({ maxBytes: 2 * MB }) },
    );
    const api = chatApi(fetch);

    const avatarUploadId = await api.uploadAvatar(new File(['img'], 'me.webp', { type: 'image/webp' }));
    const profile = await api.updateMe({ avatarUploadId });

    expect(profile.avatarUrl).toBe('https://files.test/avatars/ann/x');
    expect(apiCalls.map(({ method, path, body }) => [method, path, body])).toEqual([
      ['POST', '/users/me/avatar', { contentType: 'image/webp', size: 3 }],
      ['PUT', '/users/me', { avatarUploadId: UPLOAD_ID }],
    ]);
    expect(storageCalls).toHaveLength(1);
  });
});

describe('storageError', () => {
  it('reads the code and message of S3’s XML, entities decoded', () => {
    const error = storageError(
      400,
      s3Error('InvalidArgument', 'Bucket POST must contain a field named &apos;key&apos;'),
    );
    expect(error).toMatchObject({ code: 'rejected', status: 400 });
    expect(error.message).toBe(
      "Storage refused the file (InvalidArgument: Bucket POST must contain a field named 'key').",
    );
  });

  it('says the limit when it knows it', () => {
    expect(storageError(400, s3Error('EntityTooLarge', 'x'), 25 * MB).message).toBe(
      'The file is larger than the 25 MB limit.',
    );
  });

  it('copes with an answer that is not XML', () => {
    expect(storageError(502, 'Bad gateway')).toMatchObject({
      code: 'rejected',
      message: 'Storage refused the file (HTTP 502).',
      retryable: true,
    });
  });
});

/** An XMLHttpRequest double: records the request; the test plays the network's part. */
class FakeXhr implements XhrLike {
  static last: FakeXhr | undefined;
  status = 0;
  responseText = '';
  readonly upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  opened: [string, string] | undefined;
  body: FormData | undefined;
  aborted = false;

  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string): void {
    this.opened = [method, url];
  }
  send(body: FormData): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }

  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total } as ProgressEvent);
  }
  answer(status: number, body = ''): void {
    this.status = status;
    this.responseText = body;
    this.onload?.();
  }
}

/** Lets the form request answer, so the XHR is created. */
const formRequested = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ChatApi: posting to storage with XMLHttpRequest', () => {
  it('reports progress while the bytes go out', async () => {
    const { fetch, storageCalls } = backend();
    const progress: UploadProgress[] = [];
    const file = new File(['0123456789'], 'a.txt', { type: 'text/plain' });
    const upload = chatApi(fetch, { XMLHttpRequest: FakeXhr }).uploadAttachment(ROOM, file, (p) =>
      progress.push(p),
    );

    await formRequested();
    const xhr = FakeXhr.last;
    expect(xhr?.opened).toEqual(['POST', 'http://storage.test/files']);
    expect([...(xhr?.body?.keys() ?? [])].at(-1)).toBe('file');
    xhr?.progress(100, 400);
    xhr?.progress(400, 400);
    xhr?.answer(204);

    expect(await upload).toBe(UPLOAD_ID);
    expect(progress).toEqual([
      { loaded: 100, total: 400 },
      { loaded: 400, total: 400 },
      { loaded: 10, total: 10 },
    ]);
    // Not through fetch.
    expect(storageCalls).toEqual([]);
  });

  it('maps an XML refusal, a network failure and an abort', async () => {
    const { fetch } = backend();
    const api = chatApi(fetch, { XMLHttpRequest: FakeXhr });
    const file = sized('a.pdf', PDF, 10);

    const expired = api.uploadAttachment(ROOM, file).catch((e: unknown) => e);
    await formRequested();
    FakeXhr.last?.answer(403, s3Error('AccessDenied', 'Invalid according to Policy: Policy expired.'));
    expect(await expired).toMatchObject({ code: 'expired', retryable: true });

    const lost = api.uploadAttachment(ROOM, file).catch((e: unknown) => e);
    await formRequested();
    FakeXhr.last?.onerror?.();
    expect(await lost).toMatchObject({ code: 'network_error' });

    const controller = new AbortController();
    const cancelled = api.uploadAttachment(ROOM, file, undefined, controller.signal).catch((e: unknown) => e);
    await formRequested();
    controller.abort();
    expect(FakeXhr.last?.aborted).toBe(true);
    expect(await cancelled).toMatchObject({ code: 'aborted' });
  });
});
