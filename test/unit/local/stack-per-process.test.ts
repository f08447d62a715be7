/**
 * One local stack per process: the handlers' AWS clients read the one process.env, so a second stack
 * at once would send one's requests to the other's emulators. Vitest loads a file once per project,
 * so the guard has to hold across copies of the module, not just within one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

type StackModule = typeof import('../../../local/stack.js');
const processState = () =>
  (globalThis as { [key: symbol]: { running: boolean } | undefined })[Symbol.for('chat.localStack.running')];

afterEach(() => {
  const state = processState();
  if (state) state.running = false;
});

describe('startLocalStack', () => {
  it('refuses to start while a stack of another copy of the module runs in this process', async () => {
    await import('../../../local/stack.js');
    const state = processState();
    expect(state).toEqual({ running: false });
    // As startLocalStack in that copy does, first thing.
    if (state) state.running = true;

    vi.resetModules();
    const copy = (await import('../../../local/stack.js')) as StackModule;
    await expect(copy.startLocalStack({ port: 0, inMemory: true, quiet: true })).rejects.toThrow(
      'A local stack is already running in this process',
    );
    // Refused before it took anything: the first stack still holds the process.
    expect(processState()).toEqual({ running: true });
  });
});
