import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { passwordPolicy, tokenValidity } from '../../definitions/auth.js';
import { postConfirmationTrigger } from '../../definitions/routes.js';
import { functionFor, logicalIdOf, onlyResource, type SynthesizedChat, synthesizeChat } from './helpers.js';

describe('Cognito', () => {
  let chat: SynthesizedChat;
  beforeAll(() => {
    chat = synthesizeChat();
  });

  it('has one user pool: self sign-up with email, strong passwords, optional TOTP, retained', () => {
    const [, pool] = onlyResource(chat.template, 'AWS::Cognito::UserPool');
    expect(pool.DeletionPolicy).toBe('Retain');
    chat.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: Match.anyValue(),
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
    });
    const policy = (pool.Properties.Policies as { PasswordPolicy: { MinimumLength: number } }).PasswordPolicy;
    expect(policy.MinimumLength).toBeGreaterThanOrEqual(8);
    // The one declaration the local Cognito and the web client's sign-up form read too.
    expect(policy.MinimumLength).toBe(passwordPolicy.minLength);
  });

  it('runs the post-confirmation trigger, which may write the users table', () => {
    const triggerId = logicalIdOf(functionFor(chat.stack, postConfirmationTrigger));
    chat.template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: { PostConfirmation: { 'Fn::GetAtt': [triggerId, 'Arn'] } },
    });
    chat.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [triggerId, 'Arn'] },
      Principal: 'cognito-idp.amazonaws.com',
    });
  });

  it('has one public app client: no secret, SRP and USER_PASSWORD (browser and CLI) flows, no OAuth', () => {
    const [, client] = onlyResource(chat.template, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: expect.arrayContaining(['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH']),
      AllowedOAuthFlowsUserPoolClient: false,
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
    // The lifetimes the local Cognito issues (definitions/auth.ts), in the units CloudFormation gets.
    const units = client.Properties.TokenValidityUnits as Record<string, string>;
    const inMinutes = (value: unknown, unit: string | undefined) =>
      Number(value) * ({ minutes: 1, hours: 60, days: 1440 }[unit ?? 'hours'] ?? Number.NaN);
    expect(inMinutes(client.Properties.IdTokenValidity, units.IdToken)).toBe(tokenValidity.idTokenMinutes);
    expect(inMinutes(client.Properties.AccessTokenValidity, units.AccessToken)).toBe(
      tokenValidity.accessTokenMinutes,
    );
    expect(inMinutes(client.Properties.RefreshTokenValidity, units.RefreshToken)).toBe(
      tokenValidity.refreshTokenDays * 1440,
    );
  });

  it('outputs what a client needs: REST and WebSocket URLs, pool and client ids, region', () => {
    const [poolId] = onlyResource(chat.template, 'AWS::Cognito::UserPool');
    const [clientId] = onlyResource(chat.template, 'AWS::Cognito::UserPoolClient');
    chat.template.hasOutput('RestApiUrl', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'ApiEndpoint'] } });
    chat.template.hasOutput('WebSocketUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', '/prod'])] },
    });
    chat.template.hasOutput('UserPoolId', { Value: { Ref: poolId } });
    chat.template.hasOutput('UserPoolClientId', { Value: { Ref: clientId } });
    chat.template.hasOutput('Region', { Value: { Ref: 'AWS::Region' } });
  });
});
