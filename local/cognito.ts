/**
 * The local Cognito user pool: the npm package cognito-local, composed here in this process (its
 * exports allow it) instead of its CLI, so that
 *
 * - the pool and its app client are lib/chat-auth.ts's (e-mail as the username, auto-verified e-mail,
 *   the password policy and token lifetimes of definitions/auth.ts, USER_PASSWORD_AUTH and refresh
 *   allowed, user existence errors prevented, token revocation on), with the ids the handlers verify
 *   (`USER_POOL_ID`, `USER_POOL_CLIENT_ID`);
 * - tokens carry AWS's issuer, `https://cognito-idp.<region>.amazonaws.com/<poolId>` (TokenConfig's
 *   IssuerDomain), so lambdas/shared/auth.ts verifies them unchanged, with cognito-local's key in the
 *   gateway's JWKS next to the /dev/token key;
 * - the codes Cognito would e-mail land in the local mailbox (SES's Mail page), from Cognito's default
 *   sender;
 * - the post-confirmation trigger is the real handler, invoked through the local Lambda Invoke endpoint
 *   exactly as Cognito invokes it (cognito-local builds the event; the endpoint runs the module);
 * - the ID token carries `name`, as Cognito's does (cognito-local's omits standard attributes).
 *
 * cognito-local alone is more lenient than Cognito in ways the web client would never notice locally
 * and then meet on AWS. The strict layer below (`strictTargets`) runs before and after its operations
 * and is what the endpoint serves; each row is in local/README.md's fidelity table:
 *
 * - SignUp and ConfirmForgotPassword enforce the password policy (InvalidPasswordException) and a
 *   plausible e-mail address; e-mail usernames match without case (signInCaseSensitive: false);
 * - InitiateAuth takes only the flows the app client allows (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH);
 *   a wrong password or an unknown user is NotAuthorizedException "Incorrect username or password."
 *   (cognito-local: InvalidPasswordException); an unconfirmed user with the right password is
 *   UserNotConfirmedException; a refresh token past its lifetime or revoked is NotAuthorizedException;
 *   answers carry `ExpiresIn` and `TokenType`, as Cognito's do;
 * - ConfirmSignUp marks the e-mail verified (the trigger keeps only a verified address), refuses a
 *   confirmed user (NotAuthorizedException), a reset code, and a code older than 24 hours
 *   (ExpiredCodeException);
 * - ResendConfirmationCode (not in cognito-local) sends a new code; ForgotPassword and
 *   ResendConfirmationCode answer a simulated, masked delivery for unknown users (and ForgotPassword
 *   for an unverified address) instead of UserNotFoundException, as PreventUserExistenceErrors does;
 * - ConfirmForgotPassword: unknown user or wrong code CodeMismatchException, no code requested or
 *   older than an hour ExpiredCodeException;
 * - a post-confirmation trigger that fails makes the confirming operation answer
 *   UserLambdaValidationException (cognito-local logs it and answers success); the user stays
 *   confirmed, as on AWS, where the trigger runs after the confirmation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CodeMismatchError,
  CognitoError,
  ExpiredCodeError,
  NotAuthorizedError,
} from 'cognito-local/lib/errors.js';
import { Router } from 'cognito-local/lib/server/Router.js';
import { createServer } from 'cognito-local/lib/server/server.js';
import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import { CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import {
  type DateClock,
  LambdaService,
  MessagesService,
  TriggersService,
} from 'cognito-local/lib/services/index.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import type { MessageSender } from 'cognito-local/lib/services/messageDelivery/messageSender.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { JwtTokenGenerator } from 'cognito-local/lib/services/tokenGenerator.js';
import type { Triggers } from 'cognito-local/lib/services/triggers/index.js';
import {
  type User,
  type UserPoolService,
  UserPoolServiceFactoryImpl,
} from 'cognito-local/lib/services/userPoolService.js';
import {
  appClient,
  explicitAuthFlows,
  passwordPolicy,
  passwordProblems,
  tempPasswordValidityDays,
  tokenValidity,
} from '../definitions/auth.js';
import { postConfirmationTrigger } from '../definitions/routes.js';
import { LOCAL_CREDENTIALS } from './dynamo-local.js';
import { listenOn } from './http-util.js';
import type { Log } from './log.js';

/** Cognito's default sender (COGNITO_DEFAULT e-mail), which the codes come from on AWS. */
export const COGNITO_SENDER = 'no-reply@verificationemail.com';
/** A sign-up code lasts 24 hours, a password reset code 1 hour (Cognito developer guide). */
const SIGN_UP_CODE_MS = 24 * 60 * 60 * 1000;
const RESET_CODE_MS = 60 * 60 * 1000;

