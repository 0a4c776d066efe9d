// One timer for a whole fleet: engine wake-ups and scenario events in a min-heap keyed by time, with the
// single setTimeout set for the earliest. (100,000 devices, 100,000 engines, one timer.)

import { performance } from "node:perf_hooks";
import { wholeMilliseconds } from "../device/platform/node/client";
import type { Clock, NodeClient } from "../device/platform/node/client";

/** Something to run at a time: a device's recurring work is an object with a method, not a closure per device. */
export interface Task {
  fire(): void;
}

interface Entry {
  /** Whole milliseconds, rounded up (a task never runs early): a fractional one would be a boxed number per entry. */
  at: number;
  order: number;
  /** What to run; or null when the entry wakes `client` (unless a later request replaced it). */
  task: Task | (() => void) | null;
  client: NodeClient | null;
}

export class FleetClock implements Clock {
  private readonly heap: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private order = 0;
  private stopped = false;

  now(): number {
    return wholeMilliseconds();
  }

  wakeAt(client: NodeClient, deadline: number): void {
    // Lazy removal: a replaced request stays in the heap and is skipped when it comes up (the client keeps
    // only its latest entry, so no map of clients is needed).
    if (deadline < 0) {
      client.clockEntry = null;
      return;
    }
    // A later deadline keeps the entry there is (the keep-alive deadline moves with every packet sent): the
    // client is woken early, its engine finds nothing due, and it asks again. So a device has one entry,
    // not one per packet waiting out the keep-alive interval in the heap.
    const entry = client.clockEntry as Entry | null;
    if (entry !== null && entry.at <= deadline) return;
    client.clockEntry = this.push({ at: Math.ceil(deadline), order: this.order++, task: null, client });
  }

  /** Runs `task` (a function, or an object's fire()) at time `at` (on this clock). */
  at(at: number, task: Task | (() => void)): void {
    this.push({ at: Math.ceil(at), order: this.order++, task, client: null });
  }

  private push(entry: Entry): Entry {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
    this.arm();
    return entry;
  }

  /** Stops waking anything: the run is over. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.stopped || this.heap.length === 0) return;
    const next = this.heap[0].at;
    if (next >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - performance.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    // Run everything due; entries added while running that are already due run in this pass too.
    while (!this.stopped && this.heap.length > 0 && this.heap[0].at <= now) {
      const entry = this.pop();
      if (entry.client !== null) {
        if (entry.client.clockEntry === entry) {
          entry.client.clockEntry = null;
          entry.client.wake();
        }
      } else if (typeof entry.task === "function") {
        entry.task();
      } else {
        entry.task!.fire();
      }
    }
    this.arm();
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
