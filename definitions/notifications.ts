/**
 * Offline notifications and events for the app's backend, declared once: the event types and their
 * detail shapes (what an app receives, on the EventBridge bus and by webhook), the e-mail preferences'
 * limits, and the names both runtimes use. The CDK stack, the local stack, the handlers and the docs
 * read these.
 *
 * Plain data on purpose: no aws-cdk-lib or AWS SDK import.
 */

import type { TableName } from './tables.js';

/** Every event the chat publishes: `{"id", "type", "time", "detail"}`, `id` unique (for de-duplication). */
export interface ChatEvent<T extends ChatEventType = ChatEventType> {
  readonly id: string;
  readonly type: T;
  /** ISO 8601 UTC with milliseconds: when the change happened. */
  readonly time: string;
  readonly detail: ChatEventDetail[T];
}

export interface ChatEventDetail {
  readonly 'message.new': {
    readonly roomId: string;
    readonly messageId: string;
    readonly senderId: string;
    readonly recipientIds: readonly string[];
    readonly sentAt: string;
    /** The text (possibly empty when there are attachments); files are named, never linked. */
    readonly content: string;
    readonly clientMessageId?: string;
    readonly attachments?: readonly {
      readonly attachmentId: string;
      readonly fileName: string;
      readonly contentType: string;
      readonly size: number;
    }[];
  };
  readonly 'message.read': {
    readonly roomId: string;
    readonly userId: string;
    /** The message the reader's pointer now stands at. */
    readonly messageId: string;
  };
  readonly 'room.created': {
    readonly roomId: string;
    readonly participants: readonly string[];
    readonly createdAt: string;
  };
  readonly 'notification.sent': {
    readonly userId: string;
    readonly channel: 'email';
    /** The rooms the e-mail listed (at most `notificationLimits.maxRooms`), each with the unread count it showed. */
    readonly rooms: readonly { readonly roomId: string; readonly unreadCount: number }[];
    /** Only when the e-mail had more rooms than it lists: how many it summed up in one line, and their unread messages. */
    readonly moreRooms?: number;
    readonly moreUnread?: number;
  };
}

export type ChatEventType = keyof ChatEventDetail;
export const chatEventTypes: readonly ChatEventType[] = [
  'message.new',
  'message.read',
  'room.created',
  'notification.sent',
];

/** On the bus, every chat event has this source and its type as detail-type; its Detail is the event itself. */
export const eventSource = 'chat';

export const notificationLimits = {
  defaultDelayMinutes: 5,
  minDelayMinutes: 1,
  maxDelayMinutes: 1440,
  /** Messages quoted per room in an e-mail, and how much of each. */
  quotedMessages: 3,
  quotedCharacters: 200,
  /** Rooms listed in one e-mail (the rest are counted). */
  maxRooms: 10,
  /**
   * A check that finds the user online with unread messages no e-mail listed checks again one delay
   * later (so that leaving without reading still brings the e-mail), but no re-check runs more than
   * this long after the newest of those messages: a tab left open for days makes a day of re-checks
   * per room, not schedules forever.
   */
  recheckHours: 24,
} as const;

/** The HTTP header carrying a webhook delivery's signature: `sha256=<hex HMAC-SHA256 of the body>`. */
export const signatureHeader = 'X-Chat-Signature';

/**
 * How long a webhook delivery is retried (with backoff) before it goes to the dead-letter queue, and
 * the backoff's bounds.
 */
export const webhookRetry = {
  maxAgeSeconds: 24 * 60 * 60,
  firstDelaySeconds: 30,
  maxDelaySeconds: 60 * 60,
  timeoutMs: 10_000,
} as const;

/** The backoff's bounds, as the arithmetic below takes them (any values, for its tests). */
export type WebhookRetry = {
  readonly [K in 'maxAgeSeconds' | 'firstDelaySeconds' | 'maxDelaySeconds']: number;
};

/**
 * How long a delivery waits after its `attempt`-th failure (1-based): doubling from the first delay,
 * capped at the longest. The sender holds the failed delivery back this long (SQS visibility).
 */
export function webhookDelaySeconds(attempt: number, retry: WebhookRetry = webhookRetry): number {
  return Math.min(retry.maxDelaySeconds, retry.firstDelaySeconds * 2 ** Math.max(0, attempt - 1));
}

/**
 * How many times a delivery is attempted: the first attempt, then one after each wait for as long as
 * the waits add up to at most `maxAgeSeconds`, so that no attempt is later than that after the first.
 * It is the webhook queue's maxReceiveCount: SQS moves a delivery to the dead-letter queue when it
 * would hand it out once more. With 30 s doubling to 1 h within 24 h: 30 + 60 + … + 1920 = 3810 s in
 * the first 7 waits, then 22 waits of 3600 s reach 83 010 s, and one more would pass 86 400 s: 29 waits,
 * 30 attempts.
 */
