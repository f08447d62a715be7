import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnDistribution } from 'aws-cdk-lib/aws-cloudfront';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { expect } from 'vitest';
import type { HandlerDefinition } from '../../definitions/routes.js';
import type { ChatFunction } from '../../lib/chat-function.js';
import { ChatStack, type ChatStackProps } from '../../lib/chat-stack.js';

export interface SynthesizedChat {
  readonly app: App;
  readonly stack: ChatStack;
  readonly template: Template;
}

/** A fresh app without bundling (esbuild takes minutes on 2 cores; the template does not need it). */
export function newApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export function synthesizeChat(props: ChatStackProps = {}): SynthesizedChat {
  const app = newApp();
  const stack = new ChatStack(app, 'ChatStack', props);
  return { app, stack, template: Template.fromStack(stack) };
}

export function allFunctions(stack: ChatStack): ChatFunction[] {
  return [
    stack.auth.postConfirmationFunction,
    stack.files.checkFunction,
    ...stack.httpApi.functions,
    ...stack.webSocketApi.functions,
    ...stack.events.functions,
  ];
}

export function functionFor(stack: ChatStack, definition: HandlerDefinition): ChatFunction {
  const fn = allFunctions(stack).find((candidate) => candidate.definition === definition);
  if (fn === undefined) throw new Error(`No function for ${definition.functionId}`);
  return fn;
}

export function logicalIdOf(fn: ChatFunction): string {
  return Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnFunction);
}

/**
 * The chat's own functions in the template, by logical id: not the two aws-cdk-lib adds for the web
 * client's bucket (its deployment and the emptying of the bucket on delete: test/infra/web.test.ts).
 */
export function chatLambdas(chat: SynthesizedChat): Record<string, CfnResourceJson> {
  const all = resourcesOfType(chat.template, 'AWS::Lambda::Function');
  return Object.fromEntries(
    allFunctions(chat.stack).map((fn) => {
      const id = logicalIdOf(fn);
      const resource = all[id];
      if (resource === undefined) throw new Error(`No function ${id}`);
      return [id, resource];
    }),
  );
}

/** The web client's origin (`https://<distribution domain>`) as the template writes it. */
export function webOrigin(chat: SynthesizedChat): unknown {
  const distributionId = chat.stack.getLogicalId(
    chat.stack.web.distribution.node.defaultChild as CfnDistribution,
  );
  return { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] };
}

/** The logical ids of the functions aws-cdk-lib adds for the web client's bucket. */
export const siteFunctionIds = [
  /^CustomCDKBucketDeployment[0-9A-F]{32}512MiB[0-9A-F]{8}$/,
  /^CustomS3AutoDeleteObjectsCustomResourceProviderHandler[0-9A-F]{8}$/,
];

/** A CloudFormation resource as `Template.findResources` returns it. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
  readonly Metadata?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** An IAM policy statement as the template holds it. */
export interface StatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

/** The statements of an `AWS::IAM::Policy` or a bucket policy. */
export const policyStatements = (policy: CfnResourceJson): StatementJson[] =>
  (policy.Properties.PolicyDocument as { Statement: StatementJson[] }).Statement;

export function resourcesOfType(template: Template, type: string): Record<string, CfnResourceJson> {
  return template.findResources(type) as Record<string, CfnResourceJson>;
}

export function onlyResource(template: Template, type: string): [string, CfnResourceJson] {
  const entries = Object.entries(resourcesOfType(template, type));
  if (entries.length !== 1) throw new Error(`Expected one ${type}, found ${entries.length}`);
  return entries[0] as [string, CfnResourceJson];
}

/** The one resource of a type that satisfies the predicate; throws when there is none. */
export function findResource(
  template: Template,
  type: string,
  predicate: (resource: CfnResourceJson, logicalId: string) => boolean,
): [string, CfnResourceJson] {
  const found = Object.entries(resourcesOfType(template, type)).find(([id, resource]) =>
    predicate(resource, id),
  );
  if (found === undefined) throw new Error(`No matching ${type}`);
  return found;
}

/** Whether the resource belongs to the API with this logical id. */
export function onApi(apiId: string): (resource: CfnResourceJson) => boolean {
  return (resource) => (resource.Properties.ApiId as { Ref?: string }).Ref === apiId;
}

/** A stage's `DefaultRouteSettings` or one of its `RouteSettings` entries, throttling only. */
export interface ThrottleJson {
  readonly ThrottlingRateLimit: number;
  readonly ThrottlingBurstLimit: number;
}

/** The throttling of the API's stage: its default, its per-route settings and what it depends on. */
export function stageThrottlesOf(template: Template, apiId: string) {
  const [, stage] = findResource(template, 'AWS::ApiGatewayV2::Stage', onApi(apiId));
  return {
    dependsOn: stage.DependsOn ?? [],
    defaults: stage.Properties.DefaultRouteSettings as ThrottleJson,
    routeSettings: stage.Properties.RouteSettings as Record<string, ThrottleJson>,
  };
}

/**
 * What CloudFormation and API Gateway need of route settings: each key is the RouteKey of a route of
 * the same API, created before the stage; and each limit stays at or below the stage default (a
 * route setting replaces the default for its route, so a higher one would raise it).
 */
export function expectSoundRouteThrottles(template: Template, apiId: string): void {
  const { dependsOn, defaults, routeSettings } = stageThrottlesOf(template, apiId);
  const routeIds = new Map(
    Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'))
      .filter(([, route]) => onApi(apiId)(route))
      .map(([routeId, route]) => [route.Properties.RouteKey as string, routeId]),
  );
  for (const [routeKey, limits] of Object.entries(routeSettings)) {
    expect([...routeIds.keys()], routeKey).toContain(routeKey);
    expect(dependsOn, routeKey).toContain(routeIds.get(routeKey));
    expect(limits.ThrottlingRateLimit, routeKey).toBeLessThanOrEqual(defaults.ThrottlingRateLimit);
    expect(limits.ThrottlingBurstLimit, routeKey).toBeLessThanOrEqual(defaults.ThrottlingBurstLimit);
    expect(limits.ThrottlingBurstLimit, routeKey).toBeGreaterThanOrEqual(limits.ThrottlingRateLimit);
  }
}
