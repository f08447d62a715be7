/**
 * The local Cognito (cognito-local behind local/cognito.ts) as the handlers see it: its ID and access
 * tokens pass the same aws-jwt-verify setup as /dev/token's (lambdas/shared/auth.ts, one JWKS with both
 * keys), open a WebSocket and call REST; a confirmed sign-up's profile comes from the real
 * post-confirmation trigger, invoked through the Lambda Invoke endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CognitoClient } from '../../web/sdk/index.js';
import { storedUser } from './support/dynamo.js';
import { expectOk, request } from './support/rest.js';
import { localStack } from './support/stack-info.js';
import { eventually } from './support/wait.js';
import { closeAllSockets, handshake, openWs } from './support/ws.js';

afterEach(closeAllSockets);

const cognito = () => {
  const { endpoint, region, clientId } = localStack().cognito;
  return new CognitoClient({ endpoint, region, clientId });
};

const demo = (email: string) => {
  const user = localStack().cognito.demoUsers.find((candidate) => candidate.email === email);
  if (user === undefined) throw new Error(`no demo account ${email}`);
  return user;
};

const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** The newest code e-mailed to `address` (the local mailbox's JSON). */
async function mailedCode(address: string, since: number): Promise<string> {
  const url = localStack().notifications.mailboxUrl;
  const code = await eventually(
    async () => {
      const { emails } = (await (await fetch(url)).json()) as {
        emails: { destination: { to: string[] }; body: { text?: string }; at: number }[];
      };
      const text = emails
        .filter((mail) => mail.destination.to.includes(address) && mail.at * 1000 >= since - 1000)
        .at(-1)?.body.text;
      return /\b(\d{6})\b/.exec(text ?? '')?.[1];
    },
    (found) => found !== undefined,
    { what: `a code e-mailed to ${address}` },
  );
  return code ?? '';
}

describe('local Cognito tokens at the handlers', () => {
  it('issues Cognito-shaped ID tokens: issuer, audience, token_use, sub, name', async () => {
    const ann = demo('ann@example.com');
    const tokens = await cognito().signIn(ann.email, localStack().cognito.demoPassword);
    expect(claims(tokens.idToken)).toMatchObject({
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${localStack().env.USER_POOL_ID}`,
      aud: localStack().cognito.clientId,
      token_use: 'id',
      sub: ann.sub,
      email: ann.email,
      email_verified: true,
      name: ann.name,
    });
    expect(claims(tokens.accessToken)).toMatchObject({
      token_use: 'access',
      client_id: localStack().cognito.clientId,
    });
    const { iat, exp } = claims(tokens.idToken) as { iat: number; exp: number };
    // The app client's lifetime (definitions/auth.ts: an hour), and the answer says the same.
    expect(exp - iat).toBe(3600);
    expect(tokens.expiresIn).toBe(3600);
  });

  it('opens a WebSocket and calls REST with an ID token, and REST with an access token', async () => {
    const ann = demo('ann@example.com');
    const bob = demo('bob@example.com');
    const password = localStack().cognito.demoPassword;
    const [annTokens, bobTokens] = await Promise.all([
      cognito().signIn(ann.email, password),
      cognito().signIn(bob.email, password),
    ]);

    const me = expectOk(
      await request<{ userId: string; displayName: string }>('GET', '/users/me', annTokens.idToken),
    );
    expect(me).toMatchObject({ userId: ann.sub, displayName: ann.name });
    const viaAccess = expectOk(await request<{ userId: string }>('GET', '/users/me', annTokens.accessToken));
    expect(viaAccess.userId).toBe(ann.sub);

    const started = await request<{ room: { roomId: string } }>(
      'POST',
      `/chat/start/${bob.sub}`,
      annTokens.idToken,
    );
    expect([200, 201]).toContain(started.status);
    const roomId = started.body.room.roomId;
    const annWs = await openWs({ token: annTokens.idToken }, 'ann');
    const bobWs = await openWs({ token: bobTokens.idToken }, 'bob');
    const sent = await annWs.sendMessage(roomId, 'hello from cognito', `c-${Date.now()}`);
    expect(sent.senderId).toBe(ann.sub);
    const received = await bobWs.next('chat_message', (frame) => frame.message.messageId === sent.messageId);
    expect(received.message.content).toBe('hello from cognito');
  });

  it('refuses a tampered or foreign token at REST and at $connect', async () => {
    const ann = demo('ann@example.com');
    const tokens = await cognito().signIn(ann.email, localStack().cognito.demoPassword);
    const [header, , signature] = tokens.idToken.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...claims(tokens.idToken), sub: demo('bob@example.com').sub }),
    ).toString('base64url');
    const tampered = `${header}.${forged}.${signature}`;
    expect((await request('GET', '/users/me', tampered)).status).toBe(401);
    expect(await handshake({ token: tampered }, 'tampered')).toMatchObject({
      outcome: 'refused',
      status: 401,
    });
  });

  it('runs the post-confirmation trigger on a confirmed sign-up: the profile and the verified address', async () => {
    const email = `cognito-${Date.now().toString(36)}@example.com`;
    const password = 'Integration-pass-1';
    const since = Date.now();
    const client = cognito();
    const signedUp = await client.signUp(email, password, 'Ivy Integration');
    expect(signedUp).toMatchObject({ confirmed: false, medium: 'EMAIL' });
    await client.confirmSignUp(email, await mailedCode(email, since));
    const tokens = await client.signIn(email, password);
    const sub = claims(tokens.idToken).sub as string;
    // Before any request with the token: the trigger made the profile and kept the address.
    const item = await storedUser(sub);
    expect(item).toMatchObject({ userId: sub, displayName: 'Ivy Integration', email });
  });
});
