import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { allHandlers } from '../../definitions/routes.js';
import { esbuildOptionsOf } from '../../lib/chat-bundling.js';
import { defaultRepoRoot } from '../../lib/chat-stack.js';

/** Per handler, the deployed `index.js` (source map not counted: Lambda only loads it on an error). */
const budgetBytes = 25 * 1024;

interface Bundle {
  readonly functionId: string;
  readonly bytes: number;
  readonly externals: readonly string[];
}

/** Bundles a handler as NodejsFunction would, in memory. */
async function bundle(functionId: string, entry: string): Promise<Bundle> {
  const outfile = join(defaultRepoRoot, 'cdk.out', 'bundle-budget', functionId, 'index.js');
  const result = await build({
    ...esbuildOptionsOf(),
    absWorkingDir: defaultRepoRoot,
    entryPoints: [join(defaultRepoRoot, entry)],
    outfile,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path === outfile);
  if (code === undefined) throw new Error(`${functionId}: esbuild wrote no ${outfile}`);
  const externals = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((imported) => imported.external).map((imported) => imported.path),
  );
  return { functionId, bytes: code.contents.byteLength, externals };
}

describe('handler bundles, built with the stack’s bundling options', () => {
  let bundles: Bundle[];
  beforeAll(async () => {
    bundles = await Promise.all(allHandlers.map((handler) => bundle(handler.functionId, handler.entry)));
  });

  it(`stay within ${budgetBytes} bytes each (cold start grows with the code Lambda loads)`, () => {
    expect(bundles).toHaveLength(allHandlers.length);
    const over = bundles.filter((b) => b.bytes > budgetBytes).map((b) => `${b.functionId}: ${b.bytes} B`);
    expect(over).toEqual([]);
  });

  it('leave only the AWS SDK to the runtime (and Node’s own modules), bundling every other package', () => {
    for (const { functionId, externals } of bundles) {
      const packages = externals.filter(
        (path) => !path.startsWith('node:') && !builtinModules.includes(path),
      );
      for (const external of packages) expect(external, functionId).toMatch(/^@aws-sdk\//);
    }
  });
});
