/**
 * The send path with a file: AWS requests, DynamoDB capacity units and latency of a 1:1 message with
 * one attachment, beside the same message without it, both sent the way a client sends them (a
 * `sendMessage` frame on a WebSocket to the local stack), so that every request is the real
 * handlers': SendMessageFunction (its DynamoDB requests and its synchronous Invoke of the attachment
 * check) and AttachmentCheckFunction (S3 HeadObject, the ranged GetObject of the first bytes,
 * PutObjectTagging, the claim's TransactWriteItems). Counted per function by lib/aws-meter.ts.
 *
 * Each attachment is a fresh upload (an upload is attached to one message): the upload form
 * (`POST /chat/uploads/{roomId}`, CreateUploadFunction, metered too) and the storage POST, from
 * Node through the web SDK's `uploadAttachment`, before the send. The two kinds of send alternate,
 * so the machine's load drift hits both alike. Same text in both: the difference is the file.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type WebSocket from 'ws';
import type { LocalStack } from '../../local/stack.js';
import { pngImage } from '../../test/e2e/support/files.js';
import { ChatApi } from '../../web/sdk/index.js';
import type { BenchConfig } from '../config.js';
import { type FunctionCalls, watchAwsCalls } from '../lib/aws-meter.js';
import type { Deadline } from '../lib/deadline.js';
import { withTimeout } from '../lib/deadline.js';
import { itemSize, writeUnits as itemWriteUnits } from '../lib/item-size.js';
import { benchDb, closeAll, connect, signIn, startChat, tableNamesOf } from '../lib/local.js';
import { round, roundSummary, type Summary, summarize } from '../lib/stats.js';

export const SEND_FUNCTION = 'SendMessageFunction';
export const CHECK_FUNCTION = 'AttachmentCheckFunction';
export const UPLOAD_FUNCTION = 'CreateUploadFunction';

/** Mean figures of one kind of send, per send, by function. */
export interface SendFigures {
  readonly sends: number;
  /** Mean HTTP requests per send, by function, then by `Service:Operation`. */
  readonly requests: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly totalRequests: number;
  readonly dynamoDbRequests: number;
  /** DynamoDB units per send as DynamoDB Local reported them, by function. */
  readonly writeUnits: Readonly<Record<string, number>>;
  readonly readUnits: Readonly<Record<string, number>>;
  readonly unreportedUnits: number;
  /** Frame sent → `ack` on the sender's socket, ms. */
  readonly ackMs: Summary;
  /** Frame sent → `chat_message` on the recipient's socket, ms. */
  readonly receiptMs: Summary;
  /** The send function's Invoke of the attachment check, as its Lambda client timed it, ms. */
  readonly invokeMs?: Summary;
  /** The ack frame's size: under 32 KB, one WebSocket message (the recipient's frame is alike). */
  readonly ackFrameBytes: number;
}

export interface AttachResult {
  readonly attachment: {
    readonly fileName: string;
    readonly contentType: string;
    readonly bytes: number;
    readonly width: number;
    readonly height: number;
  };
  readonly contentChars: number;
  readonly textOnly: SendFigures;
  readonly oneAttachment: SendFigures;
  /** The upload form of each attachment (before the send): requests and latency. */
  readonly upload: {
    readonly uploads: number;
    readonly requests: Readonly<Record<string, Readonly<Record<string, number>>>>;
    /** DynamoDB read units of the form's function per upload, as reported. */
    readonly readUnits: number;
    readonly formMs: Summary;
    /** Form + the storage POST of the attachment, from Node (fetch). */
    readonly uploadMs: Summary;
  };
  /**
   * Stored item sizes (AWS's rules, lib/item-size.ts) as a cross-check of the reported units: the
   * newest message of each kind, and the attachment's claim item (a transactional Put: 2 WRU per KB).
   */
  readonly itemSizes: {
    readonly textMessageBytes: number;
    readonly fileMessageBytes: number;
    readonly claimBytes: number;
    readonly computedClaimWriteUnits: number;
  };
  /** What the message with the file adds to the one without, per message (means). */
  readonly added: {
    readonly requests: Readonly<Record<string, number>>;
    readonly dynamoDbWriteUnits: number;
    readonly dynamoDbReadUnits: number;
    readonly ackMs: number;
  };
  /** Checks that failed (an error of the section): the text-only send must stay at its 3 requests. */
  readonly problems: readonly string[];
}

