/**
 * Starts a local stack in a child process. One process holds one stack: the handlers are imported
 * once and the AWS SDK's clients read their endpoints from process.env when they are built, some
 * lazily inside an invocation (stack.ts). Test runners that need a second stack (vitest's e2e project
 * beside the integration project's, both set up in vitest's main process) start it here.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalStack, LocalStackOptions } from './stack.js';

/** What a stack in another process can tell: its addresses and settings, not its methods. */
export type LocalStackAddresses = Omit<
  LocalStack,
  'events' | 'emails' | 'deadLetters' | 'drainStreams' | 'stopDynamo' | 'startDynamo' | 'stop'
>;

export type ChildMessage =
  | { readonly type: 'ready'; readonly stack: LocalStackAddresses }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' };
export type ParentMessage = { readonly type: 'stop' };

export interface LocalStackProcess {
  readonly stack: LocalStackAddresses;
  /** Stops the stack and waits for its process to exit. */
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./stack-child.ts', import.meta.url));

export function startLocalStackProcess(options: LocalStackOptions): Promise<LocalStackProcess> {
  // tsx runs the TypeScript entry, as `npm start` does; stderr is the parent's, so failures show.
  const child = fork(CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.connected)
      child.send({ type: 'stop' } satisfies ParentMessage);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`The local stack's process exited before it was ready (${signal ?? `code ${code}`})`));
    child.once('exit', onExit);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        child.off('exit', onExit);
        resolve({ stack: message.stack, stop });
      } else if (message.type === 'failed') {
        child.off('exit', onExit);
        reject(new Error(`The local stack did not start: ${message.message}`));
      }
    });
  });
}
