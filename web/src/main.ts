/** Boot: read the host's config, resume the session or sign in, then run the chat. */
import { ChatApp } from './app.js';
import { loadConfig, type Session, savedSession, saveSession } from './session.js';
import { renderSignIn } from './sign-in.js';

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (root === null) throw new Error('index.html has no #app element');
  const config = await loadConfig();

  const showSignIn = (notice = '') => {
    saveSession(undefined);
    renderSignIn(root, config, run, notice);
  };
  function run(session: Session) {
    saveSession(session);
    void new ChatApp(root as HTMLElement, session, showSignIn).start();
  }

  const session = savedSession();
  if (session) run(session);
  else showSignIn();
}

void main();
