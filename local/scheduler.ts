/**
 * EventBridge Scheduler's API (REST-JSON, signing name `scheduler`) on its own loopback port, for the
 * change consumer's one-time notification checks: `CreateSchedule` (POST /schedules/{Name}),
 * `GetSchedule` (GET) and `DeleteSchedule` (DELETE), and the timers that fire them. Handlers reach it
 * through AWS_ENDPOINT_URL_SCHEDULER with @aws-sdk/client-scheduler, unchanged.
 *
 * What AWS does, and what is done here (local/README.md, fidelity rows 63-65):
 * - names `[0-9a-zA-Z-_.]+` of 1 to 64 characters, unique in their group (409 ConflictException,
 *   unless the request repeats the ClientToken that created the schedule: an SDK retry succeeds);
 *   the group must exist: only the stack's group does (`scheduleGroupName`); the default group does
 *   exist on AWS but the consumer's role may not create schedules there (AccessDeniedException here);
 * - only `at(yyyy-mm-ddThh:mm:ss)` expressions (one-time schedules, all the chat makes), evaluated in
 *   `ScheduleExpressionTimezone` (an IANA name, default UTC); `rate()`/`cron()` are refused as not
 *   emulated; FlexibleTimeWindow is required (OFF, or FLEXIBLE with 1 to 1440 minutes);
 * - Target: Arn (a function of this stack, by ARN) and RoleArn required; the role must be the
 *   stack's scheduler role (the consumer may pass that one only); RetryPolicy 0-185 attempts and 60-86400
 *   seconds (defaults 185 and 86400); DeadLetterConfig an SQS ARN; Input is the event;
 * - at its time (AWS: "with 60 second precision", anywhere in its minute; here the minute's first
 *   second with `precision: 'minute'`, else the second given) the target is invoked asynchronously (Lambda's Event type: async-invoke.ts's retries and
 *   on-failure destination apply to the function's own failures); Scheduler's RetryPolicy covers a
 *   target that cannot be invoked at all (here: the handler module does not load, or Input is not
 *   JSON), then the schedule's DeadLetterConfig gets the Input;
 * - then `ActionAfterCompletion: DELETE` deletes the schedule; NONE keeps it, completed.
 * - schedules are kept in `<dataDir>/schedules.json` (in memory with --in-memory); a schedule whose time
 *   passed while the stack was stopped fires at start, as the service would have fired it meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { HandlerDefinition } from '../definitions/routes.js';
import type { AsyncInvoker } from './async-invoke.js';
import {
  type AwsAnswer,
  AwsError,
  type AwsRequest,
  jsonBody,
  LOCAL_ACCOUNT,
  startAwsEndpoint,
  validationError,
  writeJsonFile,
} from './aws-endpoint.js';
import { type DeadLetterQueue, type DeadLetters, deadLetterQueues } from './dead-letters.js';
import { LOCAL_REGION } from './dynamo-local.js';
import { type HandlerResolver, localFunctionArn } from './lambda.js';
import type { Log } from './log.js';
import { exactUtcDate } from './utc.js';

export interface SchedulerOptions {
  readonly log: Log;
  readonly dataDir: string | undefined;
  /** The one schedule group that exists. */
  readonly groupName: string;
  /** The role schedules must run with (the stack's scheduler role). */
  readonly roleArn: string;
  /** The functions a schedule may target, by their local ARN. */
  readonly targets: readonly HandlerDefinition[];
  readonly resolve: HandlerResolver;
  /** Runs the target as Lambda's Event invocation (the notify function's async settings). */
  readonly invoker: AsyncInvoker;
  readonly deadLetters: DeadLetters;
  readonly port?: number;
  /**
   * When in its minute a schedule fires. AWS invokes "with 60 second precision": a schedule for 1:00
   * runs "between 1:00:00 and 1:00:59", so up to 59 s before the `at()` second. `minute`: at the first
   * second of that minute, the earliest AWS allows (what code that must not count on "never before its
   * time" should be tried against); `second` (the default): at the second given, one of AWS's possible
   * times, which the integration suite's 3-second notification delay counts on.
   */
  readonly precision?: 'second' | 'minute';
  /** Scheduler's waits between attempts to reach a target; default 1 s doubling to 1 min (undocumented on AWS). */
  readonly retryDelayMs?: (attempt: number) => number;
}

