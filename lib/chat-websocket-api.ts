import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { webSocketAuthorizer, webSocketRoutes } from '../definitions/routes.js';
import { ChatFunction, type ChatFunctionResources, waitedOnTimeout } from './chat-function.js';
import { type RouteThrottle, setRouteThrottles } from './route-throttles.js';

export interface ChatWebSocketApiProps {
  /** Tables and user pool; the stage is created here. */
  readonly resources: Omit<ChatFunctionResources, 'webSocketStage'>;
  readonly repoRoot: string;
  /**
   * Whether to set the region's API Gateway CloudWatch role (see ApiGatewayCloudWatchRole). Without
   * it, the stage's access logs need that setting to exist already, or the stage fails to deploy.
   */
  readonly apiGatewayCloudWatchRole?: boolean;
}

export const webSocketStageName = 'prod';

/**
 * The stage's default limit, which API Gateway applies to each route on its own (messages per second
 * across all connections); the account-wide limit is far higher.
 */
export const webSocketThrottle = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Per-route limits, overriding the stage's default for the routes whose frames cost the most or
 * are the easiest to abuse. Keys are route keys; routes left out (`$disconnect`, `ping`) keep the
 * stage default. API Gateway counts across all clients: these cap what a route can cost, not what one
 * user may send.
 */
export const webSocketRouteThrottle = {
  // Authorizer, DynamoDB writes and a presence fan-out per connect; clients retry a refused handshake with backoff, so a reconnect storm gets spread out.
  $connect: { rateLimit: 20, burstLimit: 40 },
  // Two writes and a fan-out per frame, but it is the traffic the chat exists for: the highest of these limits.
  sendMessage: { rateLimit: 50, burstLimit: 100 },
  // A room write and a fan-out per frame, while a well-behaved client sends one per burst of messages.
  markRead: { rateLimit: 25, burstLimit: 50 },
  // Fanned out on every frame yet never stored, so a dropped one costs nothing: the cheapest route to flood.
  typing: { rateLimit: 20, burstLimit: 40 },
  // Only unknown actions and malformed frames land here, never a real client's, yet each costs an invocation.
  $default: { rateLimit: 5, burstLimit: 10 },
} as const satisfies Record<string, RouteThrottle>;

/**
 * Access log fields. The token travels in the `$connect` query string, so nothing that can echo the
 * request (query string, headers, `$context.requestOverride`) is ever logged.
 */
export const webSocketAccessLogFormat = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  connectionId: '$context.connectionId',
  routeKey: '$context.routeKey',
  eventType: '$context.eventType',
  messageDirection: '$context.messageDirection',
  status: '$context.status',
  integrationLatency: '$context.integrationLatency',
  error: '$context.error.message',
  authorizerError: '$context.authorizer.error',
} as const;

/**
 * The API Gateway account setting (one per account and region) naming the role API Gateway uses to
 * write WebSocket and REST logs to CloudWatch. Created only on request
 * (`-c apiGatewayCloudWatchRole=true`), because:
 * - it is not this stack's to own: it replaces whatever role the region already uses for every API
 *   (last deploy wins), and outlives the stack (retained, like the CDK's own RestApi does, since
 *   other APIs may rely on it by then);
 * - on a first deploy it can fail with "The role ARN does not have required permissions" (aws-cdk
 *   issue 2194): API Gateway checks the role as soon as it exists, before IAM has propagated it, and
 *   no CloudFormation ordering waits for propagation. A second deploy then succeeds.
 * Most accounts have the setting already (any REST API or WebSocket API with logging, or the console
 * set it); README's deploy section says how to check it and when to ask for this construct.
 */
class ApiGatewayCloudWatchRole extends Construct {
  readonly account: apigateway.CfnAccount;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The policy is attached through the role's own ManagedPolicyArns, not a separate AWS::IAM::Policy:
    // CloudFormation has attached it once the role exists, so the Account's GetAtt on the role orders
    // it after both the role and its policy.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway account-level role for writing CloudWatch logs',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.account = new apigateway.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
    this.account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the API Gateway account role; the role is region-wide (shared by every API in the account), so it cannot be scoped to this stack’s log groups.',
    });
  }
}

/**
 * The real-time side: a WebSocket API whose `$connect` goes through a Lambda REQUEST authorizer
 * reading `?token=`, one function per route, and the `prod` stage whose `@connections` management
 * API the posting functions are allowed to call.
 */
export class ChatWebSocketApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly functions: readonly ChatFunction[];

  constructor(scope: Construct, id: string, props: ChatWebSocketApiProps) {
    super(scope, id);
    const { repoRoot } = props;

    this.api = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'Chat WebSocket API',
      routeSelectionExpression: '$request.body.action',
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: webSocketStageName,
      autoDeploy: true,
      throttle: webSocketThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(webSocketAccessLogFormat)),
      },
    });
    // Unlike HTTP APIs, WebSocket APIs write their logs with the region's account-level role: a stage
    // with access logs created before the setting fails.
    if (props.apiGatewayCloudWatchRole === true) {
      this.stage.node.addDependency(new ApiGatewayCloudWatchRole(this, 'CloudWatchRole').account);
    }

    const resources: ChatFunctionResources = { ...props.resources, webSocketStage: this.stage };

    const authorizerFunction = new ChatFunction(this, {
      definition: webSocketAuthorizer,
      resources,
      repoRoot,
      timeout: waitedOnTimeout,
    });
    const authorizer = new WebSocketLambdaAuthorizer('WebSocketAuthorizer', authorizerFunction, {
      authorizerName: 'jwt-query',
      // A request without `token` is refused by API Gateway itself (401), without invoking the function.
      identitySource: ['route.request.querystring.token'],
    });

    const routes = new Map<string, apigwv2.CfnRoute>();
    this.functions = [
      authorizerFunction,
      ...webSocketRoutes.map((route) => {
        const fn = new ChatFunction(this, { definition: route, resources, repoRoot });
        const isConnect = route.routeKey === '$connect';
        const wsRoute = this.api.addRoute(route.routeKey, {
          integration: new WebSocketLambdaIntegration(`${route.functionId}Integration`, fn),
          authorizer: isConnect ? authorizer : undefined,
          returnResponse: route.returnResponse,
        });
        const cfnRoute = wsRoute.node.defaultChild as apigwv2.CfnRoute;
        routes.set(cfnRoute.routeKey, cfnRoute);
        if (!isConnect) {
          Validations.of(wsRoute).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason: `API Gateway authorizes a WebSocket connection once, on $connect; ${route.routeKey} only runs on a connection that passed the Lambda authorizer and gets its userId from the authorizer context.`,
          });
        }
        return fn;
      }),
    ];
    setRouteThrottles(this.stage, webSocketThrottle, routes, webSocketRouteThrottle);
  }

  /** The `wss://` URL clients connect to (append `?token=<JWT>`). */
  get url(): string {
    return this.stage.url;
  }
}
