import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';

// The trigger module builds its production service when imported: give it an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { makeHandler } from '../../../lambdas/cognito/post-confirmation.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { RecordingLogger } from '../../fakes/logger.js';

const confirmed = (userAttributes: Record<string, string>): PostConfirmationTriggerEvent => ({
  version: '1',
  region: 'us-east-1',
  userPoolId: 'us-east-1_test',
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  userName: 'ann-login',
  callerContext: { awsSdkVersion: '3', clientId: 'client' },
  request: { userAttributes },
  response: {},
});

describe('Cognito post-confirmation trigger', () => {
  it("creates the new user's profile from the name attribute and hands the event back", async () => {
    const world = makeWorld();
    const event = confirmed({ sub: 'u-1', name: 'Ann', email: 'ann@example.com' });

    const result = await makeHandler(world.service.profiles, new RecordingLogger())(event);

    expect(result).toBe(event);
    expect(await world.store.getUser('u-1')).toMatchObject({ displayName: 'Ann' });
  });

  it('falls back to the local part of the email for the name', async () => {
    const world = makeWorld();

    await makeHandler(
      world.service.profiles,
      new RecordingLogger(),
    )(confirmed({ sub: 'u-2', email: 'bob@example.com' }));

    expect(await world.store.getUser('u-2')).toMatchObject({ displayName: 'bob' });
  });

  it('keeps an existing profile as it is', async () => {
    const world = makeWorld();
    world.store.seedUser('u-3', 'Chosen Name');

    await makeHandler(
      world.service.profiles,
      new RecordingLogger(),
    )(confirmed({ sub: 'u-3', name: 'Cognito Name' }));

    expect(await world.store.getUser('u-3')).toMatchObject({ displayName: 'Chosen Name' });
  });

  it("keeps the account's verified address for e-mail notifications, replacing an earlier one", async () => {
    const world = makeWorld();
    world.store.seedUser('u-4', 'Dee');
    const trigger = makeHandler(world.service.profiles, new RecordingLogger());

    await trigger(confirmed({ sub: 'u-4', email: 'dee@example.com', email_verified: 'true' }));
    expect((await world.store.getRecipient('u-4'))?.email).toBe('dee@example.com');

    await trigger(confirmed({ sub: 'u-4', email: 'new@example.com', email_verified: 'true' }));
    expect((await world.store.getRecipient('u-4'))?.email).toBe('new@example.com');
  });

  it('keeps no address Cognito has not verified', async () => {
    const world = makeWorld();

    await makeHandler(
      world.service.profiles,
      new RecordingLogger(),
    )(confirmed({ sub: 'u-5', email: 'maybe@example.com', email_verified: 'false' }));

    expect(await world.store.getRecipient('u-5')).toMatchObject({
      email: null,
      profile: { displayName: 'maybe' },
    });
  });

  it('writes nothing for an event without sub, and logs it without the user name or email', async () => {
    const world = makeWorld();
    const log = new RecordingLogger();

    await makeHandler(world.service.profiles, log)(confirmed({ email: 'x@example.com' }));

    expect(world.store.calls).toEqual([]);
    expect(log.entries).toEqual([
      {
        level: 'warn',
        message: 'post-confirmation event without sub',
        details: { userPoolId: 'us-east-1_test', triggerSource: 'PostConfirmation_ConfirmSignUp' },
      },
    ]);
    expect(JSON.stringify(log.entries)).not.toMatch(/ann-login|x@example/);
  });
});
