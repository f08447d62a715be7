/**
 * Starts a local stack in a child process. One process holds one stack: the handlers are imported
 * once and the AWS SDK's clients read their endpoints from process.env when they are built, some
 * lazily inside an invocation (stack.ts). Test runners that need a second stack (vitest's e2e project
 * beside the integration project's, both set up in vitest's main process) start it here.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envBeforeLocalStacks, type LocalStack, type LocalStackOptions } from './stack.js';

/** What a stack in another process can tell: its addresses and settings, not its methods. */
export type LocalStackAddresses = Omit<
  LocalStack,
  'events' | 'emails' | 'deadLetters' | 'drainStreams' | 'stopDynamo' | 'startDynamo' | 'stop'
>;

export type ChildMessage =
  | { readonly type: 'ready'; readonly stack: LocalStackAddresses }
  | { readonly type: 'failed'; readonly message: string };
export type ParentMessage = { readonly type: 'stop' };

export interface LocalStackProcess {
  readonly stack: LocalStackAddresses;
  /** Stops the stack and waits for its process to exit (killed if it has not after `STOP_GRACE_MS`). */
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./stack-child.ts', import.meta.url));
/** A stack stops in about a second (DynamoDB Local's JVM is most of it). */
const STOP_GRACE_MS = 15_000;

export function startLocalStackProcess(options: LocalStackOptions): Promise<LocalStackProcess> {
  // tsx runs the TypeScript entry, as `npm start` does; stdout and stderr are the parent's, so
  // failures show. The environment is the one before any stack in this process wrote its settings.
  const child = fork(CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    env: envBeforeLocalStacks(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready = false;
  let stopAsked = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (ready && !stopAsked)
      console.error(`The local stack's process exited on its own (${signal ?? `code ${code}`})`);
  });
  const stop = async () => {
    stopAsked = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A closing channel refuses the message: the exit (or the kill below) still ends the wait.
    if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage, () => {});
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(kill);
  };
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`The local stack's process exited before it was ready (${signal ?? `code ${code}`})`));
    child.once('exit', onExit);
    child.once('error', (error) => {
      child.off('exit', onExit);
      reject(new Error(`The local stack's process could not start: ${error.message}`));
    });
    child.on('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      if (message.type === 'ready') {
        ready = true;
        resolve({ stack: message.stack, stop });
      } else {
        reject(new Error(`The local stack did not start: ${message.message}`));
      }
    });
  });
}
