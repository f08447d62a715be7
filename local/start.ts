/**
 * `npm start`: the whole chat on one machine. Options: --port N (default 3000, 0 = any free port),
 * --host H, --in-memory, --data-dir DIR, --max-upload-bytes N, --notify-delay 30s|2m, --webhook URL,
 * --email-from ADDRESS, --token-lifetime 60s|5m, --quiet. Ctrl-C (SIGINT) or SIGTERM stops everything, DynamoDB Local and the
 * local S3 included.
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signatureHeader } from '../definitions/notifications.js';
import { uploadLimits } from '../definitions/uploads.js';
import { checkWebhookUrl, DEFAULT_EMAIL_FROM, parseDelay } from './events.js';
import {
  DEMO_USERS,
  FILES_BUCKET,
  type LocalStack,
  type LocalStackOptions,
  repoRoot,
  startLocalStack,
} from './stack.js';

const USAGE = `Usage: npm start -- [--port N] [--host H] [--in-memory] [--data-dir DIR] [--max-upload-bytes N]
                      [--notify-delay 30s|2m] [--webhook URL] [--email-from ADDRESS] [--token-lifetime 60s|5m] [--quiet]
  --port N              port of the web client, REST and WebSocket APIs (default 3000; 0 = any free port)
  --host H              interface to listen on (default 127.0.0.1)
  --in-memory           keep the data in memory and a temporary folder (a throwaway run)
  --data-dir DIR        where DynamoDB Local and the local S3 keep their data (default .local-data)
  --max-upload-bytes N  largest attachment in bytes (default ${uploadLimits.defaultMaxAttachmentBytes}, the stack's default)
  --notify-delay D      every e-mail check this long after the message (e.g. 30s, 2m) instead of the
                        users' preferences (NOTIFY_DELAY_SECONDS)
  --webhook URL         POST every chat event there, signed (https, or http://127.0.0.1 / localhost)
  --email-from ADDRESS  the e-mails' From address (default ${DEFAULT_EMAIL_FROM})
  --token-lifetime D    the local Cognito's ID and access token lifetime (e.g. 60s, 5m; default 1 hour),
                        to watch the web client refresh its session
  --quiet               no start-up chatter`;

function parseOptions(argv: string[]): LocalStackOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'in-memory': { type: 'boolean' },
      'data-dir': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      'notify-delay': { type: 'string' },
      webhook: { type: 'string' },
      'email-from': { type: 'string' },
      'token-lifetime': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const options: LocalStackOptions = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535)
      throw new Error(`--port must be 0 to 65535, not ${values.port}`);
    options.port = port;
  }
  if (values.host !== undefined) options.host = values.host;
  if (values['in-memory'] === true) options.inMemory = true;
  if (values['data-dir'] !== undefined) options.dataDir = values['data-dir'];
  const maxUpload = values['max-upload-bytes'];
  if (maxUpload !== undefined) {
    if (!/^\d+$/.test(maxUpload) || Number(maxUpload) < 1 || !Number.isSafeInteger(Number(maxUpload))) {
      throw new Error(`--max-upload-bytes must be a positive whole number of bytes, not ${maxUpload}`);
    }
    options.maxUploadBytes = Number(maxUpload);
  }
  if (values['notify-delay'] !== undefined) options.notifyDelaySeconds = parseDelay(values['notify-delay']);
  if (values.webhook !== undefined) options.webhookUrl = checkWebhookUrl(values.webhook);
  if (values['email-from'] !== undefined) {
    if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(values['email-from'])) {
      throw new Error(`--email-from must be an e-mail address, not ${values['email-from']}`);
    }
    options.emailFrom = values['email-from'];
  }
  if (values['token-lifetime'] !== undefined) {
    // The same units as --notify-delay.
    const seconds = /^\d{1,6}[sm]$/.test(values['token-lifetime']) ? parseDelay(values['token-lifetime']) : 0;
    if (seconds < 1)
      throw new Error(
        `--token-lifetime must be seconds or minutes such as 60s or 5m, not ${values['token-lifetime']}`,
      );
    options.tokenLifetimeSeconds = seconds;
  }
  if (values.quiet === true) options.quiet = true;
  return options;
}

async function main(): Promise<void> {
  let options: LocalStackOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }

  // The SDK's notice that future versions need Node 22 says nothing about this stack; it would only
  // push the banner off the screen.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const startedAt = performance.now();
  let stack: LocalStack;
  try {
    stack = await startLocalStack(options);
  } catch (error) {
    console.error(`The local stack did not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);

  console.log(
    [
      '',
      `Web:       ${stack.webUrl}`,
      `REST:      ${stack.restUrl}`,
      `WebSocket: ${stack.wsUrl}`,
      `Sign-in:   ${stack.webUrl} with Cognito (local user pool at ${stack.cognito.endpoint}):`,
      ...stack.cognito.demoUsers.map(
        (user) => `             ${user.email} / ${stack.cognito.demoPassword}  (user id ${user.sub})`,
      ),
      `           new accounts: the confirmation and reset codes are on the Mail page below`,
      `Dev token: POST ${stack.signInUrl} (any user id, no password: tests and the developer form)`,
      `Files:     ${stack.filesUrl} (local S3, bucket ${FILES_BUCKET})`,
      `Mail:      ${stack.mailUrl} (the notify function's e-mails, from ${options.emailFrom ?? DEFAULT_EMAIL_FROM}, and Cognito's codes)`,
      `Events:    ${stack.eventLogUrl} (every event put on the bus, as JSON)`,
      ...(stack.webhook === undefined
        ? ['Webhook:   off (--webhook URL to POST every chat event)']
        : [
            `Webhook:   ${stack.webhook.url}`,
            `  signed with ${signatureHeader}: sha256=<HMAC-SHA256 of the body> under this key: ${stack.webhook.secret}`,
          ]),
      `Notify:    ${options.notifyDelaySeconds === undefined ? "after each user's delay preference" : `${options.notifyDelaySeconds} s after a message (--notify-delay)`}; dead letters in ${options.inMemory === true ? 'memory' : join(options.dataDir ?? join(repoRoot, '.local-data'), 'dead-letters')}`,
      '',
      `Dev token users: ${DEMO_USERS.map((user) => `${user.userId} (${user.displayName}, ${user.email ?? 'no e-mail'})`).join(', ')}`,
      `  curl -s -X POST ${stack.signInUrl} -H 'content-type: application/json' -d '{"userId":"ann","displayName":"Ann"}'`,
      `Data: ${options.inMemory === true ? 'in memory (lost on exit)' : (options.dataDir ?? join(repoRoot, '.local-data'))}`,
      `Started in ${seconds} s. Ctrl-C to stop.`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // tsx relays the terminal's SIGINT too: a repeat while stopping is the same request.
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack...`);
    const force = setTimeout(() => {
      console.error('Stopping took too long; exiting anyway.');
      process.exit(1);
    }, 15_000);
    force.unref();
    stack.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);
}

await main();
