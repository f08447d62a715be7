/**
 * The local stack: DynamoDB Local with the project's tables, the local S3 with the files bucket, the
 * gateway emulator in front of the real handler modules, the Lambda Invoke endpoint (for the
 * functions that invoke the attachment check), and the local sign-in. `npm start` runs it (local/start.ts); the integration
 * and e2e suites start it in their global setup.
 *
 * Handlers read their configuration once, at import. So the environment is final before the first
 * handler import, and a process can host one stack at a time; a later stack in the same process (after
 * stop()) reuses the same ports so the already-imported handlers still reach it (the S3 and Lambda
 * endpoints' too).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  allHandlers,
  attachmentCheck,
  envVars,
  type HandlerDefinition,
  webhookSender,
} from '../definitions/routes.js';
import { type TableDefinition, type TableName, tables } from '../definitions/tables.js';
import { parseMaxUploadBytes } from '../lib/context.js';
import {
  COGNITO_SENDER,
  type CognitoDemoUser,
  cognitoLocalJwk,
  type LocalCognito,
  startLocalCognito,
} from './cognito.js';
import type { DeadLetter, DeadLetterQueue } from './dead-letters.js';
import {
  checkJava,
  type DynamoLocal,
  freePort,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoLocal,
} from './dynamo-local.js';
import type { BusEvent } from './eventbridge.js';
import { DEFAULT_EMAIL_FROM, type EventPorts, type LocalEvents, startEvents } from './events.js';
import { type DemoUser, type Gateway, startGateway } from './gateway.js';
import { type HandlerResolver, moduleResolver } from './lambda.js';
import { type LambdaInvokeServer, startLambdaInvoke } from './lambda-invoke.js';
import { type Log, makeLog } from './log.js';
import { type LocalS3, startLocalS3 } from './s3.js';
import type { StoredSecret } from './secrets.js';
import type { SentEmail } from './ses.js';
import { generateSigningKey, loadOrCreateSigningKey, type SigningKey } from './sign-in.js';

export interface LocalStackOptions {
  /** 0 = any free port; default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep DynamoDB Local's data in memory (a throwaway run). */
  inMemory?: boolean;
  /** Where DynamoDB Local keeps its data; default <repo>/.local-data. */
  dataDir?: string;
  /** Close a WebSocket connection after this long without a client frame; default 10 minutes. */
  idleTimeoutMs?: number;
  /** Close a WebSocket connection this long after it opened; default 2 hours. */
  maxConnectionMs?: number;
  /** Largest WebSocket frame a client may send; default 32 KB. */
  maxFrameBytes?: number;
  /** No start-up or request chatter (handler failures are still logged). */
  quiet?: boolean;
  /** Folder of static files served at / if it exists; default <repo>/web/dist. */
  webRoot?: string;
  /**
   * Browser origins given CORS (the stack's `allowedOrigins`); default none: the web client is
   * same-origin with the API. The files bucket always allows the web client's own origin too (the
   * local S3 is on another port, so uploads and downloads are cross-origin).
   */
  allowedOrigins?: readonly string[];
  /** Largest attachment in bytes (the stack's `maxUploadBytes`); default `uploadLimits.defaultMaxAttachmentBytes`. */
  maxUploadBytes?: number;
  /** Every notification delay in seconds (NOTIFY_DELAY_SECONDS, the stack's `notifyDelaySeconds`); default: the users' preferences. */
  notifyDelaySeconds?: number;
  /** Where the chat's events are POSTed (the stack's `webhookUrl`): https, or http to 127.0.0.1/localhost; default none. */
  webhookUrl?: string;
  /** The e-mails' From address (the stack's `emailFrom`, its one verified identity); default `chat@localhost.test`. */
  emailFrom?: string;
  /**
   * Lifetime of the local Cognito's ID and access tokens, in seconds; default the app client's (an
   * hour, definitions/auth.ts). Shorter lets a test see a refresh during a session (Cognito's own
   * minimum is 5 minutes).
   */
  tokenLifetimeSeconds?: number;
}

