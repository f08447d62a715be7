/**
 * The user pool's rules, declared once: the CDK stack (lib/chat-auth.ts) configures Cognito with them,
 * the local Cognito emulator (local/cognito.ts) enforces them, and the web client shows and checks them
 * on its sign-up and new-password forms before Cognito answers.
 *
 * Plain data on purpose: no aws-cdk-lib or AWS SDK import (the browser bundle imports this file).
 */

export const passwordPolicy = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
} as const;

/** A temporary password (an administrator-created user's) lasts this long. */
export const tempPasswordValidityDays = 3;

/**
 * The app client: public (no secret); the flows it allows (refresh is always allowed); user existence
 * errors prevented; refresh tokens revocable (sign-out).
 */
export const appClient = {
  authFlows: { userSrp: true, userPassword: true },
  preventUserExistenceErrors: true,
  enableTokenRevocation: true,
} as const;

/** The flows as Cognito lists them (`ExplicitAuthFlows`). */
export const explicitAuthFlows: readonly string[] = [
  ...(appClient.authFlows.userSrp ? ['ALLOW_USER_SRP_AUTH'] : []),
  ...(appClient.authFlows.userPassword ? ['ALLOW_USER_PASSWORD_AUTH'] : []),
  'ALLOW_REFRESH_TOKEN_AUTH',
];

/**
 * Token lifetimes of the app client (Cognito's defaults, stated so that the local emulator issues the
 * same `exp`). Cognito accepts 5 minutes to 1 day for ID and access tokens, 1 hour to 10 years for
 * refresh tokens.
 */
export const tokenValidity = {
  idTokenMinutes: 60,
  accessTokenMinutes: 60,
  refreshTokenDays: 30,
} as const;

/**
 * Cognito's symbol set for `requireSymbols` (Cognito developer guide, "Password policies"): the space
 * counts too, but not as a first or last character.
 */
const SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-';

/** What a password lacks under the policy, in the words of a form hint; empty when it is acceptable. */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  // Cognito counts characters (code points), not UTF-16 units.
  if ([...password].length < passwordPolicy.minLength)
    problems.push(`at least ${passwordPolicy.minLength} characters`);
  if (passwordPolicy.requireUppercase && !/[A-Z]/.test(password)) problems.push('an upper-case letter');
  if (passwordPolicy.requireLowercase && !/[a-z]/.test(password)) problems.push('a lower-case letter');
  if (passwordPolicy.requireDigits && !/[0-9]/.test(password)) problems.push('a digit');
  const inner = password.slice(1, -1);
  const hasSymbol = [...password].some((char) => SYMBOLS.includes(char)) || inner.includes(' ');
  if (passwordPolicy.requireSymbols && !hasSymbol) problems.push('a symbol such as ! ? # - or _');
  return problems;
}

/** The policy in one sentence, for the sign-up form. */
export const passwordRuleText = `At least ${passwordPolicy.minLength} characters, with an upper-case letter, a lower-case letter, a digit and a symbol.`;
