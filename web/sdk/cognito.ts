/**
 * Sign-in against the Cognito user pool through the Cognito Identity Provider JSON API:
 * `POST https://cognito-idp.<region>.amazonaws.com/` with `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Operation>`, unsigned (the app client is public, no secret).
 *
 * Why this and not the managed login (hosted UI, authorization code with PKCE): the managed login needs
 * a Cognito domain, OAuth on the app client and callback URLs per host, and redirects the user away
 * from the chat; the local Cognito emulator (cognito-local) cannot serve it, so the sign-in the web
 * client ships could not be tested end to end on the local stack. These seven operations can, on the
 * local stack and on AWS alike. The price: the password goes to Cognito through this page (over TLS;
 * USER_PASSWORD_AUTH instead of SRP), and no federation with other identity providers.
 *
 * No dependency: a few operations over `fetch`, with Cognito's `__type` errors mapped to messages a
 * person can act on.
 */
import type { FetchLike } from './api.js';

export interface CognitoOptions {
  readonly region: string;
  /** The user pool's app client (public: no secret). */
  readonly clientId: string;
  /** Default `https://cognito-idp.<region>.amazonaws.com/`; the local stack's emulator otherwise. */
  readonly endpoint?: string;
  readonly fetch?: FetchLike;
}

/** What a sign-in or a refresh gives. */
export interface CognitoTokens {
  readonly idToken: string;
  readonly accessToken: string;
  /** Absent from a refresh's answer: the refresh token stays the one that signed in. */
  readonly refreshToken?: string;
  /** Seconds the ID and access tokens last, from the answer's `ExpiresIn`. */
  readonly expiresIn: number;
}

/** Where Cognito sent a code (masked by Cognito, e.g. `a***@e***`). */
export interface CodeDelivery {
  readonly destination: string | undefined;
  readonly medium: string | undefined;
}

/** A refusal by Cognito (`type` is its `__type` without the namespace), or `NetworkError`. */
export class CognitoError extends Error {
  override readonly name = 'CognitoError';
  constructor(
    readonly type: string,
    message: string,
    /** Cognito's own message, kept for the console. */
    readonly detail: string,
  ) {
    super(message);
  }
}

/** Cognito's errors that a sign-in form can meet, in words that say what to do. */
const MESSAGES: Readonly<Record<string, string>> = {
  NotAuthorizedException: 'Incorrect e-mail address or password.',
  UserNotFoundException: 'Incorrect e-mail address or password.',
  UsernameExistsException:
    'An account with this e-mail address already exists. Sign in, or reset the password.',
  CodeMismatchException: 'That code is not right. Check the e-mail and try again.',
  ExpiredCodeException: 'That code has expired. Ask for a new one.',
  InvalidPasswordException: 'The password does not meet the rules.',
  UserNotConfirmedException: 'This account is not confirmed yet. Enter the code from the e-mail.',
  LimitExceededException: 'Too many attempts. Wait a few minutes and try again.',
  TooManyRequestsException: 'Too many requests. Wait a moment and try again.',
  TooManyFailedAttemptsException: 'Too many failed attempts. Wait a few minutes and try again.',
  PasswordResetRequiredException: 'A new password is required. Use "Forgot password".',
  CodeDeliveryFailureException: 'The code could not be sent. Try again later.',
  InvalidParameterException: 'Cognito refused the request: check the e-mail address.',
  InvalidEmailRoleAccessPolicyException: 'The code could not be sent. Try again later.',
  ResourceNotFoundException: 'The sign-in service is misconfigured (unknown app client).',
};

/** Cognito's `__type` may carry a namespace (`com.amazonaws...#Name`) or a `:` suffix. */
const shortType = (type: string) => (type.split('#').pop() ?? type).split(':')[0] ?? type;

export function cognitoError(type: string, detail: string): CognitoError {
  const name = shortType(type);
  let message = MESSAGES[name] ?? `Sign-in failed: ${detail || name}`;
  // Cognito says which rule a password broke ("Password did not conform with policy: Password not
  // long enough"): that part is worth showing.
  if (name === 'InvalidPasswordException' && /:\s*(.+)$/.test(detail)) {
    message = `The password does not meet the rules: ${/:\s*(.+)$/.exec(detail)?.[1] ?? ''}`;
  }
  return new CognitoError(name, message, detail);
}

interface AuthenticationResult {
  readonly IdToken?: string;
  readonly AccessToken?: string;
  readonly RefreshToken?: string;
  readonly ExpiresIn?: number;
}

export class CognitoClient {
  readonly endpoint: string;
  private readonly fetchImpl: FetchLike;

