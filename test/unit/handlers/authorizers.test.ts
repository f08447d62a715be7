import { describe, expect, it, vi } from 'vitest';

// The authorizer modules build their production verifier when imported: give them an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { makeHandler as makeHttpAuthorizer } from '../../../lambdas/http/authorizer.js';
import type { TokenVerifier, VerifiedCaller } from '../../../lambdas/shared/auth.js';
import { makeHandler as makeWsAuthorizer } from '../../../lambdas/ws/authorizer.js';
import { httpAuthorizerEvent, METHOD_ARN, wsAuthorizerEvent } from '../../fakes/events.js';

/** A verifier that knows one token per user: `good-<userId>`. */
function fakeVerifier(suggestedName?: string) {
  return vi.fn<TokenVerifier>(async (token) => {
    if (!token.startsWith('good-')) return undefined;
    const caller: VerifiedCaller = { userId: token.slice('good-'.length), suggestedName };
    return caller;
  });
}

describe('HTTP authorizer', () => {
  it('authorizes a valid bearer token with the user id and name in the context', async () => {
    const verify = fakeVerifier('Ann');

    const result = await makeHttpAuthorizer(verify)(
      httpAuthorizerEvent({ authorization: 'Bearer good-ann' }),
    );

    expect(result).toEqual({ isAuthorized: true, context: { userId: 'ann', name: 'Ann' } });
    expect(verify).toHaveBeenCalledExactlyOnceWith('good-ann');
  });

  it('leaves the name out of the context when the token suggests none', async () => {
    const result = await makeHttpAuthorizer(fakeVerifier())(
      httpAuthorizerEvent({ authorization: 'Bearer good-ann' }),
    );

    expect(result).toEqual({ isAuthorized: true, context: { userId: 'ann' } });
  });

  it('accepts the scheme in any case and extra spaces before the token', async () => {
    const result = await makeHttpAuthorizer(fakeVerifier())(
      httpAuthorizerEvent({ authorization: 'bearer   good-bob' }),
    );

    expect(result).toMatchObject({ isAuthorized: true, context: { userId: 'bob' } });
  });

  it('reads the token from the identity source when the headers are absent', async () => {
    const event = { ...httpAuthorizerEvent(undefined), identitySource: ['Bearer good-ann'] };

    const result = await makeHttpAuthorizer(fakeVerifier())(event);

    expect(result).toMatchObject({ isAuthorized: true, context: { userId: 'ann' } });
  });

  it('refuses a token the verifier rejects with "Unauthorized" (API Gateway answers 401)', async () => {
    const attempt = makeHttpAuthorizer(fakeVerifier())(
      httpAuthorizerEvent({ authorization: 'Bearer forged' }),
    );

    await expect(attempt).rejects.toThrow(/^Unauthorized$/);
  });

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', { authorization: 'Basic YW5uOnB3' }],
    ['the scheme without a token', { authorization: 'Bearer' }],
    ['a token with spaces in it', { authorization: 'Bearer good-ann extra' }],
    ['a bare token without the scheme', { authorization: 'good-ann' }],
  ])(
    'refuses a request with %s with "Unauthorized", without asking the verifier',
    async (_label, headers) => {
      const verify = fakeVerifier();

      const attempt = makeHttpAuthorizer(verify)(httpAuthorizerEvent(headers));

      await expect(attempt).rejects.toThrow(/^Unauthorized$/);
      expect(verify).not.toHaveBeenCalled();
    },
  );
});

describe('WebSocket $connect authorizer', () => {
  it('allows a valid token with the user id in the context and the caller as principal', async () => {
    const verify = fakeVerifier();

    const result = await makeWsAuthorizer(verify)(wsAuthorizerEvent({ token: 'good-ann' }));

    expect(result).toEqual({
      principalId: 'ann',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { userId: 'ann' },
    });
    expect(verify).toHaveBeenCalledExactlyOnceWith('good-ann');
  });

  it('carries the room scope and the suggested name in the context', async () => {
    const result = await makeWsAuthorizer(fakeVerifier('Ann'))(
      wsAuthorizerEvent({ token: 'good-ann', room: 'chat_ann_bob' }),
    );

    expect(result.context).toEqual({ userId: 'ann', roomId: 'chat_ann_bob', name: 'Ann' });
  });

  it.each([
    ['no query string', null],
    ['no token', { room: 'chat_ann_bob' }],
    ['an empty token', { token: '' }],
  ])('refuses a handshake with %s by throwing Unauthorized', async (_label, query) => {
    const verify = fakeVerifier();

    await expect(makeWsAuthorizer(verify)(wsAuthorizerEvent(query))).rejects.toThrow('Unauthorized');
    expect(verify).not.toHaveBeenCalled();
  });

  it('refuses a handshake with a token the verifier rejects by throwing Unauthorized', async () => {
    await expect(makeWsAuthorizer(fakeVerifier())(wsAuthorizerEvent({ token: 'forged' }))).rejects.toThrow(
      'Unauthorized',
    );
  });
});
