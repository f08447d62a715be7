/**
 * Throttle errors injected into a real DynamoDB client, inside the SDK's retry loop: each attempt
 * of a planned operation passes this middleware, and the first N of them get DynamoDB's own answer
 * to a throttled request (HTTP 400 with the error's `__type`) instead of reaching the endpoint. The
 * SDK deserialises it into the real exception, and its default retry strategy decides what to do,
 * exactly as with a throttle from DynamoDB itself.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type ThrottleError = 'ProvisionedThroughputExceededException' | 'ThrottlingException';

const ERROR_TYPES: Record<ThrottleError, string> = {
  ProvisionedThroughputExceededException:
    'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  ThrottlingException: 'com.amazon.coral.availability#ThrottlingException',
};

/** `PutItemCommand` (and the document client's `PutCommand`) → `PutItem`. */
export function operationOf(commandName: unknown): string {
  const name = typeof commandName === 'string' ? commandName.replace(/Command$/, '') : 'unknown';
  const documentNames: Record<string, string> = {
    Put: 'PutItem',
    Get: 'GetItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
    TransactWrite: 'TransactWriteItems',
    TransactGet: 'TransactGetItems',
  };
  return documentNames[name] ?? name;
}

export class DynamoThrottles {
  /** Attempts that reached the injector (so also the ones the endpoint answered), per operation. */
  readonly attempts = new Map<string, number>();
  /** Throttle answers given, per operation. */
  readonly injected = new Map<string, number>();
  private readonly planned = new Map<string, { remaining: number; error: ThrottleError }>();

  /** The next `times` attempts of `operation` (e.g. `PutItem`) answer with `error`. */
  throttle(
    operation: string,
    times: number,
    error: ThrottleError = 'ProvisionedThroughputExceededException',
  ): void {
    this.planned.set(operation, { remaining: times, error });
  }

  attemptsOf(operation: string): number {
    return this.attempts.get(operation) ?? 0;
  }

  injectedInto(operation: string): number {
    return this.injected.get(operation) ?? 0;
  }

  /** Adds the middleware to `client` (and so to a document client built on it). */
  install(client: DynamoDBClient): DynamoDBClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationOf(context.commandName);
        this.attempts.set(operation, this.attemptsOf(operation) + 1);
        const plan = this.planned.get(operation);
        if (plan === undefined || plan.remaining === 0) return next(args);
        plan.remaining--;
        this.injected.set(operation, this.injectedInto(operation) + 1);
        const body = JSON.stringify({
          __type: ERROR_TYPES[plan.error],
          message: 'Rate of requests exceeds the allowed throughput.',
        });
        return {
          response: {
            statusCode: 400,
            reason: 'Bad Request',
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amzn-requestid': `THROTTLE${this.injectedInto(operation)}`,
            },
            body: new TextEncoder().encode(body),
          },
          output: undefined as never,
        };
      },
      // Inside the deserializer (which turns the answer into the SDK's exception) and so inside the
      // retry loop of the finalizeRequest step: every attempt passes here.
      { step: 'deserialize', priority: 'low', name: 'injectDynamoThrottles' },
    );
    return client;
  }
}
