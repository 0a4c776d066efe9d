// How late a device process's event loop ran. Every device, the observer and the fault proxy of a slice
// share that loop, so each time the process measures (a message's latency, when a will arrived) is late by
// as much as the loop was: a starved machine or an overloaded process shows as a slow broker unless the
// report says how late the simulator itself was.

import { IntervalHistogram, monitorEventLoopDelay, performance } from "node:perf_hooks";

/** How often the loop is sampled: each sample is how much later than this a timer of this period ran. */
const RESOLUTION_MS = 10;

/** How late the loop ran, in ms past its sampling interval: the 99th percentile of its samples and the longest. */
export interface LoopDelay {
  p99: number;
  max: number;
}

/** Measures this process's event loop from its construction: over the whole run, and since the last look. */
export class LoopDelayMonitor {
  private readonly run: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  // Node's histogram cannot say what happened since a given moment (resetting it also drops the sample under
  // way, so a stall that ends just before a look is lost), hence a timer of its own for the recent figure.
  private readonly tick: NodeJS.Timeout;
  private lastTick = performance.now();
  private longest = 0;

  constructor() {
    this.run.enable();
    this.tick = setInterval(() => {
      const now = performance.now();
      this.longest = Math.max(this.longest, now - this.lastTick - RESOLUTION_MS);
      this.lastTick = now;
    }, RESOLUTION_MS);
    this.tick.unref();
  }

  /** The longest delay (ms) since the last call (or the start), for the run's per-second samples. */
  longestSinceLast(): number {
    // A stall that has just ended counts now, before the timer's own callback has run; the timer's next
    // delay then counts from here, so it is not counted twice.
    const now = performance.now();
    const longest = Math.max(this.longest, now - this.lastTick - RESOLUTION_MS);
    this.lastTick = now;
    this.longest = 0;
    return Math.max(0, Math.round(longest));
  }

  /** Stops measuring; how late the loop ran over the whole run. */
  stop(): LoopDelay {
    this.run.disable();
    clearInterval(this.tick);
    const lateBy = (nanoseconds: number) => Math.max(0, Math.round(nanoseconds / 1e6 - RESOLUTION_MS));
    return { p99: lateBy(this.run.percentile(99)), max: lateBy(this.run.max) };
  }
}
