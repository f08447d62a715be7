/**
 * The CheckScheduler on EventBridge Scheduler: one one-time schedule per check, in the notification
 * schedule group, that invokes the notify function once with the check's target and then deletes
 * itself. A name already taken answers 'exists': the check is scheduled. Scheduler retries an
 * invocation it could not make as `scheduleRetry` says, then puts the check in the notification
 * dead-letter queue (where the alarm sees it) rather than dropping it.
 */
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { scheduleGroupName, scheduleRetry } from '../../../definitions/notifications.js';
import type { CheckScheduler, PlannedCheck } from '../../domain/ports.js';

export interface ScheduleTarget {
  /** The notify function's ARN, and the role Scheduler invokes it with. */
  readonly functionArn: string;
  readonly roleArn: string;
  /** The notification dead-letter queue's ARN (NOTIFY_DLQ_ARN): where a check Scheduler gave up on goes. */
  readonly deadLetterArn: string;
}

/** `at(yyyy-mm-ddThh:mm:ss)`, in UTC (the schedule's time zone). */
export const atExpression = (at: Date): string => `at(${at.toISOString().slice(0, 19)})`;

export class EventBridgeCheckScheduler implements CheckScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: ScheduleTarget,
  ) {}

  async schedule(check: PlannedCheck): Promise<'created' | 'exists'> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: check.name,
          GroupName: scheduleGroupName,
          ScheduleExpression: atExpression(check.at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.target.functionArn,
            RoleArn: this.target.roleArn,
            Input: JSON.stringify({ userId: check.target.userId, roomId: check.target.roomId }),
            RetryPolicy: {
              MaximumRetryAttempts: scheduleRetry.maximumRetryAttempts,
              MaximumEventAgeInSeconds: scheduleRetry.maximumEventAgeSeconds,
            },
            DeadLetterConfig: { Arn: this.target.deadLetterArn },
          },
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConflictException) return 'exists';
      throw error;
    }
  }
}
