/**
 * What the change consumer does with a batch of stream records, in their order: schedules the e-mail
 * checks of the recipients of new messages (those with e-mail on and an address, online or not: one
 * online now may leave without reading, see notify-check.ts), then publishes the events of the records
 * whose checks are scheduled. It answers the first record not fully handled, so the stream is read
 * again from there and every record before it is handled once. Records from there on may have been
 * handled in part: their checks scheduled (harmless again: a check keeps its schedule name, and the
 * notified marks keep a second check from e-mailing), and, only when PutEvents itself failed part of
 * its entries, some of their events published (published again with the same ids, which receivers
 * de-duplicate by).
 */

import type { Change } from './events.js';
import { eventsOf, recipientsOf } from './events.js';
import type { Message, UserId } from './model.js';
import { planCheck } from './notifications.js';
import type {
  CheckScheduler,
  Clock,
  EventPublisher,
  Logger,
  NotificationStore,
  PlannedCheck,
} from './ports.js';
import { PublishError } from './ports.js';

/** One record: its change, none (a record the chat ignores), or why it could not be read. */
export type RecordChange = Change | undefined | { readonly unreadable: unknown };

const isUnreadable = (entry: RecordChange): entry is { readonly unreadable: unknown } =>
  entry !== undefined && 'unreadable' in entry;

export interface ConsumerSettings {
  /** NOTIFY_DELAY_SECONDS: every check this long after its message, whatever the preferences. */
  readonly delayOverrideSeconds?: number;
}

export class ChangeConsumer {
  /**
   * Checks this container created or found, until they run: a burst of messages then costs one
   * CreateSchedule, not one per message. Only a saving; the schedule name is what makes one check.
   */
  private readonly scheduled = new Map<string, number>();

  constructor(
    private readonly store: Pick<NotificationStore, 'getRecipients'>,
    private readonly publisher: EventPublisher,
    private readonly scheduler: CheckScheduler,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: ConsumerSettings = {},
  ) {}

  /** Handles the records in order; answers the index of the first one not fully handled, if any. */
  async consume(records: readonly RecordChange[]): Promise<number | undefined> {
    // The records before the first unreadable one are handled; it and those after it come back.
    const readable: (Change | undefined)[] = [];
    for (const record of records) {
      if (isUnreadable(record)) {
        this.logger.error('stream record not readable', {
          index: readable.length,
          error: String(record.unreadable),
        });
        break;
      }
      readable.push(record);
    }
    // Checks first, then the events of the records whose checks are all scheduled: a record given back
    // has had none of its events published, so a failed CreateSchedule (a throttle, an outage) sends
    // no event twice. A check scheduled again is harmless: its name is taken, the schedule stays one.
    let failedAt = Math.min(readable.length, await this.scheduleChecks(readable));
    failedAt = Math.min(failedAt, await this.publish(readable.slice(0, failedAt)));
    return failedAt < records.length ? failedAt : undefined;
  }

  /** Publishes every record's events; answers the first record with an event not published. */
  private async publish(changes: readonly (Change | undefined)[]): Promise<number> {
    const events = changes.flatMap((change, index) =>
      change === undefined ? [] : eventsOf(change).map((event) => ({ event, index })),
    );
    if (events.length === 0) return changes.length;
    try {
      await this.publisher.publish(events.map(({ event }) => event));
      return changes.length;
    } catch (error) {
      const failed = error instanceof PublishError ? Math.min(...error.failed) : 0;
      this.logger.error('events not published', {
        error: error instanceof Error ? error.message : String(error),
      });
      return events[failed]?.index ?? 0;
    }
  }

  /** Schedules the checks of the new messages' recipients; answers the first record not done. */
  private async scheduleChecks(changes: readonly (Change | undefined)[]): Promise<number> {
    const messages: { index: number; message: Message; recipients: UserId[] }[] = [];
    changes.forEach((change, index) => {
      if (change?.kind !== 'message') return;
      messages.push({
        index,
        message: change.message,
        recipients: recipientsOf(change.message, change.participants),
      });
    });
    const [first] = messages;
    if (first === undefined) return changes.length;
    let recipients: Awaited<ReturnType<NotificationStore['getRecipients']>>;
    try {
      recipients = await this.store.getRecipients([...new Set(messages.flatMap((m) => m.recipients))]);
    } catch (error) {
      this.logger.error('recipients not read', {
        error: error instanceof Error ? error.message : String(error),
      });
      return first.index;
    }
    const now = this.clock.now();
    this.forgetPast(now);
    for (const { index, message, recipients: ids } of messages) {
      for (const id of ids) {
        const check = planCheck(recipients.get(id), message.roomId, now, this.settings.delayOverrideSeconds);
        if (check === undefined || this.scheduled.has(check.name)) continue;
        try {
          await this.schedule(check);
        } catch (error) {
          this.logger.error('check not scheduled', {
            roomId: message.roomId,
            error: error instanceof Error ? error.message : String(error),
          });
          return index;
        }
      }
    }
    return changes.length;
  }

  private async schedule(check: PlannedCheck): Promise<void> {
    await this.scheduler.schedule(check);
    this.scheduled.set(check.name, check.at.getTime());
  }

  private forgetPast(now: Date): void {
    for (const [name, at] of this.scheduled) if (at <= now.getTime()) this.scheduled.delete(name);
  }
}
