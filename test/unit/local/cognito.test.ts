/**
 * The local Cognito's strict layer (local/cognito.ts) over cognito-local: what Cognito refuses is
 * refused, in Cognito's error types, where cognito-local alone would accept or answer otherwise. The
 * emulator runs in this process with an injected clock, a recording mailbox and a fake Invoke endpoint
 * for the post-confirmation trigger.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCognito, startLocalCognito } from '../../../local/cognito.js';
import { makeLog } from '../../../local/log.js';

const POOL = 'us-east-1_unitPool';
const CLIENT = 'unit-client';
const DEMO = { sub: '11111111-2222-4333-8444-555555555555', email: 'demo@example.com', name: 'Demo' };
const DEMO_PASSWORD = 'Demo-password-1';
const LIFETIME = 120;

let now = new Date('2026-03-01T10:00:00Z');
const mails: { to: string; subject: string; text: string }[] = [];
const invocations: { functionName: string; event: Record<string, unknown> }[] = [];
let cognito: LocalCognito;
let lambda: Server;

beforeAll(async () => {
  // The Invoke endpoint's shape: POST /2015-03-31/functions/{name}/invocations; answers the event.
  lambda = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const name = /functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '';
      const event = JSON.parse(body) as { request?: { userAttributes?: { email?: string } } };
      invocations.push({ functionName: decodeURIComponent(name), event: event as Record<string, unknown> });
      // A trigger that throws, as Lambda reports it: 200 with X-Amz-Function-Error.
      if (event.request?.userAttributes?.email === 'failing@example.com') {
        res
          .writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
          .end(JSON.stringify({ errorType: 'Error', errorMessage: 'table unavailable' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  cognito = await startLocalCognito({
    host: '127.0.0.1',
    dataDir: undefined,
    region: 'us-east-1',
    userPoolId: POOL,
    clientId: CLIENT,
    tokenLifetimeSeconds: LIFETIME,
    lambdaEndpoint: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
    deliverEmail: async (mail) => {
      mails.push(mail);
    },
    demoUsers: [DEMO],
    demoPassword: DEMO_PASSWORD,
    log: makeLog(true),
    now: () => now,
  });
});

afterAll(async () => {
  await cognito?.close();
  await new Promise<void>((resolve) => lambda?.close(() => resolve()));
});

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(operation: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${cognito.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify({ ClientId: CLIENT, ...body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const refused = (answer: Answer, type: string, message?: string | RegExp) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  expect(answer.body.__type).toBe(type);
  if (message !== undefined) expect(String(answer.body.message)).toMatch(message);
};

const lastCodeFor = (to: string) =>
  /(\d{6})/.exec(mails.filter((mail) => mail.to === to).at(-1)?.text ?? '')?.[1] ?? '';
const later = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
const HOUR = 3600_000;
const signIn = (email: string, password: string) =>
  call('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
const claims = (token: unknown) =>
  JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('SignUp', () => {
  it('enforces the password policy with the rule broken, in Cognito words', async () => {
    refused(
      await call('SignUp', { Username: 'p@example.com', Password: 'Short-1' }),
      'InvalidPasswordException',
      /not long enough/,
    );
    refused(
      await call('SignUp', { Username: 'p@example.com', Password: 'nouppercase-123' }),
      'InvalidPasswordException',
      /uppercase/,
    );
    refused(
      await call('SignUp', { Username: 'p@example.com', Password: 'NoSymbolsHere123' }),
      'InvalidPasswordException',
      /symbol/,
    );
  });

  it('takes e-mail usernames only, and finds an existing one without case', async () => {
    refused(
      await call('SignUp', { Username: 'not-an-email', Password: 'Good-password-1' }),
      'InvalidParameterException',
    );
    refused(
      await call('SignUp', { Username: 'DEMO@Example.com', Password: 'Good-password-1' }),
      'UsernameExistsException',
    );
  });

  it('refuses an app client that does not exist', async () => {
    refused(
      await call('SignUp', { ClientId: 'other', Username: 'x@example.com', Password: 'Good-password-1' }),
      'ResourceNotFoundException',
    );
  });
});

describe('confirmation', () => {
  const email = 'new@example.com';
  const password = 'Good-password-1';

  it('sends a code to a masked address; an unconfirmed user cannot sign in', async () => {
    const answer = await call('SignUp', {
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'name', Value: 'Nia New' }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      UserConfirmed: false,
      CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'n***@e***' },
    });
    expect(lastCodeFor(email)).toMatch(/^\d{6}$/);
    refused(await signIn(email, password), 'UserNotConfirmedException');
    // The wrong password says nothing about the account's state.
    refused(
      await signIn(email, 'Wrong-password-1'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
  });

  it('refuses a wrong code and a code older than 24 hours; a resent code confirms and runs the trigger', async () => {
    const first = lastCodeFor(email);
    refused(
      await call('ConfirmSignUp', {
        Username: email,
        ConfirmationCode: first === '000000' ? '111111' : '000000',
      }),
      'CodeMismatchException',
    );
    later(25 * HOUR);
    refused(
      await call('ConfirmSignUp', { Username: email, ConfirmationCode: first }),
      'ExpiredCodeException',
    );

    expect((await call('ResendConfirmationCode', { Username: email })).body).toMatchObject({
      CodeDeliveryDetails: { Destination: 'n***@e***' },
    });
    const second = lastCodeFor(email);
    const before = invocations.length;
    expect((await call('ConfirmSignUp', { Username: email, ConfirmationCode: second })).status).toBe(200);

    const trigger = invocations.slice(before);
    expect(trigger).toHaveLength(1);
    expect(trigger[0]?.functionName).toBe('PostConfirmationFunction');
    expect(trigger[0]?.event).toMatchObject({
      triggerSource: 'PostConfirmation_ConfirmSignUp',
      userPoolId: POOL,
      request: { userAttributes: { email, email_verified: 'true', name: 'Nia New' } },
    });
    refused(
      await call('ConfirmSignUp', { Username: email, ConfirmationCode: second }),
      'NotAuthorizedException',
      /CONFIRMED/,
    );
    refused(
      await call('ResendConfirmationCode', { Username: email }),
      'InvalidParameterException',
      /already confirmed/,
    );
  });

  it('answers a failed post-confirmation trigger with UserLambdaValidationException; the user stays confirmed', async () => {
    await call('SignUp', { Username: 'failing@example.com', Password: 'Good-password-1' });
    const answer = await call('ConfirmSignUp', {
      Username: 'failing@example.com',
      ConfirmationCode: lastCodeFor('failing@example.com'),
    });
    refused(answer, 'UserLambdaValidationException', 'PostConfirmation failed with error table unavailable.');
    expect((await signIn('failing@example.com', 'Good-password-1')).status).toBe(200);
  });

  it('answers an unknown user with a simulated delivery and sends nothing', async () => {
    const sent = mails.length;
    expect((await call('ResendConfirmationCode', { Username: 'ghost@example.com' })).body).toEqual({
      CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'g***@e***' },
    });
    expect(mails.length).toBe(sent);
  });
});

describe('InitiateAuth', () => {
  it('signs in with tokens of the client lifetime, ExpiresIn and TokenType; unknown users get the generic refusal', async () => {
    const answer = await signIn(DEMO.email, DEMO_PASSWORD);
    const result = answer.body.AuthenticationResult as Record<string, unknown>;
    expect(result).toMatchObject({ ExpiresIn: LIFETIME, TokenType: 'Bearer' });
    const id = claims(result.IdToken);
    expect(id).toMatchObject({
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
      aud: CLIENT,
      token_use: 'id',
      sub: DEMO.sub,
      name: DEMO.name,
    });
    expect(Number(id.exp) - Number(id.iat)).toBe(LIFETIME);
    refused(
      await signIn('ghost@example.com', DEMO_PASSWORD),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    refused(
      await signIn(DEMO.email, 'Wrong-password-1'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
  });

  it('refuses flows the app client does not allow', async () => {
    refused(
      await call('InitiateAuth', { AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: DEMO.email } }),
      'InvalidParameterException',
      /not enabled/,
    );
  });

  it('refreshes with a live refresh token, not with a revoked or expired one', async () => {
    const signedIn = (await signIn(DEMO.email, DEMO_PASSWORD)).body.AuthenticationResult as Record<
      string,
      string
    >;
    const refresh = () =>
      call('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: signedIn.RefreshToken },
      });
    const refreshed = await refresh();
    expect(refreshed.body.AuthenticationResult).toMatchObject({ ExpiresIn: LIFETIME, TokenType: 'Bearer' });
    expect((refreshed.body.AuthenticationResult as Record<string, unknown>).RefreshToken).toBeUndefined();

    later(31 * 24 * HOUR);
    refused(await refresh(), 'NotAuthorizedException', /expired/);

    const other = (await signIn(DEMO.email, DEMO_PASSWORD)).body.AuthenticationResult as Record<
      string,
      string
    >;
    expect((await call('RevokeToken', { Token: other.RefreshToken })).status).toBe(200);
    refused(
      await call('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: other.RefreshToken },
      }),
      'NotAuthorizedException',
      /revoked/,
    );
  });
});

describe('password reset', () => {
  it('simulates a delivery for unknown users and unverified addresses, sending nothing', async () => {
    await call('SignUp', { Username: 'unverified@example.com', Password: 'Good-password-1' });
    const sent = mails.length;
    for (const username of ['ghost@example.com', 'unverified@example.com']) {
      const answer = await call('ForgotPassword', { Username: username });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ CodeDeliveryDetails: { DeliveryMedium: 'EMAIL' } });
    }
    expect(mails.length).toBe(sent);
    // No code was requested for that user: a sign-up code does not reset a password.
    refused(
      await call('ConfirmForgotPassword', {
        Username: 'unverified@example.com',
        ConfirmationCode: lastCodeFor('unverified@example.com'),
        Password: 'Other-password-1',
      }),
      'ExpiredCodeException',
    );
    refused(
      await call('ConfirmForgotPassword', {
        Username: 'ghost@example.com',
        ConfirmationCode: '123456',
        Password: 'Other-password-1',
      }),
      'CodeMismatchException',
    );
  });

  it('resets with the mailed code and a password that meets the policy, within the hour', async () => {
    expect((await call('ForgotPassword', { Username: DEMO.email })).body).toMatchObject({
      CodeDeliveryDetails: { Destination: 'd***@e***' },
    });
    const code = lastCodeFor(DEMO.email);
    refused(
      await call('ConfirmForgotPassword', { Username: DEMO.email, ConfirmationCode: code, Password: 'weak' }),
      'InvalidPasswordException',
    );
    refused(
      await call('ConfirmForgotPassword', {
        Username: DEMO.email,
        ConfirmationCode: code === '000000' ? '111111' : '000000',
        Password: 'Newer-password-1',
      }),
      'CodeMismatchException',
    );
    later(2 * HOUR);
    refused(
      await call('ConfirmForgotPassword', {
        Username: DEMO.email,
        ConfirmationCode: code,
        Password: 'Newer-password-1',
      }),
      'ExpiredCodeException',
    );

    await call('ForgotPassword', { Username: DEMO.email });
    const fresh = lastCodeFor(DEMO.email);
    expect(
      (
        await call('ConfirmForgotPassword', {
          Username: DEMO.email,
          ConfirmationCode: fresh,
          Password: 'Newer-password-1',
        })
      ).status,
    ).toBe(200);
    refused(await signIn(DEMO.email, DEMO_PASSWORD), 'NotAuthorizedException');
    expect((await signIn(DEMO.email, 'Newer-password-1')).status).toBe(200);
  });
});
