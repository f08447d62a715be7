/**
 * The Cognito sign-in in headless Chromium against the local stack's Cognito emulator: create an
 * account, read the code on the local Mail page's JSON, confirm, chat with a demo account in a second
 * browser context, outlive the ID token (the e2e stack's tokens last 20 s) with REST and the WebSocket
 * still working, sign out (the refresh token revoked), and reset a forgotten password.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CognitoClient, CognitoError } from '../../web/sdk/index.js';
import { launchChromium } from './support/browser.js';
import { e2eEnv } from './support/env.js';

const env = e2eEnv();
const SCREENSHOTS = join(process.cwd(), 'test-results', 'e2e');
const run = Date.now().toString(36);
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium(env.chromiumPath);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
});

async function newPage(label: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  contexts.push(context);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${label}] page error:`, error));
  await page.goto(env.webUrl);
  return page;
}

interface Mail {
  readonly destination: { readonly to: string[] };
  readonly from: string;
  readonly body: { readonly text?: string };
  readonly at: number;
}

/** The newest code e-mailed to `address` after `since` (ms), read from the local mailbox's JSON. */
async function codeFor(address: string, since: number): Promise<{ code: string; mail: Mail }> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { emails } = (await (await fetch(`${env.mailUrl}store`)).json()) as { emails: Mail[] };
    const mail = emails
      .filter((email) => email.destination.to.includes(address) && email.at * 1000 >= since - 1000)
      .at(-1);
    const code = /\b(\d{6})\b/.exec(mail?.body.text ?? '')?.[1];
    if (mail !== undefined && code !== undefined) return { code, mail };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`No code e-mailed to ${address}`);
}

const banner = (page: Page, state: string) =>
  page.locator(`[data-testid="connection-banner"][data-state="${state}"]`).waitFor();

interface StoredSession {
  readonly userId: string;
  readonly cognito?: { readonly tokens: { readonly idToken: string; readonly refreshToken: string } };
}
const sessionOf = async (page: Page): Promise<StoredSession> =>
  JSON.parse((await page.evaluate(() => sessionStorage.getItem('chat.session'))) ?? 'null') as StoredSession;

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId('auth-email').fill(email);
  await page.getByTestId('auth-password').fill(password);
  await page.getByTestId('auth-submit').click();
  await banner(page, 'online');
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

const bubble = (page: Page, text: string) =>
  page
    .locator('[data-testid="message"]')
    .filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) });

