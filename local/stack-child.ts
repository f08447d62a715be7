/**
 * A local stack in a process of its own (started by stack-process.ts): sends what the stack serves to
 * the parent once it is up, and stops it when the parent asks or goes away.
 */
import { type LocalStack, type LocalStackOptions, startLocalStack } from './stack.js';
import type { ChildMessage, ParentMessage } from './stack-process.js';

const send = (message: ChildMessage) => process.send?.(message);

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LocalStackOptions;
  let stack: LocalStack;
  try {
    stack = await startLocalStack(options);
  } catch (error) {
    send({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.disconnect?.();
    return;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stack.stop().finally(() => {
      send({ type: 'stopped' });
      process.disconnect?.();
    });
    return stopping;
  };
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') void stop();
  });
  // The parent died or closed the channel: nobody will ask, so stop now (DynamoDB Local is a JVM of
  // its own that would otherwise outlive us).
  process.on('disconnect', () => void stop());
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
  send({ type: 'ready', stack: served });
}

void main();
