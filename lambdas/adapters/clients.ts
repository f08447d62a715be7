/**
 * The DynamoDB client, built once per container. Endpoints come from the SDK's own configuration
 * (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB on the local stack), never from a "local" branch here.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function makeDocumentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
