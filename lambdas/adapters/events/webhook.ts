/**
 * The webhook's adapters: the signing secret from Secrets Manager (read once per container, again
 * after a while so a rotated secret is picked up), the POST itself, and the SQS backoff.
 */

import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { signatureHeader, webhookRetry } from '../../../definitions/notifications.js';
import type { Clock } from '../../domain/ports.js';
import type { RetryQueue, SecretSource, WebhookEndpoint } from '../../domain/webhooks.js';

/** How long a secret read is used before it is read again. */
const SECRET_TTL_MS = 10 * 60 * 1000;

export class SecretsManagerSecret implements SecretSource {
  private cached: { value: Promise<string>; until: number } | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly clock: Clock,
  ) {}

  secret(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.cached === undefined || this.cached.until <= now) {
      const value = this.read();
      this.cached = { value, until: now + SECRET_TTL_MS };
      // A failed read is not kept: the next delivery reads again.
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
    }
    return this.cached.value;
  }

  private async read(): Promise<string> {
    const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (!SecretString) throw new Error('the webhook secret has no string value');
    return SecretString;
  }
}

export class HttpWebhookEndpoint implements WebhookEndpoint {
  constructor(
    private readonly url: string,
    private readonly fetcher: typeof fetch = fetch,
    private readonly timeoutMs: number = webhookRetry.timeoutMs,
  ) {}

  async post(body: string, signature: string): Promise<void> {
    const response = await this.fetcher(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [signatureHeader]: signature },
      body,
      // A redirect would re-send (or drop) the body elsewhere: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    // The answer's body is not read beyond what frees the connection.
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) {
      throw new Error(`webhook answered ${response.status}`);
    }
  }
}

/** The queue's name and owner from its ARN (arn:aws:sqs:region:account:name), as event records carry it. */
export function queueOf(queueArn: string): { readonly name: string; readonly account: string } {
  const [arn, , service, , account, name] = queueArn.split(':');
  if (arn !== 'arn' || service !== 'sqs' || !account || !name)
    throw new Error(`Not an SQS queue ARN: ${queueArn}`);
  return { name, account };
}

/**
 * The backoff on the queue an event record came from. Its URL is asked of SQS (GetQueueUrl, once
 * per container), not built from the ARN: the SQS client sends each request to its QueueUrl's host,
 * so a built `https://sqs.<region>.amazonaws.com/…` would take the request to AWS even where the
 * client is pointed elsewhere (AWS_ENDPOINT_URL_SQS: the local stack).
 */
export class SqsRetryQueue implements RetryQueue {
  private queueUrl: Promise<string> | undefined;

  constructor(
    private readonly client: SQSClient,
    private readonly queueArn: string,
  ) {}

  private url(): Promise<string> {
    if (this.queueUrl === undefined) {
      const { name, account } = queueOf(this.queueArn);
      const asked = this.client
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then(({ QueueUrl }) => {
          if (QueueUrl === undefined) throw new Error(`No URL for ${this.queueArn}`);
          return QueueUrl;
        });
      // A failed look-up is asked again next time.
      asked.catch(() => {
        this.queueUrl = undefined;
      });
      this.queueUrl = asked;
    }
    return this.queueUrl;
  }

  async retryLater(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: await this.url(),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: delaySeconds,
      }),
    );
  }
}
