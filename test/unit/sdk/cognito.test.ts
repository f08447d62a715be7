import { describe, expect, it } from 'vitest';
import { CognitoClient, CognitoError, cognitoError } from '../../../web/sdk/index.js';
import { fakeFetch } from './fakes.js';

const jwt = (claims: Record<string, unknown>) =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

describe('CognitoClient requests', () => {
  it('posts each operation to the regional endpoint as Cognito IdP JSON', async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: {} }));
    const client = new CognitoClient({ region: 'eu-west-1', clientId: 'client-1', fetch });

    await client.confirmSignUp('ann@example.com', '123456');

    expect(calls).toHaveLength(1);
    expect(calls[0]?.url.href).toBe('https://cognito-idp.eu-west-1.amazonaws.com/');
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.headers).toEqual({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.ConfirmSignUp',
    });
    expect(calls[0]?.body).toEqual({
      ClientId: 'client-1',
      Username: 'ann@example.com',
      ConfirmationCode: '123456',
    });
  });

  it('shapes every operation the web client uses, at a custom endpoint', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      const target = call.headers['x-amz-target'];
      if (target?.endsWith('.InitiateAuth'))
        return {
          body: {
            AuthenticationResult: { IdToken: 'id', AccessToken: 'ac', RefreshToken: 'rt', ExpiresIn: 300 },
          },
        };
      if (target?.endsWith('.SignUp'))
        return {
          body: {
            UserConfirmed: false,
            CodeDeliveryDetails: { Destination: 'a***@e***', DeliveryMedium: 'EMAIL' },
          },
        };
      return { body: { CodeDeliveryDetails: { Destination: 'a***@e***', DeliveryMedium: 'EMAIL' } } };
    });
    const client = new CognitoClient({
      region: 'us-east-1',
      clientId: 'c',
      endpoint: 'http://127.0.0.1:9/',
      fetch,
    });

    expect(await client.signUp('ann@example.com', 'Pass-word-1234', 'Ann')).toEqual({
      confirmed: false,
      destination: 'a***@e***',
      medium: 'EMAIL',
    });
    await client.resendConfirmationCode('ann@example.com');
    expect(await client.signIn('ann@example.com', 'Pass-word-1234')).toEqual({
      idToken: 'id',
      accessToken: 'ac',
      refreshToken: 'rt',
      expiresIn: 300,
    });
    await client.refresh('rt');
    await client.forgotPassword('ann@example.com');
    await client.confirmForgotPassword('ann@example.com', '654321', 'New-pass-word-1');
    await client.revokeToken('rt');

    expect(calls.every((call) => call.url.href === 'http://127.0.0.1:9/')).toBe(true);
    expect(calls.map((call) => [call.headers['x-amz-target']?.split('.')[1], call.body])).toEqual([
      [
        'SignUp',
        {
          ClientId: 'c',
          Username: 'ann@example.com',
          Password: 'Pass-word-1234',
          UserAttributes: [
            { Name: 'email', Value: 'ann@example.com' },
            { Name: 'name', Value: 'Ann' },
          ],
        },
      ],
      ['ResendConfirmationCode', { ClientId: 'c', Username: 'ann@example.com' }],
      [
        'InitiateAuth',
        {
          ClientId: 'c',
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'ann@example.com', PASSWORD: 'Pass-word-1234' },
        },
      ],
      [
        'InitiateAuth',
        { ClientId: 'c', AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: 'rt' } },
      ],
      ['ForgotPassword', { ClientId: 'c', Username: 'ann@example.com' }],
      [
        'ConfirmForgotPassword',
        {
          ClientId: 'c',
          Username: 'ann@example.com',
          ConfirmationCode: '654321',
          Password: 'New-pass-word-1',
        },
      ],
      ['RevokeToken', { ClientId: 'c', Token: 'rt' }],
    ]);
  });

  it('refuses a sign-in answered with a challenge (optional TOTP MFA) in words', async () => {
    const { fetch } = fakeFetch(() => ({ body: { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's' } }));
    const client = new CognitoClient({ region: 'us-east-1', clientId: 'c', fetch });
    await expect(client.signIn('a@example.com', 'x')).rejects.toMatchObject({
      type: 'UnsupportedChallenge',
      message: expect.stringContaining('SOFTWARE_TOKEN_MFA'),
    });
  });

  it('gives a refresh without ExpiresIn an hour, the ID token keeping its own exp', async () => {
    const idToken = jwt({ exp: 1_000 });
    const { fetch } = fakeFetch(() => ({
      body: { AuthenticationResult: { IdToken: idToken, AccessToken: 'a' } },
    }));
    const tokens = await new CognitoClient({ region: 'us-east-1', clientId: 'c', fetch }).refresh('rt');
    expect(tokens).toEqual({ idToken, accessToken: 'a', expiresIn: 3600 });
  });
});

describe('Cognito errors', () => {
  const refusal = async (type: string, message: string) => {
    const { fetch } = fakeFetch(() => ({ status: 400, body: { __type: type, message } }));
    const client = new CognitoClient({ region: 'us-east-1', clientId: 'c', fetch });
    return client.signIn('a@example.com', 'x').catch((error: unknown) => error);
  };

  it.each([
    ['NotAuthorizedException', 'Incorrect username or password.', 'Incorrect e-mail address or password.'],
    ['UsernameExistsException', 'User already exists', 'An account with this e-mail address already exists'],
    ['CodeMismatchException', 'Invalid verification code provided', 'That code is not right'],
    ['ExpiredCodeException', 'Invalid code provided', 'That code has expired'],
    ['UserNotConfirmedException', 'User is not confirmed.', 'not confirmed yet'],
    ['LimitExceededException', 'Attempt limit exceeded', 'Too many attempts'],
    [
      'InvalidPasswordException',
      'Password did not conform with policy: Password must have symbol characters',
      'The password does not meet the rules: Password must have symbol characters',
    ],
  ])('maps %s to a message to act on', async (type, detail, words) => {
    const error = await refusal(type, detail);
    expect(error).toBeInstanceOf(CognitoError);
    expect(error).toMatchObject({ type, detail });
    expect((error as CognitoError).message).toContain(words);
  });

  it('reads namespaced types and keeps unknown ones with their own message', () => {
    expect(cognitoError('com.amazonaws.cognito#CodeMismatchException', 'x').type).toBe(
      'CodeMismatchException',
    );
    expect(cognitoError('SomethingNewException', 'Cognito said so').message).toBe(
      'Sign-in failed: Cognito said so',
    );
  });

  it('says the service is unreachable when no answer comes', async () => {
    const client = new CognitoClient({
      region: 'us-east-1',
      clientId: 'c',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    await expect(client.forgotPassword('a@example.com')).rejects.toMatchObject({
      type: 'NetworkError',
      detail: 'Failed to fetch',
    });
  });
});
