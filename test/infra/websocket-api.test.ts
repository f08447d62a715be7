import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { webSocketAuthorizer, webSocketRoutes } from '../../definitions/routes.js';
import { webSocketRouteThrottle, webSocketThrottle } from '../../lib/chat-websocket-api.js';
import { setRouteThrottles } from '../../lib/route-throttles.js';
import {
  type CfnResourceJson,
  expectSoundRouteThrottles,
  findResource,
  functionFor,
  logicalIdOf,
  newApp,
  onApi,
  onlyResource,
  resourcesOfType,
  type SynthesizedChat,
  stageThrottlesOf,
  synthesizeChat,
  type ThrottleJson,
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

  describe('per-route throttling', () => {
    let defaults: ThrottleJson;
    let routeSettings: Record<string, ThrottleJson>;
    beforeAll(() => {
      ({ defaults, routeSettings } = stageThrottlesOf(chat.template, apiId));
    });

    it('limits the costly and abusable routes as the exported table says', () => {
      expect(routeSettings).toEqual(
        Object.fromEntries(
          Object.entries(webSocketRouteThrottle).map(([routeKey, { rateLimit, burstLimit }]) => [
            routeKey,
            { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
          ]),
        ),
      );
      expect(Object.keys(routeSettings).sort()).toEqual(
        ['$connect', '$default', 'markRead', 'sendMessage', 'typing'].sort(),
      );
    });

    it('names only routes of this API, created before the stage, with limits at or below its default', () => {
      expect(defaults).toEqual({
        ThrottlingRateLimit: webSocketThrottle.rateLimit,
        ThrottlingBurstLimit: webSocketThrottle.burstLimit,
      });
      expectSoundRouteThrottles(chat.template, apiId);
    });
  });

  it('leaves the region’s API Gateway CloudWatch role setting alone by default', () => {
    chat.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Role'));
    expect(
      roles.filter((role) => JSON.stringify(role.Properties).includes('apigateway.amazonaws.com')),
    ).toEqual([]);
  });
});

describe('WebSocket API with -c apiGatewayCloudWatchRole=true', () => {
  let chat: SynthesizedChat;
  let accountId: string;
  let account: CfnResourceJson;
  beforeAll(() => {
    chat = synthesizeChat({ apiGatewayCloudWatchRole: true });
    [accountId, account] = onlyResource(chat.template, 'AWS::ApiGateway::Account');
  });

  it('sets the role, with its log policy attached in the role itself, before the Account names it', () => {
    const roleRef = account.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': [string, string] };
    expect(roleRef['Fn::GetAtt'][1]).toBe('Arn');
    const role = resourcesOfType(chat.template, 'AWS::IAM::Role')[roleRef['Fn::GetAtt'][0]];
    expect(role?.Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' } })],
      },
    });
    // The GetAtt orders the Account after the role; a policy in a separate resource would not be.
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
    const policies = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'));
    expect(
      policies.filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleRef['Fn::GetAtt'][0])),
    ).toEqual([]);
  });

  it('creates the WebSocket stage, whose access logs need the setting, after the Account', () => {
    const [apiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'WEBSOCKET',
    );
    const [, stage] = findResource(chat.template, 'AWS::ApiGatewayV2::Stage', onApi(apiId));
    expect(stage.Properties.AccessLogSettings).toBeDefined();
    expect(stage.DependsOn).toContain(accountId);
  });

  it('keeps the role and the setting when the stack is deleted: other APIs of the region use them', () => {
    expect(account.DeletionPolicy).toBe('Retain');
    const roleId = (account.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    expect(resourcesOfType(chat.template, 'AWS::IAM::Role')[roleId]?.DeletionPolicy).toBe('Retain');
  });
});

describe('setRouteThrottles', () => {
  function stageWithPingRoute() {
    const stack = new Stack(newApp(), 'Throttles');
    const webSocketApi = new apigwv2.WebSocketApi(stack, 'Api');
    const stage = new apigwv2.WebSocketStage(stack, 'Stage', { webSocketApi, stageName: 'test' });
    const route = new apigwv2.CfnRoute(stack, 'Ping', { apiId: webSocketApi.apiId, routeKey: 'ping' });
    return { stage, routes: new Map([['ping', route]]) };
  }
  const stageLimits = { rateLimit: 10, burstLimit: 20 };

  it('refuses a key that names no route, which CloudFormation would only refuse at deploy time', () => {
    const { stage, routes } = stageWithPingRoute();
    expect(() =>
      setRouteThrottles(stage, stageLimits, routes, { Ping: { rateLimit: 1, burstLimit: 2 } }),
    ).toThrow(/"Ping", which is no route/);
  });

  it('refuses a limit above the stage default, which would raise the route instead of lowering it', () => {
    const { stage, routes } = stageWithPingRoute();
    expect(() =>
      setRouteThrottles(stage, stageLimits, routes, { ping: { rateLimit: 11, burstLimit: 20 } }),
    ).toThrow(/above the stage default/);
    expect(() =>
      setRouteThrottles(stage, stageLimits, routes, { ping: { rateLimit: 10, burstLimit: 21 } }),
    ).toThrow(/above the stage default/);
  });
});
