/** Time budgets: every loop in the bench checks one, so the run always ends by itself. */

export class Deadline {
  private readonly end: number;

  constructor(
    readonly label: string,
    readonly budgetMs: number,
    private readonly parent?: Deadline,
  ) {
    this.end = performance.now() + budgetMs;
  }

  remainingMs(): number {
    const own = this.end - performance.now();
    return this.parent === undefined ? own : Math.min(own, this.parent.remainingMs());
  }

  get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A nested budget that also ends when this one does. */
  child(label: string, budgetMs: number): Deadline {
    return new Deadline(label, budgetMs, this);
  }
}

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${Math.round(ms)} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects with TimeoutError if `promise` has not settled after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
