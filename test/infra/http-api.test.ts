import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpAuthorizer, httpRoutes } from '../../definitions/routes.js';
import { httpRouteThrottle, httpThrottle } from '../../lib/chat-http-api.js';
import {
  expectSoundRouteThrottles,
  findResource,
  functionFor,
  logicalIdOf,
  onApi,
  resourcesOfType,
  type SynthesizedChat,
  stageThrottlesOf,
  synthesizeChat,
  type ThrottleJson,
  webOrigin,
} from './helpers.js';

describe('HTTP API', () => {
  let chat: SynthesizedChat;
  let apiId: string;
  let authorizerId: string;
  beforeAll(() => {
    chat = synthesizeChat();
    [apiId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Api',
      (api) => api.Properties.ProtocolType === 'HTTP',
    );
    [authorizerId] = findResource(chat.template, 'AWS::ApiGatewayV2::Authorizer', onApi(apiId));
  });

  it('has a Lambda authorizer: simple responses, bearer header, results cached', () => {
    const authorizerFunctionId = logicalIdOf(functionFor(chat.stack, httpAuthorizer));
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: apiId },
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 300,
      AuthorizerUri: {
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [authorizerFunctionId, 'Arn'] }])],
      },
    });
  });

  it('has exactly the routes of the route table, none ending in a slash', () => {
    const routeKeys = Object.values(resourcesOfType(chat.template, 'AWS::ApiGatewayV2::Route'))
      .filter(onApi(apiId))
      .map((route) => route.Properties.RouteKey as string)
      .sort();
    expect(routeKeys).toEqual(httpRoutes.map((route) => `${route.method} ${route.path}`).sort());
    // API Gateway rejects HTTP route keys ending in "/".
    for (const key of routeKeys) expect(key).not.toMatch(/\/$/);
  });

  it('sends every path no other route takes ("/chat/list/" included) to the trailing-slash function, with no authorizer', () => {
    const catchAll = httpRoutes.find((route) => route.path === '/{proxy+}');
    expect(catchAll).toMatchObject({ method: 'ANY', unauthenticated: true, tables: {} });
    if (catchAll === undefined) return;
    const functionId = logicalIdOf(functionFor(chat.stack, catchAll));
    const [integrationId] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Integration',
      (candidate) =>
        JSON.stringify(candidate.Properties.IntegrationUri) ===
        JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] }),
    );
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: 'ANY /{proxy+}',
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
    // Only the catch-all goes without the authorizer.
    const open = Object.values(resourcesOfType(chat.template, 'AWS::ApiGatewayV2::Route'))
      .filter(onApi(apiId))
      .filter((route) => route.Properties.AuthorizationType !== 'CUSTOM')
      .map((route) => route.Properties.RouteKey);
    expect(open).toEqual(['ANY /{proxy+}']);
  });

  it.each(
    httpRoutes
      .filter((route) => route.unauthenticated !== true)
      .map((route) => [`${route.method} ${route.path}`, route] as const),
  )('%s goes through the Lambda authorizer to its own function', (routeKey, route) => {
    const functionId = logicalIdOf(functionFor(chat.stack, route));
    const [integrationId, integration] = findResource(
      chat.template,
      'AWS::ApiGatewayV2::Integration',
      (candidate) =>
        JSON.stringify(candidate.Properties.IntegrationUri) ===
        JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] }),
    );
    expect(integration.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: routeKey,
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
  });

  it('allows the stack’s own web client only, unless other origins are given', () => {
    chat.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: [webOrigin(chat)] }),
    });
  });

  it('serves a throttled $default stage with token-free JSON access logs', () => {
    const stages = Object.values(resourcesOfType(chat.template, 'AWS::ApiGatewayV2::Stage')).filter(
      onApi(apiId),
    );
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.Properties ?? {};
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const settings = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };
    const [logGroupId] = (settings.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    expect(resourcesOfType(chat.template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties).toMatchObject({
      RetentionInDays: 30,
    });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(settings.Format).not.toMatch(/token|querystring|header|authorization|requestOverride/i);
  });

  describe('per-route throttling', () => {
    let defaults: ThrottleJson;
    let routeSettings: Record<string, ThrottleJson>;
    beforeAll(() => {
      ({ defaults, routeSettings } = stageThrottlesOf(chat.template, apiId));
    });

    it('limits the routes that write as the exported table says, reads keeping the stage default', () => {
      expect(routeSettings).toEqual(
        Object.fromEntries(
          Object.entries(httpRouteThrottle).map(([routeKey, { rateLimit, burstLimit }]) => [
            routeKey,
            { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
          ]),
        ),
      );
      expect(Object.keys(routeSettings).sort()).toEqual(
        [
          'GET /chat/messages/{roomId}',
          'POST /chat/read/{roomId}',
          'POST /chat/start/{userId}',
          'PUT /users/me',
          'POST /chat/uploads/{roomId}',
          'POST /users/me/avatar',
          'ANY /{proxy+}',
        ].sort(),
      );
      expect(routeSettings['GET /chat/list']).toBeUndefined();
      expect(routeSettings['GET /users/me']).toBeUndefined();
    });

    it('names only routes of this API, created before the stage, with limits at or below its default', () => {
      expect(defaults).toEqual({
        ThrottlingRateLimit: httpThrottle.rateLimit,
        ThrottlingBurstLimit: httpThrottle.burstLimit,
      });
      expectSoundRouteThrottles(chat.template, apiId);
    });

    it('gives the routes that create rooms, rewrite profiles or sign avatar forms less than any other route', () => {
      const rare = ['POST /chat/start/{userId}', 'PUT /users/me', 'POST /users/me/avatar'];
      const others = Object.entries(routeSettings).filter(([routeKey]) => !rare.includes(routeKey));
      for (const writeKey of rare) {
        const write = routeSettings[writeKey];
        for (const [otherKey, other] of [...others, ['(stage default)', defaults] as const]) {
          expect(write?.ThrottlingRateLimit, `${writeKey} vs ${otherKey}`).toBeLessThan(
            other.ThrottlingRateLimit,
          );
        }
      }
    });
  });
});

describe('HTTP API with allowed origins', () => {
  it('allows exactly the stack’s web client and those origins, with the Authorization and Content-Type headers', () => {
    const withOrigins = synthesizeChat({
      allowedOrigins: ['https://chat.example.com', 'http://localhost:5173'],
    });
    withOrigins.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: [webOrigin(withOrigins), 'https://chat.example.com', 'http://localhost:5173'],
        AllowHeaders: ['Authorization', 'Content-Type'],
        AllowMethods: Match.arrayWith(['GET', 'POST', 'PUT']),
        AllowCredentials: Match.absent(),
      },
    });
  });
});
