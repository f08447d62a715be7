/** What the e2e global setup hands to the test files. */
import { inject } from 'vitest';

export interface E2eEnv {
  /** The web client, served by the local stack. */
  readonly webUrl: string;
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly signInUrl: string;
  readonly chromiumPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eEnv;
  }
}

export const e2eEnv = (): E2eEnv => inject('e2e');
