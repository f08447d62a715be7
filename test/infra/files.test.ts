import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allHandlers,
  attachmentCheck,
  type BucketAction,
  envVars,
  type HandlerDefinition,
} from '../../definitions/routes.js';
import { bucketCors, keptKey, uploadKey, uploadLimits } from '../../definitions/uploads.js';
import { accessLogDays, accessLogPrefix } from '../../lib/chat-files.js';
import { bucketActionGrants, folderKeyPatterns } from '../../lib/chat-function.js';
import {
  allFunctions,
  type CfnResourceJson,
  chatLambdas,
  findResource,
  functionFor,
  logicalIdOf,
  policyStatements,
  resourcesOfType,
  type StatementJson,
  type SynthesizedChat,
  synthesizeChat,
  webOrigin,
} from './helpers.js';

const origins = ['https://chat.example.com', 'http://localhost:5173'];

describe('files', () => {
  let chat: SynthesizedChat;
  let buckets: Record<string, CfnResourceJson>;
  let filesBucketId: string;
  let logBucketId: string;
  beforeAll(() => {
    // With a webhook, so that every handler definition has its function (the sender only exists with one).
    chat = synthesizeChat({ allowedOrigins: origins, webhookUrl: 'https://hooks.example.com/chat' });
    // The files and their log; the web client's bucket is test/infra/web.test.ts's.
    buckets = Object.fromEntries(
      Object.entries(resourcesOfType(chat.template, 'AWS::S3::Bucket')).filter(
        ([id]) => id !== chat.stack.getLogicalId(chat.stack.web.bucket.node.defaultChild as CfnBucket),
      ),
    );
    filesBucketId = chat.stack.getLogicalId(chat.stack.files.bucket.node.defaultChild as CfnBucket);
    logBucketId = chat.stack.getLogicalId(chat.stack.files.accessLogs.node.defaultChild as CfnBucket);
  });

  function bucket(logicalId: string): CfnResourceJson {
    const found = buckets[logicalId];
    if (found === undefined) throw new Error(`No bucket ${logicalId}`);
    return found;
  }
  function bucketPolicyOf(logicalId: string): StatementJson[] {
    const policies = Object.values(resourcesOfType(chat.template, 'AWS::S3::BucketPolicy')).filter(
      (policy) => (policy.Properties.Bucket as { Ref?: string }).Ref === logicalId,
    );
    const [policy, ...others] = policies;
    if (policy === undefined || others.length > 0) throw new Error(`Expected one policy on ${logicalId}`);
    return policyStatements(policy);
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
  function statementsOf(definition: HandlerDefinition): StatementJson[] {
    const roleId = (lambdaOf(definition).Properties.Role as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    return Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policyStatements(policy));
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

    it('lets the stack’s web client and the given origins POST forms and fetch files (CORS from definitions/uploads.ts)', () => {
      expect(bucket(filesBucketId).Properties.CorsConfiguration).toEqual({
        CorsRules: [
          {
            AllowedOrigins: [webOrigin(chat), ...origins],
            AllowedMethods: [...bucketCors.methods],
            AllowedHeaders: [...bucketCors.allowedHeaders],
            ExposedHeaders: [...bucketCors.exposedHeaders],
            MaxAge: bucketCors.maxAgeSeconds,
          },
        ],
      });
    });

    it('allows the stack’s own web client only, without allowed origins', () => {
      const bare = synthesizeChat();
      const [, files] = findResource(bare.template, 'AWS::S3::Bucket', (_, id) =>
        id.startsWith('FilesBucket'),
      );
      const rules = (files.Properties.CorsConfiguration as { CorsRules: { AllowedOrigins: unknown }[] })
        .CorsRules;
      expect(rules.map((rule) => rule.AllowedOrigins)).toEqual([[webOrigin(bare)]]);
    });

    it('deletes everything in the upload folders after the declared days (never the kept folders), and aborts stray multipart uploads', () => {
      const { Rules } = bucket(filesBucketId).Properties.LifecycleConfiguration as {
        Rules: Record<string, unknown>[];
      };
      expect(Rules).toEqual([
        {
          Id: 'Delete-uploads',
          Status: 'Enabled',
          Prefix: 'uploads/',
          ExpirationInDays: uploadLimits.stagingDays,
        },
        {
          Id: 'Delete-avatars',
          Status: 'Enabled',
          Prefix: 'avatars/',
          ExpirationInDays: uploadLimits.stagingDays,
        },
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
    it('key patterns are the folders the key builders use', () => {
      expect(folderKeyPatterns).toEqual({
        uploads: 'uploads/*',
        avatars: 'avatars/*',
        files: 'files/*',
        profiles: 'profiles/*',
      });
      expect(uploadKey.attachment('r', 'u', 'x')).toMatch(/^uploads\//);
      expect(uploadKey.avatar('u', 'x')).toMatch(/^avatars\//);
      expect(keptKey.attachment('r', 'u', 'x')).toMatch(/^files\//);
      expect(keptKey.avatar('u', 'x', 'v')).toMatch(/^profiles\//);
    });

    it.each(allHandlers.map((definition) => [definition.functionId, definition] as const))(
      '%s may touch the bucket only as its definition says, on the folders it names only',
      (_, definition) => {
        const expected = Object.entries(definition.bucket ?? {}).flatMap(([action, folders]) =>
          (folders ?? []).map(
            (folder) =>
              `${bucketActionGrants[action as BucketAction]} ${objectsArn(folderKeyPatterns[folder])}`,
          ),
        );
        const granted = bucketGrantsOf(definition).flatMap((grant) =>
          grant.actions.flatMap((action) => grant.resources.map((resource) => `${action} ${resource}`)),
        );
        expect(granted.sort()).toEqual(expected.sort());
      },
    );

    it('keeps each folder to the functions that need it', () => {
      const granted = (action: string, folder: string) =>
        allHandlers
          .filter((definition) =>
            bucketGrantsOf(definition).some(
              (grant) =>
                grant.actions.includes(action) && grant.resources.includes(objectsArn(`${folder}/*`)),
            ),
          )
          .map((definition) => definition.functionId)
          .sort();
      // Forms post into the upload folders; only the attachment check writes the kept ones (a copy).
      expect(granted('s3:PutObject', 'uploads')).toEqual(['CreateUploadFunction']);
      expect(granted('s3:PutObject', 'avatars')).toEqual(['CreateAvatarUploadFunction']);
      expect(granted('s3:PutObject', 'files')).toEqual(['AttachmentCheckFunction']);
      expect(granted('s3:PutObject', 'profiles')).toEqual(['AttachmentCheckFunction']);
      // Nobody but the check reads an upload before it is checked.
      expect(granted('s3:GetObject', 'uploads')).toEqual(['AttachmentCheckFunction']);
      expect(granted('s3:GetObject', 'avatars')).toEqual(['AttachmentCheckFunction']);
      expect(granted('s3:GetObject', 'files')).toEqual([
        'AttachmentCheckFunction',
        'GetMessagesFunction',
        'ListRoomsFunction',
        'StartChatFunction',
      ]);
      expect(granted('s3:DeleteObject', 'profiles')).toEqual(['UpdateProfileFunction']);
      expect(granted('s3:DeleteObject', 'files')).toEqual([]);
      expect(
        allHandlers.find((definition) => definition.functionId === 'SendMessageFunction')?.bucket,
      ).toBeUndefined();
    });

    it('grants nothing bucket-wide and no other S3 action, to any function role; no other role names it', () => {
      const chatRoles = new Set(
        Object.values(chatLambdas(chat)).map(
          (fn) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
        ),
      );
      const policies = Object.values(resourcesOfType(chat.template, 'AWS::IAM::Policy'));
      const ofChat = (policy: CfnResourceJson) =>
        (policy.Properties.Roles as { Ref: string }[]).some((role) => chatRoles.has(role.Ref));
      const statementsOfPolicies = (chosen: CfnResourceJson[]) =>
        chosen.flatMap((policy) => policyStatements(policy));
      // The web site's deployment handler writes its own bucket, never this one.
      for (const statement of statementsOfPolicies(policies.filter((policy) => !ofChat(policy)))) {
        expect(JSON.stringify(statement.Resource)).not.toContain(filesBucketId);
      }
      const s3Statements = statementsOfPolicies(policies.filter(ofChat)).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('s3:')),
      );
      expect(s3Statements.length).toBeGreaterThan(0);
      for (const statement of s3Statements) {
        for (const action of [statement.Action].flat()) {
          expect(Object.values(bucketActionGrants)).toContain(action);
        }
        for (const resource of [statement.Resource].flat()) {
          expect(Object.values(folderKeyPatterns).map(objectsArn)).toContain(JSON.stringify(resource));
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
      const lambdas = Object.values(chatLambdas(small));
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
