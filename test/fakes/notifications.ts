/** Recording stand-ins for the notification ports: the bus, the scheduler and the mail service. */
import type { ChatEvent } from '../../definitions/notifications.js';
import {
  type CheckScheduler,
  type EventPublisher,
  type Mail,
  type Mailer,
  type MailResult,
  type PlannedCheck,
  PublishError,
} from '../../lambdas/domain/ports.js';

/** Keeps what it published; `failFrom(n)` fails every event from the nth one on (0-based, per call). */
export class RecordingPublisher implements EventPublisher {
  readonly published: ChatEvent[] = [];
  readonly calls: (readonly ChatEvent[])[] = [];
  private failures: number[] = [];

  /** The next call publishes the events before `index` and fails the rest. */
  failNextFrom(index: number): void {
    this.failures.push(index);
  }

  async publish(events: readonly ChatEvent[]): Promise<void> {
    this.calls.push(events);
    const failFrom = this.failures.shift();
    const ok = failFrom === undefined ? events : events.slice(0, failFrom);
    this.published.push(...ok);
    if (failFrom !== undefined && failFrom < events.length) {
      throw new PublishError(Array.from({ length: events.length - failFrom }, (_, i) => failFrom + i));
    }
  }
}

/** One schedule per name, as EventBridge Scheduler keeps them; `failNext` makes the next create throw. */
export class RecordingScheduler implements CheckScheduler {
  readonly schedules = new Map<string, PlannedCheck>();
  readonly requests: PlannedCheck[] = [];
  private failures = 0;

  failNext(): void {
    this.failures++;
  }

  async schedule(check: PlannedCheck): Promise<'created' | 'exists'> {
    this.requests.push(check);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('CreateSchedule failed');
    }
    if (this.schedules.has(check.name)) return 'exists';
    this.schedules.set(check.name, check);
    return 'created';
  }
}

export class RecordingMailer implements Mailer {
  readonly sent: Mail[] = [];
  /** Addresses the provider refuses for good (an unverified recipient in the SES sandbox). */
  readonly refusing = new Set<string>();
  private failures = 0;

  failNext(): void {
    this.failures++;
  }

  async send(mail: Mail): Promise<MailResult> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('SES refused');
    }
    if (this.refusing.has(mail.to)) return 'refused';
    this.sent.push(mail);
    return 'sent';
  }
}
