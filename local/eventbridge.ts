/**
 * EventBridge's PutEvents (AWS JSON 1.1, `AWSEvents.PutEvents`, signing name `events`) on its own
 * loopback port, for the functions that publish the chat's events; handlers reach it through
 * AWS_ENDPOINT_URL_EVENTBRIDGE. Sources: EventBridge API Reference, PutEvents and
 * PutEventsRequestEntry; User Guide, "Calculating PutEvents event entry size" and "Amazon EventBridge
 * events" (the envelope).
 *
 * - 1 to 10 entries, at most 256 KB together (counted as AWS counts: Time 14 bytes, Source,
 *   DetailType, Detail and each resource in UTF-8 bytes): else the request fails (ValidationException);
 * - every entry must name the stack's bus (by name or ARN): the publishers' IAM grant covers that bus
 *   only, so an entry for the default or another bus fails the whole request (AccessDeniedException);
 * - an entry without Source, DetailType or Detail fails alone (`InvalidArgument`), as does a Detail
 *   that is not a JSON object (`MalformedDetail`) or a Source starting with `aws.`; the answer lists
 *   every entry, an EventId or an ErrorCode, and FailedEntryCount;
 * - accepted events become EventBridge's envelope (version, id, detail-type, source, account, time,
 *   region, resources, detail), are kept in a log (`events()`), and go to each rule whose pattern
 *   matches: locally, the webhook's rule (`{"source": ["chat"]}`) sending to the local queue.
 *
 * The log is also served unsigned as JSON at `GET /events` (`{"events": [envelope, ...]}`, oldest
 * first), as the local SES serves its mailbox: what a developer or an integration test running in
 * another process reads to see what was published. Nothing of the EventBridge API goes this way.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AwsAnswer,
  AwsError,
  type AwsRequest,
  jsonBody,
  LOCAL_ACCOUNT,
  startAwsEndpoint,
} from './aws-endpoint.js';
import { LOCAL_REGION } from './dynamo-local.js';
import { checkPattern, matchesPattern } from './event-pattern.js';
import type { Log } from './log.js';

export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface EventRule {
  readonly name: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  /** The rule's target: receives each matching event. */
  readonly deliver: (event: BusEvent) => void;
}

export interface LocalEventBridgeOptions {
  readonly busName: string;
  readonly rules: readonly EventRule[];
  readonly log: Log;
  readonly port?: number;
}

export interface LocalEventBridge {
  readonly endpoint: string;
  readonly port: number;
  readonly busArn: string;
  /** The log as JSON, unsigned: `{"events": [...]}`. */
  readonly logUrl: string;
  /** Every event accepted since start, oldest first. */
  events(): readonly BusEvent[];
  close(): Promise<void>;
}

const utf8 = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);

/** Seconds precision, as EventBridge writes `time`. */
const eventTime = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const busArn = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${options.busName}`;
  for (const rule of options.rules) checkPattern(rule.pattern);
  const published: BusEvent[] = [];

  function putEvents(body: Record<string, unknown>): AwsAnswer {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new AwsError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${
          Array.isArray(entries) && entries.length > 10
            ? 'less than or equal to 10'
            : 'greater than or equal to 1'
        }`,
      );
    }
    let size = 0;
    for (const entry of entries as Record<string, unknown>[]) {
      const bus = entry?.EventBusName;
      if (bus !== options.busName && bus !== busArn) {
        const resource =
          typeof bus === 'string' && bus !== ''
            ? bus
            : `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/default`;
        throw new AwsError(
          400,
          'AccessDeniedException',
          `User is not authorized to perform: events:PutEvents on resource: ${resource.startsWith('arn:') ? resource : `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${resource}`}`,
        );
      }
      size +=
        (entry.Time === undefined ? 0 : 14) +
        utf8(entry.Source) +
        utf8(entry.DetailType) +
        utf8(entry.Detail);
      if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += utf8(resource);
    }
    // "The total entry size must be less than 256KB."
    if (size >= MAX_PUT_EVENTS_BYTES) {
      throw new AwsError(
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    let failed = 0;
    const answers = (entries as Record<string, unknown>[]).map((entry) => {
      const refuse = (ErrorCode: string, ErrorMessage: string) => {
        failed += 1;
        return { ErrorCode, ErrorMessage };
      };
      for (const field of ['Source', 'DetailType', 'Detail'] as const) {
        if (typeof entry[field] !== 'string' || entry[field] === '') {
          return refuse(
            'InvalidArgument',
            `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
          );
        }
      }
      const source = entry.Source as string;
      if (source.startsWith('aws.')) {
        return refuse('NotAuthorizedForSourceException', `Not authorized for the source ${source}.`);
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail as string);
      } catch {
        detail = undefined;
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return refuse('MalformedDetail', 'Detail is malformed.');
      }
      const time = entry.Time === undefined ? new Date() : new Date(Number(entry.Time) * 1000);
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source,
        account: LOCAL_ACCOUNT,
        time: eventTime(Number.isNaN(time.getTime()) ? new Date() : time),
        region: LOCAL_REGION,
        resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
        detail,
      };
      published.push(event);
      for (const rule of options.rules) {
        if (!matchesPattern(rule.pattern, event)) continue;
        try {
          rule.deliver(event);
        } catch (error) {
          options.log.error(`Rule ${rule.name} could not deliver event ${event.id}`, error);
        }
      }
      return { EventId: event.id };
    });
    return { body: { FailedEntryCount: failed, Entries: answers } };
  }

  async function handle(request: AwsRequest): Promise<AwsAnswer> {
    if (request.method !== 'POST' || request.target !== 'AWSEvents.PutEvents') {
      throw new AwsError(
        400,
        'UnknownOperationException',
        `The local EventBridge serves PutEvents only, not ${request.target ?? 'this request'}.`,
      );
    }
    return putEvents(jsonBody(request));
  }

  function open(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/events') return false;
    const text = JSON.stringify({ events: published });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  }

  const server = await startAwsEndpoint({
    name: 'EventBridge',
    open,
    service: 'events',
    protocol: 'json',
    log: options.log,
    handle,
    // Room for 256 KB of entries and their JSON escaping.
    maxBodyBytes: 2 * 1024 * 1024,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return {
    endpoint: server.endpoint,
    port: server.port,
    busArn,
    logUrl: `${server.endpoint}/events`,
    events: () => [...published],
    close: () => server.close(),
  };
}
