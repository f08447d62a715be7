/**
 * The sign-in screen: the Cognito user pool's own sign-in (sign in, create an account, confirm it with
 * the e-mailed code, reset a forgotten password) through the Cognito IdP API (web/sdk/cognito.ts says
 * why not the managed login). On the local stack only, a developer sign-in (`/dev/token`, any user id)
 * stays below it, for tests and quick demos.
 */
import { passwordProblems, passwordRuleText } from '../../definitions/auth.js';
import { ChatApiError, CognitoError, signInLocal, storedTokens } from '../sdk/index.js';
import { h } from './dom.js';
import {
  type CognitoSettings,
  type Config,
  cognitoClient,
  cognitoSession,
  cognitoSettings,
  type Session,
  sessionFor,
} from './session.js';

interface DemoUser {
  readonly userId: string;
  readonly displayName: string;
}

type Screen = 'sign-in' | 'sign-up' | 'confirm' | 'forgot' | 'reset';

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
  error instanceof CognitoError
    ? error.message
    : error instanceof ChatApiError
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
  const local = config.signInUrl !== undefined && config.restUrl !== undefined && config.wsUrl !== undefined;
  const settings = cognitoSettings(config);
  const cognitoPane = h('section', { class: 'card auth', 'data-testid': 'cognito-sign-in' });

  root.replaceChildren(
    h(
      'main',
      { class: 'sign-in', 'data-testid': 'sign-in' },
      h('h1', {}, 'Chat'),
      settings === undefined
        ? h(
            'p',
            { class: 'form-error', role: 'alert', 'data-testid': 'auth-misconfigured' },
            'This page has no user pool to sign in with: its config.json needs region, userPoolId and userPoolClientId (the stack outputs).',
          )
        : cognitoPane,
      local && developerSignIn(config, onSession),
    ),
  );
  if (settings !== undefined) cognitoFlow(cognitoPane, config, settings, onSession, notice);
}