export interface LocalStack {
  webUrl: string;
  restUrl: string;
  wsUrl: string;
  signInUrl: string;
  dynamoEndpoint: string;
  /** The local S3 (the files bucket is `${FILES_BUCKET}` there): upload forms post to it, download URLs point at it. */
  filesUrl: string;
  /** The Lambda Invoke endpoint (loopback only). */
  lambdaUrl: string;
  /** The environment given to the handlers. */
  env: Record<string, string>;
  /** EventBridge Scheduler's and PutEvents' endpoints (loopback only). */
  schedulerUrl: string;
  eventsUrl: string;
  /** Every event put on the bus, as JSON (`GET`, unsigned): `{"events": [envelope, ...]}`. */
  eventLogUrl: string;
  /** The SES endpoint, and the page listing the e-mails sent (aws-ses-v2-local's). */
  sesUrl: string;
  mailUrl: string;
  /** The local Cognito user pool (Cognito IdP JSON API) and what a client needs to use it. */
  cognito: {
    readonly endpoint: string;
    readonly region: string;
    readonly userPoolId: string;
    readonly clientId: string;
    /** The demo accounts (e-mail, `sub`, name) and their shared password. */
    readonly demoUsers: readonly CognitoDemoUser[];
    readonly demoPassword: string;
  };
  /** With `webhookUrl`: where events go and the key that signs them (Secrets Manager's value). */
  webhook?: { readonly url: string; readonly secretArn: string; readonly secret: string };
  /** Every event put on the bus since start, oldest first. */
  events(): readonly BusEvent[];
  /** Every e-mail sent since this process started. */
  emails(): Promise<SentEmail[]>;
  /** What reached the dead-letter queues (also in `<dataDir>/dead-letters/`). */
  deadLetters(queue?: DeadLetterQueue): readonly DeadLetter[];
  /** Resolves once the change consumer has handled every stream record written so far. */
  drainStreams(timeoutMs?: number): Promise<void>;
  /**
   * Fault tests: stops DynamoDB Local while the gateway keeps serving, so handlers meet a database
   * that refuses connections. Resolves once the JVM has exited.
   */
  stopDynamo(): Promise<void>;
  /**
   * Starts DynamoDB Local again on the same port and data folder (the handlers' clients reconnect)
   * and ensures the tables. With data on disk every item survives; in memory the tables come back
   * empty. Does nothing while it runs.
   */
  startDynamo(): Promise<void>;
  stop(): Promise<void>;
}

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const STAGE = 'local';
export const LOCAL_USER_POOL_ID = 'us-east-1_localChat';
export const LOCAL_CLIENT_ID = 'local-client';
export const DEMO_USERS: readonly DemoUser[] = [
  { userId: 'ann', displayName: 'Ann', email: 'ann@example.com' },
  { userId: 'bob', displayName: 'Bob', email: 'bob@example.com' },
  { userId: 'cat', displayName: 'Cat', email: 'cat@example.com' },
];
const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
/** The local Cognito demo accounts' password (printed in the banner; it meets definitions/auth.ts). */
export const DEMO_PASSWORD = 'Local-demo-1234';

/**
 * A Cognito user's id is its `sub`, a UUID on AWS: the demo accounts get fixed ones (derived from the
 * address, so they are the same on every machine and start), apart from the /dev/token users' ids.
 */