interface Sample {
  readonly calls: Readonly<Record<string, FunctionCalls>>;
  readonly ackMs: number;
  readonly receiptMs: number;
  readonly ackBytes: number;
}

interface Waiter {
  readonly sentAt: number;
  ackAt?: number;
  ackBytes?: number;
  receivedAt?: number;
  readonly done: () => void;
  readonly fail: (error: Error) => void;
}

/** Sends frames on the sender's socket and resolves when both the ack and the recipient's copy came. */
class FrameClock {
  private readonly waiting = new Map<string, Waiter>();

  constructor(sender: WebSocket, recipient: WebSocket) {
    sender.on('message', (data) => {
      const text = data.toString();
      const frame = JSON.parse(text) as {
        type?: string;
        clientMessageId?: string;
        message?: { clientMessageId?: string } | string;
      };
      const id = typeof frame.message === 'object' ? frame.message.clientMessageId : frame.clientMessageId;
      const waiter = id === undefined ? undefined : this.waiting.get(id);
      if (waiter === undefined) return;
      if (frame.type === 'ack') {
        waiter.ackAt = performance.now();
        waiter.ackBytes = Buffer.byteLength(text);
        this.settle(id ?? '', waiter);
      } else if (frame.type === 'error') {
        waiter.fail(new Error(`send ${id} refused: ${text}`));
      }
    });
    recipient.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; message?: { clientMessageId?: string } };
      const id = frame.message?.clientMessageId;
      const waiter = frame.type === 'chat_message' && id !== undefined ? this.waiting.get(id) : undefined;
      if (waiter === undefined) return;
      waiter.receivedAt = performance.now();
      this.settle(id ?? '', waiter);
    });
  }

  private settle(id: string, waiter: Waiter): void {
    if (waiter.ackAt !== undefined && waiter.receivedAt !== undefined) {
      this.waiting.delete(id);
      waiter.done();
    }
  }

  async send(
    socket: WebSocket,
    frame: { roomId: string; content: string; clientMessageId: string; attachments?: { uploadId: string }[] },
  ): Promise<{ ackMs: number; receiptMs: number; ackBytes: number }> {
    let waiter: Waiter | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      waiter = { sentAt: performance.now(), done: resolve, fail: reject };
      this.waiting.set(frame.clientMessageId, waiter);
    });
    socket.send(JSON.stringify({ action: 'sendMessage', ...frame }));
    try {
      await withTimeout(finished, 15_000, `send ${frame.clientMessageId}`);
    } finally {
      this.waiting.delete(frame.clientMessageId);
    }
    const w = waiter as Waiter;
    return {
      ackMs: (w.ackAt ?? Number.NaN) - w.sentAt,
      receiptMs: (w.receivedAt ?? Number.NaN) - w.sentAt,
      ackBytes: w.ackBytes ?? 0,
    };
  }
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;

function figuresOf(samples: readonly Sample[], functions: readonly string[]): SendFigures {
  const requests: Record<string, Record<string, number>> = {};
  const writeUnits: Record<string, number> = {};
  const readUnits: Record<string, number> = {};
  for (const fn of functions) {
    const operations = new Set(samples.flatMap((s) => Object.keys(s.calls[fn]?.requests ?? {})));
    requests[fn] = Object.fromEntries(
      [...operations]
        .sort()
        .map((op) => [op, round(mean(samples.map((s) => s.calls[fn]?.requests[op] ?? 0)), 3)]),
    );
    writeUnits[fn] = round(mean(samples.map((s) => s.calls[fn]?.writeUnits ?? 0)), 3);
    readUnits[fn] = round(mean(samples.map((s) => s.calls[fn]?.readUnits ?? 0)), 3);
  }
  const total = (pick: (op: string) => boolean) =>
    round(
      mean(
        samples.map((s) =>
          functions.reduce(
            (sum, fn) =>
              sum +
              Object.entries(s.calls[fn]?.requests ?? {})
                .filter(([op]) => pick(op))
                .reduce((n, [, count]) => n + count, 0),
            0,
          ),
        ),
      ),
      3,
    );
  const invokes = samples.flatMap((s) => s.calls[SEND_FUNCTION]?.durations['Lambda:Invoke'] ?? []);
  return {
    sends: samples.length,
    requests,
    totalRequests: total(() => true),
    dynamoDbRequests: total((op) => op.startsWith('DynamoDB:')),
    writeUnits,
    readUnits,
    unreportedUnits: samples.reduce(
      (sum, s) => sum + functions.reduce((n, fn) => n + (s.calls[fn]?.unreported ?? 0), 0),
      0,
    ),
    ackMs: roundSummary(summarize(samples.map((s) => s.ackMs))),
    receiptMs: roundSummary(summarize(samples.map((s) => s.receiptMs))),
    ...(invokes.length > 0 ? { invokeMs: roundSummary(summarize(invokes)) } : {}),
    ackFrameBytes: Math.max(...samples.map((s) => s.ackBytes)),
  };
}