/** The Cognito screens, one at a time in `pane`. */
function cognitoFlow(
  pane: HTMLElement,
  config: Config,
  settings: CognitoSettings,
  onSession: (session: Session) => void,
  initialNotice: string,
) {
  const client = cognitoClient(settings);
  /** Kept between screens (never stored): the e-mail typed, and the password to sign in after confirming. */
  let email = '';
  let pendingPassword = '';
  /** Where the last code went, as Cognito says (masked). */
  let sentTo: string | undefined;

  const codeWhere = () =>
    config.mailUrl !== undefined
      ? h(
          'p',
          { class: 'hint', 'data-testid': 'code-where' },
          'On the local stack codes are not e-mailed: open the ',
          h('a', { href: config.mailUrl, target: '_blank', rel: 'noopener' }, 'local Mail page'),
          ' to read it.',
        )
      : h(
          'p',
          { class: 'hint', 'data-testid': 'code-where' },
          `We e-mailed a code${sentTo === undefined ? '' : ` to ${sentTo}`}. It may take a minute; check the spam folder too.`,
        );

  async function finishSignIn(address: string, password: string) {
    const tokens = await client.signIn(address, password);
    const session = cognitoSession(
      config,
      settings,
      storedTokens(tokens, tokens.refreshToken ?? '', Date.now()),
    );
    if (typeof session === 'string') throw new Error(session);
    onSession(session);
  }

  function show(screen: Screen, notice = '') {
    const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'auth-error' });
    const status = h('p', { class: 'notice', role: 'status', 'data-testid': 'auth-notice' }, notice);
    const fail = (cause: unknown) => {
      error.textContent = describe(cause);
    };
    /** Runs `action` with the form's button disabled, its errors shown. */
    const submitting = (form: HTMLFormElement, action: () => Promise<void>) => async (event: Event) => {
      event.preventDefault();
      error.textContent = '';
      const button = form.querySelector('button[type="submit"]');
      button?.setAttribute('disabled', '');
      try {
        await action();
      } catch (cause) {
        if (cause instanceof CognitoError && cause.type === 'UserNotConfirmedException') {
          show('confirm', cause.message);
          return;
        }
        fail(cause);
      } finally {
        button?.removeAttribute('disabled');
      }
    };
    const input = (id: string, label: string, attributes: Record<string, string | boolean>) => {
      const field = h('input', { id, name: id, required: true, 'data-testid': id, ...attributes });
      return { field, nodes: [h('label', { for: id }, label), field] };
    };
    const link = (testId: string, text: string, to: Screen) =>
      h('button', { type: 'button', class: 'link', 'data-testid': testId, onclick: () => show(to) }, text);
    const passwordHint = (id: string) => h('p', { class: 'hint', id }, passwordRuleText);
    const checkNewPassword = (value: string) => {
      const problems = passwordProblems(value);
      if (problems.length > 0) throw new Error(`The password needs ${problems.join(', ')}.`);
    };

    let form: HTMLFormElement;
    let title: string;
    let focus: HTMLElement;
    if (screen === 'sign-in') {
      title = 'Sign in';
      const address = input('auth-email', 'E-mail address', {
        type: 'email',
        autocomplete: 'email',
        value: email,
      });
      const password = input('auth-password', 'Password', {
        type: 'password',
        autocomplete: 'current-password',
      });
      form = h('form', {}, ...address.nodes, ...password.nodes);
      form.append(h('button', { type: 'submit', class: 'primary', 'data-testid': 'auth-submit' }, 'Sign in'));
      form.addEventListener(
        'submit',
        submitting(form, async () => {
          email = address.field.value.trim();
          pendingPassword = password.field.value;
          await finishSignIn(email, password.field.value);
        }),
      );
      focus = email === '' ? address.field : password.field;
      form.append(
        h(
          'p',
          { class: 'links' },
          link('show-forgot', 'Forgot password?', 'forgot'),
          link('show-sign-up', 'Create an account', 'sign-up'),
        ),
      );
    } else if (screen === 'sign-up') {
      title = 'Create an account';
      const name = input('signup-name', 'Your name', { autocomplete: 'name', maxlength: '80' });
      const address = input('signup-email', 'E-mail address', {
        type: 'email',
        autocomplete: 'email',
        value: email,
      });
      const password = input('signup-password', 'Password', {
        type: 'password',
        autocomplete: 'new-password',
        'aria-describedby': 'signup-password-rules',
      });
      form = h(
        'form',
        {},
        ...name.nodes,
        ...address.nodes,
        ...password.nodes,
        passwordHint('signup-password-rules'),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'signup-submit' }, 'Create account'),
        h('p', { class: 'links' }, link('show-sign-in', 'I have an account', 'sign-in')),
      );
      form.addEventListener(
        'submit',
        submitting(form, async () => {
          checkNewPassword(password.field.value);
          email = address.field.value.trim();
          const answer = await client.signUp(email, password.field.value, name.field.value.trim());
          pendingPassword = password.field.value;
          sentTo = answer.destination;
          if (answer.confirmed) await finishSignIn(email, pendingPassword);
          else show('confirm', 'Account created. Enter the code to confirm it.');
        }),
      );
      focus = name.field;
    } else if (screen === 'confirm') {
      title = 'Confirm your account';
      const address = input('confirm-email', 'E-mail address', {
        type: 'email',
        autocomplete: 'email',
        value: email,
      });
      const code = input('confirm-code', 'Code', {
        autocomplete: 'one-time-code',
        inputmode: 'numeric',
        pattern: '[0-9]*',
        maxlength: '10',
      });
      const resend = h(
        'button',
        {
          type: 'button',
          class: 'link',
          'data-testid': 'confirm-resend',
          onclick: async () => {
            error.textContent = '';
            try {
              email = address.field.value.trim();
              sentTo = (await client.resendConfirmationCode(email)).destination;
              status.textContent = `A new code is on its way${sentTo === undefined ? '' : ` to ${sentTo}`}.`;
            } catch (cause) {
              fail(cause);
            }
          },
        },
        'Send a new code',
      );
      form = h(
        'form',
        {},
        codeWhere(),
        ...address.nodes,
        ...code.nodes,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'confirm-submit' }, 'Confirm'),
        h('p', { class: 'links' }, resend, link('show-sign-in', 'Back to sign in', 'sign-in')),
      );
      form.addEventListener(
        'submit',
        submitting(form, async () => {
          email = address.field.value.trim();
          await client.confirmSignUp(email, code.field.value.trim());
          if (pendingPassword !== '') await finishSignIn(email, pendingPassword);
          else show('sign-in', 'Account confirmed. Sign in.');
        }),
      );
      focus = email === '' ? address.field : code.field;
    } else if (screen === 'forgot') {
      title = 'Reset your password';
      const address = input('forgot-email', 'E-mail address', {
        type: 'email',
        autocomplete: 'email',
        value: email,
      });
      form = h(
        'form',
        {},
        h('p', { class: 'hint' }, 'We send a code to the address, to set a new password with.'),
        ...address.nodes,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'forgot-submit' }, 'Send code'),
        h('p', { class: 'links' }, link('show-sign-in', 'Back to sign in', 'sign-in')),
      );
      form.addEventListener(
        'submit',
        submitting(form, async () => {
          email = address.field.value.trim();
          sentTo = (await client.forgotPassword(email)).destination;
          show('reset', 'If an account uses this address, a code is on its way.');
        }),
      );
      focus = address.field;
    } else {
      title = 'Set a new password';
      const code = input('reset-code', 'Code', {
        autocomplete: 'one-time-code',
        inputmode: 'numeric',
        pattern: '[0-9]*',
        maxlength: '10',
      });
      const password = input('reset-password', 'New password', {
        type: 'password',
        autocomplete: 'new-password',
        'aria-describedby': 'reset-password-rules',
      });
      form = h(
        'form',
        {},
        codeWhere(),
        ...code.nodes,
        ...password.nodes,
        passwordHint('reset-password-rules'),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'reset-submit' }, 'Set password'),
        h('p', { class: 'links' }, link('show-forgot', 'Send another code', 'forgot')),
      );
      form.addEventListener(
        'submit',
        submitting(form, async () => {
          checkNewPassword(password.field.value);
          await client.confirmForgotPassword(email, code.field.value.trim(), password.field.value);
          pendingPassword = '';
          show('sign-in', 'Password changed. Sign in with the new one.');
        }),
      );
      focus = code.field;
    }
    form.setAttribute('data-testid', `${screen}-form`);
    form.setAttribute('aria-labelledby', 'auth-title');
    pane.replaceChildren(h('h2', { id: 'auth-title' }, title), status, form, error);
    focus.focus();
  }

  show('sign-in', initialNotice);
}

