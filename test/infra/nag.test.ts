import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatStack } from '../../lib/chat-stack.js';
import { addNagChecks, nagPacks } from '../../lib/nag-checks.js';
import { newApp } from './helpers.js';

/** Every acknowledgment in the tree, as `rule id -> reasons`. */
function acknowledgments(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const ruleId = id.replace(/^annotation::/i, '');
        found.set(ruleId, [...(found.get(ruleId) ?? []), reason]);
      }
    }
  }
  return found;
}

describe('cdk-nag (AwsSolutions and Serverless packs)', () => {
  let stack: ChatStack;
  let outdir: string;
  beforeAll(() => {
    const app = newApp();
    // Every optional resource on, so that each is checked (bin/chat.ts's default is checked by every synth).
    stack = new ChatStack(app, 'ChatStack', {
      allowedOrigins: ['https://chat.example.com'],
      apiGatewayCloudWatchRole: true,
      emailFrom: 'chat@example.com',
      appUrl: 'https://chat.example.com',
      webhookUrl: 'https://hooks.example.com/chat',
      notifyDelaySeconds: 60,
    });
    addNagChecks(app);
    // With the packs registered as in bin/chat.ts, an unacknowledged error makes synth throw.
    outdir = app.synth().directory;
  });

  it('leaves no finding unaddressed, warnings included', () => {
    for (const pack of nagPacks(newApp())) {
      const report = pack.validateScope(stack);
      expect(
        report.violations.map((violation) => ({
          rule: violation.ruleName,
          resources: violation.violatingResources.map((resource) => resource.constructPath),
        })),
        pack.readPackName,
      ).toEqual([]);
    }
  });

  it('writes an empty validation report', () => {
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    expect(report.pluginReports).toEqual([]);
  });

  it('acknowledges only the reviewed rules, each with a specific reason', () => {
    const acknowledged = acknowledgments(stack);
    expect([...acknowledged.keys()].sort()).toEqual(
      [
        'AwsSolutions-APIG4',
        'AwsSolutions-COG2',
        'AwsSolutions-COG8',
        'AwsSolutions-DDB3',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AwsSolutions-L1',
        'AwsSolutions-S1',
        'AwsSolutions-IAM5[Resource::<ConnectionsTable8000B8A1.Arn>/index/*]',
        'AwsSolutions-IAM5[Resource::<MessagesTable05B58A27.Arn>/index/*]',
        'AwsSolutions-IAM5[Resource::<FilesBucket7C17EE2E.Arn>/uploads/*]',
        'AwsSolutions-IAM5[Resource::<FilesBucket7C17EE2E.Arn>/avatars/*]',
        'AwsSolutions-IAM5[Resource::<FilesBucket7C17EE2E.Arn>/files/*]',
        'AwsSolutions-IAM5[Resource::<FilesBucket7C17EE2E.Arn>/profiles/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketWebSocketApiA2AA4B88>/prod/POST/@connections/*]',
        'AwsSolutions-SNS2',
        'Serverless-LambdaDLQ',
        'Serverless-LambdaLatestVersion',
        'Serverless-LambdaTracing',
        // Events (lib/chat-events.ts): ListStreams, which names no resource (events.test.ts holds the
        // change consumer's "*" to that one action); schedules named at run time in the one group;
        // the webhook key shared with its receiver; dead-letter queues cdk-nag does not recognize, or
        // that have no queue behind them; the SQS mapping, which takes no on-failure destination.
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/chat-notifications/*]',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
        'Serverless-SQSRedrivePolicy',
        'Serverless-LambdaEventSourceMappingDestination',
        // The web client (lib/chat-web.ts): CloudFront without geo restriction, WAF, access logs or a
        // custom certificate; aws-cdk-lib's deployment handler (its managed log policy, its grants on
        // the asset bucket and the site bucket); the site bucket without access logs (S1, above).
        'AwsSolutions-CFR1',
        'AwsSolutions-CFR2',
        'AwsSolutions-CFR3',
        'AwsSolutions-CFR4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AwsSolutions-IAM5[Action::s3:GetObject*]',
        'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'AwsSolutions-IAM5[Action::s3:List*]',
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        'AwsSolutions-IAM5[Action::s3:Abort*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        'AwsSolutions-IAM5[Resource::<WebBucketE51352C0.Arn>/*]',
      ].sort(),
    );
    for (const [id, reasons] of acknowledged) {
      for (const reason of reasons) expect(reason.length, id).toBeGreaterThan(40);
    }
  });
});
