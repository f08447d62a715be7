/**
 * The webhook's SQS queue and Lambda's SQS event source mapping in front of the webhook sender, with
 * the part of the SQS API (AWS JSON 1.0, `AmazonSQS.*`, signing name `sqs`) the sender uses:
 * `GetQueueUrl`, `ChangeMessageVisibility` (its backoff) and `DeleteMessage`. Handlers reach it through
 * AWS_ENDPOINT_URL_SQS.
 *
 * Why GetQueueUrl matters: @aws-sdk/client-sqs sends a request to the host of its `QueueUrl` when the
 * client was built without an explicit `endpoint` (the env var does not count), so a sender that
 * builds `https://sqs.<region>.amazonaws.com/...` itself would reach AWS from a laptop. The URLs this
 * emulator hands out point at itself; on AWS GetQueueUrl answers the real one.
 *
 * The mapping does what Lambda does for a standard queue (lib: batch 5, at most 5 invocations at once,
 * partial batch responses): receive up to `batchSize` visible messages (each receive counts in
 * ApproximateReceiveCount and hides the message for the queue's visibility timeout), invoke, delete
 * what succeeded (everything, or all but the `batchItemFailures`; an empty or unknown `itemIdentifier`
 * fails the whole batch), leave the rest to reappear when its visibility ends (the sender may change it).
 * A message received more than `maxReceiveCount` times moves to the dead-letter queue (redrive policy).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HandlerDefinition } from '../definitions/routes.js';
import {
  type AwsAnswer,
  AwsError,
  type AwsRequest,
  jsonBody,
  LOCAL_ACCOUNT,
  startAwsEndpoint,
} from './aws-endpoint.js';
import { type DeadLetterQueue, type DeadLetters, sqsArn } from './dead-letters.js';
import { LOCAL_REGION } from './dynamo-local.js';
import { type HandlerResolver, invoke } from './lambda.js';
import type { Log } from './log.js';

/** What EventBridge's sends to a queue carry as SenderId (an AWS service principal here). */
const EVENTBRIDGE_SENDER = 'AIDAIE6VAXUQU2DKHA7DK';

export interface QueueSettings {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly deadLetterQueue: DeadLetterQueue;
}

export interface QueueConsumer {
  readonly definition: HandlerDefinition;
  readonly resolve: HandlerResolver;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly timeoutMs: number;
}

export interface LocalSqsOptions {
  readonly queue: QueueSettings;
  readonly consumer: QueueConsumer;
  readonly deadLetters: DeadLetters;
  readonly log: Log;
  readonly port?: number;
  readonly pollIntervalMs?: number;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** When it was last received: its visibility may reach 12 hours from then, no further. */
  receivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface LocalSqs {
  readonly endpoint: string;
  readonly port: number;
  readonly queueArn: string;
  readonly queueUrl: string;
  /** EventBridge's rule target: SendMessage of one event. */
  send(body: string): void;
  /** Messages still in the queue (tests). */
  depth(): number;
  close(): Promise<void>;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** SQS's longest visibility timeout, 12 hours, counted from the message's receive. */
const MAX_VISIBILITY_SECONDS = 43_200;

export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const { queue, consumer, log } = options;
  const messages: Message[] = [];
  const queueArn = sqsArn(queue.name);
  let running = 0;
  let closing = false;
  const invocations = new Set<Promise<void>>();

  const byHandle = (handle: unknown): Message => {
    if (typeof handle !== 'string' || handle === '') {
      throw new AwsError(400, 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    }
    const message = messages.find((m) => m.receiptHandle === handle);
    if (message === undefined) {
      throw new AwsError(
        400,
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
        {
          'x-amzn-query-error': 'ReceiptHandleIsInvalid;Sender',
        },
      );
    }
    return message;
  };

  let queueUrl = '';
  const checkQueue = (body: Record<string, unknown>) => {
    if (body.QueueUrl !== queueUrl) {
      throw new AwsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.', {
        'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      });
    }
  };

  async function handle(request: AwsRequest): Promise<AwsAnswer> {
    const operation = request.target?.startsWith('AmazonSQS.')
      ? request.target.slice('AmazonSQS.'.length)
      : undefined;
    const body = jsonBody(request);
    switch (operation) {
      case 'GetQueueUrl': {
        const owner = body.QueueOwnerAWSAccountId;
        if (body.QueueName !== queue.name || (owner !== undefined && owner !== LOCAL_ACCOUNT)) {
          throw new AwsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.', {
            'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
          });
        }
        return { body: { QueueUrl: queueUrl } };
      }
      case 'ChangeMessageVisibility': {
        checkQueue(body);
        const timeout = body.VisibilityTimeout;
        if (
          typeof timeout !== 'number' ||
          !Number.isInteger(timeout) ||
          timeout < 0 ||
          timeout > MAX_VISIBILITY_SECONDS
        ) {
          throw new AwsError(
            400,
            'InvalidParameterValue',
            `Value ${String(timeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_SECONDS}.`,
          );
        }
        const message = byHandle(body.ReceiptHandle);
        const now = Date.now();
        if (message.visibleAt <= now) {
          throw new AwsError(
            400,
            'MessageNotInflight',
            'Message does not exist or is not available for visibility timeout change.',
          );
        }
        // "The maximum is 12 hours" counts from the receive, not from this call: a consumer cannot
        // keep a message hidden for ever by extending it again and again.
        const held = Math.floor((now - (message.receivedAt ?? now)) / 1000);
        if (held + timeout > MAX_VISIBILITY_SECONDS) {
          throw new AwsError(
            400,
            'InvalidParameterValue',
            `Value ${timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds].`,
          );
        }
        message.visibleAt = now + timeout * 1000;
        return { body: {} };
      }
      case 'DeleteMessage': {
        checkQueue(body);
        const message = byHandle(body.ReceiptHandle);
        messages.splice(messages.indexOf(message), 1);
        return { body: {} };
      }
      default:
        // The sender's role has the mapping's queue rights only; anything else is not emulated.
        throw new AwsError(
          400,
          'UnknownOperationException',
          `The local SQS does not serve ${request.target ?? 'this request'}.`,
        );
    }
  }