/** The local stack's `/dev/token` sign-in: any user id, no password. Never shown on a deployed stack. */
function developerSignIn(config: Config, onSession: (session: Session) => void): HTMLElement {
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error' });
  const fail = (message: string) => {
    error.textContent = message;
  };
  const userId = h('input', {
    id: 'signin-user-id',
    name: 'userId',
    required: true,
    autocomplete: 'off',
    pattern: '[A-Za-z0-9_.@+\\-]{1,128}',
    title: 'Letters, digits and _ . @ + -',
    'data-testid': 'signin-user-id',
  });
  const displayName = h('input', {
    id: 'signin-display-name',
    name: 'displayName',
    maxlength: 80,
    autocomplete: 'off',
    'data-testid': 'signin-display-name',
  });
  const demoList = h('ul', { class: 'demo-users', 'aria-label': 'Developer demo users' });

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

  if (config.signInUrl !== undefined) {
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

  return h(
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
    h('h2', { id: 'local-title' }, 'Developer sign-in (local stack only)'),
    h(
      'p',
      { class: 'hint' },
      'Any user id, no password, through /dev/token: a shortcut for tests that a deployed stack does not have.',
    ),
    demoList,
    h('label', { for: 'signin-user-id' }, 'User id'),
    userId,
    h('label', { for: 'signin-display-name' }, 'Display name (optional)'),
    displayName,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, 'Sign in'),
    error,
  );
}
