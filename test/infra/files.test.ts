import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allHandlers,
  attachmentCheck,
  type BucketAction,
  envVars,
  type HandlerDefinition,
} from '../../definitions/routes.js';
import { bucketCors, uploadKey, uploadLimits, uploadTag } from '../../definitions/uploads.js';
import { accessLogDays, accessLogPrefix } from '../../lib/chat-files.js';
import { uploadKeyPatterns } from '../../lib/chat-function.js';
import {
  allFunctions,
  type CfnResourceJson,
  functionFor,
  logicalIdOf,
  resourcesOfType,
  type SynthesizedChat,
  synthesizeChat,
} from './helpers.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

const origins = ['https://chat.example.com', 'http://localhost:5173'];

const uses = (action: BucketAction) => (definition: HandlerDefinition) =>
  definition.bucket?.[action] !== undefined;

describe('files', () => {
  let chat: SynthesizedChat;
  let buckets: Record<string, CfnResourceJson>;
  let filesBucketId: string;
  let logBucketId: string;
  beforeAll(() => {
    chat = synthesizeChat({ allowedOrigins: origins });
    buckets = resourcesOfType(chat.template, 'AWS::S3::Bucket');
    filesBucketId = chat.stack.getLogicalId(chat.stack.files.bucket.node.defaultChild as CfnBucket);
    logBucketId = chat.stack.getLogicalId(chat.stack.files.accessLogs.node.defaultChild as CfnBucket);
  });

  function bucket(logicalId: string): CfnResourceJson {
    const found = buckets[logicalId];
    if (found === undefined) throw new Error(`No bucket ${logicalId}`);
    return found;
  }
  function bucketPolicyOf(logicalId: string): Statement[] {
    const policies = Object.values(resourcesOfType(chat.template, 'AWS::S3::BucketPolicy')).filter(
      (policy) => (policy.Properties.Bucket as { Ref?: string }).Ref === logicalId,
    );
    const [policy, ...others] = policies;
    if (policy === undefined || others.length > 0) throw new Error(`Expected one policy on ${logicalId}`);
    return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
  }
  function lambdaOf(definition: HandlerDefinition): CfnResourceJson {
    const resource = resourcesOfType(chat.template, 'AWS::Lambda::Function')[
      logicalIdOf(functionFor(chat.stack, definition))
    ];
    if (resource === undefined) throw new Error(`No function ${definition.functionId}`);
    return resource;
  }
  function envOf(definition: HandlerDefinition): Record<string, unknown> {
    return (lambdaOf(definition).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  }
  function statementsOf(definition: HandlerDefinition): Statement[] {
    const roleId = (lambdaOf(definition).Properties.Role as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    return Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  /** The actions a function may perform on the files bucket, each with the resources it names. */
  function bucketGrantsOf(definition: HandlerDefinition): { actions: string[]; resources: string[] }[] {
    return statementsOf(definition)
      .filter((statement) => JSON.stringify(statement.Resource).includes(filesBucketId))
      .map((statement) => ({
        actions: [statement.Action].flat(),
        resources: [statement.Resource].flat().map((resource) => JSON.stringify(resource)),
      }));
  }
  function objectsArn(pattern: string): string {
    return JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [filesBucketId, 'Arn'] }, `/${pattern}`]] });
  }
  const allowedActions = (definition: HandlerDefinition) =>
    bucketGrantsOf(definition).flatMap((grant) => grant.actions);

  describe('the bucket', () => {
    it('is one bucket for files and one for its access logs, nothing else', () => {
      expect(Object.keys(buckets).sort()).toEqual([filesBucketId, logBucketId].sort());
      expect(filesBucketId).toMatch(/^FilesBucket/);
      expect(logBucketId).toMatch(/^FilesAccessLogs/);
    });

    it.each([
      ['files', () => filesBucketId],
      ['access log', () => logBucketId],
    ])('%s bucket: private, owner-enforced, encrypted with S3-managed keys and retained', (_, id) => {
      const { Properties, DeletionPolicy, UpdateReplacePolicy } = bucket(id());
      expect(Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(Properties.AccessControl).toBeUndefined();
      expect(Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(Properties.VersioningConfiguration).toBeUndefined();
      expect(DeletionPolicy).toBe('Retain');
      expect(UpdateReplacePolicy).toBe('Retain');
    });

    it.each([
      ['files', () => filesBucketId],
      ['access log', () => logBucketId],
    ])('%s bucket: refuses every request not made over TLS', (_, id) => {
      const bucketArn = { 'Fn::GetAtt': [id(), 'Arn'] };
      expect(bucketPolicyOf(id())).toContainEqual({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
      });
    });

    it('grants nothing in its own policy: every right is on a function role', () => {
      expect(bucketPolicyOf(filesBucketId).filter((statement) => statement.Effect === 'Allow')).toEqual([]);
    });

    it('lets the web client’s origins POST forms and fetch files (CORS from definitions/uploads.ts)', () => {
      expect(bucket(filesBucketId).Properties.CorsConfiguration).toEqual({
        CorsRules: [
          {
            AllowedOrigins: origins,
            AllowedMethods: [...bucketCors.methods],
            AllowedHeaders: [...bucketCors.allowedHeaders],
            ExposedHeaders: [...bucketCors.exposedHeaders],
            MaxAge: bucketCors.maxAgeSeconds,
          },
        ],
      });
    });

    it('has no CORS rule at all without allowed origins', () => {
      const bare = synthesizeChat();
      const [, files] = Object.entries(resourcesOfType(bare.template, 'AWS::S3::Bucket')).find(([id]) =>
        id.startsWith('FilesBucket'),
      ) ?? [undefined, undefined];
      expect(files).toBeDefined();
      expect(files?.Properties.CorsConfiguration).toBeUndefined();
    });

    it('deletes uploads still tagged pending after the declared days, and aborts stray multipart uploads', () => {
      const { Rules } = bucket(filesBucketId).Properties.LifecycleConfiguration as {
        Rules: Record<string, unknown>[];
      };
      expect(Rules).toEqual([
        {
          Id: 'DeletePendingUploads',
          Status: 'Enabled',
          TagFilters: [{ Key: uploadTag.key, Value: uploadTag.pending }],
          ExpirationInDays: uploadLimits.pendingDays,
        },
        // No tag filter: S3 refuses one next to AbortIncompleteMultipartUpload.
        {
          Id: 'AbortIncompleteUploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ]);
    });

    it('logs every request to the log bucket, which only S3 log delivery for this bucket may write', () => {
      expect(bucket(filesBucketId).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logBucketId },
        LogFilePrefix: accessLogPrefix,
      });
      const allows = bucketPolicyOf(logBucketId).filter((statement) => statement.Effect === 'Allow');
      expect(allows).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: {
            'Fn::Join': ['', [{ 'Fn::GetAtt': [logBucketId, 'Arn'] }, `/${accessLogPrefix}*`]],
          },
          Condition: {
            ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [filesBucketId, 'Arn'] } },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ]);
      expect(bucket(logBucketId).Properties.LifecycleConfiguration).toEqual({
        Rules: [{ Id: 'ExpireAccessLogs', Status: 'Enabled', ExpirationInDays: accessLogDays }],
      });
      expect(bucket(logBucketId).Properties.LoggingConfiguration).toBeUndefined();
    });

    it('names the bucket in the FilesBucketName output', () => {
      expect(chat.template.toJSON().Outputs.FilesBucketName.Value).toEqual({ Ref: filesBucketId });
    });
  });

  describe('grants', () => {
    it('key patterns are the first folder of each upload key', () => {
      expect(uploadKeyPatterns).toEqual({ attachment: 'uploads/*', avatar: 'avatars/*' });
      expect(uploadKey.attachment('r', 'u', 'x')).toMatch(/^uploads\//);
      expect(uploadKey.avatar('u', 'x')).toMatch(/^avatars\//);
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s may touch the bucket only as its definition says, on the folders of the kinds it names only',
      (_, definition) => {
        const actionsOf: Record<BucketAction, string[]> = {
          PostUpload: ['s3:PutObject', 's3:PutObjectTagging'],
          GetObject: ['s3:GetObject'],
          PutObjectTagging: ['s3:PutObjectTagging'],
        };
        const expected = Object.entries(definition.bucket ?? {}).flatMap(([action, kinds]) =>
          (actionsOf[action as BucketAction] ?? []).flatMap((iamAction) =>
            (kinds ?? []).map((kind) => `${iamAction} ${objectsArn(uploadKeyPatterns[kind])}`),
          ),
        );
        const granted = bucketGrantsOf(definition).flatMap((grant) =>
          grant.actions.flatMap((action) => grant.resources.map((resource) => `${action} ${resource}`)),
        );
        expect(granted.sort()).toEqual(expected.sort());
      },
    );

    it('keeps each upload folder to the functions that need it', () => {
      const folderOf = (definition: HandlerDefinition, action: BucketAction) =>
        definition.bucket?.[action] ?? [];
      const byId = Object.fromEntries(allHandlers.map((definition) => [definition.functionId, definition]));
      const of = (id: string) => {
        const definition = byId[id];
        if (definition === undefined) throw new Error(`no ${id}`);
        return definition;
      };
      expect(folderOf(of('CreateUploadFunction'), 'PostUpload')).toEqual(['attachment']);
      expect(folderOf(of('CreateAvatarUploadFunction'), 'PostUpload')).toEqual(['avatar']);
      expect(folderOf(of('GetMessagesFunction'), 'GetObject')).toEqual(['attachment']);
      expect(folderOf(of('GetProfileFunction'), 'GetObject')).toEqual(['avatar']);
      expect(folderOf(of('UpdateProfileFunction'), 'PutObjectTagging')).toEqual(['avatar']);
      expect(of('SendMessageFunction').bucket).toBeUndefined();
    });

    it('gives s3:PutObject only to the functions that sign upload forms', () => {
      const putters = allHandlers.filter((definition) => allowedActions(definition).includes('s3:PutObject'));
      expect(putters.map((definition) => definition.functionId).sort()).toEqual(
        allHandlers
          .filter(uses('PostUpload'))
          .map((definition) => definition.functionId)
          .sort(),
      );
      expect(putters.map((definition) => definition.functionId).sort()).toEqual([
        'CreateAvatarUploadFunction',
        'CreateUploadFunction',
      ]);
    });

    it('gives s3:GetObject only to the functions that read or sign downloads', () => {
      const readers = allHandlers.filter((definition) => allowedActions(definition).includes('s3:GetObject'));
      expect(readers.map((definition) => definition.functionId).sort()).toEqual(
        allHandlers
          .filter(uses('GetObject'))
          .map((definition) => definition.functionId)
          .sort(),
      );
    });

    it('grants nothing bucket-wide and no other S3 action, to any role', () => {
      const s3Statements = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'))
        .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
      for (const statement of s3Statements) {
        for (const action of [statement.Action].flat()) {
          expect(['s3:PutObject', 's3:PutObjectTagging', 's3:GetObject']).toContain(action);
        }
        for (const resource of [statement.Resource].flat()) {
          expect([objectsArn('uploads/*'), objectsArn('avatars/*')]).toContain(JSON.stringify(resource));
        }
      }
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s gets the bucket name and upload limit exactly when it uses the bucket',
      (_, definition) => {
        const env = envOf(definition);
        if (definition.bucket === undefined) {
          expect(env[envVars.filesBucket]).toBeUndefined();
          expect(env[envVars.maxUploadBytes]).toBeUndefined();
          return;
        }
        expect(env[envVars.filesBucket]).toEqual({ Ref: filesBucketId });
        expect(env[envVars.maxUploadBytes]).toBe(String(uploadLimits.defaultMaxAttachmentBytes));
      },
    );

    it('hands the maxUploadBytes it is given to every function that uses the bucket', () => {
      const small = synthesizeChat({ maxUploadBytes: 1_048_576 });
      const lambdas = Object.values(resourcesOfType(small.template, 'AWS::Lambda::Function'));
      const limits = lambdas.flatMap((fn) => {
        const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        return variables[envVars.maxUploadBytes] === undefined ? [] : [variables[envVars.maxUploadBytes]];
      });
      expect(limits).toHaveLength(allHandlers.filter((definition) => definition.bucket !== undefined).length);
      expect(new Set(limits)).toEqual(new Set(['1048576']));
    });

    it('refuses a maxUploadBytes S3 could not honour', () => {
      expect(() => synthesizeChat({ maxUploadBytes: 0 })).toThrow(/maxUploadBytes/);
      expect(() => synthesizeChat({ maxUploadBytes: 6 * 1024 ** 3 })).toThrow(/maxUploadBytes/);
    });
  });

  describe('the attachment check function', () => {
    it('exists, behind no route, with a 5 s timeout and the grants of its definition', () => {
      const check = chat.stack.files.checkFunction;
      expect(check.definition).toBe(attachmentCheck);
      expect(check.node.path).toBe(`ChatStack/Files/${attachmentCheck.functionId}`);
      expect(lambdaOf(attachmentCheck).Properties.Timeout).toBe(5);
      const permissions = Object.values(resourcesOfType(chat.template, 'AWS::Lambda::Permission'));
      const checkId = logicalIdOf(check);
      expect(
        permissions.filter((permission) =>
          JSON.stringify(permission.Properties.FunctionName).includes(`"${checkId}"`),
        ),
      ).toEqual([]);
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s may invoke the check (that function, nothing else) exactly when its definition says so',
      (_, definition) => {
        const checkArn = { 'Fn::GetAtt': [logicalIdOf(chat.stack.files.checkFunction), 'Arn'] };
        const invokes = statementsOf(definition).filter((statement) =>
          [statement.Action].flat().some((action) => action.startsWith('lambda:')),
        );
        if (definition.invokesAttachmentCheck !== true) {
          expect(invokes).toEqual([]);
          expect(envOf(definition)[envVars.attachmentCheckFunction]).toBeUndefined();
          return;
        }
        expect(invokes).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: checkArn }]);
        expect(envOf(definition)[envVars.attachmentCheckFunction]).toEqual({
          Ref: logicalIdOf(chat.stack.files.checkFunction),
        });
      },
    );

    it('is invoked by the send and profile update functions, and by no one else', () => {
      expect(
        allFunctions(chat.stack)
          .filter((fn) => fn.definition.invokesAttachmentCheck === true)
          .map((fn) => fn.definition.functionId)
          .sort(),
      ).toEqual(['SendMessageFunction', 'UpdateProfileFunction']);
    });
  });
});