export interface LocalScheduler {
  readonly endpoint: string;
  readonly port: number;
  /** The schedules that exist now (tests, the banner). */
  list(): readonly StoredSchedule[];
  /**
   * Fault tests: the next `count` CreateSchedule requests whose name or target input contains
   * `match` answer 500 InternalServerException (as Scheduler may), before anything is stored. Also
   * `POST /faults` `{"count", "match"}` on the endpoint, unsigned, for a test in another process;
   * `GET /faults` answers `{"pending"}`, the failures still to come.
   */
  failNext(count: number, match: string): void;
  close(): Promise<void>;
}

export interface StoredSchedule {
  readonly Name: string;
  readonly GroupName: string;
  readonly Arn: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone: string;
  readonly State: 'ENABLED' | 'DISABLED';
  readonly FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  readonly Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    DeadLetterConfig?: { Arn: string };
  };
  readonly ActionAfterCompletion: 'NONE' | 'DELETE';
  readonly Description?: string;
  readonly CreationDate: number;
  readonly LastModificationDate: number;
  /** When it fires, epoch ms (local bookkeeping, not an API field). */
  readonly fireAt: number;
  /** It has invoked its target (a NONE schedule stays, completed). */
  completed?: boolean;
  /** The CreateSchedule's ClientToken (local bookkeeping: a retry with it succeeds again). */
  readonly clientToken?: string;
}

const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

const constraint = (value: unknown, field: string, rule: string) =>
  validationError(
    `1 validation error detected: Value '${typeof value === 'string' ? value : JSON.stringify(value)}' at '${field}' failed to satisfy constraint: ${rule}`,
  );

/** The UTC instant of a wall-clock time in an IANA time zone (two passes cover DST edges). */
export function zonedTime(parts: readonly number[], timeZone: string): number {
  const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const offsetAt = (instant: number) => {
    const p = Object.fromEntries(
      format.formatToParts(new Date(instant)).map((x) => [x.type, Number(x.value)]),
    );
    const part = (name: string) => p[name] ?? 0;
    return (
      Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) -
      instant
    );
  };
  let guess = wall - offsetAt(wall);
  guess = wall - offsetAt(guess);
  return guess;
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const optionalString = (body: Record<string, unknown>, field: string): string | undefined => {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new AwsError(400, 'SerializationException', `${field} must be a string`);
  return value;
};

const integerIn = (value: unknown, field: string, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw constraint(value, field, `Member must have value between ${min} and ${max}`);
  }
  return value;
};

