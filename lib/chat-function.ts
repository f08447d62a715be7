import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  type BucketAction,
  envVars,
  type HandlerDefinition,
  type TableAction,
} from '../definitions/routes.js';
import { type TableName, tables as tableDefinitions } from '../definitions/tables.js';
import { type BucketFolder, bucketFolders } from '../definitions/uploads.js';
import { acknowledgeWildcardResource } from './acknowledge.js';
import { chatArchitecture, chatBundling, chatMemorySizeMb, chatRuntime } from './chat-bundling.js';

/** The deployed resources a handler definition may ask for. */
export interface ChatFunctionResources {
  readonly tables: Readonly<Record<TableName, dynamodb.Table>>;
  /** Required by definitions with `verifiesTokens`. */
  readonly auth?: { readonly userPoolId: string; readonly userPoolClientId: string };
  /** Required by definitions with `postsToConnections`. */
  readonly webSocketStage?: apigwv2.WebSocketStage;
  /** Required by definitions with a `bucket` list or `invokesAttachmentCheck`. */
  readonly files?: ChatFilesResources;
}

export interface ChatFilesResources {
  readonly bucket: s3.IBucket;
  /** Largest attachment in bytes, handed to every function that uses the bucket. */
  readonly maxUploadBytes: number;
  /**
   * Required by definitions with `invokesAttachmentCheck`. Absent only while the check function itself
   * is built, which uses the bucket but invokes nothing.
   */
  readonly checkFunction?: lambda.IFunction;
}

/** The key pattern of each bucket folder: each grant on objects names its folders and nothing else. */
export const folderKeyPatterns: Readonly<Record<BucketFolder, string>> = {
  uploads: `${bucketFolders.uploads}/*`,
  avatars: `${bucketFolders.avatars}/*`,
  files: `${bucketFolders.files}/*`,
  profiles: `${bucketFolders.profiles}/*`,
};

/**
 * The IAM action behind each `BucketAction`: one each. `PutObject` authorizes both a presigned POST
 * (the form signer's right) and a server-side copy's target; `GetObject` authorizes HeadObject, a
 * ranged GET, a copy's source and a presigned GET. No `s3:ListBucket` anywhere: it would name every
 * upload in the bucket. Without it, S3 answers a read of a missing key with 403 AccessDenied rather
 * than 404: handlers take that as not found.
 */
export const bucketActionGrants: Readonly<Record<BucketAction, string>> = {
  PutObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
};

export interface ChatFunctionProps {
  readonly definition: HandlerDefinition;
  readonly resources: ChatFunctionResources;
  /** Absolute path of the repository root; the definition's entry is relative to it. */
  readonly repoRoot: string;
  /** Authorizers and the Cognito trigger sit in front of a caller that waits: keep them short. */
  readonly timeout?: Duration;
}

const defaultTimeout = Duration.seconds(10);
/** For authorizers and the Cognito trigger: a caller is waiting on them. */
export const waitedOnTimeout = Duration.seconds(5);

/**
 * A Lambda function built from a `HandlerDefinition`, with every default set once. The construct id
 * is the definition's `functionId` (part of the contract), and each grant the definition lists is
 * applied together with the environment variable the handler reads, so permission and configuration
 * cannot drift apart.
 */
export class ChatFunction extends NodejsFunction {
  readonly definition: HandlerDefinition;
  private readonly executionRole: iam.Role;

  constructor(scope: Construct, props: ChatFunctionProps) {
    const { definition, repoRoot } = props;
    const id = definition.functionId;
    // Own log group (retention, no log-group creation right) and own role (no AWS managed policy).
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: path.join(repoRoot, definition.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: chatRuntime,
      architecture: chatArchitecture,
      memorySize: chatMemorySizeMb,
      timeout: props.timeout ?? defaultTimeout,
      role,
      logGroup,
      // Off rather than Active: no client is instrumented (aws-xray-sdk-core would not fit the 25 KB
      // bundle budget), so traces would show one opaque segment per invocation and nothing more.
      tracing: lambda.Tracing.DISABLED,
      // Lambda's JSON lines carry its requestId and level around each entry the handlers log
      // (adapters/console-logger.ts), and the application level filters them: one knob on AWS.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: chatBundling,
    });
    this.definition = definition;
    this.executionRole = role;

