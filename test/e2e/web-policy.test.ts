/**
 * The deployed web client's Content-Security-Policy in Chromium. The site as `cdk deploy` uploads it
 * (lib/chat-web.ts's build, with the page policy the deployment writes into index.html, stand-in
 * origins taking the place of the stack's), served with the response headers and the deep-link
 * function of the synthesized template. The app boots without a single violation; what it needs (the
 * two APIs, the files bucket, Cognito, blob: previews, style attributes) passes both policies; other
 * origins, inline script, eval and `<style>` are refused. Nothing leaves the machine: every host but
 * 127.0.0.1 resolves to nothing, so an allowed request fails at DNS and a refused one never starts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/chat-stack.js';
import { buildSite, cspMarker } from '../../lib/chat-web.js';
import { onlyResource, synthesizeChat } from '../infra/helpers.js';
import { launchChromium } from './support/browser.js';
import { e2eEnv } from './support/env.js';

const env = e2eEnv();

/** What the deployed stack's tokens stand for here. */
const stackValues = {
  restOrigin: 'https://rest.example.test',
  webSocketOrigin: 'wss://ws.example.test',
  filesBucket: 'chat-files-bucket',
  region: 'eu-west-1',
  urlSuffix: 'amazonaws.com',
};
const filesOrigin = `https://${stackValues.filesBucket}.s3.${stackValues.region}.amazonaws.com`;
const cognitoOrigin = `https://cognito-idp.${stackValues.region}.amazonaws.com`;

interface Violation {
  readonly directive: string;
  readonly blocked: string;
  /** Which policy refused it: the page's `<meta>` one starts with default-src, the header's does not. */
  readonly policy: 'page' | 'header';
}

declare global {
  interface Window {
    violations: Violation[];
  }
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};

let browser: Browser;
let server: Server;
let siteDir: string;
let origin: string;

/** A template value with the stack's tokens replaced by the stand-ins above. */
function resolve(value: unknown, ids: { files: string; httpApi: string; webSocketApi: string }): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(part, ids)).join(delimiter);
  }
  const key = JSON.stringify(node);
  const known: Record<string, string> = {
    [JSON.stringify({ Ref: 'AWS::Region' })]: stackValues.region,
    [JSON.stringify({ Ref: 'AWS::URLSuffix' })]: stackValues.urlSuffix,
    [JSON.stringify({ Ref: ids.files })]: stackValues.filesBucket,
    [JSON.stringify({ 'Fn::GetAtt': [ids.httpApi, 'ApiEndpoint'] })]: stackValues.restOrigin,
    [JSON.stringify({ 'Fn::GetAtt': [ids.webSocketApi, 'ApiEndpoint'] })]: stackValues.webSocketOrigin,
  };
  const found = known[key];
  if (found === undefined) throw new Error(`No stand-in for ${key}`);
  return found;
}

