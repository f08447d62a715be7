/**
 * Debian's Chromium through playwright-core, as every browser test and the transfer bench start it
 * (Playwright's own browsers cannot be downloaded here): headless, no sandbox (root in CI), no GPU,
 * and none of Chromium's own traffic (background services, QUIC, updates, sync). A test that must
 * keep pages off every other host adds `--host-resolver-rules` (web-policy.test.ts).
 */
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with `chromiumArgs` and `extraArgs`. */
export function launchChromium(
  executablePath: string = CHROMIUM_PATH,
  extraArgs: readonly string[] = [],
): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...chromiumArgs, ...extraArgs] });
}
