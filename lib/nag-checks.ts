import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/**
 * The cdk-nag packs the app is held to. cdk-nag 3 runs as a policy-validation plugin (v2's Aspects
 * API is gone): an unacknowledged error fails the synth. Acknowledgments live next to the code they
 * excuse, as `Validations.of(construct).acknowledge({ id, reason })`.
 */
export function nagPacks(app: App): [AwsSolutionsChecks, ServerlessChecks] {
  return [new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true })];
}

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(...nagPacks(app));
}
