/**
 * Cost of one million 1:1 messages from the counted operations and the list prices of prices.ts.
 * Per message: one SendMessageFunction invocation (its memory from lib/chat-function.ts, its duration
 * the measured MessagingService.sendMessage median), three WebSocket messages (the inbound frame, the ack
 * route response, the outbound chat_message to the recipient's one connection; each under 32 KB),
 * connection minutes by the stated assumption, and the DynamoDB write and read units counted by the
 * meter. Not in it: $connect/$disconnect and the chat list (per connection or per view, not per
 * message), CloudWatch Logs, X-Ray traces, data transfer.
 */

import { round } from '../lib/stats.js';
import { CONNECTION_MINUTES_PER_MESSAGE, PRICES } from '../prices.js';
import type { PathProfile } from './notify.js';

export interface CostInputs {
  readonly writeUnitsPerSend: number;
  readonly readUnitsPerSend: number;
  readonly lambdaDurationMs: number;
  readonly lambdaMemoryMb: number;
  readonly apiGatewayMessagesPerSend: number;
}

export interface CostResult {
  readonly usdPerMillionMessages: number;
  readonly breakdown: Readonly<Record<string, number>>;
  readonly inputs: CostInputs & { readonly connectionMinutesPerMessage: number };
  readonly prices: typeof PRICES;
  readonly notes: readonly string[];
}

export function computeCost(inputs: CostInputs): CostResult {
  const million = 1_000_000;
  const billedSeconds = Math.ceil(inputs.lambdaDurationMs / PRICES.lambda.billingGranularityMs) / 1000;
  const gbSeconds = (inputs.lambdaMemoryMb / 1024) * billedSeconds;
  const breakdown = {
    apiGatewayMessages: inputs.apiGatewayMessagesPerSend * PRICES.apiGatewayWebSocket.usdPerMillionMessages,
    apiGatewayConnectionMinutes:
      CONNECTION_MINUTES_PER_MESSAGE * PRICES.apiGatewayWebSocket.usdPerMillionConnectionMinutes,
    dynamoDbWrites: inputs.writeUnitsPerSend * PRICES.dynamoDbOnDemand.usdPerMillionWriteRequestUnits,
    dynamoDbReads: inputs.readUnitsPerSend * PRICES.dynamoDbOnDemand.usdPerMillionReadRequestUnits,
    lambdaRequests: PRICES.lambda.usdPerMillionRequests,
    lambdaDuration: gbSeconds * PRICES.lambda.arm64UsdPerGbSecond * million,
  };
  const total = Object.values(breakdown).reduce((sum, usd) => sum + usd, 0);
  return {
    usdPerMillionMessages: round(total, 3),
    breakdown: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, round(v, 4)])),
    inputs: { ...inputs, connectionMinutesPerMessage: CONNECTION_MINUTES_PER_MESSAGE },
    prices: PRICES,
    notes: [
      `Lambda duration: the measured median of MessagingService.sendMessage on this machine (${round(
        inputs.lambdaDurationMs,
      )} ms, billed rounded up to 1 ms) at ${inputs.lambdaMemoryMb} MB arm64; DynamoDB on AWS answers in a few ms, so expect a similar order of magnitude.`,
      `Connection minutes: ${CONNECTION_MINUTES_PER_MESSAGE} per message (assumption in bench/prices.ts).`,
      'Free tiers and the volume tiers above 1 billion WebSocket messages a month are ignored.',
      'Excluded: $connect/$disconnect, the chat list and history reads, CloudWatch Logs, data transfer (X-Ray is off).',
    ],
  };
}

export interface AttachmentCostInputs {
  /** AttachmentCheckFunction invocations per message (1 for one or more files). */
  readonly checkInvocations: number;
  /** The check's duration: the send function's Invoke of it as timed by its Lambda client (p50). */
  readonly checkDurationMs: number;
  /** How much longer the send function runs with the file (ack p50 with − without): it waits for the check. */
  readonly sendExtraMs: number;
  readonly lambdaMemoryMb: number;
  /** S3 requests of the check per message: HeadObject + ranged GetObject (GET class), the keeping CopyObject (PUT class). */
  readonly s3GetClassRequests: number;
  readonly s3PutClassRequests: number;
  /** DynamoDB units the file adds per message: the claim's TransactWriteItems, and any change in the send's own. */
  readonly addedWriteUnits: number;
  readonly addedReadUnits: number;
  /** The upload before the send: its form (an HTTP API request, CreateUploadFunction) and the storage POST. */
  readonly uploadFormMs: number;
  readonly uploadReadUnits: number;
}

