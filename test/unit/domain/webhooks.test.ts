import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  webhookAttempts,
  webhookDeadLetterSeconds,
  webhookDelaySeconds,
  webhookRetry,
} from '../../../definitions/notifications.js';
import {
  type QueuedDelivery,
  signBody,
  verifySignature,
  WebhookDeliveries,
} from '../../../lambdas/domain/webhooks.js';
import { RecordingLogger } from '../../fakes/logger.js';

const SECRET = 'whsec_test';
const EVENT = {
  id: 'room.created:chat_ann_bob',
  type: 'room.created',
  time: '2026-11-24T10:00:00.000Z',
  detail: { roomId: 'chat_ann_bob', participants: ['ann', 'bob'], createdAt: '2026-11-24T10:00:00.000Z' },
};
const envelope = (detail: unknown) =>
  JSON.stringify({ version: '0', id: 'eb-1', 'detail-type': 'room.created', source: 'chat', detail });

describe('webhook signatures', () => {
  it('are sha256= and the hex HMAC-SHA256 of the exact body', () => {
    const body = JSON.stringify(EVENT);
    const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

    expect(signBody(SECRET, body)).toBe(expected);
    expect(signBody(SECRET, new TextEncoder().encode(body))).toBe(expected);
  });

  it('verify the body they sign and nothing else', () => {
    const body = JSON.stringify(EVENT);
    const signature = signBody(SECRET, body);

    expect(verifySignature(SECRET, body, signature)).toBe(true);
    expect(verifySignature(SECRET, body, signature.toUpperCase().replace('SHA256=', 'sha256='))).toBe(true);
    expect(verifySignature(SECRET, `${body} `, signature)).toBe(false);
    expect(verifySignature('other', body, signature)).toBe(false);
    expect(verifySignature(SECRET, body, signature.slice(0, -1))).toBe(false);
    expect(verifySignature(SECRET, body, undefined)).toBe(false);
  });
});

describe('webhook backoff', () => {
  it('doubles from the first delay up to the longest', () => {
    expect([1, 2, 3].map((attempt) => webhookDelaySeconds(attempt))).toEqual([30, 60, 120]);
    expect(webhookDelaySeconds(20)).toBe(webhookRetry.maxDelaySeconds);
  });

  it('fits its attempts in the retry period: 30 attempts within 24 hours of the first', () => {
    const attempts = webhookAttempts();
    let waited = 0;
    for (let attempt = 1; attempt < attempts; attempt++) waited += webhookDelaySeconds(attempt);

    expect(attempts).toBe(30);
    expect(waited).toBeLessThanOrEqual(webhookRetry.maxAgeSeconds);
    expect(waited + webhookDelaySeconds(attempts)).toBeGreaterThan(webhookRetry.maxAgeSeconds);
    // The last failure's wait, then the dead-letter queue.
    expect(webhookDeadLetterSeconds()).toBe(waited + webhookDelaySeconds(attempts));
    expect(webhookDeadLetterSeconds()).toBe(86_610);
  });

  it('works for other periods: 30 s, 60 s, then the end of a 90 s period', () => {
    const retry = { firstDelaySeconds: 30, maxDelaySeconds: 3600, maxAgeSeconds: 90 };
    expect(webhookAttempts(retry)).toBe(3);
    expect(webhookDeadLetterSeconds(retry)).toBe(30 + 60 + 120);
  });
});

describe('webhook deliveries', () => {
  const delivery = (id: string, body: string, receiveCount = 1): QueuedDelivery => ({
    id,
    body,
    receiveCount,
    receiptHandle: `rh-${id}`,
  });

  function setup(answer: (body: string) => Promise<void>) {
    const posted: { body: string; signature: string }[] = [];
    const held: [string, number][] = [];
    const logger = new RecordingLogger();
    const deliveries = new WebhookDeliveries(
      {
        post: async (body, signature) => {
          posted.push({ body, signature });
          await answer(body);
        },
      },
      { secret: async () => SECRET },
      { retryLater: async (handle, seconds) => void held.push([handle, seconds]) },
      logger,
    );
    return { deliveries, posted, held, logger };
  }

  it('POSTs the event (the envelope’s detail), signed over the bytes it sends', async () => {
    const { deliveries, posted } = setup(async () => {});

    expect(await deliveries.deliver([delivery('m1', envelope(EVENT))])).toEqual([]);
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0]?.body ?? '')).toEqual(EVENT);
    expect(verifySignature(SECRET, posted[0]?.body ?? '', posted[0]?.signature)).toBe(true);
  });

  it('answers the failed deliveries and holds each back by its attempt’s backoff', async () => {
    const { deliveries, held } = setup(async (body) => {
      if (body.includes('fails')) throw new Error('webhook answered 500');
    });

    const failed = await deliveries.deliver([
      delivery('ok', envelope(EVENT)),
      delivery('bad', envelope({ ...EVENT, id: 'fails' }), 3),
    ]);

    expect(failed).toEqual(['bad']);
    expect(held).toEqual([['rh-bad', 120]]);
  });

  it('still answers a failure when the backoff cannot be set', async () => {
    const { deliveries, logger } = setup(async () => {
      throw new Error('down');
    });
    const broken = new WebhookDeliveries(
      { post: async () => Promise.reject(new Error('down')) },
      { secret: async () => SECRET },
      { retryLater: async () => Promise.reject(new Error('SQS down')) },
      logger,
    );

    expect(await broken.deliver([delivery('m', envelope(EVENT))])).toEqual(['m']);
    expect(await deliveries.deliver([delivery('n', envelope(EVENT))])).toEqual(['n']);
    expect(logger.entries.map((e) => e.message)).toContain('webhook backoff not set');
  });

  it('drops what is not a chat event, saying so', async () => {
    const { deliveries, posted, logger } = setup(async () => {});

    const failed = await deliveries.deliver([
      delivery('a', 'not json'),
      delivery('b', envelope({ ...EVENT, type: 'other.thing' })),
      delivery('c', JSON.stringify({ detail: null })),
    ]);

    expect(failed).toEqual([]);
    expect(posted).toEqual([]);
    expect(logger.entries.filter((e) => e.level === 'error')).toHaveLength(3);
  });
});
