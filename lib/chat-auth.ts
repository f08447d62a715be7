import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { appClient, passwordPolicy, tempPasswordValidityDays, tokenValidity } from '../definitions/auth.js';
import { postConfirmationTrigger } from '../definitions/routes.js';
import { ChatFunction, waitedOnTimeout } from './chat-function.js';
import type { ChatTables } from './chat-tables.js';

export interface ChatAuthProps {
  readonly tables: ChatTables;
  readonly repoRoot: string;
}

/** The Cognito user pool, its app client and the trigger that creates a profile on sign-up. */
export class ChatAuth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly postConfirmationFunction: ChatFunction;

  constructor(scope: Construct, id: string, props: ChatAuthProps) {
    super(scope, id);

    this.postConfirmationFunction = new ChatFunction(this, {
      definition: postConfirmationTrigger,
      resources: { tables: props.tables },
      repoRoot: props.repoRoot,
      // Cognito gives a trigger 5 seconds, then fails the confirmation.
      timeout: waitedOnTimeout,
    });

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        ...passwordPolicy,
        tempPasswordValidity: Duration.days(tempPasswordValidityDays),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      lambdaTriggers: { postConfirmation: this.postConfirmationFunction },
      // The pool is the users' identities: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.userPoolClient = this.userPool.addClient('UserPoolClient', {
      // A public client (browser, CLI): no secret. USER_PASSWORD_AUTH is the web client's sign-in (over
      // TLS to Cognito's own endpoint; web/sdk/cognito.ts says why not the managed login) and the CLI's;
      // SRP stays for apps built on the Amplify libraries. Both come with REFRESH_TOKEN_AUTH, which the
      // page renews its tokens with. The settings are definitions/auth.ts's, which the local Cognito reads.
      generateSecret: false,
      authFlows: appClient.authFlows,
      disableOAuth: true,
      preventUserExistenceErrors: appClient.preventUserExistenceErrors,
      enableTokenRevocation: appClient.enableTokenRevocation,
      // Cognito's defaults, stated (definitions/auth.ts, so the local emulator issues the same): the
      // page refreshes its ID token before the hour is up, and a person signs in again after 30 days
      // away (or after signing out, which revokes the refresh token).
      idTokenValidity: Duration.minutes(tokenValidity.idTokenMinutes),
      accessTokenValidity: Duration.minutes(tokenValidity.accessTokenMinutes),
      refreshTokenValidity: Duration.days(tokenValidity.refreshTokenDays),
    });

    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional (TOTP) rather than required: a consumer chat must allow sign-up without an authenticator app, and the web client signs in with USER_PASSWORD_AUTH and has no MFA challenge step.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection needs the Plus feature plan, billed per monthly active user with no free tier: more than the rest of this stack costs at its target volume. Essentials with a strong password policy and optional MFA instead.',
      },
    );
  }

  /** The region's Cognito Identity Provider endpoint: the browser signs in through its JSON API. */
  get identityProviderOrigin(): string {
    const stack = Stack.of(this);
    return `https://cognito-idp.${stack.region}.${stack.urlSuffix}`;
  }
}
