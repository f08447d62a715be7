import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeConsoleLogger, withCorrelation } from '../../../lambdas/adapters/console-logger.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('console logger', () => {
  it('hands console one object per entry, so Lambda’s JSON format keeps its fields', () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = makeConsoleLogger('INFO');

    log.info('connected', { connectionId: 'c1' });
    log.warn('post failed', { connectionId: 'c2' });
    log.error('unhandled error', { error: 'boom' });

    expect(info).toHaveBeenCalledExactlyOnceWith({ level: 'INFO', message: 'connected', connectionId: 'c1' });
    expect(warn).toHaveBeenCalledExactlyOnceWith({
      level: 'WARN',
      message: 'post failed',
      connectionId: 'c2',
    });
    expect(error).toHaveBeenCalledExactlyOnceWith({
      level: 'ERROR',
      message: 'unhandled error',
      error: 'boom',
    });
  });

  it('adds the correlation fields of the request being handled, across awaits, and only there', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const log = makeConsoleLogger('INFO');

    await withCorrelation({ requestId: 'r-1', connectionId: 'c1', clientMessageId: 'm-1' }, async () => {
      await Promise.resolve();
      log.info('sent', { roomId: 'chat_a_b' });
    });
    log.info('outside');

    expect(info.mock.calls).toEqual([
      [
        {
          level: 'INFO',
          message: 'sent',
          requestId: 'r-1',
          connectionId: 'c1',
          clientMessageId: 'm-1',
          roomId: 'chat_a_b',
        },
      ],
      [{ level: 'INFO', message: 'outside' }],
    ]);
  });

  it('keeps concurrent requests’ correlation apart', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const log = makeConsoleLogger('INFO');
    const handle = (requestId: string, delayMs: number) =>
      withCorrelation({ requestId }, async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        log.info('done');
      });

    await Promise.all([handle('slow', 20), handle('fast', 1)]);

    expect(info.mock.calls.map(([entry]) => (entry as { requestId: string }).requestId)).toEqual([
      'fast',
      'slow',
    ]);
  });

  it('drops entries below LOG_LEVEL', () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});

    const log = makeConsoleLogger('warn');
    log.info('quiet');
    log.warn('loud');

    expect(info).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledOnce();
  });
});
