/** The sign-in screen: a demo user on the local stack, or URLs and a Cognito token for a deployed stack. */
import { ChatApi, ChatApiError, signInLocal } from '../sdk/index.js';
import { h } from './dom.js';
import { type Config, type Session, sessionFor } from './session.js';

interface DemoUser {
  readonly userId: string;
  readonly displayName: string;
}

async function demoUsers(signInUrl: string): Promise<DemoUser[]> {
  try {
    const response = await fetch(signInUrl.replace(/\/dev\/token$/, '/dev/users'));
    if (!response.ok) return [];
    const body = (await response.json()) as { users?: DemoUser[] };
    return Array.isArray(body.users) ? body.users : [];
  } catch {
    return [];
  }
}

const describe = (error: unknown) =>
  error instanceof ChatApiError
    ? error.status === 0
      ? `Cannot reach the server (${error.message}).`
      : error.message
    : String(error);

export function renderSignIn(
  root: HTMLElement,
  config: Config,
  onSession: (session: Session) => void,
  notice = '',
) {
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error' }, notice);
  const fail = (message: string) => {
    error.textContent = message;
  };

  const local = config.signInUrl !== undefined && config.restUrl !== undefined && config.wsUrl !== undefined;
  const userId = h('input', {
    id: 'signin-user-id',
    name: 'userId',
    required: true,
    autocomplete: 'username',
    pattern: '[A-Za-z0-9_.@+\\-]{1,128}',
    title: 'Letters, digits and _ . @ + -',
    'data-testid': 'signin-user-id',
  });
  const displayName = h('input', {
    id: 'signin-display-name',
    name: 'displayName',
    maxlength: 80,
    autocomplete: 'nickname',
    'data-testid': 'signin-display-name',
  });
  const demoList = h('ul', { class: 'demo-users', 'aria-label': 'Demo users' });

  async function signInAs(id: string, name: string) {
    const { signInUrl, restUrl, wsUrl } = config;
    if (signInUrl === undefined || restUrl === undefined || wsUrl === undefined) return;
    fail('');
    try {
      const { token } = await signInLocal(signInUrl, {
        userId: id,
        ...(name === '' ? {} : { displayName: name }),
      });
      const session = sessionFor(restUrl, wsUrl, token);
      if (typeof session === 'string') fail(session);
      else onSession(session);
    } catch (cause) {
      fail(describe(cause));
    }
  }

  const localForm = h(
    'form',
    {
      class: 'card',
      'data-testid': 'local-sign-in',
      'aria-labelledby': 'local-title',
      onsubmit: (event) => {
        event.preventDefault();
        void signInAs(userId.value.trim(), displayName.value.trim());
      },
    },
    h('h2', { id: 'local-title' }, 'Local demo'),
    h('p', { class: 'hint' }, 'Sign in as any user id; the local stack creates the profile.'),
    demoList,
    h('label', { for: 'signin-user-id' }, 'User id'),
    userId,
    h('label', { for: 'signin-display-name' }, 'Display name (optional)'),
    displayName,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, 'Sign in'),
  );

  const restUrl = h('input', {
    id: 'remote-rest-url',
    type: 'url',
    required: true,
    placeholder: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    value: config.restUrl ?? '',
    'data-testid': 'remote-rest-url',
  });
  const wsUrl = h('input', {
    id: 'remote-ws-url',
    type: 'url',
    required: true,
    placeholder: 'wss://def456.execute-api.eu-west-1.amazonaws.com/prod',
    value: config.wsUrl ?? '',
    'data-testid': 'remote-ws-url',
  });
  const token = h('textarea', { id: 'remote-token', required: true, rows: 4, 'data-testid': 'remote-token' });
  const remoteForm = h(
    'form',
    {
      'data-testid': 'remote-sign-in',
      onsubmit: async (event) => {
        event.preventDefault();
        fail('');
        const session = sessionFor(restUrl.value, wsUrl.value, token.value);
        if (typeof session === 'string') return fail(session);
        try {
          // Proves the URL and the token before leaving this screen.
          await new ChatApi({ restUrl: session.restUrl, token: session.token }).getMe();
          onSession(session);
        } catch (cause) {
          fail(describe(cause));
        }
      },
    },
    h('label', { for: 'remote-rest-url' }, 'REST API URL'),
    restUrl,
    h('label', { for: 'remote-ws-url' }, 'WebSocket URL'),
    wsUrl,
    h('label', { for: 'remote-token' }, 'Cognito ID token'),
    token,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'remote-submit' }, 'Connect'),
  );

  root.replaceChildren(
    h(
      'main',
      { class: 'sign-in', 'data-testid': 'sign-in' },
      h('h1', {}, 'Chat'),
      local && localForm,
      h(
        'details',
        { class: 'card', open: !local },
        h('summary', {}, 'Connect to a deployed stack'),
        h('p', { class: 'hint' }, 'The stack outputs give both URLs; a Cognito ID token signs you in.'),
        remoteForm,
      ),
      error,
    ),
  );
  (local ? userId : restUrl).focus();

  if (local && config.signInUrl !== undefined) {
    void demoUsers(config.signInUrl).then((users) => {
      demoList.replaceChildren(
        ...users.map((user) =>
          h(
            'li',
            {},
            h(
              'button',
              {
                type: 'button',
                'data-testid': `demo-user-${user.userId}`,
                onclick: () => void signInAs(user.userId, ''),
              },
              `${user.displayName}`,
            ),
          ),
        ),
      );
    });
  }
}
