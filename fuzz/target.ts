/** Where the fuzzer points: the local stack's URLs, its DynamoDB Local endpoint and the handlers' env. */
export interface Target {
  /** REST base URL, without a trailing slash. */
  readonly restUrl: string;
  /** WebSocket URL, without query. */
  readonly wsUrl: string;
  readonly dynamoEndpoint: string;
  /** The environment the handlers run with (table names, region, the fake credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** The largest client frame the gateway accepts (32 KB, API Gateway's limit). */
  readonly maxFrameBytes: number;
  /** The stack's connection-time limit, when short (the integration stack's 10 s): sockets are renewed before it. */
  readonly maxConnectionMs?: number;
}
