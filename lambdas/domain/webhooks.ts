/**
 * Webhook deliveries: the signature a receiver checks, and the backoff between attempts. A receiver
 * verifies `X-Chat-Signature` over the exact bytes of the body, before parsing it:
 *
 *   verifySignature(secret, rawBody, request.headers['x-chat-signature'])
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { webhookRetry } from '../../definitions/notifications.js';

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

/**
 * How long a delivery waits after its `attempt`-th failure (1-based): doubling from the first delay,
 * capped at the longest.
 */
export function webhookDelaySeconds(attempt: number): number {
  return Math.min(
    webhookRetry.maxDelaySeconds,
    webhookRetry.firstDelaySeconds * 2 ** Math.max(0, attempt - 1),
  );
}

/**
 * How many attempts fit in the retry period with that backoff: the queue's maxReceiveCount that sends
 * a delivery to the dead-letter queue once the period is over.
 */
export function webhookAttempts(): number {
  let elapsed = 0;
  let attempts = 1;
  while (elapsed + webhookDelaySeconds(attempts) <= webhookRetry.maxAgeSeconds) {
    elapsed += webhookDelaySeconds(attempts);
    attempts++;
  }
  return attempts;
}
