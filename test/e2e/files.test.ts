/**
 * Files and avatars in headless Chromium, through the web client and the local stack (the local S3
 * is another origin than the page): Ann attaches a PNG and a PDF built in code, Bob sees the image
 * preview and the file card, opens the image in a new tab and downloads the PDF; files the client
 * refuses (too large, a type not allowed) stay in the tray with their errors and nothing is sent; a
 * file whose bytes are not its declared type is refused by the server; an uploaded avatar shows in
 * the other user's chat list. Every wait is on a DOM state or a browser event, never a timer.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ATTACHMENT_BYTES, humanSize } from '../../web/sdk/index.js';
import { launchChromium } from './support/browser.js';
import { e2eEnv } from './support/env.js';
import { pdfDocument, pngImage } from './support/files.js';

const env = e2eEnv();
const SCREENSHOTS = join(process.cwd(), 'test-results', 'e2e');
const run = Date.now().toString(36);
let browser: Browser;
let scratch: string;
const contexts: BrowserContext[] = [];

interface User {
  readonly id: string;
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'chat-e2e-files-'));
  browser = await launchChromium(env.chromiumPath);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

async function signIn(prefix: string, name: string): Promise<User> {
  const id = `${prefix}${run}`;
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  contexts.push(context);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${id}] page error:`, error));
  await page.goto(env.webUrl);
  await page.getByTestId('signin-user-id').fill(id);
  await page.getByTestId('signin-display-name').fill(name);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-testid="connection-banner"][data-state="online"]').waitFor();
  await page.getByTestId('me-name').filter({ hasText: name }).waitFor({ state: 'attached' });
  return { id, name, context, page };
}

const chatItem = (user: User, peer: User): Locator =>
  user.page.locator(`[data-testid="chat-item"][data-peer-id="${peer.id}"]`);

async function startChat(user: User, peer: User): Promise<void> {
  await user.page.getByTestId('start-chat-input').fill(peer.id);
  await user.page.getByTestId('start-chat-submit').click();
  await user.page.getByTestId('room-title').filter({ hasText: peer.name }).waitFor();
}

async function sendText(user: User, text: string): Promise<void> {
  await user.page.getByTestId('composer-input').fill(text);
  await user.page.getByTestId('composer-input').press('Enter');
}

const tray = (user: User) => user.page.getByTestId('pending-attachments');
const pending = (user: User, fileName: string, state?: 'uploading' | 'done' | 'failed'): Locator =>
  tray(user).locator(
    `[data-testid="pending-attachment"][data-file-name="${fileName}"]${state === undefined ? '' : `[data-state="${state}"]`}`,
  );

const screenshot = (user: User, name: string) =>
  user.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** Resolves once the image has loaded (or fails on its error event); answers its natural size. */
async function loadedImage(image: Locator): Promise<{ width: number; height: number }> {
  await image.waitFor();
  return image.evaluate(
    (img: HTMLImageElement) =>
      new Promise<{ width: number; height: number }>((resolve, reject) => {
        const done = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
        if (img.complete) {
          if (img.naturalWidth > 0) done();
          else reject(new Error(`image failed to load: ${img.src}`));
          return;
        }
        img.addEventListener('load', done, { once: true });
        img.addEventListener('error', () => reject(new Error(`image failed to load: ${img.src}`)), {
          once: true,
        });
      }),
  );
}

/** The tray's states as they change, and whether a progress bar showed, recorded in the page. */
async function recordTray(user: User): Promise<void> {
  await tray(user).evaluate((list) => {
    const seen: Record<string, string[]> = {};
    const record = () => {
      for (const item of list.querySelectorAll<HTMLElement>('[data-testid="pending-attachment"]')) {
        const name = item.dataset.fileName ?? '?';
        const states = seen[name] ?? [];
        seen[name] = states;
        const state = `${item.dataset.state ?? '?'}${item.querySelector('[data-testid="upload-progress"]') ? '+progress' : ''}`;
        if (states.at(-1) !== state) states.push(state);
      }
    };
    (window as unknown as { traySeen: Record<string, string[]> }).traySeen = seen;
    new MutationObserver(record).observe(list, { childList: true, subtree: true, attributes: true });
  });
}

