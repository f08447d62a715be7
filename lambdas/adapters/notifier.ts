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

/** The management API client of one WebSocket stage (its https callback URL). */
export function makeManagementClient(callbackUrl: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: callbackUrl });
}
