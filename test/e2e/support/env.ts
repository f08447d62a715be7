/** What the e2e global setup hands to the test files. */
import { inject } from 'vitest';
import type { LocalStack } from '../../../local/stack.js';

export interface E2eEnv {
  /** The web client, served by the local stack. */
  readonly webUrl: string;
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly signInUrl: string;
  readonly chromiumPath: string;
  /** The local mailbox page (Cognito's codes land there); its JSON at `<mailUrl>store`. */
  readonly mailUrl: string;
  /** The local Cognito, whose ID and access tokens last `tokenLifetimeSeconds`. */
  readonly cognito: LocalStack['cognito'] & { readonly tokenLifetimeSeconds: number };
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eEnv;
  }
}

export const e2eEnv = (): E2eEnv => inject('e2e');
