/**
 * What the global setup hands to every test file: where the chat API is and, on the local stack,
 * the extras that only a local run can offer (sign-in for fresh users, DynamoDB Local, short limits).
 */
import { inject } from 'vitest';
import type { LocalStack } from '../../../local/stack.js';

export interface LocalExtras {
  /** `POST` here with `{userId, displayName}` for a token. */
  readonly signInUrl: string;
  readonly dynamoEndpoint: string;
  /** The environment the handlers run with: table names, region and the fake credentials. */
  readonly env: Readonly<Record<string, string>>;
  readonly idleTimeoutMs: number;
  readonly maxConnectionMs: number;
  readonly maxFrameBytes: number;
  /** The offline e-mails and events of the local stack. */
  readonly notifications: NotificationExtras;
  /** The local Cognito (cognito-local behind local/cognito.ts's strict layer). */
  readonly cognito: LocalStack['cognito'];
}

export interface NotificationExtras {
  /** Every e-mail check runs this long after its message (NOTIFY_DELAY_SECONDS). */
  readonly delaySeconds: number;
  /** The local SES mailbox's JSON: `{"emails": [...]}`. */
  readonly mailboxUrl: string;
  /** Every event put on the bus: `{"events": [envelope, ...]}`. */
  readonly eventLogUrl: string;
  /** The local Scheduler (its `POST /faults` switch). */
  readonly schedulerUrl: string;
  /** The stack's webhook receiver (`GET`: `{"deliveries": [...]}`) and the key the deliveries are signed with. */
  readonly webhook: { readonly deliveriesUrl: string; readonly secret: string };
}

export interface StackInfo {
  /** REST base URL, without a trailing slash. */
  readonly restUrl: string;
  /** WebSocket URL, without query. */
  readonly wsUrl: string;
  /** Present when the suite runs against the local stack (always in CI). */
  readonly local: LocalExtras | null;
  /** Remote runs only: CHAT_TOKEN_1..3, the only users a deployed stack gives the suite. */
  readonly remoteTokens: readonly string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    chatStack: StackInfo;
  }
}

export function stack(): StackInfo {
  return inject('chatStack');
}

/** The local stack's extras; a test that needs them fails loudly when pointed at a deployed stack. */
export function localStack(): LocalExtras {
  const { local } = stack();
  if (local === null) {
    throw new Error('This check needs the local stack (DynamoDB Local, sign-in or shortened limits)');
  }
  return local;
}