export async function startScheduler(options: SchedulerOptions): Promise<LocalScheduler> {
  const { log } = options;
  const file = options.dataDir === undefined ? undefined : join(options.dataDir, 'schedules.json');
  const schedules = new Map<string, StoredSchedule>();
  const timers = new Map<string, NodeJS.Timeout>();
  const key = (group: string, name: string) => `${group}/${name}`;
  const targets = new Map(
    options.targets.map((definition) => [localFunctionArn(definition.functionId), definition]),
  );
  const retryDelay = options.retryDelayMs ?? ((attempt: number) => Math.min(60_000, 1000 * 2 ** attempt));
  let closing = false;
  const firing = new Set<Promise<void>>();

  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    if (file === undefined) return;
    const snapshot = [...schedules.values()];
    saving = saving
      .then(() => writeJsonFile(file, snapshot))
      .catch((error: unknown) => {
        log.error('Could not save the schedules', error);
      });
  };

  function targetOf(arn: string): HandlerDefinition | undefined {
    return targets.get(arn.endsWith(':$LATEST') ? arn.slice(0, -':$LATEST'.length) : arn);
  }

  function arm(schedule: StoredSchedule): void {
    if (schedule.completed === true || schedule.State === 'DISABLED' || closing) return;
    const id = key(schedule.GroupName, schedule.Name);
    clearTimeout(timers.get(id));
    const due =
      options.precision === 'minute' ? Math.floor(schedule.fireAt / 60_000) * 60_000 : schedule.fireAt;
    // setTimeout holds at most 2^31-1 ms (about 24.8 days): a later time re-arms on the way.
    const wait = Math.min(Math.max(0, due - Date.now()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      timers.delete(id);
      if (Date.now() < due) return arm(schedule);
      const job = fire(schedule);
      firing.add(job);
      job.finally(() => firing.delete(job));
    }, wait);
    timer.unref();
    timers.set(id, timer);
  }

  /** Invokes the target (Scheduler's attempts, then its dead-letter queue), then completes the schedule. */
  async function fire(schedule: StoredSchedule): Promise<void> {
    const id = key(schedule.GroupName, schedule.Name);
    const { Target: target } = schedule;
    const executionId = randomUUID();
    let lastError: { code: string; message: string } = { code: '', message: '' };
    for (let attempt = 0; !closing; attempt += 1) {
      try {
        const definition = targetOf(target.Arn);
        if (definition === undefined)
          throw Object.assign(new Error(`Function not found: ${target.Arn}`), {
            code: 'ResourceNotFoundException',
          });
        let event: unknown = {};
        if (target.Input !== undefined) {
          try {
            event = JSON.parse(target.Input);
          } catch {
            throw Object.assign(new Error('Could not parse request body into json'), {
              code: 'InvalidRequestContentException',
            });
          }
        }
        // The module must load for Lambda to take the event; a broken handler is Lambda's 5xx here.
        await options.resolve(definition);
        options.invoker.invoke(definition, event);
        lastError = { code: '', message: '' };
        break;
      } catch (error) {
        lastError = {
          code: (error as { code?: string }).code ?? 'ServiceException',
          message: error instanceof Error ? error.message : String(error),
        };
        log.error(`Schedule ${id} could not invoke ${target.Arn} (attempt ${attempt + 1})`, error);
        const delay = retryDelay(attempt);
        const tooOld =
          Date.now() + delay - schedule.fireAt > target.RetryPolicy.MaximumEventAgeInSeconds * 1000;
        if (attempt >= target.RetryPolicy.MaximumRetryAttempts || tooOld) {
          deadLetter(schedule, executionId, lastError, attempt);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
    if (closing) return;
    if (schedule.ActionAfterCompletion === 'DELETE') schedules.delete(id);
    else schedule.completed = true;
    save();
  }

  function deadLetter(
    schedule: StoredSchedule,
    executionId: string,
    error: { code: string; message: string },
    retries: number,
  ): void {
    const queueArn = schedule.Target.DeadLetterConfig?.Arn;
    if (queueArn === undefined) {
      log.warn(
        `Schedule ${schedule.Name}: target not invoked and no dead-letter queue; the event is dropped`,
      );
      return;
    }
    const name = queueArn.slice(queueArn.lastIndexOf(':') + 1);
    const queue = (Object.values(deadLetterQueues) as string[]).includes(name)
      ? (name as DeadLetterQueue)
      : deadLetterQueues.notify;
    // Scheduler writes the target's input as the message, and what went wrong as message attributes.
    options.deadLetters.add(queue, schedule.Target.Input ?? '', {
      ERROR_CODE: error.code,
      ERROR_MESSAGE: error.message,
      EXECUTION_ID: executionId,
      RETRY_ATTEMPTS: String(retries),
      SCHEDULE_ARN: schedule.Arn,
      TARGET_ARN: schedule.Target.Arn,
      SCHEDULED_TIME: new Date(schedule.fireAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }

  function create(name: string, body: Record<string, unknown>): AwsAnswer {
    if (!NAME.test(name)) {
      throw constraint(
        name,
        'name',
        'Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length between 1 and 64',
      );
    }
    const group = optionalString(body, 'GroupName') ?? 'default';
    if (group === 'default') {
      throw new AwsError(
        403,
        'AccessDeniedException',
        `User is not authorized to perform: scheduler:CreateSchedule on resource: arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/default/${name}`,
      );
    }
    if (group !== options.groupName)
      throw new AwsError(404, 'ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    const clientToken = optionalString(body, 'ClientToken');
    if (clientToken !== undefined && (clientToken.length < 1 || clientToken.length > 64)) {
      throw constraint(clientToken, 'clientToken', 'Member must have length between 1 and 64');
    }
    const expression = optionalString(body, 'ScheduleExpression');
    if (expression === undefined) throw validationError('ScheduleExpression is required.');
    if (expression.length > 256) {
      throw constraint(expression, 'scheduleExpression', 'Member must have length less than or equal to 256');
    }
    const at = AT.exec(expression);
    if (at === null) {
      if (/^(rate|cron)\(/.test(expression)) {
        throw validationError(
          `The local Scheduler emulates one-time schedules only (at(...)), not ${expression}.`,
        );
      }
      throw validationError(`Invalid Schedule Expression ${expression}.`);
    }
    const timezone = optionalString(body, 'ScheduleExpressionTimezone') ?? 'UTC';
    if (timezone.length < 1 || timezone.length > 50) {
      throw constraint(timezone, 'scheduleExpressionTimezone', 'Member must have length between 1 and 50');
    }
    if (!validTimeZone(timezone)) throw validationError(`Invalid time zone: ${timezone}.`);
    const parts = at.slice(1).map(Number);
    if (exactUtcDate(parts) === undefined)
      throw validationError(`Invalid Schedule Expression ${expression}.`);
    const window = body.FlexibleTimeWindow as
      | { Mode?: unknown; MaximumWindowInMinutes?: unknown }
      | undefined;
    if (window === undefined || window === null || typeof window !== 'object') {
      throw validationError('FlexibleTimeWindow is required.');
    }
    if (window.Mode === 'OFF') {
      if (window.MaximumWindowInMinutes !== undefined) {
        throw validationError('MaximumWindowInMinutes must not be provided when Mode is OFF.');
      }
    } else if (window.Mode === 'FLEXIBLE') {
      integerIn(window.MaximumWindowInMinutes, 'flexibleTimeWindow.maximumWindowInMinutes', 1, 1440);
    } else {
      throw constraint(
        window.Mode,
        'flexibleTimeWindow.mode',
        'Member must satisfy enum value set: [OFF, FLEXIBLE]',
      );
    }
    const target = body.Target as Record<string, unknown> | undefined;
    if (target === undefined || target === null || typeof target !== 'object')
      throw validationError('Target is required.');
    const targetArn = optionalString(target, 'Arn');
    const roleArn = optionalString(target, 'RoleArn');
    if (targetArn === undefined || targetArn === '') throw validationError('Target.Arn is required.');
    if (roleArn === undefined || roleArn === '') throw validationError('Target.RoleArn is required.');
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/.test(roleArn)) {
      throw constraint(
        roleArn,
        'target.roleArn',
        'Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$',
      );
    }
    if (roleArn !== options.roleArn) {
      // The consumer may pass the scheduler role only (iam:PassRole in lib).
      throw new AwsError(
        403,
        'AccessDeniedException',
        `User is not authorized to perform: iam:PassRole on resource: ${roleArn}`,
      );
    }
    if (targetOf(targetArn) === undefined) {
      throw validationError(
        `The local Scheduler can only target a function of this stack, not ${targetArn}.`,
      );
    }
    const input = optionalString(target, 'Input');
    if (input !== undefined && input.length === 0)
      throw constraint(input, 'target.input', 'Member must have length greater than or equal to 1');
    const retry = (target.RetryPolicy ?? {}) as Record<string, unknown>;
    const retryPolicy = {
      MaximumRetryAttempts:
        retry.MaximumRetryAttempts === undefined
          ? 185
          : integerIn(retry.MaximumRetryAttempts, 'target.retryPolicy.maximumRetryAttempts', 0, 185),
      MaximumEventAgeInSeconds:
        retry.MaximumEventAgeInSeconds === undefined
          ? 86400
          : integerIn(
              retry.MaximumEventAgeInSeconds,
              'target.retryPolicy.maximumEventAgeInSeconds',
              60,
              86400,
            ),
    };
    const dlq = target.DeadLetterConfig as { Arn?: unknown } | undefined;
    if (
      dlq !== undefined &&
      (typeof dlq.Arn !== 'string' || !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}$/.test(dlq.Arn))
    ) {
      throw constraint(
        dlq.Arn,
        'target.deadLetterConfig.arn',
        'Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$',
      );
    }
    const after = optionalString(body, 'ActionAfterCompletion') ?? 'NONE';
    if (after !== 'NONE' && after !== 'DELETE') {
      throw constraint(after, 'actionAfterCompletion', 'Member must satisfy enum value set: [NONE, DELETE]');
    }
    const state = optionalString(body, 'State') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED')
      throw constraint(state, 'state', 'Member must satisfy enum value set: [ENABLED, DISABLED]');
    const description = optionalString(body, 'Description');
    if (description !== undefined && description.length > 512) {
      throw constraint(description, 'description', 'Member must have length less than or equal to 512');
    }
    const id = key(group, name);
    const existing = schedules.get(id);
    // The ClientToken makes CreateSchedule idempotent: the SDK sends the same one when it retries a
    // request whose answer it never got, and that retry succeeds rather than meeting its own schedule.
    if (existing !== undefined && clientToken !== undefined && existing.clientToken === clientToken)
      return { body: { ScheduleArn: existing.Arn } };
    if (existing !== undefined)
      throw new AwsError(409, 'ConflictException', `Schedule ${name} already exists.`);
    const now = Math.floor(Date.now() / 1000);
    const arn = `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/${group}/${name}`;
    const schedule: StoredSchedule = {
      Name: name,
      GroupName: group,
      Arn: arn,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: timezone,
      State: state,
      FlexibleTimeWindow: window as StoredSchedule['FlexibleTimeWindow'],
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        ...(input === undefined ? {} : { Input: input }),
        RetryPolicy: retryPolicy,
        ...(dlq === undefined ? {} : { DeadLetterConfig: { Arn: dlq.Arn as string } }),
      },
      ActionAfterCompletion: after,
      ...(description === undefined ? {} : { Description: description }),
      CreationDate: now,
      LastModificationDate: now,
      fireAt: zonedTime(parts, timezone),
      ...(clientToken === undefined ? {} : { clientToken }),
    };
    schedules.set(id, schedule);
    save();
    arm(schedule);
    return { body: { ScheduleArn: arn } };
  }

  function find(name: string, request: AwsRequest): [string, StoredSchedule] {
    const group = request.query.find(([k]) => k === 'groupName')?.[1] ?? 'default';
    const id = key(group, name);
    const schedule = schedules.get(id);
    if (schedule === undefined)
      throw new AwsError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return [id, schedule];
  }

  const faults: { match: string; left: number }[] = [];
  const failNext = (count: number, match: string) => {
    faults.push({ match, left: count });
  };
  /** The armed fault a CreateSchedule meets, if any (one failure used up). */
  function takeFault(name: string, body: Record<string, unknown>): boolean {
    const input = (body.Target as { Input?: unknown } | undefined)?.Input;
    const fault = faults.find(
      (f) => f.left > 0 && (name.includes(f.match) || (typeof input === 'string' && input.includes(f.match))),
    );
    if (fault === undefined) return false;
    fault.left -= 1;
    return true;
  }

  /** The fault switch: not part of the Scheduler API, so unsigned, like the mailbox's page. */
  function open(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.url ?? '/').split('?')[0] !== '/faults') return false;
    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method === 'GET') {
      answer(200, { pending: faults.reduce((sum, f) => sum + f.left, 0) });
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let input: { count?: unknown; match?: unknown } = {};
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof input;
      } catch {
        // Answered below.
      }
      const { count, match } = input;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || typeof match !== 'string') {
        answer(400, { message: 'Body: {"count": positive integer, "match": string}' });
        return;
      }
      failNext(count, match);
      answer(204, {});
    });
    return true;
  }

  async function handle(request: AwsRequest): Promise<AwsAnswer> {
    const [collection, name, ...rest] = request.segments;
    if (collection !== 'schedules' || name === undefined || rest.length > 0) {
      throw new AwsError(
        404,
        'UnknownOperationException',
        'The local Scheduler serves CreateSchedule, GetSchedule and DeleteSchedule only.',
      );
    }
    if (request.method === 'POST') {
      const body = jsonBody(request);
      if (takeFault(name, body)) {
        throw new AwsError(500, 'InternalServerException', 'Unexpected error (a fault asked for locally).');
      }
      return create(name, body);
    }
    if (request.method === 'GET') {
      const [, schedule] = find(name, request);
      const { fireAt: _fireAt, completed: _completed, clientToken: _clientToken, ...answer } = schedule;
      return { body: answer };
    }
    if (request.method === 'DELETE') {
      const [id] = find(name, request);
      schedules.delete(id);
      clearTimeout(timers.get(id));
      timers.delete(id);
      save();
      return { body: {} };
    }
    throw new AwsError(
      405,
      'UnknownOperationException',
      `${request.method} is not an operation on a schedule.`,
    );
  }

  if (file !== undefined) {
    try {
      for (const schedule of JSON.parse(readFileSync(file, 'utf8')) as StoredSchedule[]) {
        schedules.set(key(schedule.GroupName, schedule.Name), schedule);
      }
    } catch {
      // No schedules yet.
    }
  }
  const server = await startAwsEndpoint({
    name: 'Scheduler',
    service: 'scheduler',
    protocol: 'rest-json',
    log,
    handle,
    open,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  for (const schedule of schedules.values()) arm(schedule);

  let closed: Promise<void> | undefined;
  return {
    endpoint: server.endpoint,
    port: server.port,
    list: () => [...schedules.values()],
    failNext,
    close() {
      closed ??= (async () => {
        closing = true;
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
        await server.close();
        await Promise.allSettled([...firing]);
        await saving;
      })();
      return closed;
    },
  };
}
