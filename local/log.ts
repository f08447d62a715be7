/** The emulator's own log: chatter can be silenced (`quiet`), handler failures never are. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export function makeLog(quiet: boolean): Log {
  return {
    info: (message) => {
      if (!quiet) console.log(`[local] ${message}`);
    },
    warn: (message) => console.warn(`[local] ${message}`),
    error: (message, error) => {
      const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : error;
      console.error(`[local] ${message}`, ...(detail === undefined ? [] : [detail]));
    },
  };
}
