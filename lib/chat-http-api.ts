import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { httpAuthorizer, httpRoutes } from '../definitions/routes.js';
import { ChatFunction, type ChatFunctionResources, waitedOnTimeout } from './chat-function.js';
import { type RouteThrottle, setRouteThrottles } from './route-throttles.js';

export interface ChatHttpApiProps {
  readonly resources: ChatFunctionResources;
  readonly repoRoot: string;
  /** Browser origins allowed by CORS; empty: no CORS configuration at all. */
  readonly allowedOrigins: readonly string[];
}

/**
 * The stage's default limit, which API Gateway applies to each route on its own (requests per second
 * across all clients); the account-wide limit is far higher.
 */
export const httpThrottle = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * Per-route limits, overriding the stage default for the routes that write. Keys are route keys as
 * synthesized (no trailing slash); the reads left out (`GET /chat/list`, `GET /users/me`) keep the
 * stage default. API Gateway counts across all clients: these cap what a route can cost, not what one
 * user may send.
 */
export const httpRouteThrottle = {
  // The newest page marks the room read and fans that out; every reconnect catches up each watched room through it, so it stays near the reads.
  'GET /chat/messages/{roomId}': { rateLimit: 30, burstLimit: 60 },
  // A room write and a fan-out per call, while the web client sends one per burst of messages.
  'POST /chat/read/{roomId}': { rateLimit: 20, burstLimit: 40 },
  // Creates rooms and tells whether a user id exists: rare for a person, so a high rate is room spam or user-id probing.
  'POST /chat/start/{userId}': { rateLimit: 5, burstLimit: 10 },
  // A rare human action; a loop here only burns writes to the users table.
  'PUT /users/me': { rateLimit: 5, burstLimit: 10 },
  // Each form lets a browser store up to maxUploadBytes (deleted after a day if never attached): a
  // message carries at most 10 attachments, so a burst of 20 covers two full messages at once.
  'POST /chat/uploads/{roomId}': { rateLimit: 10, burstLimit: 20 },
  // A rare human action, like the profile update that follows it.
  'POST /users/me/avatar': { rateLimit: 5, burstLimit: 10 },
  // No authorizer in front, and a Lambda invocation for every unknown path: only old clients' trailing
  // slashes belong here (the SDK calls the canonical paths), so a flood is capped low.
  'ANY /{proxy+}': { rateLimit: 10, burstLimit: 20 },
} as const satisfies Record<string, RouteThrottle>;

/**
 * Access log fields. Deliberately absent: headers (the Authorization bearer token), the query string
 * and the request path (user and room ids), so the log never holds a credential.
 */
export const httpAccessLogFormat = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
} as const;

/** The REST side: an HTTP API with a Lambda authorizer in front of every route. */
export class ChatHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly functions: readonly ChatFunction[];

  constructor(scope: Construct, id: string, props: ChatHttpApiProps) {
    super(scope, id);
    const { resources, repoRoot } = props;

    const authorizerFunction = new ChatFunction(this, {
      definition: httpAuthorizer,
      resources,
      repoRoot,
      timeout: waitedOnTimeout,
    });
    const authorizer = new HttpLambdaAuthorizer('HttpAuthorizer', authorizerFunction, {
      authorizerName: 'jwt',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: Duration.minutes(5),
    });

    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Chat REST API',
      createDefaultStage: false,
      corsPreflight:
        props.allowedOrigins.length === 0
          ? undefined
          : {
              allowOrigins: [...props.allowedOrigins],
              allowMethods: [
                apigwv2.CorsHttpMethod.GET,
                apigwv2.CorsHttpMethod.POST,
                apigwv2.CorsHttpMethod.PUT,
                apigwv2.CorsHttpMethod.OPTIONS,
              ],
              allowHeaders: ['Authorization', 'Content-Type'],
              maxAge: Duration.hours(1),
            },
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: httpThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(httpAccessLogFormat)),
      },
    });

    const routes = new Map<string, apigwv2.CfnRoute>();
    this.functions = [
      authorizerFunction,
      ...httpRoutes.map((route) => {
        const fn = new ChatFunction(this, { definition: route, resources, repoRoot });
        const integration = new HttpLambdaIntegration(`${route.functionId}Integration`, fn);
        // A route key cannot end in "/": the seed's "/chat/list/" reaches the catch-all route, whose
        // function redirects it (definitions/routes.ts). Without `authorizer` the route's type is NONE.
        for (const httpRoute of this.api.addRoutes({
          path: route.path,
          methods: [apigwv2.HttpMethod[route.method]],
          integration,
          ...(route.unauthenticated === true ? {} : { authorizer }),
        })) {
          const cfnRoute = httpRoute.node.defaultChild as apigwv2.CfnRoute;
          routes.set(cfnRoute.routeKey, cfnRoute);
          if (route.unauthenticated === true) {
            Validations.of(httpRoute).acknowledge({
              id: 'AwsSolutions-APIG4',
              reason: `${cfnRoute.routeKey} only answers 308 to a route's own path (which has the authorizer) or 404; its function reads no table and knows no user, and the route is throttled low.`,
            });
          }
        }
        return fn;
      }),
    ];
    setRouteThrottles(this.stage, httpThrottle, routes, httpRouteThrottle);
  }

  get url(): string {
    // The $default stage is served at the API's root.
    return this.api.apiEndpoint;
  }
}
