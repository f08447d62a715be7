/**
 * Offline notifications and events for the app's backend, declared once: the event types and their
 * detail shapes (what an app receives, on the EventBridge bus and by webhook), the e-mail preferences'
 * limits, and the names both runtimes use. The CDK stack, the local stack, the handlers and the docs
 * read these.
 *
 * Plain data on purpose: no aws-cdk-lib or AWS SDK import.
 */

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
    /** The rooms the e-mail listed, each with the unread count it showed. */
    readonly rooms: readonly { readonly roomId: string; readonly unreadCount: number }[];
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
