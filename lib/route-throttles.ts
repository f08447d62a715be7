import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';

/** Requests (HTTP) or messages (WebSocket) per second, and the burst above that rate. */
export type RouteThrottle = Required<apigwv2.ThrottleSettings>;

/**
 * Writes per-route limits into the stage's `RouteSettings`, which the L2 stages do not expose.
 * CloudFormation fails the deployment on a key naming no route of the API, or a route it has not
 * created yet: hence the check against the routes really built, and the stage's dependency on them.
 */
export function setRouteThrottles(
  stage: apigwv2.IStage,
  stageThrottle: RouteThrottle,
  routes: ReadonlyMap<string, apigwv2.CfnRoute>,
  throttles: Readonly<Record<string, RouteThrottle>>,
): void {
  const settings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
  for (const [routeKey, { rateLimit, burstLimit }] of Object.entries(throttles)) {
    const route = routes.get(routeKey);
    if (route === undefined) throw new Error(`Throttle for "${routeKey}", which is no route of the API`);
    if (rateLimit > stageThrottle.rateLimit || burstLimit > stageThrottle.burstLimit) {
      throw new Error(`Throttle for "${routeKey}" above the stage default, which it would raise, not lower`);
    }
    stage.node.addDependency(route);
    // `routeSettings` is untyped JSON, so CDK does not capitalise these property names itself.
    settings[routeKey] = { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit };
  }
  (stage.node.defaultChild as apigwv2.CfnStage).routeSettings = settings;
}