export function webhookAttempts(retry: WebhookRetry = webhookRetry): number {
  let waited = 0;
  let attempts = 1;
  while (waited + webhookDelaySeconds(attempts, retry) <= retry.maxAgeSeconds) {
    waited += webhookDelaySeconds(attempts, retry);
    attempts++;
  }
  return attempts;
}

/**
 * When, after the first attempt, a delivery that kept failing reaches the dead-letter queue: the last
 * attempt's failure holds it back for one more wait, and the queue then moves it instead of handing
 * it out. 86 610 s (a little past 24 hours) with the values above.
 */
export function webhookDeadLetterSeconds(retry: WebhookRetry = webhookRetry): number {
  let waited = 0;
  for (let attempt = 1; attempt <= webhookAttempts(retry); attempt++) {
    waited += webhookDelaySeconds(attempt, retry);
  }
  return waited;
}

/**
 * A schedule's retries of getting its check invoked (Scheduler's `RetryPolicy`), before the check
 * goes to the notification dead-letter queue. Once invoked, the check's own failures are retried by
 * Lambda (asynchronous invocation) and then go to the same queue.
 */
export const scheduleRetry = { maximumRetryAttempts: 5, maximumEventAgeSeconds: 3600 } as const;

/** The EventBridge Scheduler group every notification check is created in. */
export const scheduleGroupName = 'chat-notifications';

/**
 * The change consumer's stream mappings, as both runtimes read them (lib/chat-events.ts builds the
 * DynamoEventSource from them, local/stream-mappings.ts emulates it); bisection and partial batch
 * responses are always on. TRIM_HORIZON rather than LATEST: the deploy that turns a stream on also
 * creates its mapping, and a mapping takes a while to start polling; LATEST would skip whatever is
 * written in between (lost events, unsent e-mails), TRIM_HORIZON starts at the stream's first record.
 * What that costs: a mapping replaced later rereads up to the stream's 24 hours, which the consumer
 * must take as duplicates (events carry ids for that, schedules have names that cannot be created
 * twice), and records older than maxRecordAgeSeconds go straight to the dead-letter queue.
 * Retries bounded so that a record that keeps failing (bisected down to itself) holds up its shard for
 * a few attempts, not until it expires; an event or an e-mail check an hour late is worth less than the
 * newer records behind it. What is discarded goes to the dead-letter queue (shard and sequence numbers,
 * to replay within the stream's 24 hours) and raises an alarm.
 */
export const changeStreamSettings = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  retryAttempts: 5,
  maxRecordAgeSeconds: 60 * 60,
} as const;

/**
 * What the consumer receives of each table's stream (Lambda event filtering: records that match no
 * pattern are dropped before an invocation, and cost nothing). rooms: the room items only (`sk` =
 * "room", the adapter's ROOM_SK, which a unit test holds equal), created (room.created) or changed (a
 * read pointer moved: message.read); not the membership, activity, upload-claim or notified items, and
 * no deletion. messages: new messages only (message.new and the e-mail checks); an edit or a deletion
 * means nothing to it.
 */
export const changeStreamFilters: Readonly<Partial<Record<TableName, readonly Record<string, unknown>[]>>> = {
  rooms: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: ['room'] } } } }],
  messages: [{ eventName: ['INSERT'] }],
};

/**
 * The notify function's asynchronous invocations (EventBridge Scheduler invokes it as Lambda's Event
 * type): Lambda retries a failed check twice, then records it in the notification dead-letter queue.
 * An hour at most: by then the recipient has likely been online, and the next message schedules anew.
 */
export const notifyAsyncSettings = { retryAttempts: 2, maxEventAgeSeconds: 60 * 60 } as const;

/**
 * The change consumer's and the notify function's timeouts. The consumer: a batch of 100 records, a
 * users BatchGet, one CreateSchedule per recipient and window, PutEvents by 10. notify: a recipient's
 * rooms, their first lines and one e-mail (or one re-check), a handful of requests.
 */
export const eventFunctionTimeoutSeconds = { changeConsumer: 30, notifier: 30 } as const;

/**
 * The webhook queue's consumer. A few events per invocation: each POST may take up to
 * `webhookRetry.timeoutMs`, and the function's timeout covers them one after another plus a margin. At
 * most a few invocations at once, so that a burst of events cannot flood the receiving server. The
 * queue's visibility timeout is six times the function's (what AWS advises for Lambda consumers): a
 * delivery an invocation is still working on never reappears for a second one.
 */
export const webhookDelivery = (() => {
  const batchSize = 5;
  const timeoutSeconds = (batchSize * webhookRetry.timeoutMs) / 1000 + 10;
  return {
    batchSize,
    maxConcurrency: 5,
    timeoutSeconds,
    visibilityTimeoutSeconds: 6 * timeoutSeconds,
  } as const;
})();
