// How late a device process's event loop ran. Every device, the observer and the fault proxy of a slice
// share that loop, so each time the process measures (a message's latency, when a will arrived) is late by
// as much as the loop was: a starved machine or an overloaded process shows as a slow broker unless the
// report says how late the simulator itself was.

import { IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/** Node's sampling interval: each sample is the time between two ticks of a timer of this period. */
const RESOLUTION_MS = 10;

/** How late the loop ran, in ms past its sampling interval: the 99th percentile of its samples and the longest. */
export interface LoopDelay {
  p99: number;
  max: number;
}

const lateBy = (nanoseconds: number) => Math.max(0, Math.round(nanoseconds / 1e6 - RESOLUTION_MS));

/** Measures this process's event loop from its construction: over the whole run, and since the last look. */
export class LoopDelayMonitor {
  private readonly run: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly recent: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.run.enable();
    this.recent.enable();
  }

  /** The longest delay (ms) since the last call (or the start), for the run's per-second samples. */
  longestSinceLast(): number {
    const longest = this.recent.count > 0 ? lateBy(this.recent.max) : 0;
    this.recent.reset();
    return longest;
  }

  /** Stops measuring; how late the loop ran over the whole run. */
  stop(): LoopDelay {
    this.run.disable();
    this.recent.disable();
    return { p99: lateBy(this.run.percentile(99)), max: lateBy(this.run.max) };
  }
}
