/**
 * A large file from one browser to the other through the local stack: Ann and Bob in headless
 * Chromium (Debian's, through playwright-core, like the e2e tests), the web client served by the
 * stack. Ann picks the file with the composer's file input (the client asks for an upload form and
 * POSTs the file to the local S3 with XMLHttpRequest) and sends it; Bob has the room open, his client
 * gets the `chat_message` and shows the file card; then Bob's page fetches the card's URL (the local
 * S3, another origin) to the end and checks its size and SHA-256.
 *
 * Times are taken in the pages (`performance.timeOrigin + performance.now()`, one clock for both
 * pages of the browser): upload = the file input's change event → the tray shows the file uploaded;
 * send → ack (Ann's client marks it sent) and send → chat_message (Bob's client emits it) and →
 * the file card in Bob's room; download = fetch → last byte (and → headers: first byte).
 *
 * The file is a valid PDF padded to the size with random bytes (incompressible): the attachment
 * check reads only its first 64 KB (`%PDF-`), so the send does not depend on the size; upload and
 * download do.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { CHROMIUM_PATH, launchChromium } from '../../test/e2e/support/browser.js';
import { pdfOfSize } from '../../test/e2e/support/files.js';
import { humanSize } from '../../web/sdk/index.js';
import type { BenchConfig } from '../config.js';
import type { Deadline } from '../lib/deadline.js';
import { round } from '../lib/stats.js';

export const CHROMIUM = CHROMIUM_PATH;

export interface TransferRun {
  readonly uploadMs: number;
  readonly sendToAckMs: number;
  readonly sendToMessageMs: number;
  readonly sendToCardMs: number;
  readonly downloadFirstByteMs: number;
  readonly downloadMs: number;
  readonly downloadedBytes: number;
  /** How many distinct values the tray's progress bar showed during the upload. */
  readonly progressSteps: number;
  /** The downloaded bytes are the file's (size and SHA-256). */
  readonly verified: boolean;
}

export interface TransferResult {
  /** Why nothing was measured (no Chromium). */
  readonly skipped?: string;
  readonly bytes: number;
  readonly fileName: string;
  readonly contentType: string;
  readonly chromium: string;
  readonly repetitions: readonly TransferRun[];
  /** Medians over the repetitions. */
  readonly median?: Omit<TransferRun, 'verified' | 'downloadedBytes' | 'progressSteps'>;
  readonly loadAverage?: readonly [number, number];
}

interface Marks {
  picked?: number;
  /** Distinct values the upload's progress bar showed. */
  progress?: number[];
  done?: number;
  failed?: string;
  send?: number;
  ack?: number;
  message?: number;
  card?: number;
}

interface BenchWindow {
  benchMarks: Marks;
  chat?: {
    connection: {
      on(event: 'message', listener: (m: { attachments?: { fileName: string }[] }) => void): () => void;
      on(
        event: 'outgoing',
        listener: (o: { status: string; attachments: readonly unknown[] }) => void,
      ): () => void;
    };
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
};

async function signInPage(browser: Browser, webUrl: string, userId: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  context.setDefaultTimeout(30_000);
  // tsx compiles this file with esbuild's keepNames: the functions passed to `evaluate` call its
  // `__name` helper, which the page does not have. A no-op one, before any script of the page.
  await context.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`[bench transfer] ${userId} page error: ${error}\n`));
  await page.goto(webUrl);
  await page.getByTestId('signin-user-id').fill(userId);
  await page.getByTestId('signin-display-name').fill(name);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-testid="connection-banner"][data-state="online"]').waitFor();
  return page;
}

