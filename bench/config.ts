/** Sizes and budgets of a run. `--quick` is the CI smoke (under 2 minutes); the default is the full run. */

export interface BenchConfig {
  readonly mode: 'full' | 'quick';
  /** Whole-run budget: past it the run stops what it is doing, reports what it has and exits 1. */
  readonly totalBudgetMs: number;
  readonly content: string;
  readonly ddb: { readonly sends: number; readonly warmup: number };
  readonly fanout: {
    readonly sizes: readonly number[];
    /** Our send path, per size (after the warm-up: `warmup` of ours and a few of the baseline). */
    readonly oursSends: number;
    /** The Scan baseline, per size (it gets slow: bounded by time too). */
    readonly scanSends: number;
    readonly warmup: number;
    readonly budgetPerSizeMs: number;
    readonly populateBudgetMs: number;
  };
  readonly e2e: {
    readonly clients: number;
    /** Closed loop: each client sends this many, one at a time (next after the ack). */
    readonly saturationMessagesPerClient: number;
    /**
     * Open loops at these fractions of the saturation throughput; the first is the headline. The
     * local stack runs every handler on one Node thread, where concurrent sends queue behind each
     * other; on Lambda each runs in its own container. A light load is the closer picture of that.
     */
    readonly pacedLoads: readonly number[];
    readonly pacedDurationMs: number;
    readonly idleFloorSamples: number;
    readonly budgetMs: number;
  };
  readonly init: { readonly repetitions: number; readonly budgetMs: number };
  /** Sends of each kind (text only, one attachment), alternated, after `warmup` of each. */
  readonly attach: { readonly sends: number; readonly warmup: number; readonly budgetMs: number };
  /** One file from one browser to the other through the local stack (headless Chromium). */
  readonly transfer: { readonly bytes: number; readonly repetitions: number; readonly budgetMs: number };
  /**
   * Offline e-mail (sections/notify.ts): runs of `burst` messages from Ann to Bob, each run in its own
   * delay window, so each run is one check; offline (Bob never connected: one e-mail each), then
   * online (Bob connected, reads them before the check: none).
   */
  readonly notify: {
    readonly offlineRuns: number;
    readonly onlineRuns: number;
    readonly burst: number;
    /** The cost's stated usage: the share of messages whose recipient is offline at the check. */
    readonly offlineRatio: number;
    readonly budgetMs: number;
  };
  readonly chatList: {
    /** Rooms of the two users whose first pages are compared (the goal is stated at 1,000 and 20). */
    readonly largeRooms: number;
    readonly smallRooms: number;
    /** The page asked for: `GET /chat/list?limit=`. */
    readonly limit: number;
    /** The page size of the walk through the large user's whole list (the correctness check). */
    readonly walkLimit: number;
    /** Messages per seeded room (every tenth room gets none: started, never written to). */
    readonly messagesPerRoom: number;
    /** Rooms seeded at once (each room's own steps run in order, on its own simulated clock). */
    readonly seedConcurrency: number;
    /** Calls per user before the measured ones (the handler's cold start, sockets, JIT). */
    readonly warmup: number;
    /** Measured calls per user, alternating the two users. */
    readonly samples: number;
    readonly budgetMs: number;
  };
}

/** ~100 characters: a typical chat line (and a message item under 1 KB). */
const CONTENT =
  'Hi! I had a look at the brief: I can deliver the first draft by Friday, shall we start with the UI?';

export const fullConfig: BenchConfig = {
  mode: 'full',
  totalBudgetMs: 10 * 60_000,
  content: CONTENT,
  ddb: { sends: 100, warmup: 30 },
  fanout: {
    sizes: [100, 1_000, 10_000],
    oursSends: 600,
    scanSends: 120,
    warmup: 60,
    budgetPerSizeMs: 75_000,
    populateBudgetMs: 120_000,
  },
  e2e: {
    clients: 100,
    saturationMessagesPerClient: 10,
    pacedLoads: [0.25, 0.5],
    pacedDurationMs: 30_000,
    idleFloorSamples: 150,
    budgetMs: 150_000,
  },
  init: { repetitions: 9, budgetMs: 150_000 },
  attach: { sends: 30, warmup: 3, budgetMs: 60_000 },
  transfer: { bytes: 20 * 1024 * 1024, repetitions: 3, budgetMs: 120_000 },
  // Bursts of 3 and 20% offline: the usage README.md's estimate states.
  notify: { offlineRuns: 5, onlineRuns: 3, burst: 3, offlineRatio: 0.2, budgetMs: 90_000 },
  chatList: {
    largeRooms: 1_000,
    smallRooms: 20,
    limit: 20,
    walkLimit: 20,
    messagesPerRoom: 3,
    seedConcurrency: 16,
    warmup: 10,
    samples: 100,
    budgetMs: 75_000,
  },
};

export const quickConfig: BenchConfig = {
  mode: 'quick',
  totalBudgetMs: 100_000,
  content: CONTENT,
  ddb: { sends: 10, warmup: 10 },
  fanout: {
    sizes: [100, 1_000],
    oursSends: 60,
    scanSends: 20,
    warmup: 20,
    budgetPerSizeMs: 12_000,
    populateBudgetMs: 20_000,
  },
  e2e: {
    clients: 100,
    saturationMessagesPerClient: 3,
    pacedLoads: [0.25],
    pacedDurationMs: 6_000,
    idleFloorSamples: 40,
    budgetMs: 40_000,
  },
  init: { repetitions: 2, budgetMs: 25_000 },
  attach: { sends: 6, warmup: 1, budgetMs: 15_000 },
  transfer: { bytes: 20 * 1024 * 1024, repetitions: 1, budgetMs: 40_000 },
  notify: { offlineRuns: 1, onlineRuns: 1, burst: 3, offlineRatio: 0.2, budgetMs: 25_000 },
  chatList: {
    largeRooms: 1_000,
    smallRooms: 20,
    limit: 20,
    // The API's largest page: the same cursor path in 10 calls rather than 50.
    walkLimit: 100,
    messagesPerRoom: 1,
    seedConcurrency: 16,
    warmup: 4,
    samples: 25,
    budgetMs: 30_000,
  },
};
