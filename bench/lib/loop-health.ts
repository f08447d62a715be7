/**
 * How healthy this process's event loop is during a phase: its scheduling delay (how late a timer
 * fires: the wait any callback, a handler's included, has on top of its own work) and the garbage
 * collector's pauses. The local stack runs the gateway emulator and every handler on this one
 * thread, so a send's latency has this on top of the DynamoDB floor; on Lambda each invocation has
 * its own container.
 */
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { round } from './stats.js';

export interface LoopHealth {
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly gcPauses: number;
  readonly gcTotalMs: number;
  readonly gcMaxMs: number;
}

/** The sampling timer's period: Node records the whole interval between its ticks, period included. */
const RESOLUTION_MS = 10;

export class LoopMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly observer: PerformanceObserver;
  private gc: number[] = [];

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.gc.push(entry.duration);
    });
  }

  start(): void {
    this.histogram.reset();
    this.gc = [];
    this.histogram.enable();
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): LoopHealth {
    this.histogram.disable();
    this.observer.disconnect();
    const ms = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS));
    return {
      delayP50Ms: ms(this.histogram.percentile(50)),
      delayP99Ms: ms(this.histogram.percentile(99)),
      delayMaxMs: ms(this.histogram.max),
      gcPauses: this.gc.length,
      gcTotalMs: round(this.gc.reduce((sum, d) => sum + d, 0)),
      gcMaxMs: round(Math.max(0, ...this.gc)),
    };
  }
}