export interface AttachmentCostResult {
  /** What one attachment adds to a message's cost, USD per million messages. */
  readonly sendPathUsdPerMillion: number;
  readonly uploadUsdPerMillion: number;
  readonly usdPerMillionMessages: number;
  readonly breakdown: Readonly<Record<string, number>>;
  readonly inputs: AttachmentCostInputs;
  readonly notes: readonly string[];
}

/** What one attachment adds, per million messages carrying one, from the counted requests. */
export function computeAttachmentCost(inputs: AttachmentCostInputs): AttachmentCostResult {
  const million = 1_000_000;
  const gbSecondsUsd = (ms: number) =>
    (inputs.lambdaMemoryMb / 1024) *
    (Math.ceil(Math.max(0, ms) / PRICES.lambda.billingGranularityMs) / 1000) *
    PRICES.lambda.arm64UsdPerGbSecond *
    million;
  const sendPath = {
    checkLambdaRequests: inputs.checkInvocations * PRICES.lambda.usdPerMillionRequests,
    checkLambdaDuration: inputs.checkInvocations * gbSecondsUsd(inputs.checkDurationMs),
    sendLambdaExtraDuration: gbSecondsUsd(inputs.sendExtraMs),
    s3GetClass: inputs.s3GetClassRequests * PRICES.s3Standard.usdPerMillionGetClassRequests,
    s3PutClass: inputs.s3PutClassRequests * PRICES.s3Standard.usdPerMillionPutClassRequests,
    dynamoDbWrites: inputs.addedWriteUnits * PRICES.dynamoDbOnDemand.usdPerMillionWriteRequestUnits,
    dynamoDbReads: inputs.addedReadUnits * PRICES.dynamoDbOnDemand.usdPerMillionReadRequestUnits,
  };
  const upload = {
    uploadHttpApiRequest: PRICES.httpApi.usdPerMillionRequests,
    uploadLambdaRequest: PRICES.lambda.usdPerMillionRequests,
    uploadLambdaDuration: gbSecondsUsd(inputs.uploadFormMs),
    uploadDynamoDbReads: inputs.uploadReadUnits * PRICES.dynamoDbOnDemand.usdPerMillionReadRequestUnits,
    uploadS3Post: PRICES.s3Standard.usdPerMillionPutClassRequests,
  };
  const sum = (items: Record<string, number>) => Object.values(items).reduce((total, usd) => total + usd, 0);
  const sendPathUsd = sum(sendPath);
  const uploadUsd = sum(upload);
  return {
    sendPathUsdPerMillion: round(sendPathUsd, 3),
    uploadUsdPerMillion: round(uploadUsd, 3),
    usdPerMillionMessages: round(sendPathUsd + uploadUsd, 3),
    breakdown: Object.fromEntries(
      Object.entries({ ...sendPath, ...upload }).map(([k, v]) => [k, round(v, 4)]),
    ),
    inputs,
    notes: [
      'Added to the text message cost above, per million messages carrying one file (a message with more files adds the S3 and claim items per file, one check invocation in all).',
      `Lambda durations: the check's Invoke p50 (${round(inputs.checkDurationMs)} ms) and the send function's extra wait (${round(inputs.sendExtraMs)} ms, ack p50 with the file minus without) measured on the local stack, billed rounded up to 1 ms at ${inputs.lambdaMemoryMb} MB arm64; the upload form's function billed at its round trip (${round(inputs.uploadFormMs)} ms), an upper bound.`,
      'The keeping CopyObject is a COPY: a PUT-class request (bench/prices.ts).',
      `Not included: storage ($${PRICES.s3Standard.usdPerGbMonth} per GB-month, for as long as the file is kept) and each download (a GET-class request, $${PRICES.s3Standard.usdPerMillionGetClassRequests} per million, plus $${PRICES.s3Standard.usdPerGbTransferOut} per GB out: a 1 MB photo viewed once is ~$${round(PRICES.s3Standard.usdPerGbTransferOut * (1 / 1024) * million, 0)} per million views).`,
    ],
  };
}

export interface NotifyCostInputs {
  /** Measured per message by sections/notify.ts: recipient offline at the check, and online. */
  readonly offline: PathProfile;
  readonly online: PathProfile;
  /** The stated usage: the share of messages whose recipient is offline at the check. */
  readonly offlineRatio: number;
  /** Messages per recipient, room and delay window in the measured runs (one check per window). */
  readonly burst: number;
  readonly lambdaMemoryMb: number;
}

