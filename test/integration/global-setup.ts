/**
 * Starts the local stack once for the whole integration run and hands its URLs to the test files.
 *
 * Pointing the suite at a deployed stack instead: set CHAT_REST_URL (the HTTP API base URL),
 * CHAT_WS_URL (the WebSocket stage URL, wss://...) and CHAT_TOKEN_1..CHAT_TOKEN_3 (ID or access
 * tokens of three different Cognito users); see README.md in this folder for what that mode can check.
 */
import type { TestProject } from 'vitest/node';
import type { StackInfo } from './support/stack-info.js';

/** Short enough to test the limits quickly, long enough for any one test's connections on a loaded 2-core machine. */
const IDLE_TIMEOUT_MS = 8_000;
const MAX_CONNECTION_MS = 18_000;
const MAX_FRAME_BYTES = 32 * 1024;
/**
 * Every e-mail check this long after its message (NOTIFY_DELAY_SECONDS): the notification tests wait
 * for it. Short, but long enough to read a message or come online within it on a loaded machine.
 */
const NOTIFY_DELAY_SECONDS = 3;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const remoteRest = process.env.CHAT_REST_URL;
  const remoteWs = process.env.CHAT_WS_URL;
  if (remoteRest && remoteWs) {
    const remoteTokens = [
      process.env.CHAT_TOKEN_1,
      process.env.CHAT_TOKEN_2,
      process.env.CHAT_TOKEN_3,
    ].filter((token): token is string => typeof token === 'string' && token !== '');
    const info: StackInfo = { restUrl: trimSlash(remoteRest), wsUrl: remoteWs, local: null, remoteTokens };
    project.provide('chatStack', info);
    return async () => {};
  }

  // Imported here so that a remote run does not need the local stack's dependencies (Java, jar).
  const [{ startLocalStack }, { startWebhookReceiver }] = await Promise.all([
    import('../../local/stack.js'),
    import('./support/webhook-receiver.js'),
  ]);
  const receiver = await startWebhookReceiver();
  const local = await startLocalStack({
    port: 0,
    inMemory: true,
    quiet: true,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    maxConnectionMs: MAX_CONNECTION_MS,
    maxFrameBytes: MAX_FRAME_BYTES,
    notifyDelaySeconds: NOTIFY_DELAY_SECONDS,
    webhookUrl: receiver.url,
  }).catch(async (error: unknown) => {
    await receiver.close();
    throw error;
  });
  if (local.webhook === undefined) throw new Error('The local stack started without its webhook');
  const info: StackInfo = {
    restUrl: trimSlash(local.restUrl),
    wsUrl: local.wsUrl,
    local: {
      signInUrl: local.signInUrl,
      dynamoEndpoint: local.dynamoEndpoint,
      env: { ...local.env },
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      maxConnectionMs: MAX_CONNECTION_MS,
      maxFrameBytes: MAX_FRAME_BYTES,
      notifications: {
        delaySeconds: NOTIFY_DELAY_SECONDS,
        mailboxUrl: `${local.mailUrl.replace(/\/+$/, '')}/store`,
        eventLogUrl: local.eventLogUrl,
        schedulerUrl: local.schedulerUrl,
        webhook: { deliveriesUrl: receiver.deliveriesUrl, secret: local.webhook.secret },
      },
      cognito: local.cognito,
    },
    remoteTokens: [],
  };
  project.provide('chatStack', info);
  // Every DynamoDB request the handlers make during the whole run must be one their IAM grant
  // allows (on AWS anything else is AccessDenied): hardening/grants.test.ts walks each route for
  // exactness, and this catches any path another test reaches that the walk does not.
  const [{ DynamoCallRecorder }, { allHandlers }, { localTables }] = await Promise.all([
    import('./support/dynamo-calls.js'),
    import('../../definitions/routes.js'),
    import('./support/dynamo.js'),
  ]);
  const recorder = new DynamoCallRecorder(localTables(local.env));
  return async () => {
    recorder.uninstall();
    await local.stop();
    await receiver.close();
    const ungranted = recorder.ungranted(allHandlers);
    if (ungranted.length > 0) {
      // Vitest reports an error thrown here but still exits 0: fail the run explicitly.
      process.exitCode = 1;
      throw new Error(
        `Handlers made DynamoDB requests their grants in definitions/routes.ts do not allow:\n${ungranted.join('\n')}`,
      );
    }
  };
}
