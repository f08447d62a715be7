import { describe, expect, it } from 'vitest';
import { type Config, type Session, savedSession } from '../../../web/src/session.js';

const jwt = (claims: Record<string, unknown>) =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

const config: Config = {
  restUrl: 'https://api.test',
  wsUrl: 'wss://ws.test',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_pool',
  userPoolClientId: 'client-2',
};

const cognitoSession = (clientId: string, endpoint?: string): Session => ({
  restUrl: 'https://api.test',
  wsUrl: 'wss://ws.test',
  userId: 'ann',
  cognito: {
    region: 'eu-west-1',
    clientId,
    ...(endpoint === undefined ? {} : { endpoint }),
    tokens: {
      idToken: jwt({ sub: 'ann', exp: 1 }),
      accessToken: 'a',
      refreshToken: 'refresh',
      issuedAt: 0,
      expiresAt: 1000,
    },
  },
});

/** sessionStorage holding `session` as saveSession writes it (JSON). */
const storageWith = (session: Session) => ({ getItem: () => JSON.stringify(session) });

describe('savedSession', () => {
  it('resumes a Cognito session of the app client config.json names, its ID token expired or not', () => {
    const session = cognitoSession('client-2');
    expect(savedSession(config, storageWith(session))).toEqual(session);
  });

  it('drops a Cognito session saved for another app client (a redeploy) or another endpoint', () => {
    expect(savedSession(config, storageWith(cognitoSession('client-1')))).toBeUndefined();
    expect(
      savedSession(config, storageWith(cognitoSession('client-2', 'http://localhost:9229/'))),
    ).toBeUndefined();
    const local: Config = { ...config, cognitoEndpoint: 'http://localhost:9229/' };
    expect(savedSession(local, storageWith(cognitoSession('client-2')))).toBeUndefined();
    expect(
      savedSession(local, storageWith(cognitoSession('client-2', 'http://localhost:9229/'))),
    ).toBeDefined();
    // A config.json with no user pool any more: no Cognito session can go on.
    expect(
      savedSession({ restUrl: config.restUrl }, storageWith(cognitoSession('client-2'))),
    ).toBeUndefined();
  });

  it('resumes a saved Cognito session as saved when config.json could not be read', () => {
    // A failed fetch (network, a 5xx, a deploy under way) says nothing about the app client: one
    // blip must not throw away the refresh token.
    const saved = cognitoSession('client-2');
    expect(savedSession(undefined, storageWith(saved))).toEqual(saved);
  });

  it('keeps a developer session while its token lasts, whatever the user pool', () => {
    const token = jwt({ sub: 'ann', exp: Date.now() / 1000 + 600 });
    const session: Session = { restUrl: 'https://api.test', wsUrl: 'wss://ws.test', userId: 'ann', token };
    expect(savedSession({}, storageWith(session))).toEqual(session);
    const expired = { ...session, token: jwt({ sub: 'ann', exp: Date.now() / 1000 - 1 }) };
    expect(savedSession({}, storageWith(expired))).toBeUndefined();
  });

  it('gives nothing for no saved session or an unreadable one', () => {
    expect(savedSession(config, { getItem: () => null })).toBeUndefined();
    expect(savedSession(config, { getItem: () => '{not json' })).toBeUndefined();
  });
});