export interface CognitoDemoUser {
  readonly sub: string;
  readonly email: string;
  readonly name: string;
}

export interface LocalCognitoOptions {
  readonly host: string;
  readonly port?: number;
  /** Where the users are kept (`<dataDir>/cognito`); none: a temporary folder removed on close. */
  readonly dataDir: string | undefined;
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** ID and access token lifetime; default definitions/auth.ts's (an hour). Shorter for tests. */
  readonly tokenLifetimeSeconds?: number;
  /** The Lambda Invoke endpoint, for the post-confirmation trigger. */
  readonly lambdaEndpoint: string;
  /** Puts a code e-mail in the local mailbox. */
  readonly deliverEmail: (email: { to: string; subject: string; text: string }) => Promise<void>;
  readonly demoUsers: readonly CognitoDemoUser[];
  readonly demoPassword: string;
  readonly log: Log;
  /** cognito-local's request log (pino) at this level; default silent. */
  readonly logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  readonly now?: () => Date;
}

export interface LocalCognito {
  /** The Cognito IdP endpoint (`POST /` with X-Amz-Target), no trailing slash. */
  readonly endpoint: string;
  readonly port: number;
  /** The public key cognito-local signs with, as a JWKS entry. */
  readonly jwk: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** cognito-local's own key pair (in its package): the public half goes into the local JWKS. */
export function cognitoLocalJwk(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const file = require('cognito-local/lib/keys/cognitoLocal.public.json') as { jwk: Record<string, string> };
  return { ...file.jwk };
}

/** Cognito masks where it sent a code: `a***@e***`. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***`;
}

const attr = (user: User, name: string) => user.Attributes.find((a) => a.Name === name)?.Value;

/** What the strict layer keeps on a user record besides cognito-local's fields. */
interface CodeRecord {
  readonly LocalCodeKind?: 'signup' | 'reset';
  readonly LocalCodeIssuedAt?: number;
}
type StoredUser = User & CodeRecord;

type Request = Record<string, unknown>;
type Target = (ctx: Context, req: Request) => Promise<unknown>;

const invalidParameter = (message: string) => new CognitoError('InvalidParameterException', message);
const incorrect = () => new NotAuthorizedError('Incorrect username or password.');
const isEmail = (value: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) && value.length <= 254;

function checkPassword(password: unknown): void {
  if (typeof password !== 'string') throw invalidParameter('Missing required parameter Password');
  const problems = passwordProblems(password);
  if (problems.length === 0) return;
  // Cognito names the first rule broken, in its own words.
  const first = problems[0] ?? '';
  const reason = first.startsWith('at least')
    ? 'Password not long enough'
    : first.includes('upper')
      ? 'Password must have uppercase characters'
      : first.includes('lower')
        ? 'Password must have lowercase characters'
        : first.includes('digit')
          ? 'Password must have numeric characters'
          : 'Password must have symbol characters';
  throw new CognitoError('InvalidPasswordException', `Password did not conform with policy: ${reason}`);
}

export async function startLocalCognito(options: LocalCognitoOptions): Promise<LocalCognito> {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const folder =
    options.dataDir === undefined
      ? mkdtempSync(join(tmpdir(), 'chat-cognito-'))
      : join(options.dataDir, 'cognito');
  mkdirSync(folder, { recursive: true });
  // cognito-local logs through pino: its own copy, wherever npm put it.
  const pino = createRequire(createRequire(import.meta.url).resolve('cognito-local'))('pino') as (options: {
    level: string;
  }) => import('pino').Logger;
  const logger = pino({ level: options.logLevel ?? 'silent' });
  const ctx: Context = { logger };

  const clock = { get: now } satisfies DateClock;
  const stores = new StormDBDataStoreFactory(folder);
  const cognito = await new CognitoServiceFactoryImpl(
    folder,
    stores,
    new UserPoolServiceFactoryImpl(clock, stores),
  ).create(ctx, {});

  // The pool and client as lib/chat-auth.ts declares them (kept on disk: made the same on every start).
  const poolOptions = {
    Id: options.userPoolId,
    Name: 'ChatUserPool',
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    MfaConfiguration: 'OPTIONAL',
    Policies: {
      PasswordPolicy: {
        MinimumLength: passwordPolicy.minLength,
        RequireUppercase: passwordPolicy.requireUppercase,
        RequireLowercase: passwordPolicy.requireLowercase,
        RequireNumbers: passwordPolicy.requireDigits,
        RequireSymbols: passwordPolicy.requireSymbols,
        TemporaryPasswordValidityDays: tempPasswordValidityDays,
      },
    },
  };
  let pool: UserPoolService;
  try {
    pool = await cognito.getUserPool(ctx, options.userPoolId);
    await pool.updateOptions(ctx, { ...pool.options, ...poolOptions });
  } catch {
    await cognito.createUserPool(ctx, poolOptions);
    pool = await cognito.getUserPool(ctx, options.userPoolId);
  }
  // The strict layer answers unknown users as PreventUserExistenceErrors ENABLED does (LEGACY's
  // UserNotFoundException answers are not written): a client declared otherwise is not emulated.
  if (!appClient.preventUserExistenceErrors)
    throw new Error('The local Cognito emulates an app client with PreventUserExistenceErrors ENABLED only');
  const lifetime = options.tokenLifetimeSeconds ?? tokenValidity.idTokenMinutes * 60;
  const client: AppClient = {
    UserPoolId: options.userPoolId,
    ClientName: 'UserPoolClient',
    ClientId: options.clientId,
    CreationDate: now(),
    LastModifiedDate: now(),
    IdTokenValidity: lifetime,
    AccessTokenValidity: lifetime,
    RefreshTokenValidity: tokenValidity.refreshTokenDays,
    TokenValidityUnits: { IdToken: 'seconds', AccessToken: 'seconds', RefreshToken: 'days' },
    ExplicitAuthFlows: [...explicitAuthFlows],
    PreventUserExistenceErrors: appClient.preventUserExistenceErrors ? 'ENABLED' : 'LEGACY',
    EnableTokenRevocation: appClient.enableTokenRevocation,
  };
  await pool.saveAppClient(ctx, client);

  for (const demo of options.demoUsers) {
    if ((await pool.getUserByUsername(ctx, demo.sub)) !== null) continue;
    await pool.saveUser(ctx, {
      Username: demo.sub,
      Attributes: [
        { Name: 'sub', Value: demo.sub },
        { Name: 'email', Value: demo.email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: demo.name },
      ],
      Enabled: true,
      Password: options.demoPassword,
      UserStatus: 'CONFIRMED',
      RefreshTokens: [],
      UserCreateDate: now(),
      UserLastModifiedDate: now(),
    });
  }

  // The trigger through the Invoke endpoint, with the SDK the handlers use; cognito-local expects an
  // SDK v2 client, so the v3 call is wrapped in its shape.
  const lambda = new LambdaClient({
    region: options.region,
    endpoint: options.lambdaEndpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  const v2Shaped = {
    invoke: (params: { FunctionName: string; InvocationType: string; Payload: string }) => ({
      promise: async () => {
        let out: InvokeCommandOutput;
        try {
          out = await lambda.send(
            new InvokeCommand({
              FunctionName: params.FunctionName,
              InvocationType: 'RequestResponse',
              Payload: Buffer.from(params.Payload),
            }),
          );
        } catch (error) {
          const store = triggerFailures.getStore();
          if (store !== undefined) {
            store.type = 'UnexpectedLambdaException';
            store.failure = error instanceof Error ? error.message : String(error);
          }
          throw error;
        }
        const payload = out.Payload === undefined ? undefined : Buffer.from(out.Payload).toString('utf8');
        if (out.FunctionError !== undefined) {
          const store = triggerFailures.getStore();
          if (store !== undefined) store.failure = payload ?? out.FunctionError;
        }
        if (out.FunctionError !== undefined)
          log.error(`Cognito's post-confirmation trigger failed: ${payload}`);
        return { StatusCode: out.StatusCode, FunctionError: out.FunctionError, Payload: payload };
      },
    }),
  };
  const lambdaService = new LambdaService(
    { PostConfirmation: postConfirmationTrigger.functionId },
    v2Shaped as unknown as ConstructorParameters<typeof LambdaService>[1],
  );
  const triggers = new TriggersService(
    clock,
    cognito,
    lambdaService,
    // KMS is only for the custom e-mail sender trigger, which this pool has none of.
    undefined as unknown as ConstructorParameters<typeof TriggersService>[3],
  );

  const sender: MessageSender = {
    async sendEmail(_ctx, _user, destination, message) {
      // Cognito's default verification message (no custom message configured in lib/chat-auth.ts).
      await options.deliverEmail({
        to: destination,
        subject: message.emailSubject ?? 'Your verification code',
        text: message.emailMessage ?? `Your verification code is ${message.__code ?? ''}.`,
      });
      log.info(`Cognito code for ${destination}: ${message.__code ?? ''} (also on the Mail page)`);
    },
    async sendSms() {
      throw new Error('This pool sends no SMS');
    },
  };

  // The ID token carries the user's `name`, as Cognito's does: cognito-local adds claims only through
  // a pre token generation trigger, so its token generator gets one of its own (the pool has none).
  const nameClaim = {
    enabled: (trigger: string) => trigger === 'PreTokenGeneration',
    preTokenGeneration: async (_ctx: Context, event: { userAttributes: User['Attributes'] }) => {
      const name = event.userAttributes.find((a) => a.Name === 'name')?.Value;
      return { claimsOverrideDetails: { claimsToAddOrOverride: name === undefined ? {} : { name } } };
    },
  } as unknown as Triggers;

  const services = {
    clock,
    cognito,
    config: {
      LambdaClient: {},
      TriggerFunctions: { PostConfirmation: postConfirmationTrigger.functionId },
      UserPoolDefaults: { UsernameAttributes: ['email'] },
      ServerConfig: {},
      TokenConfig: { IssuerDomain: `https://cognito-idp.${options.region}.amazonaws.com` },
    },
    messages: new MessagesService(triggers, new MessageDeliveryService(sender)),
    otp,
    tokenGenerator: new JwtTokenGenerator(clock, nameClaim, {
      IssuerDomain: `https://cognito-idp.${options.region}.amazonaws.com`,
    }),
    triggers,
  };
  const base = Router(services);
  const route = strictTargets((target) => base(target) as Target, {
    pool,
    client,
    now,
    deliver: (user, code) =>
      services.messages.deliver(ctx, 'ResendCode', client.ClientId, pool.options.Id, user, code, undefined, {
        AttributeName: 'email',
        DeliveryMedium: 'EMAIL',
        Destination: attr(user, 'email') ?? '',
      }),
    ctx,
  });
  const app = createServer(route as unknown as Parameters<typeof createServer>[0], logger, {}, undefined)
    .application as (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => void;
  const server: Server = createHttpServer(app);
  const port = await listenOn(server, options.port ?? 0, options.host);
  const hostInUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${hostInUrl}:${port}`,
    port,
    jwk: cognitoLocalJwk(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => {
        lambda.destroy();
        if (options.dataDir === undefined) rmSync(folder, { recursive: true, force: true });
      });
      return closed;
    },
  };
}

/**
 * A trigger's failure during one request: cognito-local logs a failed post-confirmation trigger and
 * answers success, where Cognito answers the operation with UserLambdaValidationException.
 */
const triggerFailures = new AsyncLocalStorage<{ failure?: string; type?: string }>();

/** Runs a confirming operation and answers Cognito's error if its post-confirmation trigger failed. */
async function failingWithTrigger(run: () => Promise<unknown>): Promise<unknown> {
  const store: { failure?: string; type?: string } = {};
  const answer = await triggerFailures.run(store, run);
  if (store.failure !== undefined) {
    let reason = store.failure;
    try {
      reason = String(
        (JSON.parse(store.failure) as { errorMessage?: unknown }).errorMessage ?? store.failure,
      );
    } catch {
      // Not JSON: the raw payload says it.
    }
    if (store.type !== undefined) throw new CognitoError(store.type, 'Unexpected error when invoking lambda');
    throw new CognitoError('UserLambdaValidationException', `PostConfirmation failed with error ${reason}.`);
  }
  return answer;
}

interface StrictContext {
  readonly pool: UserPoolService;
  readonly client: AppClient;
  readonly now: () => Date;
  readonly deliver: (user: User, code: string) => Promise<void>;
  readonly ctx: Context;
}

/** The e-mail username as Cognito matches it in this pool (signInCaseSensitive: false). */
const username = (req: Request) =>
  typeof req.Username === 'string' ? req.Username.trim().toLowerCase() : '';

/** A simulated delivery for an unknown user, as PreventUserExistenceErrors answers. */
const simulatedDelivery = (email: string) => ({
  CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: maskEmail(email) },
});

/**
 * cognito-local's operations behind the checks Cognito makes and cognito-local does not (the list in
 * this file's header). `base(target)` is cognito-local's own router.
 */
export function strictTargets(
  base: (target: string) => Target,
  strict: StrictContext,
): (target: string) => Target {
  const { pool, client, now, ctx } = strict;
  const find = async (name: string) =>
    name === '' ? null : ((await pool.getUserByUsername(ctx, name)) as StoredUser | null);
  const stamp = async (name: string, kind: 'signup' | 'reset') => {
    const user = await find(name);
    if (user !== null)
      await pool.saveUser(ctx, {
        ...user,
        LocalCodeKind: kind,
        LocalCodeIssuedAt: now().getTime(),
      } as StoredUser);
  };
  const checkClient = (req: Request) => {
    if (req.ClientId !== client.ClientId)
      throw new CognitoError(
        'ResourceNotFoundException',
        `User pool client ${String(req.ClientId)} does not exist.`,
      );
  };
  const expired = (user: StoredUser, kind: 'signup' | 'reset') =>
    user.LocalCodeIssuedAt !== undefined &&
    now().getTime() - user.LocalCodeIssuedAt > (kind === 'signup' ? SIGN_UP_CODE_MS : RESET_CODE_MS);

  const targets: Record<string, Target> = {
    async SignUp(c, req) {
      checkClient(req);
      const name = username(req);
      if (!isEmail(name)) throw invalidParameter('Invalid email address format.');
      checkPassword(req.Password);
      if ((await find(name)) !== null)
        throw new CognitoError('UsernameExistsException', 'An account with the given email already exists.');
      const attributes = (Array.isArray(req.UserAttributes) ? req.UserAttributes : []) as {
        Name: string;
        Value: string;
      }[];
      const answer = (await base('SignUp')(c, {
        ...req,
        Username: name,
        UserAttributes: [...attributes.filter((a) => a.Name !== 'email'), { Name: 'email', Value: name }],
      })) as { CodeDeliveryDetails?: { Destination?: string } };
      await stamp(name, 'signup');
      return { ...answer, CodeDeliveryDetails: simulatedDelivery(name).CodeDeliveryDetails };
    },
    async ConfirmSignUp(c, req) {
      checkClient(req);
      const user = await find(username(req));
      if (user === null) throw new NotAuthorizedError('User cannot be confirmed.');
      if (user.UserStatus === 'CONFIRMED')
        throw new NotAuthorizedError('User cannot be confirmed. Current status is CONFIRMED');
      if (user.ConfirmationCode === undefined || user.LocalCodeKind === 'reset') throw new ExpiredCodeError();
      if (user.ConfirmationCode !== req.ConfirmationCode) throw new CodeMismatchError();
      if (expired(user, 'signup')) throw new ExpiredCodeError();
      // Confirming with the e-mailed code verifies the address (autoVerify: email); the trigger that
      // runs next keeps only a verified one.
      await pool.saveUser(ctx, {
        ...user,
        Attributes: [
          ...user.Attributes.filter((a) => a.Name !== 'email_verified'),
          { Name: 'email_verified', Value: 'true' },
        ],
      });
      return failingWithTrigger(() => base('ConfirmSignUp')(c, { ...req, Username: user.Username }));
    },
    async ResendConfirmationCode(_c, req) {
      checkClient(req);
      const name = username(req);
      const user = await find(name);
      if (user === null) return simulatedDelivery(name);
      if (user.UserStatus === 'CONFIRMED') throw invalidParameter('User is already confirmed.');
      const code = otp();
      await strict.deliver(user, code);
      await pool.saveUser(ctx, {
        ...user,
        ConfirmationCode: code,
        LocalCodeKind: 'signup',
        LocalCodeIssuedAt: now().getTime(),
      } as StoredUser);
      return simulatedDelivery(attr(user, 'email') ?? name);
    },
    async InitiateAuth(c, req) {
      checkClient(req);
      const flow = req.AuthFlow;
      const allowed = client.ExplicitAuthFlows ?? [];
      const parameters = (req.AuthParameters ?? {}) as Record<string, unknown>;
      if (flow === 'USER_PASSWORD_AUTH') {
        if (!allowed.includes('ALLOW_USER_PASSWORD_AUTH'))
          throw invalidParameter('USER_PASSWORD_AUTH flow not enabled for this client');
        const user = await find(
          typeof parameters.USERNAME === 'string' ? parameters.USERNAME.trim().toLowerCase() : '',
        );
        if (user === null || user.Password !== parameters.PASSWORD) throw incorrect();
        if (user.UserStatus === 'UNCONFIRMED')
          throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
        const answer = (await base('InitiateAuth')(c, {
          ...req,
          AuthParameters: { ...parameters, USERNAME: user.Username },
        })) as { AuthenticationResult?: Record<string, unknown> };
        return withExpiry(answer, client);
      }
      if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') {
        const token = parameters.REFRESH_TOKEN;
        if (typeof token !== 'string' || token === '')
          throw invalidParameter('Missing required parameter REFRESH_TOKEN');
        // cognito-local looks the token up but never checks its lifetime.
        const exp = expiryOf(token);
        if (exp === undefined || exp * 1000 <= now().getTime())
          throw new NotAuthorizedError('Refresh Token has expired');
        const owner = await pool.getUserByRefreshToken(ctx, token);
        if (owner === null) throw new NotAuthorizedError('Refresh Token has been revoked');
        return withExpiry(
          (await base('InitiateAuth')(c, req)) as { AuthenticationResult?: Record<string, unknown> },
          client,
        );
      }
      // Another flow the client allows (USER_SRP_AUTH) goes to cognito-local, which answers that it
      // does not support it; one the client does not allow is refused as Cognito refuses it.
      if (typeof flow === 'string' && allowed.includes(`ALLOW_${flow}`)) return base('InitiateAuth')(c, req);
      throw invalidParameter(`${String(flow)} flow not enabled for this client`);
    },
    async ForgotPassword(c, req) {
      checkClient(req);
      const name = username(req);
      const user = await find(name);
      // Unknown, disabled or without a verified address: a simulated delivery, and no code.
      if (user === null || !user.Enabled || attr(user, 'email_verified') !== 'true')
        return simulatedDelivery(name);
      await base('ForgotPassword')(c, { ...req, Username: user.Username });
      await stamp(user.Username, 'reset');
      return simulatedDelivery(attr(user, 'email') ?? name);
    },
    async ConfirmForgotPassword(c, req) {
      checkClient(req);
      const user = await find(username(req));
      if (user === null || !user.Enabled) throw new CodeMismatchError();
      if (user.ConfirmationCode === undefined || user.LocalCodeKind !== 'reset') throw new ExpiredCodeError();
      if (user.ConfirmationCode !== req.ConfirmationCode) throw new CodeMismatchError();
      if (expired(user, 'reset')) throw new ExpiredCodeError();
      checkPassword(req.Password);
      return failingWithTrigger(() => base('ConfirmForgotPassword')(c, { ...req, Username: user.Username }));
    },
    async RevokeToken(c, req) {
      checkClient(req);
      return base('RevokeToken')(c, req);
    },
  };
  return (target) => targets[target] ?? base(target);
}

/** The refresh token's `exp` (cognito-local's refresh tokens are JWTs; Cognito's are opaque). */
function expiryOf(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

/** Cognito's AuthenticationResult always says how long the access token lasts, and its type. */
function withExpiry(answer: { AuthenticationResult?: Record<string, unknown> }, client: AppClient) {
  if (answer.AuthenticationResult === undefined) return answer;
  const seconds = client.AccessTokenValidity ?? 3600;
  const result = Object.fromEntries(
    Object.entries(answer.AuthenticationResult).filter(([, value]) => value !== undefined),
  );
  return { ...answer, AuthenticationResult: { ...result, ExpiresIn: seconds, TokenType: 'Bearer' } };
}
