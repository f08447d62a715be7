/**
 * A Notifier that records every post instead of calling API Gateway, and can be told how each
 * connection behaves: gone (410), throttled a number of times before delivering, or failing.
 */
import type { ServerFrame } from '../../lambdas/domain/model.js';
import { type Notifier, type PostResult, ThrottledError } from '../../lambdas/domain/ports.js';

export interface Post {
  readonly connectionId: string;
  readonly payload: string;
}

export class RecordingNotifier implements Notifier {
  /** Every call, whatever its outcome. */
  readonly attempts: Post[] = [];
  /** The posts that reached their connection. */
  readonly delivered: Post[] = [];
  private readonly gone = new Set<string>();
  private readonly throttles = new Map<string, number>();
  private readonly errors = new Map<string, unknown>();
  private inFlight = 0;
  /** The most posts ever awaiting an answer at once. */
  maxInFlight = 0;

  /** `latency` runs inside each post, so concurrent posts overlap as they would on the network. */
  constructor(private readonly latency: () => Promise<void> = () => Promise.resolve()) {}

  /** The connection answers 410: API Gateway no longer knows it. */
  markGone(connectionId: string): void {
    this.gone.add(connectionId);
  }

  /** The next `times` posts to the connection are throttled (429), later ones delivered. */
  throttle(connectionId: string, times: number): void {
    this.throttles.set(connectionId, times);
  }

  /** Every post to the connection throws `error`. */
  failWith(connectionId: string, error: unknown): void {
    this.errors.set(connectionId, error);
  }

  async post(connectionId: string, payload: string): Promise<PostResult> {
    this.attempts.push({ connectionId, payload });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.latency();
      if (this.gone.has(connectionId)) return 'gone';
      const throttlesLeft = this.throttles.get(connectionId) ?? 0;
      if (throttlesLeft > 0) {
        this.throttles.set(connectionId, throttlesLeft - 1);
        throw new ThrottledError(`post to ${connectionId} throttled`);
      }
      if (this.errors.has(connectionId)) throw this.errors.get(connectionId);
      this.delivered.push({ connectionId, payload });
      return 'delivered';
    } finally {
      this.inFlight--;
    }
  }

  /** The frames delivered to one connection, decoded, in order. */
  framesFor(connectionId: string): ServerFrame[] {
    return this.delivered.filter((post) => post.connectionId === connectionId).map((post) => decode(post));
  }

  /** The connections that got at least one frame, sorted. */
  deliveredTo(): string[] {
    return [...new Set(this.delivered.map((post) => post.connectionId))].sort();
  }

  attemptsTo(connectionId: string): number {
    return this.attempts.filter((post) => post.connectionId === connectionId).length;
  }

  /** Forgets what was posted so far (not the behaviours). */
  clear(): void {
    this.attempts.length = 0;
    this.delivered.length = 0;
    this.maxInFlight = 0;
  }
}

function decode(post: Post): ServerFrame {
  const frame: ServerFrame = JSON.parse(post.payload);
  return frame;
}
