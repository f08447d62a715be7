/** Boot: read the host's config, resume the session or sign in, then run the chat. */
import { ChatApp } from './app.js';
import { loadConfig, type Session, savedSession, saveSession, sessionAuth } from './session.js';
import { renderSignIn } from './sign-in.js';

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (root === null) throw new Error('index.html has no #app element');
  const loaded = await loadConfig();
  const config = loaded ?? {};

  const showSignIn = (notice = '') => {
    saveSession(undefined);
    renderSignIn(root, config, run, notice);
  };
  function run(session: Session) {
    saveSession(session);
    let app: ChatApp | undefined;
    // A refresh that Cognito refuses ends the session: the chat closes with the reason.
    const auth = sessionAuth(session, (reason) => app?.close(reason));
    app = new ChatApp(
      root as HTMLElement,
      session,
      (notice) => {
        // No notice: the user pressed Sign out, so the refresh token is revoked too.
        if (notice === undefined) void auth.signOut();
        else auth.end();
        showSignIn(notice);
      },
      auth.token,
    );
    void app.start();
  }

  const session = savedSession(loaded);
  if (session) run(session);
  else showSignIn();
}

void main();
