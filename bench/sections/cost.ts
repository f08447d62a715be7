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
  /** S3 requests of the check per message: HeadObject + ranged GetObject (GET class), PutObjectTagging (PUT class). */
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
      'PutObjectTagging is priced as a PUT-class request (assumption, bench/prices.ts).',
      `Not included: storage ($${PRICES.s3Standard.usdPerGbMonth} per GB-month, for as long as the file is kept) and each download (a GET-class request, $${PRICES.s3Standard.usdPerMillionGetClassRequests} per million, plus $${PRICES.s3Standard.usdPerGbTransferOut} per GB out: a 1 MB photo viewed once is ~$${round(PRICES.s3Standard.usdPerGbTransferOut * (1 / 1024) * million, 0)} per million views).`,
    ],
  };
}
