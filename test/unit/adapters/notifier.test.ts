import 'aws-sdk-client-mock-vitest/extend';
import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayNotifier } from '../../../lambdas/adapters/notifier.js';
import { ThrottledError } from '../../../lambdas/domain/ports.js';

const management = mockClient(ApiGatewayManagementApiClient);
const notifier = new ApiGatewayNotifier(
  new ApiGatewayManagementApiClient({
    region: 'us-east-1',
    endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
  }),
);
const PAYLOAD = '{"type":"chat_message","message":{"content":"héllo 😀"}}';

beforeEach(() => {
  management.reset();
});

describe('ApiGatewayNotifier.post', () => {
  it('posts the payload as UTF-8 bytes to the connection and answers delivered', async () => {
    management.on(PostToConnectionCommand).resolves({});

    const result = await notifier.post('conn-1', PAYLOAD);

    expect(result).toBe('delivered');
    expect(management).toReceiveCommandExactlyOnceWith(PostToConnectionCommand, { ConnectionId: 'conn-1' });
    const data = management.commandCalls(PostToConnectionCommand)[0]?.args[0].input.Data;
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(data instanceof Uint8Array ? data : new Uint8Array()).toString('utf8')).toBe(PAYLOAD);
  });

  it('answers gone for a GoneException (410)', async () => {
    management.on(PostToConnectionCommand).rejects(new GoneException({ $metadata: {}, message: 'gone' }));

    expect(await notifier.post('conn-1', PAYLOAD)).toBe('gone');
  });

  it('answers gone for an error named GoneException from another copy of the SDK', async () => {
    const foreign = Object.assign(new Error('gone'), { name: 'GoneException' });
    management.on(PostToConnectionCommand).rejects(foreign);

    expect(await notifier.post('conn-1', PAYLOAD)).toBe('gone');
  });

  it('raises ThrottledError for a LimitExceededException (429), so the fan-out retries', async () => {
    management
      .on(PostToConnectionCommand)
      .rejects(new LimitExceededException({ $metadata: {}, message: 'slow down' }));

    await expect(notifier.post('conn-1', PAYLOAD)).rejects.toBeInstanceOf(ThrottledError);
  });

  it('passes any other error on unchanged', async () => {
    const forbidden = new ForbiddenException({ $metadata: {}, message: 'forbidden' });
    management.on(PostToConnectionCommand).rejects(forbidden);

    await expect(notifier.post('conn-1', PAYLOAD)).rejects.toBe(forbidden);
  });
});
