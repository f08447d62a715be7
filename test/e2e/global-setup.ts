/**
 * Builds the web client, starts the local stack that serves it, and checks that Chromium is there:
 * the tests drive Debian's chromium through playwright-core (Playwright's own browsers cannot be
 * downloaded here).
 */
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildWeb } from '../../web/build.js';
import { CHROMIUM_PATH as CHROMIUM } from './support/browser.js';
import type { E2eEnv } from './support/env.js';

/**
 * The local Cognito's ID and access tokens last this long, so that sign-in.test.ts sees a session
 * refresh and outlive them (the other files sign in through /dev/token, whose tokens last 12 hours).
 */
const TOKEN_LIFETIME_SECONDS = 20;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium fonts-noto-color-emoji ` +
        '(or set CHROMIUM_PATH to a Chromium executable).',
    );
  }
  const { outDir } = await buildWeb();
  // In a process of its own: the integration project's stack runs in this one (see stack-process.ts).
  const { startLocalStackProcess } = await import('../../local/stack-process.js');
  const { stack, stop } = await startLocalStackProcess({
    port: 0,
    inMemory: true,
    quiet: true,
    webRoot: outDir,
    tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
  });
  const env: E2eEnv = {
    webUrl: stack.webUrl,
    restUrl: stack.restUrl,
    wsUrl: stack.wsUrl,
    signInUrl: stack.signInUrl,
    chromiumPath: CHROMIUM,
    mailUrl: stack.mailUrl,
    cognito: { ...stack.cognito, tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS },
  };
  project.provide('e2e', env);
  return stop;
}