/** Every operation's mean count across functions (`Function / Service:Operation`). */
function flatRequests(figures: SendFigures): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const [fn, ops] of Object.entries(figures.requests)) {
    for (const [op, n] of Object.entries(ops)) if (n > 0) flat[`${fn} ${op}`] = n;
  }
  return flat;
}

export async function measureAttachments(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
): Promise<AttachResult> {
  const lambdaEndpoint = process.env.AWS_ENDPOINT_URL_LAMBDA ?? '';
  if (lambdaEndpoint !== stack.lambdaUrl || !lambdaEndpoint.startsWith('http://127.0.0.1:')) {
    throw new Error(
      `refusing to run: the handlers' Lambda endpoint is not the local one (${lambdaEndpoint})`,
    );
  }
  const [a, b] = ['bench-att-a', 'bench-att-b'];
  const tokenA = await signIn(stack, a);
  const tokenB = await signIn(stack, b);
  const roomId = await startChat(stack, tokenA, b);
  // The SDK's fetch, timed: the upload form (the chat API) and the storage POST (the local S3).
  const timings: { form: number; post: number } = { form: Number.NaN, post: Number.NaN };
  const api = new ChatApi({
    restUrl: stack.restUrl,
    token: tokenA,
    XMLHttpRequest: null,
    fetch: async (input, init) => {
      const started = performance.now();
      const response = await fetch(input, init);
      await response.clone().arrayBuffer();
      const ms = performance.now() - started;
      if (input.startsWith(stack.filesUrl)) timings.post = ms;
      else timings.form = ms;
      return response;
    },
  });
  const image = { fileName: 'photo.png', contentType: 'image/png', width: 320, height: 240 };
  const bytes = pngImage(image.width, image.height, 120);
  const file = new File([new Uint8Array(bytes)], image.fileName, { type: image.contentType });

  const meter = watchAwsCalls();
  const sockets: WebSocket[] = [];
  try {
    sockets.push(await connect(stack, tokenA), await connect(stack, tokenB));
    const [senderSocket, recipientSocket] = sockets as [WebSocket, WebSocket];
    const clock = new FrameClock(senderSocket, recipientSocket);
    let sequence = 0;
    const uploads: { calls: Readonly<Record<string, FunctionCalls>>; formMs: number; uploadMs: number }[] =
      [];

    const sendText = async (): Promise<Sample> => {
      meter.reset();
      const timing = await clock.send(senderSocket, {
        roomId,
        content: config.content,
        clientMessageId: `att-text-${sequence++}`,
      });
      return { calls: meter.snapshot(), ...timing };
    };
    const sendWithFile = async (): Promise<Sample> => {
      meter.reset();
      const started = performance.now();
      const uploadId = await api.uploadAttachment(roomId, file);
      uploads.push({ calls: meter.snapshot(), formMs: timings.form, uploadMs: performance.now() - started });
      meter.reset();
      const timing = await clock.send(senderSocket, {
        roomId,
        content: config.content,
        clientMessageId: `att-file-${sequence++}`,
        attachments: [{ uploadId }],
      });
      return { calls: meter.snapshot(), ...timing };
    };

    for (let i = 0; i < config.attach.warmup; i++) {
      await sendText();
      await sendWithFile();
    }
    uploads.length = 0;
    const text: Sample[] = [];
    const withFile: Sample[] = [];
    for (let i = 0; i < config.attach.sends && !deadline.expired; i++) {
      // Alternate which goes first, so that neither always follows the other.
      if (i % 2 === 0) {
        text.push(await sendText());
        withFile.push(await sendWithFile());
      } else {
        withFile.push(await sendWithFile());
        text.push(await sendText());
      }
    }
    if (text.length === 0) throw new Error('no send measured before the deadline');

    const functions = [SEND_FUNCTION, CHECK_FUNCTION];
    const textOnly = figuresOf(text, functions);
    const oneAttachment = figuresOf(withFile, functions);
    const uploadFunctions = [...new Set(uploads.flatMap((u) => Object.keys(u.calls)))].sort();
    const uploadRequests: Record<string, Record<string, number>> = {};
    for (const fn of uploadFunctions) {
      const ops = new Set(uploads.flatMap((u) => Object.keys(u.calls[fn]?.requests ?? {})));
      uploadRequests[fn] = Object.fromEntries(
        [...ops].sort().map((op) => [op, round(mean(uploads.map((u) => u.calls[fn]?.requests[op] ?? 0)), 3)]),
      );
    }

    const textFlat = flatRequests(textOnly);
    const fileFlat = flatRequests(oneAttachment);
    const added: Record<string, number> = {};
    for (const key of new Set([...Object.keys(textFlat), ...Object.keys(fileFlat)])) {
      const delta = round((fileFlat[key] ?? 0) - (textFlat[key] ?? 0), 3);
      if (delta !== 0) added[key] = delta;
    }
    const sumUnits = (units: Readonly<Record<string, number>>) =>
      Object.values(units).reduce((sum, u) => sum + u, 0);

    const problems: string[] = [];
    const expectedText = { 'DynamoDB:BatchGetItem': 1, 'DynamoDB:PutItem': 1, 'DynamoDB:UpdateItem': 1 };
    const sendOps = textOnly.requests[SEND_FUNCTION] ?? {};
    if (
      JSON.stringify(Object.fromEntries(Object.entries(sendOps).filter(([, n]) => n > 0))) !==
        JSON.stringify(expectedText) ||
      textOnly.totalRequests !== 3
    ) {
      problems.push(
        `a text-only send made ${JSON.stringify(textOnly.requests)}, not 3 requests ${JSON.stringify(expectedText)}`,
      );
    }
    if ((oneAttachment.requests[SEND_FUNCTION]?.['Lambda:Invoke'] ?? 0) !== 1) {
      problems.push(
        `a send with one file invoked the check ${JSON.stringify(oneAttachment.requests[SEND_FUNCTION])} times, not once`,
      );
    }

    return {
      attachment: { ...image, bytes: bytes.length },
      contentChars: config.content.length,
      textOnly,
      oneAttachment,
      upload: {
        uploads: uploads.length,
        requests: uploadRequests,
        readUnits: round(mean(uploads.map((u) => u.calls[UPLOAD_FUNCTION]?.readUnits ?? 0)), 3),
        formMs: roundSummary(summarize(uploads.map((u) => u.formMs))),
        uploadMs: roundSummary(summarize(uploads.map((u) => u.uploadMs))),
      },
      itemSizes: await storedSizes(stack, roomId),
      added: {
        requests: added,
        dynamoDbWriteUnits: round(sumUnits(oneAttachment.writeUnits) - sumUnits(textOnly.writeUnits), 3),
        dynamoDbReadUnits: round(sumUnits(oneAttachment.readUnits) - sumUnits(textOnly.readUnits), 3),
        ackMs: round(oneAttachment.ackMs.p50 - textOnly.ackMs.p50),
      },
      problems,
    };
  } finally {
    meter.stop();
    await closeAll(sockets);
  }
}

