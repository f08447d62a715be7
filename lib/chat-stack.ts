import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ChatAuth } from './chat-auth.js';
import { ChatFiles } from './chat-files.js';
import type { ChatFunction } from './chat-function.js';
import { ChatHttpApi } from './chat-http-api.js';
import { type ChatTables, createTables } from './chat-tables.js';
import { ChatWebSocketApi } from './chat-websocket-api.js';
import { parseMaxUploadBytes } from './context.js';
import { ChatMonitoring } from './monitoring.js';

/** The repository root: handler entries in `definitions/` are relative to it. */
export const defaultRepoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ChatStackProps extends StackProps {
  /** Browser origins allowed by the REST API's and the files bucket's CORS; empty: no CORS. */
  readonly allowedOrigins?: readonly string[];
  /** Largest attachment in bytes; default `uploadLimits.defaultMaxAttachmentBytes`. */
  readonly maxUploadBytes?: number;
  /** Where `lambdas/` and `package-lock.json` live; defaults to this repository. */
  readonly repoRoot?: string;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** Set the region's API Gateway CloudWatch role for access logs (see ChatWebSocketApi); default off. */
  readonly apiGatewayCloudWatchRole?: boolean;
}

/**
 * The whole chat backend. Construct ids below are part of the contract (renaming one replaces the
 * resource): tables use their definition's `constructId` at the top level, functions their
 * definition's `functionId` inside `Auth`, `Files`, `Http` or `WebSocket`, the files bucket is
 * `Files/Bucket`.
 */
export class ChatStack extends Stack {
  readonly tables: ChatTables;
  readonly auth: ChatAuth;
  readonly files: ChatFiles;
  readonly httpApi: ChatHttpApi;
  readonly webSocketApi: ChatWebSocketApi;
  readonly monitoring: ChatMonitoring;

  constructor(scope: Construct, id: string, props: ChatStackProps = {}) {
    super(scope, id, props);
    const repoRoot = props.repoRoot ?? defaultRepoRoot;

    this.tables = createTables(this);
    this.auth = new ChatAuth(this, 'Auth', { tables: this.tables, repoRoot });
    this.files = new ChatFiles(this, 'Files', {
      tables: this.tables,
      repoRoot,
      allowedOrigins: props.allowedOrigins ?? [],
      // The same checks as for the context value: a stack built in code gets no laxer limit.
      maxUploadBytes: parseMaxUploadBytes(props.maxUploadBytes),
    });
    const resources = {
      tables: this.tables,
      auth: {
        userPoolId: this.auth.userPool.userPoolId,
        userPoolClientId: this.auth.userPoolClient.userPoolClientId,
      },
      files: this.files.resources,
    };
    this.webSocketApi = new ChatWebSocketApi(this, 'WebSocket', {
      resources,
      repoRoot,
      apiGatewayCloudWatchRole: props.apiGatewayCloudWatchRole ?? false,
    });
    this.httpApi = new ChatHttpApi(this, 'Http', {
      // REST handlers that announce reads post to connections too.
      resources: { ...resources, webSocketStage: this.webSocketApi.stage },
      repoRoot,
      allowedOrigins: props.allowedOrigins ?? [],
    });

    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      httpApi: this.httpApi.api,
      webSocketStage: this.webSocketApi.stage,
      // An alarm's math takes at most 10 metrics: the upload-signing routes join the check function.
      functionGroups: {
        Http: [
          this.auth.postConfirmationFunction,
          ...this.httpApi.functions.filter((fn) => !signsUploads(fn)),
        ],
        WebSocket: this.webSocketApi.functions,
        Files: [this.files.checkFunction, ...this.httpApi.functions.filter(signsUploads)],
      },
      tables: this.tables,
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });

    new CfnOutput(this, 'RestApiUrl', { value: this.httpApi.url, description: 'REST base URL' });
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.webSocketApi.url,
      description: 'WebSocket URL (append ?token=<JWT>)',
    });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'Region', { value: this.region });
    new CfnOutput(this, 'FilesBucketName', {
      value: this.files.bucket.bucketName,
      description: 'Bucket of uploads, attachments and avatars',
    });
  }
}

function signsUploads(fn: ChatFunction): boolean {
  return (
    fn.definition.bucket?.PutObject?.some((folder) => folder === 'uploads' || folder === 'avatars') ?? false
  );
}
