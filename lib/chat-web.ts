import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AssetHashType,
  CfnResource,
  DefaultStackSynthesizer,
  DockerImage,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { headerCsp, pageCsp, serializeCsp, type WebOrigins } from '../definitions/web.js';
import { acknowledgeWildcardResource } from './acknowledge.js';

/**
 * `config.json` next to index.html: where the page finds the stack. The web client reads these names
 * (web/src/session.ts); `restUrl` is the `RestApiUrl` output and `wsUrl` the `WebSocketUrl` output.
 */
export interface WebConfig {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
}

/**
 * Stands for the page's policy in the built index.html until the deployment writes the real one
 * (the deployment replaces markers in every file of its source: see `withMarkers`).
 */
export const cspMarker = 'CHAT_WEB_PAGE_CSP';

/**
 * Puts `<meta http-equiv="Content-Security-Policy" content="<marker>">` into the page, before any
 * script or stylesheet (a `<meta>` policy only governs what follows it): right after the charset
 * declaration, which must stay first. Throws on a page it does not recognise, rather than ship one
 * without its policy.
 */
export function withCspMeta(html: string, marker: string = cspMarker): string {
  const anchor = /<meta\s+charset=[^>]*>/i.exec(html) ?? /<head(\s[^>]*)?>/i.exec(html);
  if (anchor === null) throw new Error('index.html has neither a <meta charset> nor a <head>');
  const at = anchor.index + anchor[0].length;
  const firstLoad = html.search(/<(script|link|style)\b/i);
  if (firstLoad !== -1 && firstLoad < at)
    throw new Error('index.html loads a script or stylesheet before its charset declaration');
  const meta = `\n    <meta http-equiv="Content-Security-Policy" content="${marker}" />`;
  return `${html.slice(0, at)}${meta}${html.slice(at)}`;
}

/**
 * The viewer-request function in front of the bucket: a request that names no file of the site gets
 * index.html, so that deep links (`/rooms/chat_a_b`, `/?with=bob`) load the app, which routes them.
 * The build writes one flat directory (`assertFlat` holds it to that), so a site file is a single path
 * segment with a dot (`/app.js`); anything under a subdirectory, or without a dot, is the app's route
 * (user ids may hold dots: `/rooms/chat_ann.lee_bob` is a route).
 *
 * Why a function and not the usual error mapping (403/404 → /index.html, 200): with OAC, S3 answers
 * a missing key with 403, and the mapping would turn every missing or mistyped asset (an old app.js
 * name, config.json before the first deploy) into a 200 HTML page, cached under the asset's name,
 * which a browser then fails to run as script. Here a missing file stays an error. CloudFront
 * Functions cost $0.10 per million requests (2 million a month in the free tier).
 */
