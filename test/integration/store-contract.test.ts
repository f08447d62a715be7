/**
 * The ChatStore contract on the DynamoDB stores, against the local stack's DynamoDB Local: the
 * tables, key schemas and indexes the handlers use. The same suite holds the in-memory store to it
 * (test/unit/fakes/memory-store.test.ts). A FixedClock is injected, as into the fake, so connection
 * expiry is judged by the test's time.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoChatStore } from '../../lambdas/adapters/dynamo/chat-store.js';
import { describeChatStoreContract, uniqueIds } from '../contract/chat-store-contract.js';
import { FixedClock } from '../fakes/clock.js';
import { localDynamoClient, localTables } from './support/dynamo.js';
import { localStack } from './support/stack-info.js';

let client: DynamoDBDocumentClient | undefined;
const ids = uniqueIds();

describeChatStoreContract('DynamoDB stores on DynamoDB Local', () => {
  const local = localStack();
  client ??= DynamoDBDocumentClient.from(localDynamoClient(local.dynamoEndpoint, local.env));
  const clock = new FixedClock();
  return { store: dynamoChatStore(client, localTables(local.env), clock), clock, ids };
});
