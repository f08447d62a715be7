/**
 * One local stack per process: the handlers' AWS clients read the one process.env, so a second stack
 * at once would send one's requests to the other's emulators. Vitest loads a file once per project,
 * so the guard has to hold across copies of the module, not just within one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

type StackModule = typeof import('../../../local/stack.js');
interface ProcessState {
  running: boolean;
  envBefore: Record<string, string | undefined>;
}
const processState = () =>
  (globalThis as { [key: symbol]: ProcessState | undefined })[Symbol.for('chat.localStack.process')];

afterEach(() => {
  const state = processState();
  if (state) {
    state.running = false;
    state.envBefore = {};
  }
  delete process.env.CHAT_TEST_SET_BY_A_STACK;
  delete process.env.CHAT_TEST_CHANGED_BY_A_STACK;
});

describe('startLocalStack', () => {
  it('refuses to start while a stack of another copy of the module runs in this process', async () => {
    await import('../../../local/stack.js');
    const state = processState();
    expect(state).toEqual({ running: false, envBefore: {} });
    // As startLocalStack in that copy does, first thing.
    if (state) state.running = true;

    vi.resetModules();
    const copy = (await import('../../../local/stack.js')) as StackModule;
    // An option it refuses right after the guard: were the guard to let it pass, it would fail on
    // that instead of starting a real stack here.
    await expect(
      copy.startLocalStack({ port: 0, inMemory: true, quiet: true, maxUploadBytes: -1 }),
    ).rejects.toThrow('A local stack is already running in this process');
    // Refused before it took anything: the first stack still holds the process.
    expect(processState()?.running).toBe(true);
  });
});

describe('envBeforeLocalStacks', () => {
  it('gives the environment as it was before any stack wrote to it, for a stack in another process', async () => {
    const { envBeforeLocalStacks } = await import('../../../local/stack.js');
    process.env.CHAT_TEST_CHANGED_BY_A_STACK = 'the first stack';
    // What startLocalStack records before it writes: one name it added, one it changed.
    const state = processState();
    if (state)
      state.envBefore = { CHAT_TEST_SET_BY_A_STACK: undefined, CHAT_TEST_CHANGED_BY_A_STACK: 'the shell' };
    process.env.CHAT_TEST_SET_BY_A_STACK = 'the first stack';

    const env = envBeforeLocalStacks();
    expect(env.CHAT_TEST_SET_BY_A_STACK).toBeUndefined();
    expect('CHAT_TEST_SET_BY_A_STACK' in env).toBe(false);
    expect(env.CHAT_TEST_CHANGED_BY_A_STACK).toBe('the shell');
    expect(env.PATH).toBe(process.env.PATH);
    // This process keeps what the stack running in it needs.
    expect(process.env.CHAT_TEST_SET_BY_A_STACK).toBe('the first stack');
  });
});
