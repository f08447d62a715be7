import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * Node 22 on Lambda: the oldest runtime the functions may need, and the one `chatBundling.target`
 * compiles for. Local tooling and tests run on Node 20 (see package.json `engines`), which is why the
 * handlers' code stays within what Node 20 also runs.
 */
export const chatRuntime = lambda.Runtime.NODEJS_22_X;
export const chatArchitecture = lambda.Architecture.ARM_64;
export const chatMemorySizeMb = 512;

/** The bundling options this project sets, each one explicitly. */
export type ChatBundling = Required<
  Pick<BundlingOptions, 'minify' | 'sourceMap' | 'sourcesContent' | 'target' | 'format' | 'externalModules'>
>;

/**
 * How NodejsFunction bundles every handler. Exported so that the bundle-size test and the bench
 * build with these very options instead of a copy that could drift.
 */
export const chatBundling: ChatBundling = {
  minify: true,
  sourceMap: true,
  // File and line numbers are enough for stack traces; embedding the sources doubles the bundle.
  sourcesContent: false,
  target: 'node22',
  format: OutputFormat.CJS,
  // The Node.js runtime ships AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
};

/**
 * The esbuild build options NodejsFunction derives from `bundling`: it runs `esbuild --bundle <entry>
 * --target=… --platform=node --format=… --minify --sourcemap --sources-content=false --external:…`.
 * Entry and output are the caller's.
 */
export function esbuildOptionsOf(bundling: ChatBundling = chatBundling): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    target: bundling.target,
    format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: [...bundling.externalModules],
  };
}