export function demoSub(email: string): string {
  const hex = createHash('sha256').update(`local-cognito:${email}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
export const COGNITO_DEMO_USERS: readonly CognitoDemoUser[] = DEMO_USERS.flatMap((user) =>
  user.email === undefined ? [] : [{ sub: demoSub(user.email), email: user.email, name: user.displayName }],
);
/** The files bucket's name locally (on AWS it is generated). */
export const FILES_BUCKET = 'chat-files';
// Every function, the Cognito trigger included: the local Cognito invokes it through the Invoke
// endpoint on a confirmation, as Cognito does (/dev/token writes the profile itself).
const ALL_HANDLERS: readonly HandlerDefinition[] = allHandlers;

/** On AWS the table names are generated; locally each table is named after its construct id. */
export const localTableName = (definition: TableDefinition) => definition.constructId;

const PROCESS_STATE = Symbol.for('chat.localStack.process');

/** What this process's handler modules were imported with; they cannot be re-configured. */
let importedWith:
  | {
      env: Record<string, string>;
      port: number;
      dynamoPort: number;
      s3Port: number;
      lambdaPort: number;
      eventPorts: EventPorts;
      cognitoPort: number;
    }
  | undefined;
/**
 * Whether a stack runs in this process: kept on globalThis, not in this module, because a test runner
 * may load this file once per module graph (vitest, once per project), while the handlers' AWS clients
 * all read the one process.env, some lazily inside an invocation. Two stacks at once would send one's
 * requests to the other's emulators; a second stack runs in its own process (stack-process.ts).
 */
const processGlobals = globalThis as {
  [PROCESS_STATE]?: { running: boolean; envBefore: Record<string, string | undefined> };
};
processGlobals[PROCESS_STATE] ??= { running: false, envBefore: {} };
const processState = processGlobals[PROCESS_STATE];

/**
 * This process's environment as it was before any local stack wrote the handlers' settings into it
 * (a later stack keeps a key only an earlier one set, such as its webhook's): what a stack started
 * in another process (stack-process.ts) must begin from.
 */
export function envBeforeLocalStacks(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(processState.envBefore)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
/** In-memory stacks keep one key per process, so tokens stay valid across a restart in the same process. */
let memoryKey: SigningKey | undefined;

function inMemoryKey(): SigningKey {
  memoryKey ??= generateSigningKey();
  return memoryKey;
}
/** Likewise the webhook key of in-memory stacks: the handlers read its ARN once. */
let memorySecret: StoredSecret | undefined;

/**
 * What a local sign-in and the seeding do to a demo user: what the Cognito post-confirmation trigger
 * does on AWS (lambdas/domain/profiles.ts `confirmAccount`): the profile, created unless it exists,
 * and the account's address, which the offline e-mail notifications go to.
 */
interface ProfileStore {
  confirmAccount(
    userId: string,
    suggestedName: string,
    email: string | undefined,
  ): Promise<{ readonly displayName: string }>;
}

const demoEmail = (userId: string) => DEMO_USERS.find((user) => user.userId === userId)?.email;
/** `email`: the sign-in's own (a fresh test user's), else the demo user's. */
const createProfile = (store: ProfileStore, userId: string, displayName: string, email?: string) =>
  store.confirmAccount(userId, displayName, email ?? demoEmail(userId));

/**
 * The profile service over the store adapter from lambdas/, imported (like a handler) only once the
 * environment is final: its DynamoDB client takes the endpoint from AWS_ENDPOINT_URL_DYNAMODB when it
 * is built.
 */
async function loadProfileStore(): Promise<ProfileStore> {
  const adapters = join(repoRoot, 'lambdas', 'adapters');
  const clients = (await import(
    pathToFileURL(join(adapters, 'clients.ts')).href
  )) as typeof import('../lambdas/adapters/clients.js');
  const store = (await import(
    pathToFileURL(join(adapters, 'dynamo', 'user-store.ts')).href
  )) as typeof import('../lambdas/adapters/dynamo/user-store.js');
  const tableNames = Object.fromEntries(
    Object.entries(tables).map(([name, definition]) => [name, localTableName(definition)]),
  ) as Record<TableName, string>;
  const profiles = (await import(
    pathToFileURL(join(repoRoot, 'lambdas', 'domain', 'profiles.ts')).href
  )) as typeof import('../lambdas/domain/profiles.js');
  return new profiles.ProfileService(
    new store.DynamoUserStore(clients.makeDocumentClient(), tableNames, { now: () => new Date() }),
  );
}

/** Where the handlers find the files bucket and the attachment check. */
export interface FilesEnv {
  readonly s3Endpoint: string;
  readonly lambdaEndpoint: string;
  readonly maxUploadBytes: number;
}

/** `baseUrl` is the gateway's (`http://host:port`): the handlers call back to where clients connect. */
export function handlerEnv(
  baseUrl: string,
  dynamoPort: number,
  files: FilesEnv,
  logLevel = 'WARN',
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    // SDK v3 reads these too: the handlers build their S3 and Lambda clients with no local branch.
    AWS_ENDPOINT_URL_S3: files.s3Endpoint,
    AWS_ENDPOINT_URL_LAMBDA: files.lambdaEndpoint,
    [envVars.filesBucket]: FILES_BUCKET,
    [envVars.maxUploadBytes]: String(files.maxUploadBytes),
    [envVars.attachmentCheckFunction]: attachmentCheck.functionId,
    [envVars.callbackUrl]: `${baseUrl}/${STAGE}`,
    [envVars.userPoolId]: LOCAL_USER_POOL_ID,
    [envVars.userPoolClientId]: LOCAL_CLIENT_ID,
    [envVars.jwksUrl]: `${baseUrl}/dev/jwks.json`,
    LOG_LEVEL: logLevel,
  };
  for (const definition of Object.values(tables)) env[definition.envVar] = localTableName(definition);
  return env;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (processState.running)
    throw new Error(
      'A local stack is already running in this process: stop it first, or start another with startLocalStackProcess',
    );
  processState.running = true;
  const log = makeLog(options.quiet ?? false);
  const host = options.host ?? '127.0.0.1';
  let maxUploadBytes: number;
  try {
    // The deployed stack's own rule (lib/context.ts), so a limit it would refuse is refused here too.
    maxUploadBytes = parseMaxUploadBytes(options.maxUploadBytes);
  } catch (error) {
    processState.running = false;
    throw error;
  }
  const dataDir = options.inMemory === true ? undefined : (options.dataDir ?? join(repoRoot, '.local-data'));
  // Without a webhook the sender does not exist (as on AWS without -c webhookUrl): it is not imported.
  const handlers =
    options.webhookUrl === undefined
      ? ALL_HANDLERS.filter((definition) => definition !== webhookSender)
      : ALL_HANDLERS;
  if (options.notifyDelaySeconds !== undefined) {
    const delay = options.notifyDelaySeconds;
    if (!Number.isInteger(delay) || delay < 0) {
      processState.running = false;
      throw new Error(`notifyDelaySeconds must be a whole number of seconds, not ${delay}`);
    }
  }
  let requestedPort = options.port ?? 3000;
  if (importedWith !== undefined) {
    if (requestedPort === 0) requestedPort = importedWith.port;
    if (requestedPort !== importedWith.port) {
      processState.running = false;
      throw new Error(
        `This process already imported the handlers for port ${importedWith.port}; ` +
          'a second stack in one process must use the same port (handlers read their config once).',
      );
    }
  }

  const since = (start: number) => `${Math.round(performance.now() - start)} ms`;
  const startedAt = performance.now();
  let gateway: Gateway | undefined;
  let files: Promise<[LocalS3, LambdaInvokeServer, LocalEvents]> | undefined;
  let cognito: Promise<LocalCognito> | undefined;
  let dynamoStarting: Promise<DynamoLocal> | undefined;
  /** The DynamoDB Local serving now: replaced by stopDynamo/startDynamo. */
  let dynamoNow: Promise<DynamoLocal | undefined> | undefined;
  const cleanUp = async () => {
    await gateway?.close();
    // After the gateway: its last $disconnect handlers are done, so nothing calls these any more.
    await (await cognito?.catch(() => undefined))?.close();
    const started = await files?.catch(() => undefined);
    await Promise.all([started?.[0].stop(), started?.[1].close(), started?.[2].stop()]);
    const dynamo = await (dynamoNow ?? dynamoStarting?.catch(() => undefined));
    await dynamo?.stop();
    processState.running = false;
  };

  try {
    // The JVM is the slowest part: it starts first, and everything else happens while it warms up.
    const dynamoPort = importedWith?.dynamoPort ?? (await freePort());
    // `java -version` runs alongside the JVM's start; its verdict explains a failed start.
    const javaCheck = checkJava();
    javaCheck.catch(() => undefined);
    dynamoStarting = startDynamoLocal({ port: dynamoPort, dataDir, log, javaCheck }).then((started) => {
      log.info(`DynamoDB Local answered after ${since(startedAt)}`);
      return started;
    });
    // Awaited below; this only keeps a failure from being unhandled while the gateway starts.
    dynamoStarting.catch(() => undefined);

    // Handlers are resolved only after the environment below is final.
    let envReady: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      envReady = resolve;
    });
    const modules = moduleResolver(repoRoot);
    const resolve: HandlerResolver = async (definition) => {
      await gate;
      return modules(definition);
    };
    /** What the web client needs of the local Cognito, in /config.json once it runs. */
    let cognitoConfig: Record<string, string> = {};
    /** The local S3's and Cognito's origins, for the web client's Content-Security-Policy. */
    let clientOrigins: { readonly files: string; readonly cognito: string } | undefined;
    let store: Promise<ProfileStore> | undefined;
    const profileStore = () => {
      if (store === undefined) {
        store = gate.then(loadProfileStore);
        // A failed load is forgotten, so the next sign-in tries again.
        store.catch(() => {
          store = undefined;
        });
      }
      return store;
    };

    const key =
      dataDir === undefined ? inMemoryKey() : loadOrCreateSigningKey(join(dataDir, 'local-signing-key.pem'));
    gateway = await startGateway({
      host,
      port: requestedPort,
      stage: STAGE,
      resolve,
      log,
      ...(options.allowedOrigins !== undefined ? { allowedOrigins: options.allowedOrigins } : {}),
      limits: {
        maxFrameBytes: options.maxFrameBytes ?? 32 * 1024,
        idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60 * 1000,
        maxConnectionMs: options.maxConnectionMs ?? 2 * 60 * 60 * 1000,
      },
      signIn: {
        key,
        userPoolId: LOCAL_USER_POOL_ID,
        clientId: LOCAL_CLIENT_ID,
        region: LOCAL_REGION,
        tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
        demoUsers: DEMO_USERS,
        createProfile: async (userId, displayName, email) =>
          createProfile(await profileStore(), userId, displayName, email),
        moreKeys: [cognitoLocalJwk()],
        publicConfig: () => cognitoConfig,
      },
      webRoot: options.webRoot ?? join(repoRoot, 'web', 'dist'),
      webOrigins: () => clientOrigins,
    });

    // The local S3 and the Invoke endpoint start while the JVM warms up. The bucket's CORS allows the
    // web client's origin (the gateway's, by either loopback name) and the stack's allowedOrigins.
    const webOrigins = [gateway.baseUrl, gateway.baseUrl.replace('://127.0.0.1:', '://localhost:')];
    files = Promise.all([
      startLocalS3({
        bucket: FILES_BUCKET,
        dataDir,
        host,
        port: importedWith?.s3Port ?? 0,
        allowedOrigins: [...new Set([...webOrigins, ...(options.allowedOrigins ?? [])])],
        log,
      }),
      startLambdaInvoke({
        resolve,
        functions: handlers,
        log,
        port: importedWith?.lambdaPort ?? 0,
      }),
      startEvents({
        resolve,
        log,
        dataDir,
        emailFrom: options.emailFrom ?? DEFAULT_EMAIL_FROM,
        appUrl: `${gateway.baseUrl}/`,
        ...(options.notifyDelaySeconds === undefined
          ? {}
          : { notifyDelaySeconds: options.notifyDelaySeconds }),
        ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
        ...(importedWith === undefined ? {} : { ports: importedWith.eventPorts }),
        ...(dataDir === undefined && memorySecret !== undefined ? { secret: memorySecret } : {}),
      }),
    ]);
    const [s3, lambda, events] = await files;
    if (dataDir === undefined && events.webhook !== undefined) memorySecret = events.webhook.secret;
    // The local Cognito, once the Invoke endpoint (its trigger) and the mailbox (its codes) are up.
    cognito = startLocalCognito({
      host,
      port: importedWith?.cognitoPort ?? 0,
      dataDir,
      region: LOCAL_REGION,
      userPoolId: LOCAL_USER_POOL_ID,
      clientId: LOCAL_CLIENT_ID,
      ...(options.tokenLifetimeSeconds === undefined
        ? {}
        : { tokenLifetimeSeconds: options.tokenLifetimeSeconds }),
      lambdaEndpoint: lambda.endpoint,
      deliverEmail: (email) => events.deliverEmail({ ...email, from: COGNITO_SENDER }),
      demoUsers: COGNITO_DEMO_USERS,
      demoPassword: DEMO_PASSWORD,
      log,
    });
    const localCognito = await cognito;
    cognitoConfig = {
      cognitoEndpoint: localCognito.endpoint,
      region: LOCAL_REGION,
      userPoolId: LOCAL_USER_POOL_ID,
      userPoolClientId: LOCAL_CLIENT_ID,
      mailUrl: events.mailUrl,
    };
    clientOrigins = { files: new URL(s3.endpoint).origin, cognito: new URL(localCognito.endpoint).origin };
    log.info(`Local S3, Lambda Invoke and the events services ready after ${since(startedAt)}`);

    const env = {
      ...handlerEnv(
        gateway.baseUrl,
        dynamoPort,
        { s3Endpoint: s3.endpoint, lambdaEndpoint: lambda.endpoint, maxUploadBytes },
        process.env.LOG_LEVEL ?? 'WARN',
      ),
      ...events.env,
    };
    if (importedWith !== undefined && JSON.stringify(importedWith.env) !== JSON.stringify(env)) {
      throw new Error(
        'This process already imported the handlers with another environment; start one stack per process',
      );
    }
    for (const name of Object.keys(env))
      if (!(name in processState.envBefore)) processState.envBefore[name] = process.env[name];
    Object.assign(process.env, env);
    importedWith = {
      env,
      port: gateway.port,
      dynamoPort,
      s3Port: s3.port,
      lambdaPort: lambda.port,
      eventPorts: events.ports,
      cognitoPort: localCognito.port,
    };
    envReady();

    // The handlers' imports (the local cold starts) overlap the JVM's start-up.
    const imports = await Promise.allSettled(handlers.map((definition) => modules(definition)));
    log.info(`Handler modules imported after ${since(startedAt)}`);
    reportImportFailures(handlers, imports, log);
    const dynamo = await dynamoStarting;
    dynamoNow = Promise.resolve(dynamo);
    const { ensureTables, localDynamoClient } = await import('./tables.js');
    const createTables = async (endpoint: string) => {
      const client = localDynamoClient(endpoint);
      try {
        await ensureTables(client, Object.values(tables), localTableName, log);
      } finally {
        client.destroy();
      }
    };
    await createTables(dynamo.endpoint);
    await seedDemoUsers(profileStore, log);
    // After the seed: a new mapping starts at the trim horizon, so the seed's writes are read too.
    await events.startStreams(dynamo.endpoint);
    log.info(`Tables, demo users and stream mappings ready after ${since(startedAt)}`);

    const { baseUrl, wsUrl } = gateway;
    let stopped: Promise<void> | undefined;
    return {
      webUrl: `${baseUrl}/`,
      restUrl: baseUrl,
      wsUrl,
      signInUrl: `${baseUrl}/dev/token`,
      dynamoEndpoint: dynamo.endpoint,
      filesUrl: s3.endpoint,
      lambdaUrl: lambda.endpoint,
      env,
      cognito: {
        endpoint: localCognito.endpoint,
        region: LOCAL_REGION,
        userPoolId: LOCAL_USER_POOL_ID,
        clientId: LOCAL_CLIENT_ID,
        demoUsers: COGNITO_DEMO_USERS,
        demoPassword: DEMO_PASSWORD,
      },
      schedulerUrl: events.schedulerUrl,
      eventsUrl: events.eventsUrl,
      eventLogUrl: events.eventLogUrl,
      sesUrl: events.sesUrl,
      mailUrl: events.mailUrl,
      ...(events.webhook === undefined
        ? {}
        : {
            webhook: {
              url: events.webhook.url,
              secretArn: events.webhook.secretArn,
              secret: events.webhook.secret.value,
            },
          }),
      events: () => events.events(),
      emails: () => events.emails(),
      deadLetters: (queue) => events.deadLetters.list(queue),
      drainStreams: (timeoutMs) => events.drainStreams(timeoutMs),
      async stopDynamo() {
        const serving = await dynamoNow;
        dynamoNow = Promise.resolve(undefined);
        await serving?.stop();
      },
      async startDynamo() {
        if ((await dynamoNow) !== undefined) return;
        const starting = startDynamoLocal({ port: dynamoPort, dataDir, log, javaCheck: Promise.resolve() });
        dynamoNow = starting.catch(() => undefined);
        await createTables((await starting).endpoint);
      },
      stop() {
        stopped ??= cleanUp();
        return stopped;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function reportImportFailures(
  handlers: readonly HandlerDefinition[],
  results: PromiseSettledResult<unknown>[],
  log: Log,
): void {
  const failed = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${handlers[index]?.entry}: ${firstLine(result.reason)}`] : [],
  );
  if (failed.length > 0) {
    log.warn(
      `Some handlers could not be loaded; their routes (or triggers) fail until fixed:\n  ${failed.join('\n  ')}`,
    );
  }
}

async function seedDemoUsers(profileStore: () => Promise<ProfileStore>, log: Log): Promise<void> {
  try {
    const store = await profileStore();
    await Promise.all(DEMO_USERS.map((user) => createProfile(store, user.userId, user.displayName)));
    // The local Cognito's demo accounts exist confirmed from the start, so no trigger ran for them:
    // their profiles are made here with the same confirmAccount the trigger calls.
    await Promise.all(
      COGNITO_DEMO_USERS.map((user) => store.confirmAccount(user.sub, user.name, user.email)),
    );
  } catch (error) {
    log.warn(`Demo users not seeded (local sign-in answers 500 until this is fixed): ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