export const spaRewriteCode = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.lastIndexOf('/') > 0 || uri.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}`;

/** Holds the build to the flat layout the rewrite relies on (`spaRewriteCode`). */
export function assertFlat(siteDir: string): void {
  const nested = readdirSync(siteDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  if (nested.length > 0)
    throw new Error(
      `The web build wrote subdirectories (${nested.map((entry) => entry.name).join(', ')}): the CloudFront rewrite in lib/chat-web.ts serves index.html for every path under one. Update spaRewriteCode first.`,
    );
}

/**
 * Builds the web client into `outputDir` with the project's own build (`buildWeb` in web/build.ts,
 * run in a child process because CDK's local bundling is synchronous), then gives index.html its
 * policy marker. Runs whenever the stack is bundled (`cdk synth`, `cdk deploy`): web/dist is not in
 * git and a clean clone has none, and the deployed site must be the code being deployed.
 */
export function buildSite(repoRoot: string, outputDir: string): void {
  const buildModule = pathToFileURL(join(repoRoot, 'web', 'build.ts')).href;
  const script = `const { buildWeb } = await import(${JSON.stringify(buildModule)}); await buildWeb(${JSON.stringify(outputDir)});`;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  assertFlat(outputDir);
  const indexHtml = join(outputDir, 'index.html');
  writeFileSync(indexHtml, withCspMeta(readFileSync(indexHtml, 'utf8')));
}

/**
 * A deployment source with markers of our own: the deployment replaces each key, in every file of
 * that source, with its value resolved at deploy time (as `Source.data` does for its one file).
 */
function withMarkers(source: s3deploy.ISource, markers: Record<string, string>): s3deploy.ISource {
  return {
    bind: (scope, context) => ({ ...source.bind(scope, context), markers }),
  };
}

/**
 * A name for a CloudFront policy or origin access control: those are unique per account, not per
 * region, so the name holds the region (a region name is at most 14 characters, plus the dash).
 */
function accountWideName(scope: Construct, kind: string, maxLength: number): string {
  const unique = Names.uniqueResourceName(scope, { maxLength: maxLength - 16 - kind.length });
  return `${Stack.of(scope).region}-${unique}-${kind}`;
}

export interface ChatWebProps {
  /** Where web/ lives; the stack's repoRoot. */
  readonly repoRoot: string;
}

/**
 * The web client, hosted: a private bucket read by CloudFront through Origin Access Control, https
 * only, with security headers, and a deployment that uploads the built client and its config.json.
 * Construct ids are part of the contract: `Bucket`, `Distribution`, under the stack's `Web`.
 *
 * Two steps, because of a cycle. The HTTP API's and the files bucket's CORS name this distribution's
 * origin, so the APIs depend on the distribution. A Content-Security-Policy header naming the APIs
 * would make the distribution (through its response headers policy) depend on them: CloudFormation
 * refuses the loop. So the distribution is built first and carries only the policy that names no
 * stack resource (`headerCsp`), and the part that names the APIs, the bucket and Cognito travels in
 * the page itself: `deploySite` writes it into index.html's `<meta>` policy at deploy time, through
 * the deployment's markers (the same mechanism that writes config.json). The deployment depends on
 * everything, and nothing depends on it. A browser enforces both policies, so the header never sets
 * a default-src, connect-src or img-src that would block what only the page's policy can allow.
 */
export class ChatWeb extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  private readonly repoRoot: string;

  constructor(scope: Construct, id: string, props: ChatWebProps) {
    super(scope, id);
    this.repoRoot = props.repoRoot;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // SSE-S3: OAC reads it with no key policy to keep in step (SSE-KMS would need one).
      encryption: s3.BucketEncryption.S3_MANAGED,
      // Nothing here is data: every deploy uploads the whole client again (and prunes the rest).
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    ignoreRoleDependsOn(autoDeleteHandler(this));
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The site bucket holds the public web client, replaced on every deploy; only CloudFront (through OAC) reads it and only the deployment writes it, so its access log would record CloudFront fetching the same few files. What users do is in the API access logs and the files bucket log.',
    });

    const spaRewrite = new cloudfront.Function(this, 'SpaRewrite', {
      comment: 'Deep links to the chat load index.html; files keep their own answers',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(spaRewriteCode),
    });

    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: accountWideName(this, 'headers', 128),
      comment: 'Security headers of the chat web client',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: serializeCsp(headerCsp), override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        // Page URLs name users and rooms (/rooms/chat_a_b): nothing needs them as a referrer.
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          // The chat uses none of these; the clipboard stays allowed (copying one's chat link).
          {
            header: 'Permissions-Policy',
            value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
            override: true,
          },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    const accessControl = new cloudfront.S3OriginAccessControl(this, 'AccessControl', {
      originAccessControlName: accountWideName(this, 'site', 64),
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Chat web client',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessControl: accessControl,
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        // Objects say `no-cache` (see deploySite): the policy's 1-second minimum TTL is then the edge's
        // cache time, and each browser revalidates with the ETag.
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        functionAssociations: [
          { function: spaRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'No geo restriction: the chat is for anyone, anywhere; the site is the public client and holds no data.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF web ACL: it costs $5 a month plus $1 per rule and $0.60 per million requests, more than the rest of this stack at its target volume, to guard static files that hold no data. The APIs, which do, are not behind this distribution and have their own throttles.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'No CloudFront access logs: standard logging needs a bucket with ACLs enabled (every bucket here has them off), and every viewer gets the same public files. What users do is in the API access logs and the files bucket access log.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses its default *.cloudfront.net certificate, whose security policy CloudFront fixes (TLSv1); a minimum of TLSv1.2_2021 needs a custom domain with an ACM certificate, which this stack does not have.',
      },
    );
  }

  /** `https://<distribution domain>`: the origin the browser sends, for the APIs' CORS. */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** The URL people open: the `WebUrl` output. */
  get url(): string {
    return `${this.origin}/`;
  }

  /**
   * Uploads the built client and a config.json of the stack's values, and writes the page's policy
   * into index.html. Call once, after the APIs exist.
   */
  deploySite(config: WebConfig, stackOrigins: WebOrigins): s3deploy.BucketDeployment {
    const site = s3deploy.Source.asset(join(this.repoRoot, 'web'), {
      // The hash of what is uploaded: a change anywhere the client's bundle reads (web/, definitions/)
      // deploys it, and an unchanged build deploys nothing.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        local: {
          tryBundle: (outputDir) => {
            buildSite(this.repoRoot, outputDir);
            return true;
          },
        },
        // Never pulled: the local build above returns true or throws. CDK requires an image.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      },
    });
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      sources: [
        withMarkers(site, { [cspMarker]: serializeCsp(pageCsp(stackOrigins)) }),
        s3deploy.Source.jsonData('config.json', config),
      ],
      // The build's names carry no content hash (app.js, styles.css), so a long cache would pair a new
      // index.html or config.json with an old app.js: every file says no-cache, and a browser
      // revalidates it (a 304 while unchanged). The edge holds each for a second (CACHING_OPTIMIZED's
      // minimum), so a deploy needs no invalidation.
      cacheControl: [s3deploy.CacheControl.noCache()],
      // Removes files an older build had and this one has not.
      prune: true,
      // The AWS CLI in the handler unzips and uploads the site; the default 128 MB is slow at it.
      memoryLimit: 512,
    });
    acknowledgeDeploymentHandler(deployment, this.bucket);
    return deployment;
  }
}