  constructor(private readonly options: CognitoOptions) {
    this.endpoint = options.endpoint ?? `https://cognito-idp.${options.region}.amazonaws.com/`;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** A new unconfirmed account; Cognito e-mails a code to confirm it (`confirmSignUp`). */
  async signUp(
    email: string,
    password: string,
    name: string,
  ): Promise<CodeDelivery & { confirmed: boolean }> {
    const answer = await this.call<{ UserConfirmed?: boolean; CodeDeliveryDetails?: DeliveryDetails }>(
      'SignUp',
      {
        ClientId: this.options.clientId,
        Username: email,
        Password: password,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'name', Value: name },
        ],
      },
    );
    return { confirmed: answer.UserConfirmed === true, ...delivery(answer.CodeDeliveryDetails) };
  }

  async confirmSignUp(email: string, code: string): Promise<void> {
    await this.call('ConfirmSignUp', {
      ClientId: this.options.clientId,
      Username: email,
      ConfirmationCode: code,
    });
  }

  async resendConfirmationCode(email: string): Promise<CodeDelivery> {
    const answer = await this.call<{ CodeDeliveryDetails?: DeliveryDetails }>('ResendConfirmationCode', {
      ClientId: this.options.clientId,
      Username: email,
    });
    return delivery(answer.CodeDeliveryDetails);
  }

  /** USER_PASSWORD_AUTH: the app client allows it (lib/chat-auth.ts). */
  async signIn(email: string, password: string): Promise<CognitoTokens> {
    const answer = await this.call<{ AuthenticationResult?: AuthenticationResult; ChallengeName?: string }>(
      'InitiateAuth',
      {
        ClientId: this.options.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      },
    );
    if (answer.AuthenticationResult === undefined) {
      // MFA is optional in the pool (TOTP): an account that turned it on gets a challenge this client
      // does not answer yet.
      throw new CognitoError(
        'UnsupportedChallenge',
        `This account needs a second sign-in step (${answer.ChallengeName ?? 'unknown'}) that this app does not support yet.`,
        answer.ChallengeName ?? '',
      );
    }
    return tokensOf(answer.AuthenticationResult);
  }

  /** REFRESH_TOKEN_AUTH: new ID and access tokens; the refresh token stays the same. */
  async refresh(refreshToken: string): Promise<CognitoTokens> {
    const answer = await this.call<{ AuthenticationResult?: AuthenticationResult }>('InitiateAuth', {
      ClientId: this.options.clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    if (answer.AuthenticationResult === undefined)
      throw new CognitoError('NotAuthorizedException', MESSAGES.NotAuthorizedException ?? '', 'no tokens');
    return tokensOf(answer.AuthenticationResult);
  }

  /** E-mails a code to set a new password with (`confirmForgotPassword`). */
  async forgotPassword(email: string): Promise<CodeDelivery> {
    const answer = await this.call<{ CodeDeliveryDetails?: DeliveryDetails }>('ForgotPassword', {
      ClientId: this.options.clientId,
      Username: email,
    });
    return delivery(answer.CodeDeliveryDetails);
  }

  async confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void> {
    await this.call('ConfirmForgotPassword', {
      ClientId: this.options.clientId,
      Username: email,
      ConfirmationCode: code,
      Password: newPassword,
    });
  }

  /**
   * Sign-out: revokes the refresh token (and the tokens issued from it; the app client has token
   * revocation on). Only this tab's session ends, as sessions are per tab.
   */
  async revokeToken(refreshToken: string): Promise<void> {
    await this.call('RevokeToken', { ClientId: this.options.clientId, Token: refreshToken });
  }

  private async call<T>(operation: string, body: Record<string, unknown>): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new CognitoError(
        'NetworkError',
        'Cannot reach the sign-in service. Check the connection.',
        detail,
      );
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = {};
    }
    if (!response.ok) {
      const type = typeof parsed.__type === 'string' ? parsed.__type : `HTTP ${response.status}`;
      const detail =
        typeof parsed.message === 'string'
          ? parsed.message
          : typeof parsed.Message === 'string'
            ? parsed.Message
            : '';
      throw cognitoError(type, detail);
    }
    return parsed as T;
  }
}

interface DeliveryDetails {
  readonly Destination?: string;
  readonly DeliveryMedium?: string;
}

const delivery = (details: DeliveryDetails | undefined): CodeDelivery => ({
  destination: details?.Destination,
  medium: details?.DeliveryMedium,
});

function tokensOf(result: AuthenticationResult): CognitoTokens {
  if (result.IdToken === undefined || result.AccessToken === undefined)
    throw new CognitoError('InvalidResponse', 'The sign-in service answered without tokens.', '');
  return {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    ...(result.RefreshToken === undefined ? {} : { refreshToken: result.RefreshToken }),
    // Cognito always sends ExpiresIn; an hour (its default) if it did not.
    expiresIn: typeof result.ExpiresIn === 'number' ? result.ExpiresIn : 3600,
  };
}
