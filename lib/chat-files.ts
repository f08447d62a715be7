import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { attachmentCheck } from '../definitions/routes.js';
import { bucketCors, bucketFolders, uploadLimits } from '../definitions/uploads.js';
import { type ChatFilesResources, ChatFunction, waitedOnTimeout } from './chat-function.js';
import type { ChatTables } from './chat-tables.js';

export interface ChatFilesProps {
  readonly tables: ChatTables;
  readonly repoRoot: string;
  /** Browser origins allowed by the bucket's CORS (upload forms, downloads); empty: no CORS rule. The stack passes the web client's own origin and the `allowedOrigins` context value. */
  readonly allowedOrigins: readonly string[];
  /** Largest attachment in bytes (the `maxUploadBytes` context value). */
  readonly maxUploadBytes: number;
}

/**
 * How long the bucket's access logs are kept: long enough to look into an abuse report or a leaked
 * download link after the fact, short enough that records naming users and rooms (both are in the
 * keys) do not pile up.
 */
export const accessLogDays = 90;

/** Where the files bucket's access logs land in the log bucket. */
export const accessLogPrefix = 'files/';

/**
 * Incomplete multipart uploads are invisible and billed. Upload forms are single POSTs, which never
 * start one, so this only sweeps up after a mistake; a day is plenty.
 */
export const abortMultipartDays = 1;

/**
 * The files bucket (uploads, attachments, avatars), its access log bucket, and the function that
 * checks uploads before anything attaches them. Construct ids are part of the contract: `Bucket`,
 * `AccessLogs` and the check function's `functionId`, under the stack's `Files`.
 */
export class ChatFiles extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly checkFunction: ChatFunction;
  /** What the API functions need of the files: hand it to them as `ChatFunctionResources.files`. */
  readonly resources: Required<ChatFilesResources>;

  constructor(scope: Construct, id: string, props: ChatFilesProps) {
    super(scope, id);
    // Log delivery through a bucket policy for logging.s3.amazonaws.com, scoped to the files bucket,
    // rather than the legacy LogDeliveryWrite ACL, which would need ACLs turned back on for the log
    // bucket. Set here, for these buckets, rather than in cdk.json so that every app building this
    // construct (the tests included) gets the same template. Must precede the buckets.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // S3 delivers server access logs to SSE-S3 buckets only (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(accessLogDays) }],
      // The record of who fetched which file outlives the stack, as the files themselves do.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access log bucket of the files bucket: logging it would need yet another log bucket (or log into itself, one record per delivery, without end). Only S3 log delivery writes here.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // SSE-S3, not KMS: presigned URLs then need nothing but the signer's S3 right, each download
      // costs no KMS request, and the objects are still encrypted at rest. A customer managed key
      // would add a grant per signing function and a charge per request for no control we use.
      encryption: s3.BucketEncryption.S3_MANAGED,
      // No versioning: a kept file is written once (a conditional copy that never overwrites), and an
      // upload folder's objects are temporary; with versions, the lifecycle's deletes would only hide
      // them.
      versioned: false,
      cors: filesCors(props.allowedOrigins),
      lifecycleRules: [
        // Forms post into the upload folders only; what is attached is copied to a kept folder, so
        // everything here is deleted after a day, attached or not (definitions/uploads.ts).
        ...[bucketFolders.uploads, bucketFolders.avatars].map((folder) => ({
          id: `Delete-${folder}`,
          prefix: `${folder}/`,
          expiration: Duration.days(uploadLimits.stagingDays),
        })),
        {
          id: 'AbortIncompleteUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(abortMultipartDays),
        },
      ],
      // Users' files, retained like the tables that hold their messages (lib/chat-tables.ts): deleting
      // the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      // Server access logs rather than an acknowledged AwsSolutions-S1: downloads are presigned URLs
      // used by browsers, not calls of our functions, so these logs are the only record of who
      // fetched or uploaded which object (CloudTrail data events would cost per request).
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: accessLogPrefix,
    });

    this.checkFunction = new ChatFunction(this, {
      definition: attachmentCheck,
      resources: {
        tables: props.tables,
        files: { bucket: this.bucket, maxUploadBytes: props.maxUploadBytes },
      },
      repoRoot: props.repoRoot,
      // The send and profile functions wait on it within their own timeouts.
      timeout: waitedOnTimeout,
    });

    this.resources = {
      bucket: this.bucket,
      maxUploadBytes: props.maxUploadBytes,
      checkFunction: this.checkFunction,
    };
  }

  /**
   * The bucket's origin as browsers meet it: the virtual-hosted regional host that download URLs
   * (`objectUrl` in lambdas/adapters/s3/client.ts) and upload forms (createPresignedPost) both name.
   */
  get origin(): string {
    return `https://${this.bucket.bucketName}.s3.${Stack.of(this).region}.amazonaws.com`;
  }
}

/**
 * The bucket's CORS rule: the web client's origins may POST upload forms and fetch files. No origin,
 * no rule at all, as for the REST API: a page's script then cannot read S3's answer to an upload or
 * fetch a file (plain links and images still load), until origins are given. The stack always gives
 * its own web client's origin.
 */
function filesCors(allowedOrigins: readonly string[]): s3.CorsRule[] | undefined {
  if (allowedOrigins.length === 0) return undefined;
  return [
    {
      allowedOrigins: [...allowedOrigins],
      allowedMethods: bucketCors.methods.map((method) => s3.HttpMethods[method]),
      allowedHeaders: [...bucketCors.allowedHeaders],
      exposedHeaders: [...bucketCors.exposedHeaders],
      maxAge: bucketCors.maxAgeSeconds,
    },
  ];
}
