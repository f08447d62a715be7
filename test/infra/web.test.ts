import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerCsp, staticCsp } from '../../definitions/web.js';
import { defaultRepoRoot } from '../../lib/chat-stack.js';
import { buildSite, cspMarker, spaRewriteCode, withCspMeta } from '../../lib/chat-web.js';
import {
  type CfnResourceJson,
  findResource,
  onlyResource,
  policyStatements,
  type SynthesizedChat,
  synthesizeChat,
  webOrigin,
} from './helpers.js';

/**
 * A template value as one readable string: `Fn::Join` joined, `Ref` as `<Id>`, `Fn::GetAtt` as
 * `<Id.Attribute>`, so that assertions can read a policy or a URL the way CloudFormation will build it.
 */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(delimiter);
  }
  if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  if (typeof node.Ref === 'string') return `<${node.Ref}>`;
  throw new Error(`Unexpected template value ${JSON.stringify(value)}`);
}

/** A Content-Security-Policy as directive → sources. */
function parseCsp(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const directive of policy.split(';')) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name === undefined || name === '') continue;
    expect(directives.has(name), `${name} given twice`).toBe(false);
    directives.set(name, sources);
  }
  return directives;
}

/** Every resource another one references (Ref, GetAtt, Sub, DependsOn): the deploy order's edges. */
function references(resource: unknown, ids: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string' && ids.has(value)) found.add(value);
      else if (key === 'Fn::GetAtt' && Array.isArray(value) && ids.has(String(value[0])))
        found.add(String(value[0]));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? String(value[0]) : String(value);
        for (const [, name] of text.matchAll(/\$\{([^}.!]+)[^}]*\}/g))
          if (name !== undefined && ids.has(name)) found.add(name);
        visit(value);
      } else if (key === 'DependsOn') for (const id of [value].flat()) found.add(String(id));
      else visit(value);
    }
  };
  visit(resource);
  return found;
}

