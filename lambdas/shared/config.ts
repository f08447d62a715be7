/**
 * The one place handlers read configuration. Read once at cold start; a missing variable fails the
 * init with its name rather than surfacing later as an obscure SDK error.
 */
import { envVars, eventEnvVars, tableEnvVars } from '../../definitions/env.js';
import type { TableName } from '../../definitions/tables.js';

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
}

export function tableName(table: TableName, env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(tableEnvVars[table], env);
}

export interface AuthConfig {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly jwksUrl: string | undefined;
}

export function authConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return {
    userPoolId: requireEnv(envVars.userPoolId, env),
    clientId: requireEnv(envVars.userPoolClientId, env),
    jwksUrl: env[envVars.jwksUrl] || undefined,
  };
}

export function callbackUrl(env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(envVars.callbackUrl, env);
}

export interface FilesConfig {
  readonly bucket: string;
  /** Largest attachment in bytes. */
  readonly maxUploadBytes: number;
  /** A custom S3 endpoint (the local stack's), read at cold start; undefined on AWS. */
  readonly s3Endpoint: string | undefined;
}

export function filesConfig(env: NodeJS.ProcessEnv = process.env): FilesConfig {
  const max = requireEnv(envVars.maxUploadBytes, env);
  const maxUploadBytes = Number(max);
  if (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes < 1) {
    throw new Error(`${envVars.maxUploadBytes} must be a whole number of bytes, not ${max}`);
  }
  return {
    bucket: requireEnv(envVars.filesBucket, env),
    maxUploadBytes,
    s3Endpoint: env.AWS_ENDPOINT_URL_S3 || undefined,
  };
}

/** The attachment check's name, and a custom Lambda endpoint (the local stack's) read at cold start. */
export function attachmentCheckConfig(env: NodeJS.ProcessEnv = process.env): {
  readonly functionName: string;
  readonly lambdaEndpoint: string | undefined;
} {
  return {
    functionName: requireEnv(envVars.attachmentCheckFunction, env),
    lambdaEndpoint: env.AWS_ENDPOINT_URL_LAMBDA || undefined,
  };
}

export function eventBusName(env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(eventEnvVars.eventBusName, env);
}

/** What every function that schedules notification checks needs, whichever function the checks invoke. */
export interface SchedulingConfig {
  /** The role Scheduler invokes the notify function with. */
  readonly roleArn: string;
  /** The notification dead-letter queue: each schedule's Target.DeadLetterConfig. */
  readonly deadLetterArn: string;
  /** Every check this many seconds after its message instead of the users' delays (demos, tests). */
  readonly delayOverrideSeconds: number | undefined;
}

export function schedulingConfig(env: NodeJS.ProcessEnv = process.env): SchedulingConfig {
  const override = env[eventEnvVars.notifyDelaySeconds];
  const seconds = override === undefined || override === '' ? undefined : Number(override);
  if (seconds !== undefined && (!Number.isSafeInteger(seconds) || seconds < 1)) {
    throw new Error(`${eventEnvVars.notifyDelaySeconds} must be a whole number of seconds, not ${override}`);
  }
  return {
    roleArn: requireEnv(eventEnvVars.schedulerRoleArn, env),
    deadLetterArn: requireEnv(eventEnvVars.notifyDlqArn, env),
    delayOverrideSeconds: seconds,
  };
}

/**
 * What the change consumer's checks invoke. Not in the notify function's own environment (it would
 * name itself: a circular dependency in CloudFormation); its re-checks invoke the ARN it was invoked by.
 */
export function notifyFunctionArn(env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(eventEnvVars.notifyFunctionArn, env);
}

/** An http(s) URL, or the init fails by the variable's name. */
function requireUrl(name: string, env: NodeJS.ProcessEnv, https: 'https-or-local' | 'http(s)'): string {
  const value = requireEnv(name, env);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be a URL, not ${value}`);
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && (https === 'http(s)' || local));
  if (!allowed) throw new Error(`${name} must be an https URL, not ${value}`);
  return value;
}

export interface EmailConfig {
  readonly from: string;
  readonly appUrl: string;
}

export function emailConfig(env: NodeJS.ProcessEnv = process.env): EmailConfig {
  return {
    from: requireEnv(eventEnvVars.emailFrom, env),
    appUrl: requireUrl(eventEnvVars.appUrl, env, 'http(s)'),
  };
}

export interface WebhookConfig {
  readonly url: string;
  readonly secretArn: string;
}

/** The webhook's URL: https (plain http only to this machine, for the local stack's receiver). */
export function webhookConfig(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  return {
    url: requireUrl(eventEnvVars.webhookUrl, env, 'https-or-local'),
    secretArn: requireEnv(eventEnvVars.webhookSecretArn, env),
  };
}
