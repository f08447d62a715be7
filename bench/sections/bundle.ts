/**
 * Bundle size per handler, built with esbuild's JS API and the options the CDK stack gives
 * NodejsFunction (read from lib/chat-function.ts, so a change there shows up here). NodejsFunction
 * runs `esbuild --bundle <entry> --target=… --platform=node --format=… --minify --sourcemap
 * --sources-content=false --external:…`: the same flags below.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { allHandlers } from '../../definitions/routes.js';

export interface CdkBundlingOptions {
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly sourcesContent: boolean;
  readonly target: string;
  readonly format: 'cjs' | 'esm';
  readonly external: readonly string[];
  /** What could not be read from lib/ and fell back to a default (reported). */
  readonly assumed: readonly string[];
  readonly runtime: string | undefined;
  readonly memorySizeMb: number | undefined;
  readonly architecture: string | undefined;
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

/** Reads the bundling block of lib/chat-function.ts; anything missing falls back to CDK's defaults. */
export function readCdkBundlingOptions(repoRoot: string): CdkBundlingOptions {
  const file = join(repoRoot, 'lib', 'chat-function.ts');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // reported through `assumed`
  }
  const assumed: string[] = [];
  const bool = (name: string, fallback: boolean) => {
    const match = new RegExp(`\\b${name}\\s*:\\s*(true|false)`).exec(text);
    if (match === null) assumed.push(`${name}=${fallback}`);
    return match === null ? fallback : match[1] === 'true';
  };
  const targetMatch = /\btarget\s*:\s*'([^']+)'/.exec(text);
  const runtimeMatch = /Runtime\.(NODEJS_[0-9A-Z_]+)/.exec(text);
  const target =
    targetMatch?.[1] ?? (runtimeMatch?.[1] ? `node${runtimeMatch[1].replace(/\D/g, '')}` : 'node22');
  if (targetMatch === null) assumed.push(`target=${target} (from the runtime)`);
  const formatMatch = /OutputFormat\.(CJS|ESM)/.exec(text);
  if (formatMatch === null) assumed.push('format=cjs');
  const externalMatch = /externalModules\s*:\s*\[([^\]]*)\]/.exec(text);
  const external = externalMatch?.[1]
    ? [...externalMatch[1].matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '')
    : ['@aws-sdk/*'];
  if (externalMatch === null) assumed.push('external=@aws-sdk/*');
  const memory = /memorySize\s*:\s*(\d+)/.exec(text);
  const architecture = /Architecture\.(ARM_64|X86_64)/.exec(text);
  return {
    minify: bool('minify', false),
    sourcemap: bool('sourceMap', false),
    sourcesContent: bool('sourcesContent', true),
    target,
    format: formatMatch?.[1] === 'ESM' ? 'esm' : 'cjs',
    external,
    assumed,
    runtime: runtimeMatch?.[1],
    memorySizeMb: memory?.[1] === undefined ? undefined : Number(memory[1]),
    architecture: architecture?.[1],
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
        absWorkingDir: repoRoot,
        entryPoints: [join(repoRoot, definition.entry)],
        bundle: true,
        platform: 'node',
        target: options.target,
        format: options.format,
        minify: options.minify,
        sourcemap: options.sourcemap,
        sourcesContent: options.sourcesContent,
        external: [...options.external],
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
