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
  const { startLocalStack } = await import('../../local/stack.js');
  const local = await startLocalStack({
    port: 0,
    inMemory: true,
    quiet: true,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    maxConnectionMs: MAX_CONNECTION_MS,
    maxFrameBytes: MAX_FRAME_BYTES,
  });
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
