/**
 * The management API client as built for the handlers, against a local HTTP server that answers
 * the way API Gateway does: the requests the server counts are the ones AWS would bill and throttle.
 * (A file of its own: notifier.test.ts mocks the client class's `send` for every instance.)
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiGatewayNotifier, makeManagementClient } from '../../../lambdas/adapters/notifier.js';
import { ThrottledError, TransientPostError } from '../../../lambdas/domain/ports.js';

interface Answer {
  readonly status: number;
  readonly errorType?: string;
}

let server: Server;
let stageUrl: string;
let answer: Answer;
let posts: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') posts.push(req.url ?? '');
      const body = answer.errorType === undefined ? '' : JSON.stringify({ message: answer.errorType });
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(answer.errorType === undefined ? {} : { 'x-amzn-errortype': answer.errorType }),
      });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  stageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  posts = [];
  answer = { status: 200 };
  // What Lambda puts in the environment; AWS_MAX_ATTEMPTS as an operator might, for other clients.
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('AWS_MAX_ATTEMPTS', '5');
  return () => vi.unstubAllEnvs();
});

const notifier = () => new ApiGatewayNotifier(makeManagementClient(stageUrl));

describe('makeManagementClient', () => {
  it('makes one attempt per send, whatever AWS_MAX_ATTEMPTS says', async () => {
    expect(await makeManagementClient(stageUrl).config.maxAttempts()).toBe(1);
  });

  it('sends a throttled post once and leaves the retry to the fan-out (ThrottledError)', async () => {
    answer = { status: 429, errorType: 'LimitExceededException' };

    await expect(notifier().post('conn-1', '{}')).rejects.toBeInstanceOf(ThrottledError);

    expect(posts).toEqual(['/prod/@connections/conn-1']);
  });

  it.each([500, 502, 503, 504])(
    'sends a post answered %i once and leaves the retry to the fan-out (TransientPostError)',
    async (status) => {
      answer = { status, errorType: 'InternalServerError' };

      const failure = await notifier()
        .post('conn-1', '{}')
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      expect(failure).toBeInstanceOf(TransientPostError);
      expect(posts).toHaveLength(1);
    },
  );

  it('reports a socket dropped mid-request as transient, after one request', async () => {
    const dropping = createServer((req) => req.socket.destroy());
    dropping.listen(0, '127.0.0.1');
    await once(dropping, 'listening');
    const url = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/prod`;

    const failure = await new ApiGatewayNotifier(makeManagementClient(url)).post('conn-1', '{}').then(
      () => undefined,
      (error: unknown) => error,
    );

    dropping.close();
    expect(failure).toBeInstanceOf(TransientPostError);
  });

  it('passes a client error (400) on as it is: trying again would not help', async () => {
    answer = { status: 400, errorType: 'BadRequestException' };

    const failure = await notifier()
      .post('conn-1', '{}')
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(TransientPostError);
    expect(failure).not.toBeInstanceOf(ThrottledError);
  });

  it('sends a post to a gone connection (410) once and answers gone', async () => {
    answer = { status: 410, errorType: 'GoneException' };

    expect(await notifier().post('conn-1', '{}')).toBe('gone');
    expect(posts).toHaveLength(1);
  });

  it('answers delivered for a 200 after one request', async () => {
    expect(await notifier().post('conn-1', '{}')).toBe('delivered');
    expect(posts).toHaveLength(1);
  });
});
