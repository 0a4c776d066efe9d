// How late a device process's event loop ran. Every device, the observer and the fault proxy of a slice
// share that loop, so each time the process measures (a message's latency, when a will arrived) is late by
// as much as the loop was: a starved machine or an overloaded process shows as a slow broker unless the
// report says how late the simulator itself was.

import { monitorEventLoopDelay } from "node:perf_hooks";

/** Node's sampling interval: each sample is the time between two ticks of a timer of this period. */
const RESOLUTION_MS = 10;

/** How late the loop ran, in ms past its sampling interval: the 99th percentile of its samples and the longest. */
export interface LoopDelay {
  p99: number;
  max: number;
}

/** Starts measuring this process's event loop; the function it returns stops and says how late it ran. */
export function measureLoopDelay(): () => LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  return () => {
    histogram.disable();
    const lateBy = (nanoseconds: number) => Math.max(0, Math.round(nanoseconds / 1e6 - RESOLUTION_MS));
    return { p99: lateBy(histogram.percentile(99)), max: lateBy(histogram.max) };
  };
}