  function sqsEvent(batch: readonly Message[]) {
    return {
      Records: batch.map((message) => ({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: EVENTBRIDGE_SENDER,
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
        },
        messageAttributes: {},
        md5OfBody: md5(message.body),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: LOCAL_REGION,
      })),
    };
  }

  async function deliver(batch: Message[]): Promise<void> {
    const handles = new Map(batch.map((m) => [m.messageId, m.receiptHandle]));
    let failed: Set<string>;
    try {
      const result = await invoke(consumer.resolve, consumer.definition, sqsEvent(batch), consumer.timeoutMs);
      const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
      failed = new Set();
      // A missing or null list is a success; anything else that is not a list is an invalid response,
      // which Lambda takes as the whole batch failing.
      if (failures !== undefined && failures !== null && !Array.isArray(failures)) {
        throw new Error('batchItemFailures is not a list');
      }
      if (Array.isArray(failures)) {
        for (const failure of failures) {
          const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
          if (typeof id !== 'string' || !handles.has(id)) {
            throw new Error(`batchItemFailures names ${JSON.stringify(id)}, not a message of the batch`);
          }
          failed.add(id);
        }
      }
    } catch (error) {
      log.error(
        `${consumer.definition.functionId} failed on a batch of ${batch.length}; the messages return after their visibility timeout`,
        error,
      );
      return;
    }
    for (const message of batch) {
      // Deleted with the receipt handle of this delivery: one received again meanwhile stays.
      if (failed.has(message.messageId) || message.receiptHandle !== handles.get(message.messageId)) continue;
      const at = messages.indexOf(message);
      if (at >= 0) messages.splice(at, 1);
    }
  }

  function poll(): void {
    if (closing) return;
    const now = Date.now();
    while (running < consumer.maxConcurrency) {
      const batch: Message[] = [];
      for (const message of [...messages]) {
        if (batch.length >= consumer.batchSize) break;
        if (message.visibleAt > now) continue;
        message.receiveCount += 1;
        if (message.receiveCount > queue.maxReceiveCount) {
          // The redrive policy: moved, as sent, to the dead-letter queue on the receive past the limit.
          messages.splice(messages.indexOf(message), 1);
          options.deadLetters.add(queue.deadLetterQueue, message.body, {
            ApproximateReceiveCount: String(message.receiveCount - 1),
            DeadLetterQueueSourceArn: queueArn,
          });
          continue;
        }
        message.firstReceivedAt ??= now;
        message.receivedAt = now;
        message.visibleAt = now + queue.visibilityTimeoutSeconds * 1000;
        message.receiptHandle = `${randomUUID()}#${message.messageId}`;
        batch.push(message);
      }
      if (batch.length === 0) break;
      running += 1;
      const job = deliver(batch).finally(() => {
        running -= 1;
      });
      invocations.add(job);
      job.finally(() => invocations.delete(job));
    }
  }
  const timer = setInterval(poll, options.pollIntervalMs ?? 100);
  timer.unref();

  const server = await startAwsEndpoint({
    name: 'SQS',
    service: 'sqs',
    protocol: 'json',
    log,
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  queueUrl = `${server.endpoint}/${LOCAL_ACCOUNT}/${queue.name}`;
  let closed: Promise<void> | undefined;
  return {
    endpoint: server.endpoint,
    port: server.port,
    queueArn,
    queueUrl,
    send(body) {
      messages.push({ messageId: randomUUID(), body, sentAt: Date.now(), receiveCount: 0, visibleAt: 0 });
    },
    depth: () => messages.length,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        await Promise.allSettled([...invocations]);
        await server.close();
      })();
      return closed;
    },
  };
}
