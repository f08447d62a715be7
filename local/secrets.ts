/**
 * Secrets Manager's GetSecretValue (AWS JSON 1.1, `secretsmanager.GetSecretValue`, signing name
 * `secretsmanager`) for the webhook's signing key, on its own loopback port; the sender reaches it
 * through AWS_ENDPOINT_URL_SECRETS_MANAGER. Like the stack's secret (lib/chat-events.ts), the key is 64
 * letters and digits made once; here it is kept in `<dataDir>/webhook-secret.json` (a new one per run
 * with --in-memory), so a receiver set up for it keeps working, and the banner prints it so a
 * developer can check signatures. The secret answers by its name or its ARN (AWS's 6-character
 * suffix included); anything else is ResourceNotFoundException, as for a secret that does not exist.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AwsAnswer,
  AwsError,
  type AwsRequest,
  jsonBody,
  LOCAL_ACCOUNT,
  startAwsEndpoint,
} from './aws-endpoint.js';
import { LOCAL_REGION } from './dynamo-local.js';
import type { Log } from './log.js';

export const WEBHOOK_SECRET_NAME = 'ChatWebhookSecret';

export interface StoredSecret {
  readonly arn: string;
  readonly versionId: string;
  readonly value: string;
  readonly createdDate: number;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number, alphabet: string): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length)) {
      // Rejection sampling: no bias toward the first characters.
      if (byte < 256 - (256 % alphabet.length) && text.length < length)
        text += alphabet[byte % alphabet.length];
    }
  }
  return text;
}

export function makeSecret(): StoredSecret {
  return {
    arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${WEBHOOK_SECRET_NAME}-${randomText(6, ALPHANUMERIC)}`,
    versionId: crypto.randomUUID(),
    value: randomText(64, ALPHANUMERIC),
    createdDate: Math.floor(Date.now() / 1000),
  };
}

function loadOrCreate(dataDir: string | undefined): StoredSecret {
  if (dataDir === undefined) return makeSecret();
  const file = join(dataDir, 'webhook-secret.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredSecret;
  } catch {
    const secret = makeSecret();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 });
    return secret;
  }
}

export interface LocalSecrets {
  readonly endpoint: string;
  readonly port: number;
  readonly secretArn: string;
  /** The webhook's signing key. */
  readonly secretValue: string;
  readonly stored: StoredSecret;
  close(): Promise<void>;
}

export async function startLocalSecrets(options: {
  readonly dataDir: string | undefined;
  readonly log: Log;
  readonly port?: number;
  /** Without a data folder: this secret (the stack keeps one per process, as it does its signing key). */
  readonly secret?: StoredSecret;
}): Promise<LocalSecrets> {
  const secret =
    options.dataDir === undefined && options.secret !== undefined
      ? options.secret
      : loadOrCreate(options.dataDir);

  async function handle(request: AwsRequest): Promise<AwsAnswer> {
    if (request.target !== 'secretsmanager.GetSecretValue') {
      // The sender's role may read this one secret, nothing else of Secrets Manager.
      throw new AwsError(
        400,
        'AccessDeniedException',
        `The local Secrets Manager serves GetSecretValue only, not ${request.target ?? 'this request'}.`,
      );
    }
    const body = jsonBody(request);
    const id = body.SecretId;
    if (typeof id !== 'string' || id.length < 1 || id.length > 2048) {
      throw new AwsError(
        400,
        'ValidationException',
        "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must have length between 1 and 2048",
      );
    }
    // A partial ARN (without the suffix) is accepted by AWS too.
    const partialArn = secret.arn.slice(0, secret.arn.lastIndexOf('-'));
    if (id !== WEBHOOK_SECRET_NAME && id !== secret.arn && id !== partialArn) {
      throw new AwsError(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    const stage = body.VersionStage;
    const version = body.VersionId;
    if (
      (stage !== undefined && stage !== 'AWSCURRENT') ||
      (version !== undefined && version !== secret.versionId)
    ) {
      throw new AwsError(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for staging label: " +
          String(stage ?? version),
      );
    }
    return {
      body: {
        ARN: secret.arn,
        Name: WEBHOOK_SECRET_NAME,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      },
    };
  }

  const server = await startAwsEndpoint({
    name: 'Secrets Manager',
    service: 'secretsmanager',
    protocol: 'json',
    log: options.log,
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return {
    endpoint: server.endpoint,
    port: server.port,
    secretArn: secret.arn,
    secretValue: secret.value,
    stored: secret,
    close: () => server.close(),
  };
}
