#!/usr/bin/env node
/**
 * The CDK app: the only infrastructure file that reads context or the environment.
 *
 *   npx cdk synth -c allowedOrigins=https://chat.example.com,http://localhost:5173   # besides the stack's own web client
 *   npx cdk synth -c alarmEmail=ops@example.com
 *   npx cdk synth -c maxUploadBytes=26214400          # largest attachment, bytes (default 25 MiB)
 *   npx cdk deploy -c apiGatewayCloudWatchRole=true   # also set the region's API Gateway log role
 *   npx cdk deploy -c emailFrom=chat@example.com      # e-mail digests (SES), linking to WebUrl
 *   npx cdk deploy -c emailFrom=chat@example.com -c appUrl=https://chat.example.com   # ... linking to your app
 *   npx cdk deploy -c webhookUrl=https://hooks.example.com/chat   # POST every event there, signed
 *   npx cdk deploy -c notifyDelaySeconds=60           # demos: every e-mail check 1 minute after the message
 */
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../lib/chat-stack.js';
import {
  parseAllowedOrigins,
  parseEmailSettings,
  parseFlag,
  parseMaxUploadBytes,
  parseNotifyDelaySeconds,
  parseWebhookUrl,
} from '../lib/context.js';
import { parseAlarmEmail } from '../lib/monitoring.js';
import { addNagChecks } from '../lib/nag-checks.js';

const app = new App();
const context = (name: string): unknown => app.node.tryGetContext(name);
// Parsed here too (the stack checks again) so that a bad value fails before anything is built.
const email = parseEmailSettings(context('emailFrom'), context('appUrl'));

new ChatStack(app, 'ChatStack', {
  description:
    'Serverless real-time 1:1 chat: HTTP + WebSocket APIs, Lambda, DynamoDB, Cognito, S3, EventBridge, SES',
  // No `env`: the CLI fills CDK_DEFAULT_REGION (us-east-1 when nothing is configured) and, with
  // credentials, CDK_DEFAULT_ACCOUNT, and passing them here would bake that machine's region and
  // account into the template. Environment-agnostic, the template is the same wherever it is
  // synthesized, and the deploy's credentials decide where it goes.
  allowedOrigins: parseAllowedOrigins(app.node.tryGetContext('allowedOrigins')),
  alarmEmail: parseAlarmEmail(app.node.tryGetContext('alarmEmail')),
  maxUploadBytes: parseMaxUploadBytes(app.node.tryGetContext('maxUploadBytes')),
  apiGatewayCloudWatchRole: parseFlag(
    'apiGatewayCloudWatchRole',
    app.node.tryGetContext('apiGatewayCloudWatchRole'),
  ),
  emailFrom: email?.from,
  appUrl: email?.appUrl,
  webhookUrl: parseWebhookUrl(context('webhookUrl')),
  notifyDelaySeconds: parseNotifyDelaySeconds(context('notifyDelaySeconds')),
});

addNagChecks(app);