beforeAll(async () => {
  const chat = synthesizeChat();
  const id = (construct: IConstruct) => chat.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const ids = {
    files: id(chat.stack.files.bucket),
    httpApi: id(chat.stack.httpApi.api),
    webSocketApi: id(chat.stack.webSocketApi.api),
  };
  const [, deployment] = onlyResource(chat.template, 'Custom::CDKBucketDeployment');
  const [siteMarkers] = deployment.Properties.SourceMarkers as Record<string, unknown>[];
  const pagePolicy = resolve(siteMarkers?.[cspMarker], ids);
  const [, fn] = onlyResource(chat.template, 'AWS::CloudFront::Function');
  const viewerRequest = runInNewContext(`${String(fn.Properties.FunctionCode)}\nhandler`) as (event: {
    request: { uri: string };
  }) => { uri: string };
  const [, policy] = onlyResource(chat.template, 'AWS::CloudFront::ResponseHeadersPolicy');
  const config = policy.Properties.ResponseHeadersPolicyConfig as {
    SecurityHeadersConfig: {
      ContentSecurityPolicy: { ContentSecurityPolicy: string };
      StrictTransportSecurity: { AccessControlMaxAgeSec: number };
      FrameOptions: { FrameOption: string };
      ReferrerPolicy: { ReferrerPolicy: string };
    };
    CustomHeadersConfig: { Items: { Header: string; Value: string }[] };
  };
  const security = config.SecurityHeadersConfig;
  const headers: Record<string, string> = {
    'content-security-policy': security.ContentSecurityPolicy.ContentSecurityPolicy,
    'strict-transport-security': `max-age=${security.StrictTransportSecurity.AccessControlMaxAgeSec}; includeSubDomains`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': security.FrameOptions.FrameOption,
    'referrer-policy': security.ReferrerPolicy.ReferrerPolicy,
    ...Object.fromEntries(
      config.CustomHeadersConfig.Items.map((item) => [item.Header.toLowerCase(), item.Value]),
    ),
  };

  siteDir = mkdtempSync(join(tmpdir(), 'chat-site-'));
  buildSite(defaultRepoRoot, siteDir);
  const siteConfig = JSON.stringify({
    restUrl: stackValues.restOrigin,
    wsUrl: `${stackValues.webSocketOrigin}/prod`,
    region: stackValues.region,
    userPoolId: `${stackValues.region}_example`,
    userPoolClientId: 'example',
  });
  server = createServer((request, response) => {
    const { uri } = viewerRequest({ request: { uri: new URL(request.url ?? '/', 'http://x').pathname } });
    const file = join(siteDir, uri);
    const type = types[extname(uri)] ?? 'application/octet-stream';
    if (uri === '/config.json') {
      response.writeHead(200, { ...headers, 'content-type': type }).end(siteConfig);
    } else if (!existsSync(file)) {
      // What S3 answers through OAC for a key that is not there.
      response
        .writeHead(403, { ...headers, 'content-type': 'application/xml' })
        .end('<Error>AccessDenied</Error>');
    } else {
      const body = readFileSync(file);
      const page = uri === '/index.html' ? body.toString('utf8').replace(cspMarker, pagePolicy) : body;
      response.writeHead(200, { ...headers, 'content-type': type }).end(page);
    }
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  browser = await launchChromium(env.chromiumPath, [
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((closed) => server?.close(closed));
  if (siteDir !== undefined) rmSync(siteDir, { recursive: true, force: true });
});

/** A page that records every policy violation from its first script on. */
async function openPage(path: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (event) =>
      window.violations.push({
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        policy: event.originalPolicy.startsWith('default-src') ? 'page' : 'header',
      }),
    );
  });
  const response = await page.goto(`${origin}${path}`);
  expect(response?.status()).toBe(200);
  return page;
}

/**
 * The violations so far. A refused request is reported after the fact, so a last, refused fetch marks
 * the end: reports arrive in order, and once its report is in, those before it are too.
 */
async function violationsOf(page: Page): Promise<Violation[]> {
  const sentinel = 'https://sentinel.example.test/';
  await page.evaluate((url) => fetch(url).catch(() => undefined), sentinel);
  await page.waitForFunction(
    (url) => window.violations.some((violation) => violation.blocked === url),
    sentinel,
  );
  return (await page.evaluate(() => window.violations)).filter((violation) => violation.blocked !== sentinel);
}

describe('the deployed web client’s policies', () => {
  it.each(['/', '/?with=bob'])('let the app boot at %s without a single violation', async (path) => {
    const page = await openPage(path);
    await page.locator('#app .boot').waitFor({ state: 'detached' });
    expect(
      await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'),
    ).toContain(
      `connect-src 'self' ${stackValues.restOrigin} ${stackValues.webSocketOrigin} ${filesOrigin} ${cognitoOrigin}`,
    );
    expect(await violationsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('allow the APIs, the files bucket, Cognito, blob: previews and style attributes; refuse the rest', async () => {
    const page = await openPage('/');
    await page.locator('#app .boot').waitFor({ state: 'detached' });
    const outcomes = await page.evaluate(
      async ({ rest, webSocket, files, cognito }) => {
        const settle = (start: (done: () => void) => void) => new Promise<void>((done) => start(done));
        const image = (src: string) =>
          settle((done) => {
            const img = new Image();
            img.onload = () => done();
            img.onerror = () => done();
            img.src = src;
          });
        // Allowed: each fails at DNS, after the policy let it go.
        await fetch(`${rest}/chat/list`).catch(() => undefined);
        await fetch(`${cognito}/`, { method: 'POST' }).catch(() => undefined);
        await settle((done) => {
          const upload = new XMLHttpRequest();
          upload.onloadend = () => done();
          upload.open('POST', `${files}/`);
          upload.send(new FormData());
        });
        await settle((done) => {
          const socket = new WebSocket(`${webSocket}/prod?token=t`);
          socket.onclose = () => done();
        });
        await image(`${files}/profiles/a.png`);
        const pixel = Uint8Array.from(
          atob(
            'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
          ),
          (char) => char.charCodeAt(0),
        );
        await image(URL.createObjectURL(new Blob([pixel], { type: 'image/png' })));
        const styled = document.createElement('span');
        styled.setAttribute('style', 'color: rgb(1, 2, 3)');
        document.body.append(styled);
        const styleAttribute = getComputedStyle(styled).color;

        // Refused.
        await fetch('https://elsewhere.example.test/collect').catch(() => undefined);
        await image('https://elsewhere.example.test/pixel.png');
        const inline = document.createElement('script');
        inline.textContent = 'window.inlineRan = true';
        document.body.append(inline);
        const sheet = document.createElement('style');
        sheet.textContent = 'body { color: rgb(4, 5, 6) }';
        document.head.append(sheet);
        let evalRan = true;
        try {
          // biome-ignore lint/security/noGlobalEval: the probe of 'unsafe-eval' being refused
          eval('1');
        } catch {
          evalRan = false;
        }
        return {
          styleAttribute,
          inlineRan: (window as unknown as { inlineRan?: boolean }).inlineRan === true,
          bodyColour: getComputedStyle(document.body).color,
          evalRan,
        };
      },
      {
        rest: stackValues.restOrigin,
        webSocket: stackValues.webSocketOrigin,
        files: filesOrigin,
        cognito: cognitoOrigin,
      },
    );
    expect(outcomes.styleAttribute).toBe('rgb(1, 2, 3)');
    expect(outcomes.inlineRan).toBe(false);
    expect(outcomes.bodyColour).not.toBe('rgb(4, 5, 6)');
    expect(outcomes.evalRan).toBe(false);
    // Other origins: only the page's policy names the allowed ones, so only it refuses. Inline code,
    // eval and style elements: both policies refuse them.
    const seen = (await violationsOf(page)).map(
      ({ directive, blocked, policy }) => `${policy} ${directive} ${blocked}`,
    );
    expect(seen.sort()).toEqual(
      [
        'page connect-src https://elsewhere.example.test/collect',
        'page img-src https://elsewhere.example.test/pixel.png',
        'header script-src eval',
        'page script-src eval',
        'header script-src-elem inline',
        'page script-src-elem inline',
        'header style-src-elem inline',
        'page style-src-elem inline',
      ].sort(),
    );
    await page.context().close();
  });

  it('serve deep links as the app and a missing file as an error, not as the page', async () => {
    const get = async (path: string) => {
      const response = await fetch(`${origin}${path}`);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: await response.text(),
      };
    };
    for (const path of ['/rooms/chat_a_b', '/rooms/chat_ann.lee_bob', '/settings']) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.body, path).toContain('<div id="app"');
    }
    expect((await get('/app.js')).type).toContain('javascript');
    expect((await get('/app.0ld.js')).status).toBe(403);
  });
});
