/**
 * The one place handlers read configuration. Read once at cold start; a missing variable fails the
 * init with its name rather than surfacing later as an obscure SDK error.
 */
import { envVars, tableEnvVars } from '../../definitions/env.js';
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