    // Function makes itself depend on its role construct, so that the role's DefaultPolicy (the grants
    // below) exists before the function can run. That lists the Role in DependsOn too, which the Role
    // GetAtt already implies: cfn-lint W3005, harmless, and the dependency is not ours to split.
    (this.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });

    const runtimeReason =
      'Node 22, not the newest runtime: the closest Lambda has to the Node 20 on which the local stack and the tests run these handlers, and what the bundles target (lib/chat-bundling.ts); moving on goes with moving local tooling to Node 22.';
    Validations.of(this).acknowledge(
      { id: 'AwsSolutions-L1', reason: runtimeReason },
      { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is off on purpose: no DynamoDB or management API client is instrumented (aws-xray-sdk-core would break the 25 KB bundle budget), so tracing would cost without showing the calls. Send latency and fan-out figures come from EMF metrics instead.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously only (API Gateway, Cognito, or another of these functions waiting on the attachment check): the caller gets the error, and Lambda sends nothing to a dead-letter queue for synchronous invocations.',
      },
    );

    for (const [table, actions] of Object.entries(definition.tables) as [TableName, TableAction[]][]) {
      this.useTable(table, props.resources.tables[table], actions);
    }
    if (definition.verifiesTokens) {
      const { auth } = props.resources;
      if (auth === undefined) throw new Error(`${id} verifies tokens but no user pool was given`);
      this.addEnvironment(envVars.userPoolId, auth.userPoolId);
      this.addEnvironment(envVars.userPoolClientId, auth.userPoolClientId);
    }
    if (definition.postsToConnections) {
      const stage = props.resources.webSocketStage;
      if (stage === undefined) throw new Error(`${id} posts to connections but no WebSocket stage was given`);
      this.allowPostingToConnections(stage);
    }
    if (definition.bucket !== undefined) {
      const { files } = props.resources;
      if (files === undefined) throw new Error(`${id} uses the files bucket but no bucket was given`);
      this.useBucket(files, definition.bucket);
    }
    if (definition.invokesAttachmentCheck === true) {
      const checkFunction = props.resources.files?.checkFunction;
      if (checkFunction === undefined) {
        throw new Error(`${id} invokes the attachment check but no check function was given`);
      }
      this.allowInvokingAttachmentCheck(checkFunction);
    }
  }

  /**
   * Grants exactly the listed actions on a table (and its indexes) and hands its name to the handler
   * in the same call. Not grantReadData/grantReadWriteData: those add Scan, BatchWriteItem,
   * DeleteItem and more, which no handler needs.
   */
  private useTable(name: TableName, table: dynamodb.Table, actions: readonly TableAction[]): void {
    table.grant(this, ...actions.map((action) => `dynamodb:${action}`));
    this.addEnvironment(tableDefinitions[name].envVar, table.tableName);

    const indexes = [...tableDefinitions[name].globalIndexes, ...tableDefinitions[name].localIndexes];
    if (indexes.length > 0) {
      acknowledgeWildcardResource(
        this.executionRole,
        `${table.tableArn}/index/*`,
        `Queries on the ${name} table go through its indexes (${indexes.map((index) => index.indexName).join(', ')}); the wildcard covers this table's indexes only.`,
      );
    }
  }

  /**
   * Grants exactly the IAM actions behind the listed bucket actions, on the upload key patterns only,
   * and hands the bucket's name and the attachment limit to the handler. Not grantRead/grantPut: they
   * add s3:List*, s3:GetBucket*, version, retention and legal-hold actions, which no handler needs.
   */
  private useBucket(
    files: ChatFilesResources,
    bucketActions: Readonly<Partial<Record<BucketAction, readonly BucketFolder[]>>>,
  ): void {
    for (const [bucketAction, folders] of Object.entries(bucketActions) as [BucketAction, BucketFolder[]][]) {
      const actions = [bucketActionGrants[bucketAction]];
      const resources = folders.map((folder) => files.bucket.arnForObjects(folderKeyPatterns[folder]));
      this.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
      for (const resource of resources) {
        acknowledgeWildcardResource(
          this.executionRole,
          resource,
          `Upload keys hold ids only known at run time (room, user, upload); the wildcard covers one upload folder of the files bucket, for ${actions.join(', ')} only (definitions/routes.ts: ${bucketAction} on ${folders.join(', ')}).`,
        );
      }
    }
    this.addEnvironment(envVars.filesBucket, files.bucket.bucketName);
    this.addEnvironment(envVars.maxUploadBytes, String(files.maxUploadBytes));
  }

  /**
   * Grants invoking the attachment check function, that function only, and hands its name to the
   * handler. Not grantInvoke: that also allows every version and alias (`<arn>:*`), a wildcard nobody
   * calls.
   */
  private allowInvokingAttachmentCheck(checkFunction: lambda.IFunction): void {
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [checkFunction.functionArn] }),
    );
    this.addEnvironment(envVars.attachmentCheckFunction, checkFunction.functionName);
  }

  /**
   * Grants POST on the `@connections` management API of the stage and hands its URL to the handler.
   * Not grantManagementApiAccess: that also allows GET (read any connection's identity) and DELETE
   * (close anyone's socket), which no handler does.
   */
  private allowPostingToConnections(stage: apigwv2.WebSocketStage): void {
    const connections = `${Stack.of(stage).formatArn({ service: 'execute-api', resource: stage.api.apiId })}/${stage.stageName}/POST/@connections/*`;
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }),
    );
    this.addEnvironment(envVars.callbackUrl, stage.callbackUrl);
    acknowledgeWildcardResource(
      this.executionRole,
      connections,
      'Connection ids are only known at run time; the grant is execute-api:ManageConnections for POST on the @connections API of this one stage.',
    );
  }
}
