import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { eventSource, signatureHeader } from '../definitions/notifications.js';
import type { HttpRouteDefinition } from '../definitions/routes.js';
import { ChatAuth } from './chat-auth.js';
import { ChatEvents } from './chat-events.js';
import { ChatFiles } from './chat-files.js';
import type { ChatFunction } from './chat-function.js';
import { ChatHttpApi } from './chat-http-api.js';
import { type ChatTables, createTables } from './chat-tables.js';
import { ChatWeb } from './chat-web.js';
import { ChatWebSocketApi } from './chat-websocket-api.js';
import {
  parseEmailSettings,
  parseMaxUploadBytes,
  parseNotifyDelaySeconds,
  parseWebhookUrl,
} from './context.js';
import { ChatMonitoring } from './monitoring.js';

/** The path of the notification preference routes (definitions/routes.ts). */
const notificationsPath = '/users/me/notifications';

/** The repository root: handler entries in `definitions/` are relative to it. */
export const defaultRepoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ChatStackProps extends StackProps {
  /**
   * Browser origins allowed by the REST API's and the files bucket's CORS besides the stack's own web
   * client (always allowed), e.g. a development server.
   */
  readonly allowedOrigins?: readonly string[];
  /** Largest attachment in bytes; default `uploadLimits.defaultMaxAttachmentBytes`. */
  readonly maxUploadBytes?: number;
  /** Where `lambdas/` and `package-lock.json` live; defaults to this repository. */
  readonly repoRoot?: string;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** Set the region's API Gateway CloudWatch role for access logs (see ChatWebSocketApi); default off. */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** The e-mails' From address (an SES identity); absent: no e-mail is sent. */
  readonly emailFrom?: string;
  /** The https URL the e-mails link to, with `emailFrom`; absent: the stack's web client (`WebUrl`). */
  readonly appUrl?: string;
  /** Where every event is POSTed, signed (https); absent: no webhook resource at all. */
  readonly webhookUrl?: string;
  /** Every notification delay, in seconds, instead of the users' preferences (demos); absent: theirs. */
  readonly notifyDelaySeconds?: number;
}

/**
 * The whole chat backend. Construct ids below are part of the contract (renaming one replaces the
 * resource): tables use their definition's `constructId` at the top level, functions their
 * definition's `functionId` inside `Auth`, `Files`, `Http`, `WebSocket` or `Events`, the files bucket is
 * `Files/Bucket`, the event bus `Events/Bus`, the web client's bucket and distribution `Web/Bucket` and
 * `Web/Distribution`.
 */
export class ChatStack extends Stack {
  readonly tables: ChatTables;
  readonly auth: ChatAuth;
  readonly files: ChatFiles;
  readonly httpApi: ChatHttpApi;
  readonly webSocketApi: ChatWebSocketApi;
  readonly events: ChatEvents;
  readonly monitoring: ChatMonitoring;
  readonly web: ChatWeb;

  constructor(scope: Construct, id: string, props: ChatStackProps = {}) {
    super(scope, id, props);
    const repoRoot = props.repoRoot ?? defaultRepoRoot;

    this.tables = createTables(this);
    this.auth = new ChatAuth(this, 'Auth', { tables: this.tables, repoRoot });
    // Before the APIs: their CORS names its origin (ChatWeb says why its page policy comes last).
    this.web = new ChatWeb(this, 'Web', { repoRoot });
    const allowedOrigins = [this.web.origin, ...(props.allowedOrigins ?? [])];
    this.files = new ChatFiles(this, 'Files', {
      tables: this.tables,
      repoRoot,
      allowedOrigins,
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
      allowedOrigins,
    });

    // The same checks as for the context values: a stack built in code gets no laxer settings.
    const emailSettings = parseEmailSettings(props.emailFrom, props.appUrl);
    const email =
      emailSettings === undefined
        ? undefined
        : { from: emailSettings.from, appUrl: emailSettings.appUrl ?? this.web.url };
    const webhookUrl = parseWebhookUrl(props.webhookUrl);
    const notifyDelaySeconds = parseNotifyDelaySeconds(props.notifyDelaySeconds);
    this.events = new ChatEvents(this, 'Events', {
      tables: this.tables,
      repoRoot,
      ...(email === undefined ? {} : { email }),
      ...(webhookUrl === undefined ? {} : { webhookUrl }),
      ...(notifyDelaySeconds === undefined ? {} : { notifyDelaySeconds }),
    });

    this.monitoring = new ChatMonitoring(this, 'Monitoring', {
      httpApi: this.httpApi.api,
      webSocketStage: this.webSocketApi.stage,
      // An alarm's math takes at most 10 metrics: the upload-signing routes join the check function, the
      // notification preference routes the event functions.
      functionGroups: {
        Http: [
          this.auth.postConfirmationFunction,
          ...this.httpApi.functions.filter((fn) => !signsUploads(fn) && !isNotificationRoute(fn)),
        ],
        WebSocket: this.webSocketApi.functions,
        Files: [this.files.checkFunction, ...this.httpApi.functions.filter(signsUploads)],
        Events: [...this.events.functions, ...this.httpApi.functions.filter(isNotificationRoute)],
      },
      deadLetterQueues: this.events.deadLetterQueues,
      tables: this.tables,
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });

    this.web.deploySite(
      {
        restUrl: this.httpApi.url,
        wsUrl: this.webSocketApi.url,
        region: this.region,
        userPoolId: this.auth.userPool.userPoolId,
        userPoolClientId: this.auth.userPoolClient.userPoolClientId,
      },
      {
        rest: this.httpApi.url,
        webSocket: this.webSocketApi.api.apiEndpoint,
        files: this.files.origin,
        cognito: this.auth.identityProviderOrigin,
      },
    );

    new CfnOutput(this, 'WebUrl', {
      value: this.web.url,
      description: 'The chat in a browser: open it, create an account, sign in',
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
    new CfnOutput(this, 'EventBusName', {
      value: this.events.bus.eventBusName,
      description: `EventBridge bus of the chat's events (source "${eventSource}")`,
    });
    new CfnOutput(this, 'EmailNotifications', {
      value: email === undefined ? 'off (deploy with -c emailFrom=)' : `from ${email.from}`,
      description: 'Whether the notify function sends e-mail',
    });
    if (this.events.webhook !== undefined) {
      new CfnOutput(this, 'WebhookSecretArn', {
        value: this.events.webhook.secret.secretArn,
        description: `Secrets Manager secret holding the HMAC key of the ${signatureHeader} header`,
      });
    }
  }
}

/** The routes of the notification preferences (`/users/me/notifications`). */
function isNotificationRoute(fn: ChatFunction): boolean {
  return (fn.definition as Partial<HttpRouteDefinition>).path === notificationsPath;
}

function signsUploads(fn: ChatFunction): boolean {
  return (
    fn.definition.bucket?.PutObject?.some((folder) => folder === 'uploads' || folder === 'avatars') ?? false
  );
}
