/**
 * Webhook deliveries: the signature a receiver checks, and the backoff between attempts. A receiver
 * verifies `X-Chat-Signature` over the exact bytes of the body, before parsing it:
 *
 *   verifySignature(secret, rawBody, request.headers['x-chat-signature'])
 *
 * The backoff's arithmetic is definitions/notifications.ts's, so the webhook queue's maxReceiveCount
 * (lib/chat-events.ts) is built from the same numbers as the waits here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type ChatEvent, chatEventTypes, webhookDelaySeconds } from '../../definitions/notifications.js';
import type { Logger } from './ports.js';

const PREFIX = 'sha256=';

/** `sha256=` and the hex HMAC-SHA256 of the body with the secret. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/** Whether `header` is the body's signature; compares in constant time. */
export function verifySignature(
  secret: string,
  body: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The app's endpoint: rejects on anything but a 2xx answer (or no answer in time). */
export interface WebhookEndpoint {
  post(body: string, signature: string): Promise<void>;
}

export interface SecretSource {
  secret(): Promise<string>;
}

/** Holds a failed delivery back for a while before the queue hands it out again. */
export interface RetryQueue {
  retryLater(receiptHandle: string, delaySeconds: number): Promise<void>;
}

/** One delivery as the queue hands it out: the bus's envelope, whose `detail` is the chat's event. */
export interface QueuedDelivery {
  readonly id: string;
  readonly body: string;
  /** How many times the queue has handed it out, this time included. */
  readonly receiveCount: number;
  readonly receiptHandle: string;
}

function chatEventIn(body: string): ChatEvent | undefined {
  try {
    const envelope: unknown = JSON.parse(body);
    const detail =
      typeof envelope === 'object' && envelope !== null
        ? (envelope as { detail?: unknown }).detail
        : undefined;
    if (typeof detail !== 'object' || detail === null) return undefined;
    const { id, type, time } = detail as Record<string, unknown>;
    const known = typeof type === 'string' && (chatEventTypes as readonly string[]).includes(type);
    return typeof id === 'string' && typeof time === 'string' && known ? (detail as ChatEvent) : undefined;
  } catch {
    return undefined;
  }
}

export class WebhookDeliveries {
  constructor(
    private readonly endpoint: WebhookEndpoint,
    private readonly secrets: SecretSource,
    private readonly queue: RetryQueue,
    private readonly logger: Logger,
  ) {}

  /**
   * POSTs each delivery's event, signed; answers the ids of those that failed, for the queue to hand
   * out again. Each failed one is first held back by the backoff for its attempt (best effort: if
   * that fails, the queue's visibility timeout holds it). Past the retry period the queue's
   * maxReceiveCount (definitions/notifications.ts `webhookAttempts()`) sends it to the dead-letter queue.
   */
  async deliver(deliveries: readonly QueuedDelivery[]): Promise<string[]> {
    const results = await Promise.all(
      deliveries.map(async (delivery) => ((await this.deliverOne(delivery)) ? [] : [delivery.id])),
    );
    return results.flat();
  }

  private async deliverOne(delivery: QueuedDelivery): Promise<boolean> {
    const event = chatEventIn(delivery.body);
    if (event === undefined) {
      // Not an event of ours: no attempt can deliver it. Dropped, and said so.
      this.logger.error('webhook delivery is not a chat event; dropped', { id: delivery.id });
      return true;
    }
    // The exact bytes signed are the bytes sent.
    const body = JSON.stringify(event);
    try {
      await this.endpoint.post(body, signBody(await this.secrets.secret(), body));
      return true;
    } catch (error) {
      const delaySeconds = webhookDelaySeconds(delivery.receiveCount);
      this.logger.warn('webhook delivery failed', {
        eventId: event.id,
        attempt: delivery.receiveCount,
        retryInSeconds: delaySeconds,
        error: error instanceof Error ? error.message : String(error),
      });
      await this.queue.retryLater(delivery.receiptHandle, delaySeconds).catch((reason: unknown) =>
        this.logger.warn('webhook backoff not set', {
          error: reason instanceof Error ? reason.message : String(reason),
        }),
      );
      return false;
    }
  }
}
