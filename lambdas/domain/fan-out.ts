/**
 * Delivery of one frame to many connections: persisted state is never touched here except to forget
 * connections that API Gateway reports gone. One dead or slow connection never stops the others.
 */
import type { ConnectionRef, RoomId, UserId, UserProfile } from './model.js';
import { type Notifier, ThrottledError, TransientPostError } from './ports.js';

/** A user's connections expire this long after connecting: API Gateway's 2-hour limit plus margin. */
export const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60 + 5 * 60;

export interface DeliveryTarget {
  readonly userId: UserId;
  readonly connectionId: string;
  /** From the connection record: when it can no longer be alive (and so when it was opened). */
  readonly expiresAt: number;
}

/** When a connection was opened, from its expiry. */
export const openedAtSeconds = (target: DeliveryTarget): number =>
  target.expiresAt - CONNECTION_LIFETIME_SECONDS;

export interface FanOutOptions {
  readonly concurrency: number;
  /** Attempts after the first when the management API throttles or fails transiently. */
  readonly maxThrottleRetries: number;
  readonly backoffMs: (attempt: number) => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly onGone: (target: DeliveryTarget) => Promise<void>;
  readonly onError: (target: DeliveryTarget, error: unknown) => void;
}

export interface FanOutReport {
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
  /** Post attempts the management API throttled, retried or not. */
  readonly throttled: number;
}

const isLive = (connection: ConnectionRef, nowSeconds: number) => connection.expiresAt > nowSeconds;

/**
 * The live connections of `users` that may see an event of `roomId`: unscoped connections and those
 * scoped to that room. `roomId` undefined means an event of no particular room.
 */
export function connectionsOf(
  users: Iterable<UserProfile>,
  roomId: RoomId | undefined,
  now: Date,
  exceptConnectionId?: string,
): DeliveryTarget[] {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const targets: DeliveryTarget[] = [];
  for (const user of users) {
    for (const connection of user.connections) {
      if (connection.connectionId === exceptConnectionId || !isLive(connection, nowSeconds)) continue;
      if (connection.roomId !== undefined && connection.roomId !== roomId) continue;
      targets.push({
        userId: user.userId,
        connectionId: connection.connectionId,
        expiresAt: connection.expiresAt,
      });
    }
  }
  return targets;
}

export function countLiveConnections(user: UserProfile, now: Date): number {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return user.connections.filter((connection) => isLive(connection, nowSeconds)).length;
}

async function deliverOne(
  notifier: Notifier,
  target: DeliveryTarget,
  payload: string,
  options: FanOutOptions,
  counts: { throttled: number },
): Promise<'delivered' | 'gone' | 'failed'> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await notifier.post(target.connectionId, payload);
      if (result === 'gone') {
        await options.onGone(target).catch((error: unknown) => options.onError(target, error));
      }
      return result;
    } catch (error) {
      if (error instanceof ThrottledError) counts.throttled++;
      const retryable = error instanceof ThrottledError || error instanceof TransientPostError;
      if (retryable && attempt < options.maxThrottleRetries) {
        await options.sleep(options.backoffMs(attempt));
        continue;
      }
      options.onError(target, error);
      return 'failed';
    }
  }
}

export async function fanOut(
  notifier: Notifier,
  targets: readonly DeliveryTarget[],
  payload: string,
  options: FanOutOptions,
): Promise<FanOutReport> {
  const counts = { delivered: 0, gone: 0, failed: 0, throttled: 0 };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++];
      if (target === undefined) return;
      counts[await deliverOne(notifier, target, payload, options, counts)]++;
    }
  };
  const workers = Math.min(options.concurrency, targets.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return counts;
}

/** Exponential backoff with full jitter, capped: spreads retries of many throttled posts. */
export const jitteredBackoff =
  (baseMs: number, capMs: number, random: () => number = Math.random) =>
  (attempt: number): number =>
    Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