export async function measureTransfer(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
): Promise<TransferResult> {
  const fileName = (n: number) => `large-${n}.pdf`;
  const base = {
    bytes: config.transfer.bytes,
    fileName: fileName(1),
    contentType: 'application/pdf',
    chromium: CHROMIUM,
  };
  if (!existsSync(CHROMIUM)) {
    return {
      ...base,
      repetitions: [],
      skipped: `no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`,
    };
  }
  const page = await fetch(stack.webUrl);
  if (!page.ok || !(await page.text()).includes('app.js')) {
    throw new Error(`the local stack serves no web client at ${stack.webUrl} (${page.status})`);
  }

  const scratch = mkdtempSync(join(tmpdir(), 'chat-bench-transfer-'));
  const loadBefore = loadavg()[0] ?? 0;
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(CHROMIUM);
    const suffix = Date.now().toString(36);
    const [annId, bobId] = [`bench-xfer-a-${suffix}`, `bench-xfer-b-${suffix}`];
    const ann = await signInPage(browser, stack.webUrl, annId, 'Ann');
    const bob = await signInPage(browser, stack.webUrl, bobId, 'Bob');

    // The room, open on both sides.
    await ann.getByTestId('start-chat-input').fill(bobId);
    await ann.getByTestId('start-chat-submit').click();
    await ann.getByTestId('room-title').filter({ hasText: 'Bob' }).waitFor();
    await ann.getByTestId('composer-input').fill('A large file is coming');
    await ann.getByTestId('composer-input').press('Enter');
    await bob.locator(`[data-testid="chat-item"][data-peer-id="${annId}"]`).click();
    await bob.getByTestId('message-content').getByText('A large file is coming', { exact: true }).waitFor();

    const repetitions: TransferRun[] = [];
    for (let n = 1; n <= config.transfer.repetitions && !deadline.expired; n++) {
      const name = fileName(n);
      const file = pdfOfSize(config.transfer.bytes, `Large file ${n}`);
      const sha256 = createHash('sha256').update(file).digest('hex');
      const path = join(scratch, name);
      writeFileSync(path, file);

      await ann.evaluate((fileName) => {
        const w = window as unknown as BenchWindow;
        const marks: Marks = {};
        w.benchMarks = marks;
        const now = () => performance.timeOrigin + performance.now();
        document
          .querySelector('[data-testid="file-input"]')
          ?.addEventListener('change', () => (marks.picked ??= now()), { capture: true, once: true });
        const tray = document.querySelector('[data-testid="pending-attachments"]');
        if (tray === null) throw new Error('no attachment tray');
        const observer = new MutationObserver(() => {
          const item = tray.querySelector<HTMLElement>(
            `[data-testid="pending-attachment"][data-file-name="${fileName}"]`,
          );
          const bar = item?.querySelector<HTMLProgressElement>('[data-testid="upload-progress"]');
          if (bar != null) {
            marks.progress ??= [];
            if (marks.progress.at(-1) !== bar.value) marks.progress.push(bar.value);
          }
          if (item?.dataset.state === 'done') marks.done ??= now();
          if (item?.dataset.state === 'failed') marks.failed ??= item.textContent ?? 'failed';
          if (marks.done !== undefined || marks.failed !== undefined) observer.disconnect();
        });
        observer.observe(tray, { subtree: true, childList: true, attributes: true });
        const stop = w.chat?.connection.on('outgoing', (outgoing) => {
          if (outgoing.status === 'sent' && outgoing.attachments.length > 0) {
            marks.ack ??= now();
            stop?.();
          }
        });
      }, name);
      await bob.evaluate((fileName) => {
        const w = window as unknown as BenchWindow;
        const marks: Marks = {};
        w.benchMarks = marks;
        const now = () => performance.timeOrigin + performance.now();
        const stop = w.chat?.connection.on('message', (message) => {
          if (message.attachments?.some((a) => a.fileName === fileName)) {
            marks.message ??= now();
            stop?.();
          }
        });
        const list = document.querySelector('[data-testid="message-list"]');
        if (list === null) throw new Error('no message list');
        const observer = new MutationObserver(() => {
          const names = list.querySelectorAll('[data-testid="file-card"] [data-testid="file-name"]');
          if ([...names].some((element) => element.textContent === fileName)) {
            marks.card ??= now();
            observer.disconnect();
          }
        });
        observer.observe(list, { subtree: true, childList: true });
      }, name);

      await ann.getByTestId('file-input').setInputFiles(path);
      await ann.waitForFunction(
        () => {
          const marks = (window as unknown as BenchWindow).benchMarks;
          return marks.done !== undefined || marks.failed !== undefined;
        },
        undefined,
        { timeout: 120_000 },
      );
      const uploaded = await ann.evaluate(() => (window as unknown as BenchWindow).benchMarks);
      if (uploaded.failed !== undefined) throw new Error(`the upload of ${name} failed: ${uploaded.failed}`);

      // Send, clicked in the page so that the mark is the click itself.
      await ann.evaluate(() => {
        const marks = (window as unknown as BenchWindow).benchMarks;
        const button = document.querySelector<HTMLButtonElement>('[data-testid="composer-send"]');
        if (button === null || button.disabled) throw new Error('Send is not enabled');
        marks.send = performance.timeOrigin + performance.now();
        button.click();
      });
      await bob.waitForFunction(() => {
        const marks = (window as unknown as BenchWindow).benchMarks;
        return marks.message !== undefined && marks.card !== undefined;
      });
      await ann.waitForFunction(() => (window as unknown as BenchWindow).benchMarks.ack !== undefined);
      const sent = await ann.evaluate(() => (window as unknown as BenchWindow).benchMarks);
      const received = await bob.evaluate(() => (window as unknown as BenchWindow).benchMarks);

      const card = bob
        .getByTestId('file-card')
        .filter({ has: bob.getByTestId('file-name').getByText(name, { exact: true }) });
      const meta = await card.getByTestId('file-meta').textContent();
      if (meta !== `PDF · ${humanSize(config.transfer.bytes)}`)
        throw new Error(`file card of ${name}: ${meta}`);
      const href = (await card.getAttribute('href')) ?? '';
      const download = await bob.evaluate(async (url) => {
        const now = () => performance.timeOrigin + performance.now();
        const started = now();
        const response = await fetch(url);
        const headersAt = now();
        const body = await response.arrayBuffer();
        const finished = now();
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
        return {
          status: response.status,
          bytes: body.byteLength,
          firstByteMs: headersAt - started,
          ms: finished - started,
          sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
        };
      }, href);
      if (download.status !== 200) throw new Error(`download of ${name} answered ${download.status}`);

      const at = (value: number | undefined) => value ?? Number.NaN;
      repetitions.push({
        uploadMs: round(at(uploaded.done) - at(uploaded.picked), 1),
        sendToAckMs: round(at(sent.ack) - at(sent.send), 1),
        sendToMessageMs: round(at(received.message) - at(sent.send), 1),
        sendToCardMs: round(at(received.card) - at(sent.send), 1),
        downloadFirstByteMs: round(download.firstByteMs, 1),
        downloadMs: round(download.ms, 1),
        downloadedBytes: download.bytes,
        progressSteps: uploaded.progress?.length ?? 0,
        verified: download.bytes === config.transfer.bytes && download.sha256 === sha256,
      });
      rmSync(path, { force: true });
    }
    if (repetitions.length === 0) throw new Error('no transfer measured before the deadline');
    const unverified = repetitions.filter((r) => !r.verified).length;
    if (unverified > 0) throw new Error(`${unverified} download(s) were not the file sent`);
    const mid = (pick: (r: TransferRun) => number) => round(median(repetitions.map(pick)), 1);
    return {
      ...base,
      repetitions,
      median: {
        uploadMs: mid((r) => r.uploadMs),
        sendToAckMs: mid((r) => r.sendToAckMs),
        sendToMessageMs: mid((r) => r.sendToMessageMs),
        sendToCardMs: mid((r) => r.sendToCardMs),
        downloadFirstByteMs: mid((r) => r.downloadFirstByteMs),
        downloadMs: mid((r) => r.downloadMs),
      },
      loadAverage: [round(loadBefore, 1), round(loadavg()[0] ?? 0, 1)],
    };
  } finally {
    await browser?.close().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}
