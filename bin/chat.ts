#!/usr/bin/env node
/**
 * The CDK app: the only infrastructure file that reads context or the environment.
 *
 *   npx cdk synth -c allowedOrigins=https://chat.example.com,http://localhost:5173
 *   npx cdk synth -c alarmEmail=ops@example.com
 */
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../lib/chat-stack.js';
import { parseAllowedOrigins } from '../lib/context.js';
import { parseAlarmEmail } from '../lib/monitoring.js';
import { addNagChecks } from '../lib/nag-checks.js';

const app = new App();

new ChatStack(app, 'ChatStack', {
  description: 'Serverless real-time 1:1 chat: HTTP + WebSocket APIs, Lambda, DynamoDB, Cognito',
  // Unset without AWS credentials: the stack is then environment-agnostic.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  allowedOrigins: parseAllowedOrigins(app.node.tryGetContext('allowedOrigins')),
  alarmEmail: parseAlarmEmail(app.node.tryGetContext('alarmEmail')),
});

addNagChecks(app);
