import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
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
      // A public client (browser, CLI): no secret. USER_PASSWORD is the web client's flow (web/sdk/cognito.ts
      // says why not the managed login) and the CLI's; SRP stays allowed for other apps.
      generateSecret: false,
      authFlows: appClient.authFlows,
      disableOAuth: true,
      preventUserExistenceErrors: appClient.preventUserExistenceErrors,
      enableTokenRevocation: appClient.enableTokenRevocation,
      // Cognito's defaults, stated so that the local emulator issues the same lifetimes.
      idTokenValidity: Duration.minutes(tokenValidity.idTokenMinutes),
      accessTokenValidity: Duration.minutes(tokenValidity.accessTokenMinutes),
      refreshTokenValidity: Duration.days(tokenValidity.refreshTokenDays),
    });

    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional (TOTP) rather than required: a consumer chat must allow sign-up without an authenticator app, and required MFA would break the USER_PASSWORD_AUTH CLI token flow.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection needs the Plus feature plan, billed per monthly active user with no free tier: more than the rest of this stack costs at its target volume. Essentials with a strong password policy and optional MFA instead.',
      },
    );
  }
}
