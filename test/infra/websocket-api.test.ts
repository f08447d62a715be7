import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { webSocketAuthorizer, webSocketRoutes } from '../../definitions/routes.js';
import {
  type CfnResourceJson,
  findResource,
  functionFor,
  logicalIdOf,
  onApi,
  onlyResource,
  resourcesOfType,
  type SynthesizedChat,
  synthesizeChat,
} from './helpers.js';

describe('WebSocket API', () => {
  let chat: SynthesizedChat;
  let apiId: string;
  let routes: CfnResourceJson[];
  beforeAll(() => {
    chat = synthesizeChat();
    [apiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'WEBSOCKET',
    );
    routes = Object.values(resourcesOfType(chat.template, 'AWS::ApiGatewayV2::Route')).filter(onApi(apiId));
  });

  it('selects routes on the action field of the frame', () => {
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has exactly the routes of the route table', () => {
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(
      webSocketRoutes.map((route) => route.routeKey).sort(),
    );
  });

  it('authorizes $connect with a Lambda REQUEST authorizer on the token query parameter', () => {
    const authorizerFunctionId = logicalIdOf(functionFor(chat.stack, webSocketAuthorizer));
    const [authorizerId] = findResource(chat.template, 'AWS::ApiGatewayV2::Authorizer', onApi(apiId));
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: apiId },
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
      AuthorizerUri: {
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [authorizerFunctionId, 'Arn'] }])],
      },
    });
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it.each(webSocketRoutes.map((route) => [route.routeKey, route] as const))(
    '%s reaches its own function, returning a response only if the definition says so',
    (routeKey, definition) => {
      const functionId = logicalIdOf(functionFor(chat.stack, definition));
      const [, route] = findResource(
        chat.template,
        'AWS::ApiGatewayV2::Route',
        (candidate) => onApi(apiId)(candidate) && candidate.Properties.RouteKey === routeKey,
      );
      const integrationId = (route.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] })[
        'Fn::Join'
      ][1][1].Ref;
      expect(
        resourcesOfType(chat.template, 'AWS::ApiGatewayV2::Integration')[integrationId]?.Properties,
      ).toMatchObject({
        ApiId: { Ref: apiId },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [functionId, 'Arn'] }])] },
      });
      expect(route.Properties.RouteResponseSelectionExpression).toBe(
        definition.returnResponse ? '$default' : undefined,
      );
      if (routeKey !== '$connect') expect(route.Properties.AuthorizationType).toBe('NONE');
    },
  );

  it('answers on a route response exactly for the routes that return one', () => {
    chat.template.resourceCountIs(
      'AWS::ApiGatewayV2::RouteResponse',
      webSocketRoutes.filter((route) => route.returnResponse).length,
    );
  });

  it('deploys a throttled prod stage whose access log never holds the token', () => {
    const [, stage] = findResource(chat.template, 'AWS::ApiGatewayV2::Stage', onApi(apiId));
    expect(stage.Properties).toMatchObject({
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    const { Format: format } = stage.Properties.AccessLogSettings as { Format: string };
    expect(Object.values(JSON.parse(format) as Record<string, string>)).toEqual(
      expect.arrayContaining([
        '$context.requestId',
        '$context.connectionId',
        '$context.routeKey',
        '$context.eventType',
        '$context.status',
        '$context.integrationLatency',
        '$context.error.message',
      ]),
    );
    expect(format).not.toMatch(/token|querystring|requestOverride|header|authorization/i);
  });

  it('sets the account-level CloudWatch role before the stage logs, and keeps it on deletion', () => {
    const [accountId, account] = onlyResource(chat.template, 'AWS::ApiGateway::Account');
    expect(account.DeletionPolicy).toBe('Retain');
    const roleId = (account.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    expect(resourcesOfType(chat.template, 'AWS::IAM::Role')[roleId]?.Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' } })],
      },
    });
    const [, stage] = findResource(chat.template, 'AWS::ApiGatewayV2::Stage', onApi(apiId));
    expect(stage.DependsOn).toContain(accountId);
  });
});