/**
 * The findings on the deployment's handler, a function aws-cdk-lib provides (one per stack and memory
 * size) and whose code, runtime and grants it decides: acknowledged on that function only.
 */
function acknowledgeDeploymentHandler(deployment: s3deploy.BucketDeployment, siteBucket: s3.IBucket): void {
  const handler = deployment.handlerRole.node.scope;
  if (handler === undefined) throw new Error('The deployment handler role has no function around it');
  const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const grants =
    "aws-cdk-lib's own grants to its deployment handler: read the site's zip in the CDK asset bucket, write and prune the site bucket. Wildcard actions (s3:GetObject*, List*, DeleteObject*, Abort*…) on those two buckets only.";
  Validations.of(handler).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'aws-cdk-lib gives its deployment handler the basic execution policy, which only lets it write its own logs (CloudWatch Logs create and put); the handler runs once per deploy.',
    },
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: grants,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]`,
      reason: grants,
    },
    {
      id: 'AwsSolutions-L1',
      reason:
        "The deployment handler is aws-cdk-lib's (Python with the AWS CLI layer): its runtime moves with aws-cdk-lib upgrades, not with this code.",
    },
    {
      id: 'Serverless-LambdaLatestVersion',
      reason:
        "The deployment handler is aws-cdk-lib's (Python with the AWS CLI layer): its runtime moves with aws-cdk-lib upgrades, not with this code.",
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'CloudFormation invokes the deployment handler and waits for its answer: a failure fails the deploy and rolls it back; there is no asynchronous event to keep.',
    },
    {
      id: 'Serverless-LambdaTracing',
      reason:
        'The deployment handler runs once per deploy, copying files between two buckets: its log says what it did, and a trace would add nothing.',
    },
  );
  acknowledgeWildcardResource(deployment.handlerRole, `${siteBucket.bucketArn}/*`, grants);
  ignoreRoleDependsOn(handler.node.defaultChild);
}

/** The function aws-cdk-lib adds to the stack to empty the site bucket before deleting it. */
function autoDeleteHandler(scope: Construct): IConstruct | undefined {
  return Stack.of(scope)
    .node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider')
    ?.node.tryFindChild('Handler');
}

/**
 * aws-cdk-lib's own functions list their role in DependsOn as well as in a GetAtt: cfn-lint W3005,
 * harmless (as for ChatFunction), and not ours to change. Throws if aws-cdk-lib moved the function,
 * rather than let the lint fail without saying why.
 */
function ignoreRoleDependsOn(fn: IConstruct | undefined): void {
  if (!(fn instanceof CfnResource)) throw new Error('aws-cdk-lib function not found where expected');
  fn.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
}
