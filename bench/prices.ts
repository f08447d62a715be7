/**
 * AWS list prices used by the cost model, us-east-1, as of 2025 (written down 2025; these pages could
 * not be fetched from this machine, so each figure is the well-known list price, checked against
 * memory of the pricing pages below; re-check them before quoting a number to anyone).
 */

export const PRICES = {
  region: 'us-east-1',
  asOf: '2025 (list prices; DynamoDB on-demand as cut on 2024-11-01)',
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    /** Arm (Graviton2), first 7.5 billion GB-seconds per month. */
    arm64UsdPerGbSecond: 0.0000133334,
    usdPerMillionRequests: 0.2,
    /** Lambda bills duration rounded up to the millisecond. */
    billingGranularityMs: 1,
  },
  apiGatewayWebSocket: {
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    /** First 1 billion messages per month; $0.80 after. Billed in 32 KB increments. */
    usdPerMillionMessages: 1.0,
    messageIncrementBytes: 32 * 1024,
    usdPerMillionConnectionMinutes: 0.25,
  },
  dynamoDbOnDemand: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    /** Standard table class, after the 50% on-demand price cut of 2024-11-01. */
    usdPerMillionWriteRequestUnits: 0.625,
    usdPerMillionReadRequestUnits: 0.125,
    /** A transactional write consumes 2 WRU per 1 KB of each item (TransactWriteItems). */
    transactionalWriteUnitsPerItem: 2,
  },
  s3Standard: {
    source: 'https://aws.amazon.com/s3/pricing/',
    /**
     * "PUT, COPY, POST, LIST requests": $0.005 per 1,000. The upload form's POST is one; so is the
     * CopyObject that keeps an attached file.
     */
    usdPerMillionPutClassRequests: 5.0,
    /** "GET, SELECT, and all other requests": $0.0004 per 1,000 (HeadObject, a ranged GetObject). */
    usdPerMillionGetClassRequests: 0.4,
    /** First 50 TB per month; not per message, in the notes only. */
    usdPerGbMonth: 0.023,
    /** Data transfer out to the internet, first 10 TB per month (every download); in the notes only. */
    usdPerGbTransferOut: 0.09,
  },
  httpApi: {
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    /** HTTP APIs, first 300 million requests per month (each 512 KB increment counts as one). */
    usdPerMillionRequests: 1.0,
  },
  dynamoDbStreams: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    /** GetRecords made by a Lambda event source mapping (the change consumer's trigger) are not charged. */
    usdPerMillionReadsByLambdaTriggers: 0,
    /** Any other reader: $0.02 per 100,000 streams read request units; in the notes only. */
    usdPerMillionStreamsReadRequestUnits: 0.2,
  },
  eventBridgeScheduler: {
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    /** Per invocation of a schedule's target (a one-time schedule invokes once), after the free tier. */
    usdPerMillionInvocations: 1.0,
    /** Free invocations per month (ignored in the cost, like the other free tiers). */
    freeMillionInvocationsPerMonth: 14,
  },
  eventBridge: {
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    /** Custom events put on a bus (PutEvents entries), each 64 KB chunk of an entry counting as one. */
    usdPerMillionCustomEvents: 1.0,
    eventChunkBytes: 64 * 1024,
  },
  ses: {
    source: 'https://aws.amazon.com/ses/pricing/',
    /** Outbound e-mail, $0.10 per 1,000 (attachments' data and dedicated IPs extra; none here). */
    usdPerMillionEmails: 100,
  },
} as const;

/**
 * What a message costs in connection time depends on how people use the chat, not on the code: this
 * is the assumption, stated. Both participants of a 1:1 conversation connected while they chat, and
 * an active conversation exchanging two messages a minute (one each): 2 connections × 1 minute /
 * 2 messages = 1 connection-minute per message. Idle tabs left open cost more; see bench/README.md.
 */
export const CONNECTION_MINUTES_PER_MESSAGE = 1;