/** The sizes of the newest message with and without a file, and of one claim item, in the room. */
async function storedSizes(stack: LocalStack, roomId: string): Promise<AttachResult['itemSizes']> {
  const db = benchDb(stack, 'attachSizes');
  const names = tableNamesOf(stack);
  const { Items: messages = [] } = await db.doc.send(
    new QueryCommand({
      TableName: names.messages,
      IndexName: 'byMessageId',
      KeyConditionExpression: 'roomId = :r',
      ExpressionAttributeValues: { ':r': roomId },
      ScanIndexForward: false,
      Limit: 4,
    }),
  );
  const { Items: claims = [] } = await db.doc.send(
    new QueryCommand({
      TableName: names.rooms,
      KeyConditionExpression: 'pk = :r AND begins_with(sk, :u)',
      ExpressionAttributeValues: { ':r': roomId, ':u': 'upload#' },
      Limit: 1,
    }),
  );
  db.meter.detach();
  const sizeOf = (item: Record<string, unknown> | undefined) => (item === undefined ? 0 : itemSize(item));
  const claimBytes = sizeOf(claims[0]);
  return {
    textMessageBytes: sizeOf(messages.find((m) => m.attachments === undefined)),
    fileMessageBytes: sizeOf(messages.find((m) => m.attachments !== undefined)),
    claimBytes,
    computedClaimWriteUnits: 2 * itemWriteUnits(claimBytes),
  };
}
