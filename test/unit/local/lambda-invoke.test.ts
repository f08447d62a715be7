/**
 * The local Lambda Invoke endpoint against the real @aws-sdk/client-lambda, with stub handlers: what
 * a synchronous call answers (a result, a thrown error, a timeout), the other invocation types, and
 * the refusals (unknown function, payload over 6 MB, unsigned or wrongly signed requests).
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerDefinition } from '../../../definitions/routes.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamo-local.js';
import { withOverrides } from '../../../local/lambda.js';
import { type LambdaInvokeServer, startLambdaInvoke } from '../../../local/lambda-invoke.js';
import type { Log } from '../../../local/log.js';

const fn = (functionId: string): HandlerDefinition => ({
  functionId,
  entry: `stub/${functionId}.ts`,
  tables: {},
  postsToConnections: false,
  verifiesTokens: false,
});

let server: LambdaInvokeServer;
let client: LambdaClient;
const events: unknown[] = [];
const errors: string[] = [];
const log: Log = { info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) };

const makeClient = (secretAccessKey: string = LOCAL_CREDENTIALS.secretAccessKey) =>
  new LambdaClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });

beforeAll(async () => {
  server = await startLambdaInvoke({
    log,
    timeoutMs: 300,
    functions: [fn('Echo'), fn('Boom'), fn('Slow'), fn('Record')],
    resolve: withOverrides({
      Echo: async (event, context) => ({
        event,
        functionName: context.functionName,
        version: context.functionVersion,
      }),
      Boom: async () => {
        throw new TypeError('no such upload');
      },
      Slow: () => new Promise((resolve) => setTimeout(resolve, 2_000)),
      Record: async (event) => {
        events.push(event);
      },
    }),
  });
  client = makeClient();
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decoded = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('Lambda Invoke', () => {
  it('runs a RequestResponse invocation with handler(event, context) and answers its result', async () => {
    const answer = await client.send(
      new InvokeCommand({ FunctionName: 'Echo', Payload: payload({ uploads: ['a'] }) }),
    );
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(answer.ExecutedVersion).toBe('$LATEST');
    expect(decoded(answer.Payload)).toEqual({
      event: { uploads: ['a'] },
      functionName: 'Echo',
      version: '$LATEST',
    });
    // A full ARN and the $LATEST qualifier name the same function.
    const byArn = await client.send(
      new InvokeCommand({
        FunctionName: `arn:aws:lambda:${LOCAL_REGION}:123456789012:function:Echo`,
        Qualifier: '$LATEST',
        Payload: payload(1),
      }),
    );
    expect(decoded(byArn.Payload)).toMatchObject({ event: 1 });
  });

  it('answers a thrown error as a function error (200, X-Amz-Function-Error: Unhandled)', async () => {
    const answer = await client.send(new InvokeCommand({ FunctionName: 'Boom', Payload: payload({}) }));
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBe('Unhandled');
    expect(decoded(answer.Payload)).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'no such upload',
      trace: expect.any(Array),
    });
  });

  it('ends a handler at its timeout with Sandbox.Timedout', async () => {
    const answer = await client.send(new InvokeCommand({ FunctionName: 'Slow' }));
    expect(answer.FunctionError).toBe('Unhandled');
    expect(decoded(answer.Payload)).toMatchObject({ errorType: 'Sandbox.Timedout' });
  });

  it('answers 202 to an Event invocation and runs it in the background, and 204 to a DryRun', async () => {
    const event = await client.send(
      new InvokeCommand({ FunctionName: 'Record', InvocationType: 'Event', Payload: payload({ n: 1 }) }),
    );
    expect(event.StatusCode).toBe(202);
    const deadline = Date.now() + 3000;
    while (events.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toEqual([{ n: 1 }]);
    const dryRun = await client.send(
      new InvokeCommand({ FunctionName: 'Record', InvocationType: 'DryRun', Payload: payload({ n: 2 }) }),
    );
    expect(dryRun.StatusCode).toBe(204);
    expect(events).toHaveLength(1);
  });

  it('refuses an unknown function or version with 404 ResourceNotFoundException', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'Nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'Echo', Qualifier: '1' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Function not found: arn:aws:lambda:${LOCAL_REGION}:123456789012:function:Echo:1`,
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('refuses a payload over 6 MB with 413 and a body that is not JSON with 400', async () => {
    const large = new Uint8Array(6 * 1024 * 1024 + 1).fill(0x20);
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'Echo', Payload: large })),
    ).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'Echo', Payload: new TextEncoder().encode('{') })),
    ).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses unsigned requests and requests signed with another secret with 403', async () => {
    const unsigned = await fetch(`${server.endpoint}/2015-03-31/functions/Echo/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const stranger = makeClient('not-the-local-secret');
    await expect(stranger.send(new InvokeCommand({ FunctionName: 'Echo' }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    stranger.destroy();
  });
});
