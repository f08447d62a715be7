/**
 * A local stack in a process of its own (started by stack-process.ts): tells the parent what the
 * stack serves once it is up, and stops it, then exits, when the parent asks or goes away.
 */
import { type LocalStack, type LocalStackOptions, startLocalStack } from './stack.js';
import type { ChildMessage, ParentMessage } from './stack-process.js';

/** Tells the parent, if it is still there (the channel may have closed), then goes on. */
function tell(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LocalStackOptions;
  let stack: LocalStack | undefined;
  let stopWanted = false;
  let stopStarted = false;
  const stop = () => {
    stopWanted = true;
    // The process exits once the stack has stopped: a timer or socket left behind must not keep it.
    if (stack === undefined || stopStarted) return;
    stopStarted = true;
    void stack.stop().finally(() => process.exit(0));
  };
  // Listening before the start: a parent that dies or asks during it still gets the stack stopped
  // (DynamoDB Local is a JVM of its own that would otherwise outlive us).
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  try {
    stack = await startLocalStack(options);
  } catch (error) {
    await tell({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  }
  if (stopWanted) {
    stop();
    return;
  }
  const {
    events,
    emails,
    deadLetters,
    drainStreams,
    stopDynamo,
    startDynamo,
    stop: _stop,
    ...served
  } = stack;
  await tell({ type: 'ready', stack: served });
}

void main();