/** A dependency cycle among the template's resources, as the ids around it, or undefined. */
function findCycle(resources: Readonly<Record<string, unknown>>): string[] | undefined {
  const ids = new Set(Object.keys(resources));
  const edges = new Map([...ids].map((id) => [id, references(resources[id], ids)]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    const cycle = visit(id);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/** The viewer-request function as CloudFront runs it: the URI it hands on to the bucket. */
function rewrite(code: string, uri: string, querystring: Record<string, unknown> = {}) {
  const handler = runInNewContext(`${code}\nhandler`) as (event: unknown) => {
    uri: string;
    querystring: unknown;
  };
  return handler({ request: { method: 'GET', uri, querystring, headers: {} } });
}

describe('web client hosting', () => {
  let chat: SynthesizedChat;
  let resources: Record<string, CfnResourceJson>;
  let bucketId: string;
  let distributionId: string;
  let distribution: Record<string, unknown>;
  let deployment: CfnResourceJson;
  const idOf = (construct: IConstruct) => chat.stack.getLogicalId(construct.node.defaultChild as CfnElement);

  beforeAll(() => {
    chat = synthesizeChat();
    resources = chat.template.toJSON().Resources as Record<string, CfnResourceJson>;
    bucketId = idOf(chat.stack.web.bucket);
    distributionId = idOf(chat.stack.web.distribution);
    distribution = chat.template.toJSON().Resources[distributionId].Properties.DistributionConfig;
    [, deployment] = onlyResource(chat.template, 'Custom::CDKBucketDeployment');
  });

  describe('the bucket', () => {
    it('is private, owner-enforced, encrypted, and deleted with the stack (it only holds the build)', () => {
      const bucket = resources[bucketId];
      expect(bucket?.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
      expect(bucket?.Properties.WebsiteConfiguration).toBeUndefined();
      expect(bucket?.DeletionPolicy).toBe('Delete');
      chat.template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucketId } });
    });

    it('lets CloudFront read objects for this distribution only, refuses plain http, and allows nobody else but the emptying on delete', () => {
      const [, policy] = findResource(
        chat.template,
        'AWS::S3::BucketPolicy',
        (candidate) => flat(candidate.Properties.Bucket) === `<${bucketId}>`,
      );
      const statements = policyStatements(policy);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      const allows = statements.filter((statement) => statement.Effect === 'Allow');
      const cloudFront = allows.filter((statement) =>
        JSON.stringify(statement.Principal).includes('cloudfront'),
      );
      expect(cloudFront).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
          Condition: {
            StringEquals: {
              'AWS:SourceArn': expect.anything(),
            },
          },
        },
      ]);
      const [readByCloudFront] = cloudFront;
      if (readByCloudFront === undefined) throw new Error('no statement for CloudFront');
      const sourceArn = (readByCloudFront.Condition as { StringEquals: Record<string, unknown> })
        .StringEquals['AWS:SourceArn'];
      expect(flat(sourceArn)).toBe(
        `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distributionId}>`,
      );
      // The only other principal: aws-cdk-lib's function that empties the bucket when the stack goes.
      const others = allows.filter((statement) => !cloudFront.includes(statement));
      expect(others.map((statement) => flat((statement.Principal as { AWS: unknown }).AWS))).toEqual([
        expect.stringMatching(/^<CustomS3AutoDeleteObjectsCustomResourceProviderRole[0-9A-F]{8}\.Arn>$/),
      ]);
    });
  });

  describe('the distribution', () => {
    it('reads the bucket through Origin Access Control (no OAI), signing every request', () => {
      const origins = distribution.Origins as Record<string, unknown>[];
      expect(origins).toHaveLength(1);
      const [oacId] = onlyResource(chat.template, 'AWS::CloudFront::OriginAccessControl');
      expect(origins[0]).toMatchObject({
        DomainName: { 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      });
      chat.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: {
          OriginAccessControlOriginType: 's3',
          SigningBehavior: 'always',
          SigningProtocol: 'sigv4',
        },
      });
      chat.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    });

    it('redirects http to https, serves index.html at the root, GET and HEAD only', () => {
      expect(distribution.DefaultRootObject).toBe('index.html');
      expect(distribution.DefaultCacheBehavior).toMatchObject({
        ViewerProtocolPolicy: 'redirect-to-https',
        AllowedMethods: ['GET', 'HEAD'],
        Compress: true,
      });
      expect(distribution.CacheBehaviors).toBeUndefined();
    });

    it('routes deep links to index.html with a viewer-request function, not by turning errors into pages', () => {
      expect(distribution.CustomErrorResponses).toBeUndefined();
      const [functionId, fn] = onlyResource(chat.template, 'AWS::CloudFront::Function');
      expect(fn.Properties.FunctionConfig).toMatchObject({ Runtime: 'cloudfront-js-2.0' });
      expect(fn.Properties.FunctionCode).toBe(spaRewriteCode);
      expect((distribution.DefaultCacheBehavior as Record<string, unknown>).FunctionAssociations).toEqual([
        { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } },
      ]);
    });

    it.each([
      ['/', '/index.html'],
      ['/rooms/chat_a_b', '/index.html'],
      ['/rooms/chat_ann.lee_bob', '/index.html'],
      ['/rooms/', '/index.html'],
      ['/settings', '/index.html'],
      ['/index.html', '/index.html'],
      ['/app.js', '/app.js'],
      ['/styles.css', '/styles.css'],
      ['/config.json', '/config.json'],
      // A missing file stays missing (S3's 403 through OAC), never a 200 HTML page under its name.
      ['/app.0ld.js', '/app.0ld.js'],
      ['/favicon.ico', '/favicon.ico'],
    ])('the function hands %s on as %s', (uri, expected) => {
      expect(rewrite(spaRewriteCode, uri).uri).toBe(expected);
    });

    it('keeps the query string of a link such as /?with=bob', () => {
      const querystring = { with: { value: 'bob' } };
      expect(rewrite(spaRewriteCode, '/', querystring)).toMatchObject({ uri: '/index.html', querystring });
    });

    it('names its account-wide CloudFront resources after the region, so a stack per region can coexist', () => {
      for (const [type, path] of [
        ['AWS::CloudFront::Function', ['Name']],
        ['AWS::CloudFront::ResponseHeadersPolicy', ['ResponseHeadersPolicyConfig', 'Name']],
        ['AWS::CloudFront::OriginAccessControl', ['OriginAccessControlConfig', 'Name']],
      ] as const) {
        const [, resource] = onlyResource(chat.template, type);
        const name = path.reduce<unknown>(
          (node, key) => (node as Record<string, unknown>)[key],
          resource.Properties,
        );
        expect(flat(name), type).toMatch(/^<AWS::Region>-?[A-Za-z0-9-]+$/);
      }
    });

    it('outputs WebUrl, https://<distribution domain>/', () => {
      chat.template.hasOutput('WebUrl', {
        Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']] },
      });
    });
  });

  describe('security headers', () => {
    let config: Record<string, unknown>;
    beforeAll(() => {
      const [policyId, policy] = onlyResource(chat.template, 'AWS::CloudFront::ResponseHeadersPolicy');
      expect((distribution.DefaultCacheBehavior as Record<string, unknown>).ResponseHeadersPolicyId).toEqual({
        Ref: policyId,
      });
      config = policy.Properties.ResponseHeadersPolicyConfig as Record<string, unknown>;
    });

    it('sends HSTS for two years, nosniff, DENY framing and no referrer, overriding the origin', () => {
      expect(config.SecurityHeadersConfig).toMatchObject({
        StrictTransportSecurity: {
          AccessControlMaxAgeSec: 63_072_000,
          IncludeSubdomains: true,
          Override: true,
        },
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      });
      expect(config.CustomHeadersConfig).toEqual({
        Items: expect.arrayContaining([
          expect.objectContaining({ Header: 'Cross-Origin-Opener-Policy', Value: 'same-origin' }),
          expect.objectContaining({
            Header: 'Permissions-Policy',
            Value: expect.stringContaining('camera=()'),
          }),
        ]),
      });
    });

    it('sends a CSP that refuses inline and eval scripts and framing, and sets nothing that would block the page’s own policy', () => {
      const csp = (config.SecurityHeadersConfig as { ContentSecurityPolicy: Record<string, unknown> })
        .ContentSecurityPolicy;
      expect(csp.Override).toBe(true);
      const header = parseCsp(String(csp.ContentSecurityPolicy));
      expect(header.get('script-src')).toEqual(["'self'"]);
      expect(header.get('style-src')).toEqual(["'self'"]);
      expect(header.get('object-src')).toEqual(["'none'"]);
      expect(header.get('frame-ancestors')).toEqual(["'none'"]);
      expect(header.get('base-uri')).toEqual(["'self'"]);
      // Policies intersect: any of these in the header would refuse the API origins only the page names.
      for (const directive of ['default-src', 'connect-src', 'img-src'])
        expect(header.has(directive)).toBe(false);
      expect(String(csp.ContentSecurityPolicy)).not.toMatch(/unsafe-eval|unsafe-hashes|\*/);
      expect(
        [...header].filter(([, sources]) => sources.includes("'unsafe-inline'")).map(([name]) => name),
      ).toEqual(['style-src-attr']);
      expect(Object.fromEntries(header)).toEqual(headerCsp);
    });
  });

  describe('the deployment', () => {
    function sourceMarkers(): Record<string, unknown>[] {
      return deployment.Properties.SourceMarkers as Record<string, unknown>[];
    }

    it('uploads the site and config.json to the bucket, no-cache, pruning what the last build had', () => {
      expect(deployment.Properties).toMatchObject({
        DestinationBucketName: { Ref: bucketId },
        Prune: true,
        SystemMetadata: { 'cache-control': 'no-cache' },
      });
      expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
      expect(deployment.Properties.DestinationBucketKeyPrefix).toBeUndefined();
    });

    it('writes the page’s policy at deploy time: nothing by default, the stack’s own APIs, bucket and Cognito', () => {
      const [siteMarkers] = sourceMarkers();
      expect(Object.keys(siteMarkers ?? {})).toEqual([cspMarker]);
      const page = parseCsp(flat(siteMarkers?.[cspMarker]));
      const filesBucketId = idOf(chat.stack.files.bucket);
      const httpApiId = idOf(chat.stack.httpApi.api);
      const webSocketApiId = idOf(chat.stack.webSocketApi.api);
      const filesOrigin = `https://<${filesBucketId}>.s3.<AWS::Region>.amazonaws.com`;
      expect(page.get('default-src')).toEqual(["'none'"]);
      expect(page.get('connect-src')).toEqual([
        "'self'",
        `<${httpApiId}.ApiEndpoint>`,
        `<${webSocketApiId}.ApiEndpoint>`,
        filesOrigin,
        'https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>',
      ]);
      expect(page.get('img-src')).toEqual(["'self'", 'blob:', filesOrigin]);
      // Everything the header says (but what only a header can say) is in the page's policy too.
      for (const [name, sources] of Object.entries(staticCsp)) expect(page.get(name), name).toEqual(sources);
      expect(page.has('frame-ancestors')).toBe(false);
      expect(page.get('script-src')).toEqual(["'self'"]);
      expect(flat(siteMarkers?.[cspMarker])).not.toMatch(/unsafe-eval|\*/);
    });

    it('writes config.json from the stack’s own values, in exactly the shape the web client reads', () => {
      const assets = chat.app.outdir;
      const keys = deployment.Properties.SourceObjectKeys as string[];
      const dirs = keys.map((key) => join(assets, `asset.${key.replace(/\.zip$/, '')}`));
      const index = dirs.findIndex((dir) => existsSync(join(dir, 'config.json')));
      const configDir = dirs[index];
      if (configDir === undefined) throw new Error('No deployment source holds config.json');
      expect(readdirSync(configDir)).toEqual(['config.json']);
      const markers = sourceMarkers()[index];
      let text = readFileSync(join(configDir, 'config.json'), 'utf8');
      for (const [marker, value] of Object.entries(markers ?? {}))
        text = text.split(marker).join(flat(value));
      const config = JSON.parse(text) as Record<string, unknown>;
      const webSocketApiId = idOf(chat.stack.webSocketApi.api);
      expect(config).toEqual({
        restUrl: `<${idOf(chat.stack.httpApi.api)}.ApiEndpoint>`,
        wsUrl: `wss://<${webSocketApiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod`,
        region: '<AWS::Region>',
        userPoolId: `<${idOf(chat.stack.auth.userPool)}>`,
        userPoolClientId: `<${idOf(chat.stack.auth.userPoolClient)}>`,
      });
      // The same values as the outputs a tool would read.
      const outputs = chat.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(config.restUrl).toBe(flat(outputs.RestApiUrl?.Value));
      expect(config.wsUrl).toBe(flat(outputs.WebSocketUrl?.Value));
    });
  });

  describe('the other origins name this one', () => {
    it('HTTP API CORS allows the web client’s origin, and the files bucket’s CORS too', () => {
      const [, httpApi] = findResource(
        chat.template,
        'AWS::ApiGatewayV2::Api',
        (api) => api.Properties.ProtocolType === 'HTTP',
      );
      expect((httpApi.Properties.CorsConfiguration as { AllowOrigins: unknown[] }).AllowOrigins).toEqual([
        webOrigin(chat),
      ]);
      const [, files] = findResource(
        chat.template,
        'AWS::S3::Bucket',
        (_, id) => id === idOf(chat.stack.files.bucket),
      );
      const rules = (files.Properties.CorsConfiguration as { CorsRules: { AllowedOrigins: unknown[] }[] })
        .CorsRules;
      expect(rules.map((rule) => rule.AllowedOrigins)).toEqual([[webOrigin(chat)]]);
    });

    it('leaves no dependency cycle: the APIs depend on the distribution, the page’s policy on the APIs', () => {
      expect(findCycle(resources)).toBeUndefined();
      const ids = new Set(Object.keys(resources));
      // The edges the design rests on, each way round.
      const httpApiId = idOf(chat.stack.httpApi.api);
      expect(references(resources[httpApiId], ids)).toContain(distributionId);
      expect(references(resources[idOf(chat.stack.files.bucket)], ids)).toContain(distributionId);
      expect(references(deployment, ids)).toContain(httpApiId);
      expect(references(resources[distributionId], ids)).not.toContain(httpApiId);
    });

    it('(the cycle check finds a cycle when there is one: a CSP header naming the API)', () => {
      const [policyId] = onlyResource(chat.template, 'AWS::CloudFront::ResponseHeadersPolicy');
      const httpApiId = idOf(chat.stack.httpApi.api);
      const looped = structuredClone(resources);
      const policy = looped[policyId] as { Properties: Record<string, unknown> };
      policy.Properties.Extra = { 'Fn::GetAtt': [httpApiId, 'ApiEndpoint'] };
      expect(findCycle(looped)).toEqual(expect.arrayContaining([policyId, distributionId, httpApiId]));
    });
  });

  describe('sign-in from the page', () => {
    it('lets the app client sign in with a password over TLS and refresh, keeps SRP, with stated token lifetimes', () => {
      const [, client] = onlyResource(chat.template, 'AWS::Cognito::UserPoolClient');
      expect([...(client.Properties.ExplicitAuthFlows as string[])].sort()).toEqual([
        'ALLOW_REFRESH_TOKEN_AUTH',
        'ALLOW_USER_PASSWORD_AUTH',
        'ALLOW_USER_SRP_AUTH',
      ]);
      expect(client.Properties).toMatchObject({
        IdTokenValidity: 60,
        AccessTokenValidity: 60,
        RefreshTokenValidity: 43_200,
        TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
        EnableTokenRevocation: true,
      });
    });
  });
});

