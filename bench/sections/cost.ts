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
