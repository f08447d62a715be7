/**
 * Bundle size per handler, built with esbuild's JS API and the very bundling options the CDK stack
 * gives NodejsFunction (imported from lib/chat-bundling.ts, so a change there shows up here).
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { allHandlers } from '../../definitions/routes.js';
import {
  chatArchitecture,
  chatBundling,
  chatMemorySizeMb,
  chatRuntime,
  esbuildOptionsOf,
} from '../../lib/chat-bundling.js';

export interface CdkBundlingOptions {
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly sourcesContent: boolean;
  readonly target: string;
  readonly format: 'cjs' | 'esm';
  readonly external: readonly string[];
  readonly runtime: string;
  readonly memorySizeMb: number;
  readonly architecture: string;
}

export interface HandlerBundle {
  readonly functionId: string;
  readonly entry: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** `@aws-sdk/*` (and other external) modules the bundle requires at run time. */
  readonly externals: readonly string[];
  /** The inputs that take most of the output, for findings. */
  readonly largestInputs: readonly { readonly path: string; readonly bytes: number }[];
  readonly outfile: string;
  readonly error?: string;
}

/** The stack's bundling and function settings, as the report shows them. */
export function readCdkBundlingOptions(): CdkBundlingOptions {
  const esbuild = esbuildOptionsOf(chatBundling);
  return {
    minify: chatBundling.minify,
    sourcemap: chatBundling.sourceMap,
    sourcesContent: chatBundling.sourcesContent,
    target: chatBundling.target,
    format: esbuild.format === 'esm' ? 'esm' : 'cjs',
    external: [...chatBundling.externalModules],
    runtime: chatRuntime.name,
    memorySizeMb: chatMemorySizeMb,
    architecture: chatArchitecture.name,
  };
}

function externalsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) if (imported.external) found.add(imported.path);
  }
  return [...found].sort();
}

function largestInputs(metafile: Metafile, count: number) {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      // Group node_modules inputs by package: that is what one would remove or replace.
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const key = pkg === undefined ? path : `npm:${pkg}`;
      bytes.set(key, (bytes.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([path, size]) => ({ path, bytes: size }));
}

export async function bundleHandlers(
  repoRoot: string,
  outDir: string,
  options: CdkBundlingOptions,
): Promise<HandlerBundle[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // Node decides whether index.js is CommonJS from the nearest package.json above it: pin it here, as
  // a Lambda asset folder (which has none) would be, so that a stray one in a parent folder does not
  // turn the bundles into ES modules.
  writeFileSync(
    join(outDir, 'package.json'),
    JSON.stringify({ type: options.format === 'esm' ? 'module' : 'commonjs' }),
  );
  const bundles: HandlerBundle[] = [];
  for (const definition of allHandlers) {
    const dir = join(outDir, definition.functionId);
    mkdirSync(dir, { recursive: true });
    const outfile = join(dir, options.format === 'esm' ? 'index.mjs' : 'index.js');
    try {
      const result = await build({
        ...esbuildOptionsOf(chatBundling),
        absWorkingDir: repoRoot,
        entryPoints: [join(repoRoot, definition.entry)],
        outfile,
        metafile: true,
        write: true,
        logLevel: 'silent',
      });
      bundles.push({
        functionId: definition.functionId,
        entry: definition.entry,
        bytes: statSync(outfile).size,
        mapBytes: options.sourcemap ? statSync(`${outfile}.map`).size : 0,
        externals: externalsOf(result.metafile),
        largestInputs: largestInputs(result.metafile, 5),
        outfile,
      });
    } catch (error) {
      bundles.push({
        functionId: definition.functionId,
        entry: definition.entry,
        bytes: Number.NaN,
        mapBytes: Number.NaN,
        externals: [],
        largestInputs: [],
        outfile,
        error: error instanceof Error ? error.message.split('\n')[0] : String(error),
      });
    }
  }
  return bundles;
}