describe('the site build', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'chat-site-'));
    buildSite(defaultRepoRoot, outDir);
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('builds the client from a clean tree (web/dist is not needed) into one flat directory', () => {
    const entries = readdirSync(outDir, { withFileTypes: true });
    expect(entries.filter((entry) => entry.isDirectory())).toEqual([]);
    expect(entries.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['index.html', 'app.js', 'styles.css']),
    );
    expect(readFileSync(join(outDir, 'app.js'), 'utf8')).not.toContain(cspMarker);
  });

  it('puts the policy marker in a <meta> before anything the page loads', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const meta = html.indexOf(`<meta http-equiv="Content-Security-Policy" content="${cspMarker}" />`);
    expect(meta).toBeGreaterThan(html.indexOf('<meta charset'));
    expect(meta).toBeLessThan(html.search(/<(script|link|style)\b/));
    expect(html.split(cspMarker)).toHaveLength(2);
  });

  it('refuses a page whose scripts come before the charset, or that has no head', () => {
    expect(() => withCspMeta('<html><script src="a.js"></script><meta charset="utf-8"></html>')).toThrow(
      /before/,
    );
    expect(() => withCspMeta('<p>no head</p>')).toThrow(/neither/);
    expect(withCspMeta('<html><head><title>t</title></head></html>', 'M')).toContain(
      '<head>\n    <meta http-equiv="Content-Security-Policy" content="M" />',
    );
  });
});