const traySeen = (user: User) =>
  user.page.evaluate(() => (window as unknown as { traySeen: Record<string, string[]> }).traySeen);

/** Requests the page makes to the chat API's upload routes and to storage. */
function watchUploads(user: User): { readonly forms: string[]; readonly posts: string[] } {
  const seen = { forms: [] as string[], posts: [] as string[] };
  const pageOrigin = new URL(env.webUrl).origin;
  user.page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/chat/uploads/') || url.pathname.startsWith('/users/me/avatar')) {
      seen.forms.push(`${request.method()} ${url.pathname}`);
    } else if (url.origin !== pageOrigin && request.method() === 'POST') {
      seen.posts.push(url.origin);
    }
  });
  return seen;
}

describe('files and avatars', () => {
  const png = pngImage(40, 30, 90);
  const pdf = pdfDocument('Quarterly report');

  it('sends an image and a PDF; the other side previews, opens and downloads them', async () => {
    const ann = await signIn('annf', 'Ann');
    const bob = await signIn('bobf', 'Bob');
    await startChat(ann, bob);
    await recordTray(ann);

    await ann.page.getByTestId('file-input').setInputFiles([
      { name: 'photo.png', mimeType: 'image/png', buffer: png },
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf },
    ]);
    await pending(ann, 'photo.png', 'done').waitFor();
    await pending(ann, 'report.pdf', 'done').waitFor();
    // Each file showed a progress bar while it uploaded, then nothing but the file.
    const seen = await traySeen(ann);
    expect(seen['photo.png']?.[0]).toBe('uploading+progress');
    expect(seen['photo.png']?.at(-1)).toBe('done');
    expect(seen['report.pdf']?.[0]).toBe('uploading+progress');
    expect(seen['report.pdf']?.at(-1)).toBe('done');
    expect(await tray(ann).getByTestId('upload-progress').count()).toBe(0);
    expect(await tray(ann).getByTestId('attachment-error').count()).toBe(0);
    await screenshot(ann, 'files-ann-tray-done');

    // Files alone may be sent.
    expect(await ann.page.getByTestId('composer-send').isEnabled()).toBe(true);
    await ann.page.getByTestId('composer-send').click();
    const annsMessage = ann.page
      .locator('[data-testid="message"][data-status="sent"], [data-testid="message"][data-status="read"]')
      .filter({ has: ann.page.getByTestId('file-card') });
    await annsMessage.waitFor();
    await tray(ann).getByTestId('pending-attachment').first().waitFor({ state: 'detached' });
    // The sent bubble shows the server's copies (download URLs on storage, not the picked files' blob: URLs).
    const annsImage = annsMessage.getByTestId('image-attachment');
    await expect.poll(() => annsImage.getAttribute('href')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

    // Bob: the room comes up in his list with the first file as its preview, then he opens it.
    const annInBobsList = chatItem(bob, ann);
    await annInBobsList.getByTestId('chat-last').filter({ hasText: '📎 Photo' }).waitFor();
    await annInBobsList.click();
    const message = bob.page.getByTestId('message').filter({ has: bob.page.getByTestId('attachments') });
    await message.waitFor();
    const attachments = message.getByTestId('attachments');

    // The image: sized before it loads (the server read 40 x 30 from the PNG), loaded from storage.
    const imageLink = attachments.getByTestId('image-attachment');
    const preview = imageLink.getByTestId('image-preview');
    expect(await preview.getAttribute('width')).toBe('40');
    expect(await preview.getAttribute('height')).toBe('30');
    expect(await preview.getAttribute('alt')).toBe('photo.png');
    expect(await loadedImage(preview)).toEqual({ width: 40, height: 30 });
    expect(await imageLink.evaluate((a) => a.classList.contains('broken'))).toBe(false);
    const imageHref = (await imageLink.getAttribute('href')) ?? '';
    const filesOrigin = new URL(imageHref).origin;
    expect(filesOrigin).not.toBe(new URL(env.webUrl).origin);

    // The PDF: a file card with its name, its type in words and its size.
    const card = attachments.getByTestId('file-card');
    expect(await card.getByTestId('file-name').textContent()).toBe('report.pdf');
    expect(await card.getByTestId('file-meta').textContent()).toBe(`PDF · ${humanSize(pdf.length)}`);
    expect(await card.getAttribute('download')).toBe('report.pdf');
    await screenshot(bob, 'files-bob-room');

    // Opening the image: a new tab on the image's URL, served as a PNG, shown inline.
    const isImageDocument = (response: Response) =>
      response.request().resourceType() === 'document' &&
      new URL(response.url()).pathname === new URL(imageHref).pathname;
    const imageResponse = bob.context.waitForEvent('response', isImageDocument);
    const [tab] = await Promise.all([bob.context.waitForEvent('page'), imageLink.click()]);
    const opened = await imageResponse;
    expect(opened.status()).toBe(200);
    expect(opened.headers()['content-type']).toBe('image/png');
    expect(opened.headers()['content-disposition']).toMatch(/^inline; filename="photo\.png"/);
    // (The browser percent-encodes the ' of `filename*=UTF-8''`, as WHATWG URL parsing does.)
    expect(tab.url()).toBe(new URL(imageHref).href);
    expect(await loadedImage(tab.locator('img'))).toEqual({ width: 40, height: 30 });
    await tab.close();

    // The PDF's link, fetched from Bob's page (cross-origin: the bucket's CORS rule lets the page read
    // the body) and by the context (which sees every header): the same bytes, saved as a download.
    const pdfHref = (await card.getAttribute('href')) ?? '';
    expect(new URL(pdfHref).origin).toBe(filesOrigin);
    const fetched = await bob.page.evaluate(async (href) => {
      const response = await fetch(href);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return {
        status: response.status,
        size: bytes.length,
        sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
      };
    }, pdfHref);
    expect(fetched).toEqual({
      status: 200,
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
    });
    const headers = await bob.context.request.get(pdfHref);
    expect(headers.status()).toBe(200);
    expect(headers.headers()['content-type']).toBe('application/pdf');
    expect(headers.headers()['content-disposition']).toMatch(/^attachment; filename="report\.pdf"/);
    expect(Buffer.compare(await headers.body(), pdf)).toBe(0);

    // Clicking the card downloads the file under its name.
    const [download] = await Promise.all([bob.page.waitForEvent('download'), card.click()]);
    expect(download.suggestedFilename()).toBe('report.pdf');
    const saved = join(scratch, 'downloaded.pdf');
    await download.saveAs(saved);
    expect(Buffer.compare(readFileSync(saved), pdf)).toBe(0);
  });

  it('keeps a file too large or of a refused type in the tray with its error, and sends nothing', async () => {
    const ann = await signIn('annr', 'Ann');
    const bob = await signIn('bobr', 'Bob');
    await startChat(ann, bob);
    await sendText(ann, 'Before the files');
    await chatItem(bob, ann).click();
    await bob.page.getByTestId('message-content').getByText('Before the files', { exact: true }).waitFor();
    const uploads = watchUploads(ann);

    // Over the limit: a sparse file on disk (26 MB of zeros, never read: the size is checked first).
    const large = join(scratch, 'scan.pdf');
    writeFileSync(large, '');
    truncateSync(large, 26 * 1024 * 1024);
    // A program: whatever type the browser gives it, it is not one a message may carry.
    const program = join(scratch, 'setup.exe');
    writeFileSync(program, Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'));
    await ann.page.getByTestId('file-input').setInputFiles([large, program]);
    const tooLarge = pending(ann, 'scan.pdf', 'failed');
    const refusedType = pending(ann, 'setup.exe', 'failed');
    await tooLarge.waitFor();
    await refusedType.waitFor();
    expect(await tooLarge.getByTestId('attachment-error').textContent()).toBe(
      `“scan.pdf” (26 MB) is larger than the ${humanSize(DEFAULT_MAX_ATTACHMENT_BYTES)} limit.`,
    );
    const typeError = (await refusedType.getByTestId('attachment-error').textContent()) ?? '';
    expect(typeError).toMatch(
      /^“setup\.exe” cannot be sent: you can send images \(PNG, JPEG, GIF, WebP\), PDF/,
    );
    // Neither can be retried, and nothing can be sent with them alone.
    expect(await tray(ann).getByTestId('retry-upload').count()).toBe(0);
    expect(await ann.page.getByTestId('composer-send').isDisabled()).toBe(true);
    await ann.page.getByTestId('composer-input').press('Enter');
    expect(await ann.page.getByTestId('message').count()).toBe(1);
    await screenshot(ann, 'files-ann-refused');

    // Text sent now carries neither file: Bob gets the text alone, right after the first message.
    await sendText(ann, 'Only text');
    await bob.page.getByTestId('message-content').getByText('Only text', { exact: true }).waitFor();
    expect(await bob.page.getByTestId('message-content').allTextContents()).toEqual([
      'Before the files',
      'Only text',
    ]);
    expect(await bob.page.getByTestId('attachments').count()).toBe(0);
    // The refused files stay in the tray with their errors until removed.
    expect(await tray(ann).getByTestId('pending-attachment').count()).toBe(2);
    await tooLarge.getByTestId('remove-attachment').click();
    await refusedType.getByTestId('remove-attachment').click();
    await tray(ann).getByTestId('pending-attachment').first().waitFor({ state: 'detached' });
    // Refused before any request: no upload form asked for, nothing posted to storage.
    expect(uploads).toEqual({ forms: [], posts: [] });
  });

  it('refuses at send a file whose bytes are not its declared type', async () => {
    const ann = await signIn('anns', 'Ann');
    const bob = await signIn('bobs', 'Bob');
    await startChat(ann, bob);
    const uploads = watchUploads(ann);
    // Text named and typed as a PNG: the client cannot tell, storage takes it, the check reads it.
    await ann.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'holiday.png', mimeType: 'image/png', buffer: Buffer.from('not a picture\n') });
    await pending(ann, 'holiday.png', 'done').waitFor();
    expect(uploads.forms).toHaveLength(1);
    expect(uploads.posts).toHaveLength(1);
    await ann.page.getByTestId('composer-send').click();
    const failed = ann.page.locator('[data-testid="message"][data-status="failed"]');
    await failed.waitFor();
    expect(await failed.getByTestId('message-error').textContent()).toMatch(
      /^Not sent: .*its content is a text file, not image\/png/,
    );
    // Bob has no message from Ann: the room never reached his list.
    await sendText(ann, 'Sorry, wrong file');
    await chatItem(bob, ann).getByTestId('chat-last').filter({ hasText: 'Sorry, wrong file' }).waitFor();
    await chatItem(bob, ann).click();
    await bob.page.getByTestId('message-content').getByText('Sorry, wrong file', { exact: true }).waitFor();
    expect(await bob.page.getByTestId('message').count()).toBe(1);
  });

  it("shows an uploaded avatar in the other user's chat list", async () => {
    const ann = await signIn('anna', 'Ann');
    const bob = await signIn('boba', 'Bob');
    const avatar = pngImage(64, 64, 200);

    await ann.page.getByTestId('avatar-input').setInputFiles({
      name: 'me.png',
      mimeType: 'image/png',
      buffer: avatar,
    });
    const myAvatar = ann.page.locator('[data-testid="my-avatar"] img');
    expect(await loadedImage(myAvatar)).toEqual({ width: 64, height: 64 });
    await ann.page.getByTestId('avatar-progress').waitFor({ state: 'hidden' });
    expect(await ann.page.getByTestId('avatar-status').getAttribute('data-state')).not.toBe('error');
    expect(await ann.page.getByTestId('avatar-button').isEnabled()).toBe(true);

    await startChat(ann, bob);
    await sendText(ann, 'New photo!');
    const annInBobsList = chatItem(bob, ann);
    await annInBobsList.getByTestId('chat-last').filter({ hasText: 'New photo!' }).waitFor();
    const annsAvatar = annInBobsList.locator('.avatar img');
    expect(await loadedImage(annsAvatar)).toEqual({ width: 64, height: 64 });
    const avatarUrl = new URL((await annsAvatar.getAttribute('src')) ?? '');
    expect(avatarUrl.origin).not.toBe(new URL(env.webUrl).origin);
    // The same bytes Ann picked.
    const served = await bob.context.request.get(avatarUrl.href);
    expect(served.status()).toBe(200);
    expect(served.headers()['content-type']).toBe('image/png');
    expect(Buffer.compare(await served.body(), avatar)).toBe(0);
    await screenshot(bob, 'files-bob-list-avatar');
  });
});
