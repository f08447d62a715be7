/** The Notifier port on the API Gateway management API (`@connections`). */
import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type Notifier, type PostResult, ThrottledError, TransientPostError } from '../domain/ports.js';

const encoder = new TextEncoder();

/** Node's codes for a connection that dropped or never came up: worth another try. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * A 5xx answer, or a request that failed on the way (the SDK's TimeoutError, a reset socket): what
 * the SDK's own strategy would have retried, here left to the fan-out's single layer of retries.
 */
function isTransient(error: unknown): boolean {
  const { name, code, $metadata } = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    ($metadata?.httpStatusCode ?? 0) >= 500 ||
    name === 'TimeoutError' ||
    (code !== undefined && NETWORK_CODES.has(code))
  );
}

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
      if (isTransient(error))
        throw new TransientPostError(`post to ${connectionId} failed: ${String(error)}`);
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
 * across the whole fan-out, and transient failures (5xx, timeouts, reset sockets: TransientPostError)
 * the same way, since an online recipient would otherwise not see the frame until it reconnects and
 * catches up; a frame repeated after a failure that followed its delivery is harmless. A 410
 * (GoneException) is never retried. Set here, this also wins over AWS_MAX_ATTEMPTS in the environment.
 */
export function makeManagementClient(callbackUrl: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: callbackUrl, maxAttempts: 1 });
}
