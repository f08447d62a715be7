/**
 * Telling connections about things: the fan-out with its defaults, and forgetting connections that
 * API Gateway reports gone. Shared by the messaging and presence services.
 */
import {
  connectionsOf,
  type DeliveryTarget,
  type FanOutOptions,
  fanOut,
  jitteredBackoff,
  openedAtSeconds,
} from './fan-out.js';
import type { RoomId, ServerFrame, UserProfile } from './model.js';
import {
  type Clock,
  type ConnectionStore,
  type Logger,
  type Metrics,
  type Notifier,
  noMetrics,
} from './ports.js';

/**
 * API Gateway answers 410 for a connection whose `$connect` has not returned yet, although it is
 * about to open: such a young connection is kept (a dead one expires, or a later post removes it).
 */
const OPENING_GRACE_SECONDS = 30;

/**
 * Attempts after the first for a post the management API throttles. The management client makes one
 * request per attempt (adapters/notifier.ts), so a post costs at most 1 + this many requests.
 */
export const MAX_THROTTLE_RETRIES = 4;

export type FanOutSettings = Partial<
  Pick<FanOutOptions, 'concurrency' | 'maxThrottleRetries' | 'backoffMs' | 'sleep'>
>;

export class Deliveries {
  private readonly options: FanOutOptions;

  constructor(
    store: Pick<ConnectionStore, 'removeConnection'>,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    logger: Logger,
    settings: FanOutSettings = {},
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.options = {
      concurrency: 25,
      maxThrottleRetries: MAX_THROTTLE_RETRIES,
      backoffMs: jitteredBackoff(50, 1000),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...settings,
      onGone: async (target) => {
        const ageSeconds = Math.floor(clock.now().getTime() / 1000) - openedAtSeconds(target);
        if (ageSeconds < OPENING_GRACE_SECONDS) return;
        await store.removeConnection(target.userId, target.connectionId, null);
      },
      onError: (target, error) =>
        logger.warn('post to connection failed', { connectionId: target.connectionId, error: String(error) }),
    };
  }

  /** `frame` to the live connections of `users` that may see events of `roomId`. */
  async toUsers(
    users: readonly UserProfile[],
    roomId: RoomId,
    frame: ServerFrame,
    exceptConnectionId?: string,
  ): Promise<void> {
    await this.toTargets(connectionsOf(users, roomId, this.clock.now(), exceptConnectionId), frame);
  }

  async toTargets(targets: readonly DeliveryTarget[], frame: ServerFrame): Promise<void> {
    if (targets.length === 0) return;
    const { delivered, gone, failed, throttled } = await fanOut(
      this.notifier,
      targets,
      JSON.stringify(frame),
      this.options,
    );
    this.metrics.record({
      FanOutPosts: delivered + gone + failed,
      GoneConnections: gone,
      ThrottledPosts: throttled,
      FailedPosts: failed,
    });
  }
}
