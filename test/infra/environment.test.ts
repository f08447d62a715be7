import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRepoRoot } from '../../lib/chat-stack.js';

interface CdkJson {
  readonly context?: Record<string, unknown>;
  readonly versionReporting?: boolean;
}

/**
 * Runs bin/chat.ts the way the CDK CLI does (context and output directory through the environment),
 * on a machine whose AWS configuration names a region and an account: what the app reads from
 * there must not end up in the template.
 */
function synthesizeApp(outdir: string): string {
  const cdkJson = JSON.parse(readFileSync(join(defaultRepoRoot, 'cdk.json'), 'utf8')) as CdkJson;
  execFileSync(process.execPath, ['--import', 'tsx', join(defaultRepoRoot, 'bin', 'chat.ts')], {
    cwd: defaultRepoRoot,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      // No bundling: the template does not depend on it, and esbuild would take most of a minute.
      CDK_CONTEXT_JSON: JSON.stringify({
        ...cdkJson.context,
        // As the CLI passes it: on unless cdk.json turns it off. On, an environment-agnostic template
        // gets a condition listing every region where the CDK's usage metadata resource exists.
        'aws:cdk:version-reporting': cdkJson.versionReporting ?? true,
        'aws:cdk:bundling-stacks': [],
      }),
      CDK_DEFAULT_REGION: 'eu-west-1',
      CDK_DEFAULT_ACCOUNT: '123456789012',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    },
    stdio: 'pipe',
  });
  // Compact, so that the assertions below do not depend on how the CLI indents.
  return JSON.stringify(JSON.parse(readFileSync(join(outdir, 'ChatStack.template.json'), 'utf8')));
}

describe('the synthesized app is environment-agnostic', () => {
  let outdir: string;
  let template: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'chat-synth-'));
    template = synthesizeApp(outdir);
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('names no region: ARNs, URLs and outputs use AWS::Region', () => {
    expect(template).not.toContain('eu-west-1');
    // The CLI's fallback when no region is configured anywhere.
    expect(template).not.toContain('us-east-1');
    expect(template).not.toMatch(/\b[a-z]{2}(-gov)?-[a-z]+-\d\b/);
    expect(template).toContain('{"Ref":"AWS::Region"}');
  });

  it('names no account', () => {
    expect(template.match(/\b\d{12}\b/g) ?? []).toEqual([]);
  });
});
