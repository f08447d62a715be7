/**
 * The EventPublisher on EventBridge: PutEvents in batches of 10 (its limit), each entry with the
 * chat's source, the event's type as detail-type and the whole event as Detail. PutEvents answers
 * per entry; the entries it reports failed are sent again a few times before the publish fails.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { type ChatEvent, eventSource } from '../../../definitions/notifications.js';
import { type EventPublisher, PublishError } from '../../domain/ports.js';

const BATCH = 10;

export interface PublisherOptions {
  /** Sends of a batch's failed entries, the first included. */
  readonly attempts: number;
  readonly pause: (attempt: number) => Promise<void>;
}

const defaults: PublisherOptions = {
  attempts: 4,
  pause: (attempt) => new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * Math.random())),
};

const failedEntry = (entry: PutEventsResultEntry | undefined) =>
  entry === undefined || entry.ErrorCode !== undefined || entry.EventId === undefined;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly options: PublisherOptions = defaults,
  ) {}

  async publish(events: readonly ChatEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, events.length - start) }, (_, i) => start + i);
      let pending = batch;
      try {
        pending = await this.publishBatch(events, batch);
      } catch (error) {
        throw new PublishError(
          Array.from({ length: events.length - start }, (_, i) => start + i),
          `PutEvents failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (pending.length > 0) {
        // The later batches are not tried: the caller goes back to the first event not published.
        const rest = Array.from({ length: events.length - start - BATCH }, (_, i) => start + BATCH + i);
        throw new PublishError([...pending, ...rest]);
      }
    }
  }

  /** Answers the indexes still failed after the attempts. */
  private async publishBatch(events: readonly ChatEvent[], batch: readonly number[]): Promise<number[]> {
    let pending = [...batch];
    for (let attempt = 1; attempt <= this.options.attempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.options.pause(attempt - 1);
      const { FailedEntryCount, Entries } = await this.client.send(
        new PutEventsCommand({ Entries: pending.map((index) => this.entryOf(events[index] as ChatEvent)) }),
      );
      if (!FailedEntryCount) return [];
      pending = pending.filter((_, i) => failedEntry(Entries?.[i]));
    }
    return pending;
  }

  private entryOf(event: ChatEvent) {
    return {
      EventBusName: this.busName,
      Source: eventSource,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      Time: new Date(event.time),
    };
  }
}
