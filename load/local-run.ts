/**
 * The part `npm run load` and `npm run load:interleave` share: a local stack in memory for the run,
 * stopped on Ctrl-C or at the end, and the check that no DynamoDB Local outlives it.
 */
import { dynamoLocalPids } from '../local/dynamo-local.js';

export interface RunTarget {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly signInUrl: string;
}

/**
 * Runs `run` against a fresh in-memory stack and answers its result, or undefined when a DynamoDB
 * Local was left running (already reported). `interrupted` says what to print on Ctrl-C.
 */
export async function onLocalStack<T>(
  interrupted: () => string,
  run: (target: RunTarget) => Promise<T>,
): Promise<T | undefined> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { startLocalStack } = await import('../local/stack.js');
  const started = performance.now();
  console.log('Starting the local stack (in memory)...');
  const stack = await startLocalStack({ port: 0, inMemory: true, quiet: true });
  const dynamoPort = Number(new URL(stack.dynamoEndpoint).port);
  console.log(`Stack ready after ${((performance.now() - started) / 1000).toFixed(1)} s at ${stack.restUrl}`);
  const stopOnSignal = () => {
    console.error(`${interrupted()}: stopping the stack...`);
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  let result: T;
  try {
    result = await run({
      restUrl: stack.restUrl.replace(/\/+$/, ''),
      wsUrl: stack.wsUrl,
      signInUrl: stack.signInUrl,
    });
  } finally {
    await stack.stop();
  }
  // No DynamoDB Local may outlive the stack.
  const orphans = dynamoLocalPids(dynamoPort);
  if (orphans.length > 0) {
    console.error(`DynamoDB Local still running after the stack stopped: pid ${orphans.join(', ')}`);
    return undefined;
  }
  console.log(`Stack stopped; no DynamoDB Local left on port ${dynamoPort}.`);
  return result;
}
