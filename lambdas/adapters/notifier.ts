/** The Notifier port on the API Gateway management API (`@connections`). */
import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type Notifier, type PostResult, ThrottledError } from '../domain/ports.js';

const encoder = new TextEncoder();

export class ApiGatewayNotifier implements Notifier {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, payload: string): Promise<PostResult> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(payload) }),
      );
      return 'delivered';
    } catch (error) {
      // SDK v3 errors carry no statusCode: recognise them by class (or name, across SDK copies).
      if (error instanceof GoneException || (error as Error).name === 'GoneException') return 'gone';
      if (error instanceof LimitExceededException || (error as Error).name === 'LimitExceededException') {
        throw new ThrottledError(`post to ${connectionId} throttled`);
      }
      throw error;
    }
  }
}

/**
 * The management API client of one WebSocket stage (its https callback URL).
 *
 * One attempt per `send`: the fan-out (domain/fan-out.ts) is the only layer that retries posts. The
 * SDK's standard strategy would otherwise retry throttling (429, LimitExceededException) and
 * transient errors (500/502/503/504, timeouts, ECONNRESET...) up to 3 attempts under each of the
 * fan-out's, so one throttled post cost up to 15 requests to an API that had just asked for fewer,
 * and held the sender's ack for seconds. The fan-out retries throttling alone, with jittered backoff
 * across the whole fan-out. The rest is not retried on purpose: a post is not idempotent (a timeout
 * may follow a delivered frame), the sender's ack waits for the fan-out, and the message is stored
 * before anyone is told, so a recipient whose post failed gets it by catch-up. A 410 (GoneException)
 * was never retried by either. Set here, this also wins over AWS_MAX_ATTEMPTS in the environment.
 */
export function makeManagementClient(callbackUrl: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: callbackUrl, maxAttempts: 1 });
}
