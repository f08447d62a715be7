/**
 * The dead-letter queues of the events pipeline, locally: what AWS would put in `ChangeDeadLetters`
 * (stream records the consumer kept failing on), `NotifyDeadLetters` (notification checks Scheduler
 * could not deliver or the notify function kept failing) and the webhook's `DeadLetters`. Each entry
 * is the message body AWS would write, appended as one JSON line to `<dataDir>/dead-letters/<queue>.jsonl`
 * (kept in memory only with --in-memory) and logged as a warning: on AWS an alarm fires on the first one.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT } from './aws-endpoint.js';
import { LOCAL_REGION } from './dynamo-local.js';
import type { Log } from './log.js';

/** The local queues' names; their ARNs are `arn:aws:sqs:us-east-1:123456789012:<name>`. */
export const deadLetterQueues = {
  change: 'ChangeDeadLetters',
  notify: 'NotifyDeadLetters',
  webhook: 'WebhookDeadLetters',
} as const;
export type DeadLetterQueue = (typeof deadLetterQueues)[keyof typeof deadLetterQueues];

export const sqsArn = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;

export interface DeadLetter {
  readonly queue: DeadLetterQueue;
  /** When it was written (ISO 8601). */
  readonly at: string;
  /** The message body, as AWS writes it. */
  readonly body: unknown;
  /** SQS message attributes AWS adds (Scheduler's ERROR_CODE, ...), if any. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface DeadLetters {
  add(queue: DeadLetterQueue, body: unknown, attributes?: Record<string, string>): void;
  /** Everything written since start (tests). */
  list(queue?: DeadLetterQueue): readonly DeadLetter[];
}

export function makeDeadLetters(dataDir: string | undefined, log: Log): DeadLetters {
  const entries: DeadLetter[] = [];
  const folder = dataDir === undefined ? undefined : join(dataDir, 'dead-letters');
  return {
    add(queue, body, attributes) {
      const entry: DeadLetter = {
        queue,
        at: new Date().toISOString(),
        body,
        ...(attributes === undefined ? {} : { attributes }),
      };
      entries.push(entry);
      let where = 'in memory';
      if (folder !== undefined) {
        mkdirSync(folder, { recursive: true });
        const file = join(folder, `${queue}.jsonl`);
        appendFileSync(file, `${JSON.stringify(entry)}\n`);
        where = file;
      }
      log.warn(`Dead letter in ${queue} (${where}): ${JSON.stringify(body).slice(0, 300)}`);
    },
    list(queue) {
      return queue === undefined ? [...entries] : entries.filter((entry) => entry.queue === queue);
    },
  };
}