describe('Cognito sign-in in the browser (local Cognito)', () => {
  const email = `e2e-${run}@example.com`;
  const password = 'First-password-1';
  const newPassword = 'Second-password-2';
  const bob = env.cognito.demoUsers.find((user) => user.email === 'bob@example.com');

  it('signs up, confirms with the mailed code, chats, outlives the token, signs out, resets the password', async () => {
    expect(bob).toBeDefined();
    const page = await newPage('new user');

    // Create an account: the policy is on the form, and a weak password is refused before Cognito.
    await page.getByTestId('show-sign-up').click();
    expect(await page.locator('#signup-password-rules').textContent()).toContain('12 characters');
    expect(await page.getByTestId('signup-password').getAttribute('autocomplete')).toBe('new-password');
    await page.getByTestId('signup-name').fill('Eve Tester');
    await page.getByTestId('signup-email').fill(email);
    await page.getByTestId('signup-password').fill('weakpassword');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('auth-error').filter({ hasText: 'upper-case letter' }).waitFor();
    expect(await page.getByTestId('auth-error').getAttribute('role')).toBe('alert');

    const signedUpAt = Date.now();
    await page.getByTestId('signup-password').fill(password);
    await page.getByTestId('signup-submit').click();
    // The confirm screen says where the code is on the local stack, and links the Mail page.
    await page.getByTestId('confirm-form').waitFor();
    expect(await page.getByTestId('code-where').locator('a').getAttribute('href')).toBe(env.mailUrl);
    expect(await page.getByTestId('confirm-code').getAttribute('autocomplete')).toBe('one-time-code');
    const first = await codeFor(email, signedUpAt);
    expect(first.mail.from).toBe('no-reply@verificationemail.com');

    // A wrong code is refused with Cognito's error in words; the right one confirms and signs in.
    await page.getByTestId('confirm-code').fill(first.code === '000000' ? '111111' : '000000');
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('auth-error').filter({ hasText: 'code is not right' }).waitFor();
    // A new code replaces the first.
    const resentAt = Date.now();
    await page.getByTestId('confirm-resend').click();
    await page.getByTestId('auth-notice').filter({ hasText: 'new code' }).waitFor();
    const second = await codeFor(email, resentAt);
    await page.getByTestId('confirm-code').fill(second.code);
    await page.getByTestId('confirm-submit').click();
    await banner(page, 'online');
    // The profile was made by the post-confirmation trigger, with the name given at sign-up.
    await page.getByTestId('me-name').filter({ hasText: 'Eve Tester' }).waitFor({ state: 'attached' });
    const session = await sessionOf(page);
    expect(session.userId).toMatch(/^[0-9a-f-]{36}$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'cognito-signed-in.png'), fullPage: true });

    // Bob (a demo account) signs in through the same form in another context and starts the chat.
    const bobPage = await newPage('bob');
    await signIn(bobPage, 'bob@example.com', env.cognito.demoPassword);
    await bobPage.getByTestId('start-chat-input').fill(session.userId);
    await bobPage.getByTestId('start-chat-submit').click();
    await bobPage.getByTestId('room-title').filter({ hasText: 'Eve Tester' }).waitFor();
    await send(bobPage, `Welcome ${run}`);
    await page.locator(`[data-testid="chat-item"][data-peer-id="${bob?.sub}"]`).click();
    await bubble(page, `Welcome ${run}`).waitFor();

    // Past the ID token's lifetime: the session refreshed it, and REST and the WebSocket still work.
    const firstToken = session.cognito?.tokens.idToken;
    await page.waitForTimeout((env.cognito.tokenLifetimeSeconds + 3) * 1000);
    await send(page, `Still here ${run}`);
    await bubble(bobPage, `Still here ${run}`).waitFor();
    const profile = await page.evaluate(() => window.chat?.api.getMe().then((me) => me.displayName));
    expect(profile).toBe('Eve Tester');
    // A reconnect after the expiry needs a fresh token in its URL (the $connect authorizer checks it).
    await page.evaluate(() => window.chat?.connection.reconnect());
    await banner(page, 'online');
    const refreshed = await sessionOf(page);
    expect(refreshed.cognito?.tokens.idToken).not.toBe(firstToken);
    expect(refreshed.cognito?.tokens.refreshToken).toBe(session.cognito?.tokens.refreshToken);

    // Sign out: back to the sign-in screen, and the refresh token no longer works.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in-form').waitFor();
    expect(await sessionOf(page)).toBeNull();
    const cognito = new CognitoClient({
      region: env.cognito.region,
      clientId: env.cognito.clientId,
      endpoint: env.cognito.endpoint,
    });
    await expect
      .poll(async () => {
        try {
          await cognito.refresh(refreshed.cognito?.tokens.refreshToken ?? '');
          return 'refreshed';
        } catch (error) {
          return error instanceof CognitoError ? error.type : String(error);
        }
      })
      .toBe('NotAuthorizedException');

    // Forgot password: a code by mail, a new password (the policy again), then sign in with it.
    await page.getByTestId('show-forgot').click();
    const forgotAt = Date.now();
    await page.getByTestId('forgot-email').fill(email);
    await page.getByTestId('forgot-submit').click();
    await page.getByTestId('reset-form').waitFor();
    const reset = await codeFor(email, forgotAt);
    await page.getByTestId('reset-code').fill(reset.code);
    await page.getByTestId('reset-password').fill(newPassword);
    await page.getByTestId('reset-submit').click();
    await page.getByTestId('auth-notice').filter({ hasText: 'Password changed' }).waitFor();
    // The old password is refused, the new one works.
    await page.getByTestId('auth-email').fill(email);
    await page.getByTestId('auth-password').fill(password);
    await page.getByTestId('auth-submit').click();
    await page
      .getByTestId('auth-error')
      .filter({ hasText: 'Incorrect e-mail address or password' })
      .waitFor();
    await signIn(page, email, newPassword);
    expect((await sessionOf(page)).userId).toBe(session.userId);
  });

  it('on a deployed stack: no developer form, Cognito at its regional endpoint, the code e-mailed', async () => {
    // The deployed config.json (the stack outputs) has no signInUrl and no cognitoEndpoint. The local
    // server's Content-Security-Policy names the local Cognito, not the regional endpoint this config
    // points at, so it is bypassed here; the deployed policy has its own test (web-policy.test.ts).
    const context = await browser.newContext({ bypassCSP: true });
    contexts.push(context);
    const page = await context.newPage();
    await page.route('**/config.json', (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          restUrl: env.restUrl,
          wsUrl: env.wsUrl,
          region: 'eu-west-1',
          userPoolId: 'eu-west-1_deployed',
          userPoolClientId: 'deployed-client',
        }),
      }),
    );
    // Nothing leaves the machine: Cognito's regional endpoint is answered here.
    const targets: { url: string; target: string | undefined; body: unknown }[] = [];
    await page.route('https://cognito-idp.eu-west-1.amazonaws.com/**', (route) => {
      const request = route.request();
      targets.push({
        url: request.url(),
        target: request.headers()['x-amz-target'],
        body: request.postDataJSON(),
      });
      return route.fulfill({
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify({
          UserConfirmed: false,
          UserSub: '0b0b0b0b-0000-4000-8000-000000000000',
          CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'd***@e***' },
        }),
      });
    });
    await page.goto(env.webUrl);
    await page.getByTestId('sign-in-form').waitFor();
    expect(await page.getByTestId('local-sign-in').count()).toBe(0);

    await page.getByTestId('show-sign-up').click();
    await page.getByTestId('signup-name').fill('Dee Ployed');
    await page.getByTestId('signup-email').fill('dee@example.com');
    await page.getByTestId('signup-password').fill('Deployed-pass-1');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('confirm-form').waitFor();
    expect(await page.getByTestId('code-where').textContent()).toContain('We e-mailed a code to d***@e***');
    expect(targets).toEqual([
      {
        url: 'https://cognito-idp.eu-west-1.amazonaws.com/',
        target: 'AWSCognitoIdentityProviderService.SignUp',
        body: {
          ClientId: 'deployed-client',
          Username: 'dee@example.com',
          Password: 'Deployed-pass-1',
          UserAttributes: [
            { Name: 'email', Value: 'dee@example.com' },
            { Name: 'name', Value: 'Dee Ployed' },
          ],
        },
      },
    ]);
  });
});