export interface NotifyCostResult {
  readonly usdPerMillionMessages: number;
  /** Per million messages at the ratio: how many of each billed unit, and what they cost. */
  readonly items: Readonly<Record<string, { readonly perMillion: number; readonly usd: number }>>;
  readonly inputs: NotifyCostInputs;
  readonly notes: readonly string[];
}

/**
 * What the notification path adds to a million messages (the send path is in `computeCost`): each
 * measured count per message, mixed at the offline ratio, times the list prices.
 */
export function computeNotifyCost(inputs: NotifyCostInputs): NotifyCostResult {
  const million = 1_000_000;
  const r = inputs.offlineRatio;
  const mix = (pick: (profile: PathProfile) => number) =>
    r * pick(inputs.offline) + (1 - r) * pick(inputs.online);
  const durationUsd = (billedMsPerMessage: number) =>
    (inputs.lambdaMemoryMb / 1024) *
    (billedMsPerMessage / 1000) *
    PRICES.lambda.arm64UsdPerGbSecond *
    million;
  const item = (perMessage: number, usdPerMillionUnits: number) => ({
    perMillion: round(perMessage * million, 0),
    usd: round(perMessage * usdPerMillionUnits, 4),
  });
  /** A function's billed time, counted in its invocations. */
  const duration = (invocationsPerMessage: number, billedMsPerMessage: number) => ({
    perMillion: round(invocationsPerMessage * million, 0),
    usd: round(durationUsd(billedMsPerMessage), 4),
  });
  const consumer = mix((p) => p.consumerInvocations);
  const notify = mix((p) => p.notifyInvocations);
  const items = {
    streamRecordsRead: item(
      mix((p) => p.streamRecordsRead),
      PRICES.dynamoDbStreams.usdPerMillionReadsByLambdaTriggers,
    ),
    changeConsumerRequests: item(consumer, PRICES.lambda.usdPerMillionRequests),
    changeConsumerDuration: duration(
      consumer,
      mix((p) => p.consumerBilledMs),
    ),
    eventBridgeEvents: item(
      mix((p) => p.eventEntries),
      PRICES.eventBridge.usdPerMillionCustomEvents,
    ),
    // A one-time schedule invokes its target once: the billed invocations are the schedules created.
    schedulerInvocations: item(
      mix((p) => p.schedulesCreated),
      PRICES.eventBridgeScheduler.usdPerMillionInvocations,
    ),
    notifyRequests: item(notify, PRICES.lambda.usdPerMillionRequests),
    notifyDuration: duration(
      notify,
      mix((p) => p.notifyBilledMs),
    ),
    dynamoDbReads: item(
      mix((p) => p.readUnits),
      PRICES.dynamoDbOnDemand.usdPerMillionReadRequestUnits,
    ),
    dynamoDbWrites: item(
      mix((p) => p.writeUnits),
      PRICES.dynamoDbOnDemand.usdPerMillionWriteRequestUnits,
    ),
    sesEmails: item(
      mix((p) => p.emails),
      PRICES.ses.usdPerMillionEmails,
    ),
  };
  const total = Object.values(items).reduce((sum, { usd }) => sum + usd, 0);
  return {
    usdPerMillionMessages: round(total, 3),
    items,
    inputs,
    notes: [
      `Counts measured on the local stack per message, in runs of ${inputs.burst} messages per recipient, room and delay window (one check each), every burst read by the recipient once; mixed at ${round(r * 100, 1)}% offline.`,
      'Checks are scheduled for every recipient with e-mail on and an address, online or not: the online share costs a schedule and a check too, without the e-mail.',
      "Lambda durations: each invocation's wall time on the local stack (DynamoDB Local, one Node thread), rounded up to 1 ms; on AWS they differ (cold starts, DynamoDB latency).",
      'The local mappings poll each shard and invoke the consumer per read, so consumer invocations here are those of a quiet table; on AWS a busy stream batches up to 100 records per invocation.',
      `Free tiers ignored (Scheduler: ${PRICES.eventBridgeScheduler.freeMillionInvocationsPerMonth} M invocations a month). Streams reads by a Lambda trigger are free; another reader would pay $${PRICES.dynamoDbStreams.usdPerMillionStreamsReadRequestUnits} per million read request units.`,
      'Not included: the webhook (its queue and sender), CloudWatch Logs, SES dedicated IPs or data.',
    ],
  };
}
