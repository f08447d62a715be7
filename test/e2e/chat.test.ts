/**
 * Two people chatting in headless Chromium: the web client served by the local stack, each user in
 * their own browser context, signed in through the UI. Unique user ids per run keep runs apart.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatApi, ChatConnection, signInLocal } from '../../web/sdk/index.js';
import { launchChromium } from './support/browser.js';
import { e2eEnv } from './support/env.js';

const env = e2eEnv();
const SCREENSHOTS = join(process.cwd(), 'test-results', 'e2e');
const run = Date.now().toString(36);
let browser: Browser;
const contexts: BrowserContext[] = [];

interface User {
  readonly id: string;
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium(env.chromiumPath);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
});

async function signIn(prefix: string, name: string, viewport = { width: 1100, height: 760 }): Promise<User> {
  const id = `${prefix}${run}`;
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${id}] page error:`, error));
  await page.goto(env.webUrl);
  await page.getByTestId('signin-user-id').fill(id);
  await page.getByTestId('signin-display-name').fill(name);
  await page.getByTestId('signin-submit').click();
  await banner(page, 'online');
  await page.getByTestId('me-name').filter({ hasText: name }).waitFor({ state: 'attached' });
  return { id, name, context, page };
}

const banner = (page: Page, state: string) =>
  page.locator(`[data-testid="connection-banner"][data-state="${state}"]`).waitFor();

const chatItem = (user: User, peer: User): Locator =>
  user.page.locator(`[data-testid="chat-item"][data-peer-id="${peer.id}"]`);

/** The room view's message with exactly this text, if it is there. */
const bubble = (user: User, text: string, status?: string): Locator =>
  user.page
    .locator(`[data-testid="message"]${status === undefined ? '' : `[data-status="${status}"]`}`)
    .filter({ has: user.page.getByTestId('message-content').getByText(text, { exact: true }) });

const roomId = (a: User, b: User) => `chat_${[a.id, b.id].sort().join('_')}`;

const contents = (user: User) => user.page.getByTestId('message-content').allTextContents();

async function startChat(user: User, peer: User): Promise<void> {
  await user.page.getByTestId('start-chat-input').fill(peer.id);
  await user.page.getByTestId('start-chat-submit').click();
  await user.page.getByTestId('room-title').filter({ hasText: peer.name }).waitFor();
}

async function send(user: User, text: string): Promise<void> {
  await user.page.getByTestId('composer-input').fill(text);
  await user.page.getByTestId('composer-input').press('Enter');
}

