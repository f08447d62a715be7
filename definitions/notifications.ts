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

/**
 * A schedule's retries of getting its check invoked (Scheduler's `RetryPolicy`), before the check
 * goes to the notification dead-letter queue. Once invoked, the check's own failures are retried by
 * Lambda (asynchronous invocation) and then go to the same queue.
 */
export const scheduleRetry = { maximumRetryAttempts: 5, maximumEventAgeSeconds: 3600 } as const;

/** The EventBridge Scheduler group every notification check is created in. */
export const scheduleGroupName = 'chat-notifications';