const screenshot = (user: User, name: string) =>
  user.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe('two users chatting', () => {
  it('delivers live with an unread badge, shows read ticks and typing', async () => {
    const ann = await signIn('ann', 'Ann');
    const bob = await signIn('bob', 'Bob');

    await startChat(ann, bob);
    await send(ann, 'Hello Bob!');
    await bubble(ann, 'Hello Bob!', 'sent').waitFor();
    expect(await ann.page.getByTestId('char-counter').textContent()).toBe('0 / 4000');

    // Bob was not in the room: it appears in his list, live, with an unread badge and Ann online.
    const annInBobsList = chatItem(bob, ann);
    await annInBobsList.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await annInBobsList.getByTestId('online-dot').waitFor();
    expect(await annInBobsList.getByTestId('chat-last').textContent()).toBe('Hello Bob!');
    expect(await annInBobsList.getByTestId('chat-name').textContent()).toBe('Ann');
    await screenshot(bob, 'bob-chat-list-unread');

    // Opening the room reads it: the badge goes, and Ann's message gets the read tick.
    await annInBobsList.click();
    await bubble(bob, 'Hello Bob!').waitFor();
    await annInBobsList.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await bubble(ann, 'Hello Bob!', 'read').waitFor();
    expect(await bubble(ann, 'Hello Bob!').getByTestId('message-status').getAttribute('aria-label')).toBe(
      'Read',
    );

    // Typing shows on the other side, and goes when the message arrives.
    await bob.page.getByTestId('composer-input').pressSequentially('Hi Ann');
    expect(await bob.page.getByTestId('char-counter').textContent()).toBe('6 / 4000');
    await ann.page.getByTestId('typing-indicator').filter({ hasText: 'Bob is typing' }).waitFor();
    await chatItem(ann, bob).getByTestId('chat-last').filter({ hasText: 'typing…' }).waitFor();
    await screenshot(ann, 'ann-sees-typing');
    await bob.page.getByTestId('composer-input').press('Shift+Enter');
    await bob.page.getByTestId('composer-input').pressSequentially('second line');
    await bob.page.getByTestId('composer-input').press('Enter');
    await bubble(ann, 'Hi Ann\nsecond line').waitFor();
    await ann.page.getByTestId('typing-indicator').filter({ hasText: /^$/ }).waitFor();

    // Ann has the room open, so Bob's message is read at once: no badge for Ann, ✓✓ for Bob.
    await bubble(bob, 'Hi Ann\nsecond line', 'read').waitFor();
    expect(await chatItem(ann, bob).getByTestId('unread-badge').count()).toBe(0);
    await screenshot(ann, 'ann-room-read-ticks');
    await screenshot(bob, 'bob-room');
  });

  it('fills the gap after a lost connection and delivers what was written offline', async () => {
    const ann = await signIn('annoff', 'Ann');
    const bob = await signIn('boboff', 'Bob');
    await startChat(ann, bob);
    await send(ann, 'Are you there?');
    await chatItem(bob, ann).click();
    await bubble(bob, 'Are you there?').waitFor();

    // The browser goes offline: the client drops its socket and says so.
    await ann.context.setOffline(true);
    await banner(ann.page, 'offline');

    await send(bob, 'Sent while you were away (1)');
    await send(bob, 'Sent while you were away (2)');
    await bubble(bob, 'Sent while you were away (2)', 'sent').waitFor();
    await bubble(bob, 'Sent while you were away (1)', 'sent').waitFor();
    expect(await bubble(ann, 'Sent while you were away (1)').count()).toBe(0);

    await send(ann, 'Written offline');
    await bubble(ann, 'Written offline', 'pending').waitFor();
    await screenshot(ann, 'ann-offline');

    // Back online: reconnect, catch up with after=, send the pending message once.
    const catchUps: string[] = [];
    ann.page.on('request', (request) => {
      if (request.url().includes('after=')) catchUps.push(new URL(request.url()).pathname);
    });
    await ann.context.setOffline(false);
    await banner(ann.page, 'online');
    await bubble(ann, 'Sent while you were away (2)').waitFor();
    await bubble(ann, 'Written offline', 'sent')
      .or(bubble(ann, 'Written offline', 'read'))
      .waitFor();
    await bubble(bob, 'Written offline').waitFor();

    expect(await contents(ann)).toEqual([
      'Are you there?',
      'Sent while you were away (1)',
      'Sent while you were away (2)',
      'Written offline',
    ]);
    expect(await contents(bob)).toEqual(await contents(ann));
    expect(catchUps).toEqual([`/chat/messages/${roomId(ann, bob)}`]);
    await bubble(bob, 'Sent while you were away (2)', 'read').waitFor();
    await screenshot(ann, 'ann-after-reconnect');
  });

  it('catches up on all it missed when its first message was acknowledged while the room was loading', async () => {
    const ann = await signIn('annload', 'Ann');
    const bobId = `bobload${run}`;
    const { token } = await signInLocal(env.signInUrl, { userId: bobId, displayName: 'Bob' });
    const bobApi = new ChatApi({ restUrl: env.restUrl, token });

    // The room's first page is read before Ann's message is stored, and reaches her page only after
    // that message's ack: the order a quick user on a slow network gets.
    let pageRead = (_error?: unknown): void => {};
    const read = new Promise<void>((resolve, reject) => {
      pageRead = (error) => (error === undefined ? resolve() : reject(error));
    });
    let release = (): void => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await ann.page.route(
      (url) => url.pathname.startsWith('/chat/messages/') && url.search === '',
      async (route) => {
        try {
          const response = await route.fetch();
          pageRead();
          await released;
          await route.fulfill({ response });
        } catch (error) {
          pageRead(error);
        }
      },
      { times: 1 },
    );
    await ann.page.getByTestId('start-chat-input').fill(bobId);
    await ann.page.getByTestId('start-chat-submit').click();
    await ann.page.getByTestId('room-title').filter({ hasText: 'Bob' }).waitFor();
    await read;
    await send(ann, 'Sent while the room loaded');
    await bubble(ann, 'Sent while the room loaded', 'sent').waitFor();
    release();
    await ann.page.getByTestId('history-status').filter({ hasText: 'This is the beginning' }).waitFor();

    // Away for more than a page of Bob's messages.
    await ann.context.setOffline(true);
    await banner(ann.page, 'offline');
    const { room } = await bobApi.startChat(ann.id);
    const bob = new ChatConnection({ wsUrl: env.wsUrl, token, api: bobApi, WebSocket }).connect();
    const missed = Array.from({ length: 60 }, (_, n) => `Missed ${n + 1}`);
    try {
      for (const text of missed) await bob.send(room.roomId, text).done;
    } finally {
      bob.close();
    }

    await ann.context.setOffline(false);
    await banner(ann.page, 'online');
    await bubble(ann, 'Missed 60').waitFor();
    // Well before the second catch-up, 11 s after the reconnect (SETTLE_CATCH_UP_MS), which would
    // fetch from the first one's newest message and hide a first catch-up that missed the older ones.
    await expect
      .poll(() => contents(ann), { timeout: 5_000 })
      .toEqual(['Sent while the room loaded', ...missed]);
  });

  it('sends what was typed offline in the order it was typed, without moving a bubble', async () => {
    const ann = await signIn('annq', 'Ann');
    const bob = await signIn('bobq', 'Bob');
    await startChat(ann, bob);
    await send(ann, 'Before');
    await chatItem(bob, ann).click();
    await bubble(bob, 'Before').waitFor();
    await bubble(ann, 'Before', 'read').waitFor();

    await ann.context.setOffline(true);
    await banner(ann.page, 'offline');
    const typed = ['1', '2', '3', '4', '5', '6', '7', '8'];
    for (const text of typed) await send(ann, text);
    await bubble(ann, '8', 'pending').waitFor();
    const expected = ['Before', ...typed];
    expect(await contents(ann)).toEqual(expected);

    // Every order Ann's list takes while the queue drains, and whether Bob, who is reading the room,
    // ever sees an unread badge on it.
    await ann.page.getByTestId('message-list').evaluate((list) => {
      const seen: string[][] = [];
      (window as unknown as { orders: string[][] }).orders = seen;
      new MutationObserver(() => {
        seen.push(
          [...list.querySelectorAll('[data-testid="message-content"]')].map((c) => c.textContent ?? ''),
        );
      }).observe(list, { childList: true, subtree: true, characterData: true });
    });
    await bob.page.getByTestId('chat-list').evaluate((list, peerId) => {
      const badges: string[] = [];
      (window as unknown as { badges: string[] }).badges = badges;
      new MutationObserver(() => {
        const badge = list.querySelector(`[data-peer-id="${peerId}"] [data-testid="unread-badge"]`);
        if (badge !== null) badges.push(badge.textContent ?? '');
      }).observe(list, { childList: true, subtree: true });
    }, ann.id);

    await ann.context.setOffline(false);
    await banner(ann.page, 'online');
    await bubble(ann, '8', 'sent')
      .or(bubble(ann, '8', 'read'))
      .waitFor();
    await bob.page
      .getByTestId('message')
      .nth(expected.length - 1)
      .waitFor();

    expect(await contents(bob)).toEqual(expected);
    expect(await contents(ann)).toEqual(expected);
    const orders = await ann.page.evaluate(() => (window as unknown as { orders: string[][] }).orders);
    expect(orders.length).toBeGreaterThan(0);
    expect(orders.filter((order) => order.join(' ') !== expected.join(' '))).toEqual([]);
    expect(await chatItem(bob, ann).getByTestId('chat-last').textContent()).toBe('8');
    expect(await chatItem(ann, bob).getByTestId('chat-last').textContent()).toBe('You: 8');
    await bubble(ann, '8', 'read').waitFor();
    expect(await bob.page.evaluate(() => (window as unknown as { badges: string[] }).badges)).toEqual([]);
    await screenshot(bob, 'bob-offline-queue-in-order');

    // What the server stored: the same order after a reload.
    await ann.page.reload();
    await banner(ann.page, 'online');
    expect(await chatItem(ann, bob).getByTestId('chat-last').textContent()).toBe('You: 8');
    await chatItem(ann, bob).click();
    await bubble(ann, '8').waitFor();
    expect(await contents(ann)).toEqual(expected);
  });

  it('loads older history while scrolling up, on a phone-sized screen', async () => {
    // Cat writes 70 messages through the SDK in Node (its ws transport), then Dan reads them in the UI.
    const dan = await signIn('dan', 'Dan', { width: 390, height: 844 });
    // A slow chat list: each answer reaches Dan's client 400 ms after it was read, while Cat's
    // messages keep arriving. A stale answer must not take back a message already counted.
    await dan.page.route(
      (url) => url.pathname.startsWith('/chat/list'),
      async (route) => {
        const response = await route.fetch();
        await new Promise((resolve) => setTimeout(resolve, 400));
        await route.fulfill({ response });
      },
    );
    const catId = `cat${run}`;
    const { token } = await signInLocal(env.signInUrl, { userId: catId, displayName: 'Cat' });
    const api = new ChatApi({ restUrl: env.restUrl, token });
    const { room } = await api.startChat(dan.id);
    const connection = new ChatConnection({ wsUrl: env.wsUrl, token, api, WebSocket }).connect();
    try {
      for (let n = 1; n <= 70; n++) await connection.send(room.roomId, `Message ${n}`).done;
    } finally {
      connection.close();
    }

    const catInDansList = dan.page.locator(`[data-testid="chat-item"][data-peer-id="${catId}"]`);
    await catInDansList.getByTestId('unread-badge').filter({ hasText: '70' }).waitFor();
    await screenshot(dan, 'phone-chat-list');
    await catInDansList.click();
    await dan.page.getByTestId('message-content').getByText('Message 70', { exact: true }).waitFor();
    expect(await dan.page.getByTestId('message').count()).toBe(50);

    await dan.page.getByTestId('message-scroller').evaluate((scroller) => {
      scroller.scrollTop = 0;
    });
    await dan.page.getByTestId('message-content').getByText('Message 1', { exact: true }).waitFor();
    await dan.page
      .getByTestId('history-status')
      .filter({ hasText: 'beginning of your chat with Cat' })
      .waitFor();
    const texts = await dan.page.getByTestId('message-content').allTextContents();
    expect(texts).toEqual(Array.from({ length: 70 }, (_, i) => `Message ${i + 1}`));
    await screenshot(dan, 'phone-room-history');
  });
});
