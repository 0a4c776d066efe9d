// The child side of the zero-allocation suites (codec/ and engine/zero-alloc-child.ts): options from the
// command line, garbage kept on purpose for --allocating, warm-up, and the measurement of loops by a
// PerformanceObserver on 'gc' entries, printed as one line of JSON on stdout. The parent side is
// host-tests/child.ts. Nothing here imports vitest: the child process loads only what it measures.
//
// 'gc' entries are delivered asynchronously, so a loop runs to its end first and only entries whose start
// lies inside its time window are counted. No --expose-gc, no forced collections: whatever the loop leaves
// behind is there for a scavenge to find.

import { PerformanceObserver, performance } from "node:perf_hooks";

/** What one measured loop shows; the parent checks gcCount and the heap. */
export interface Measurement {
  /** The loop's return value: how many cycles completed with every check passing. */
  cycles: number;
  /** Garbage collections that started while the loop ran. */
  gcCount: number;
  /** Their kinds (1 = minor/scavenge, 4 = major, ...; -1 unknown), the first 20. */
  gcKinds: number[];
  heapUsedBefore: number;
  heapUsedAfter: number;
  milliseconds: number;
}

/**
 * The options on the command line, over `defaults`: each key is a flag, camelCase as --kebab-case; a
 * boolean key is a switch, a number key takes the next argument. Anything else exits with code 2.
 */
export function parseOptions<T extends { [K in keyof T]: number | boolean }>(defaults: T, argv = process.argv.slice(2)): T {
  const options: Record<string, number | boolean> = { ...defaults };
  const keys = new Map<string, string>();
  for (const key of Object.keys(defaults)) {
    keys.set(`--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, key);
  }
  for (let i = 0; i < argv.length; i++) {
    const key = keys.get(argv[i]);
    if (key === undefined) {
      process.stderr.write(`unknown argument ${argv[i]}\n`);
      process.exit(2);
    }
    options[key] = typeof options[key] === "boolean" ? true : Number(argv[++i]);
  }
  return options as T;
}

// Where --allocating keeps its garbage: a module variable, so the allocation cannot be optimized away.
let kept: Uint8Array | null = null;

/** The garbage of --allocating: a 64-byte Uint8Array for cycle `i`, kept until the next one. */
export function keepGarbage(i: number): void {
  kept = new Uint8Array(64);
  kept[0] = i & 0xff;
}

/** The length of the last array keepGarbage made (0: none), for the result. */
export function keptLength(): number {
  return kept === null ? 0 : kept.length;
}

/** A pause for the concurrent compiler and for the 'gc' entries to be delivered. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * Warm-up: every function on the path, and each of `runs` as a whole call (not only through on-stack
 * replacement), gets optimized before the measured loops, with pauses for the concurrent compiler.
 * Returns how many warm-up cycles passed their checks.
 */
export async function warmUp(cycles: number, runs: ((count: number) => number)[]): Promise<number> {
  const rounds = 4;
  let warmed = 0;
  for (let round = 0; round < rounds; round++) {
    for (const run of runs) {
      warmed += run(Math.ceil(cycles / rounds));
    }
    await settle();
  }
  return warmed;
}

/** Watches 'gc' entries from its construction; measure() times loops, finish() counts the GCs in each. */
export class GcProbe {
  private readonly gcStarts: number[] = [];
  private readonly gcKinds: number[] = [];
  private readonly windows: { started: number; ended: number; measurement: Measurement }[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      const entries = list.getEntries();
      for (let i = 0; i < entries.length; i++) {
        this.gcStarts.push(entries[i].startTime);
        // 'gc' entries carry { kind } (1 = minor/scavenge, 4 = major, ...) in detail; older typings omit it.
        const detail = (entries[i] as unknown as { detail?: { kind?: number } | null }).detail;
        this.gcKinds.push(detail !== null && detail !== undefined && detail.kind !== undefined ? detail.kind : -1);
      }
    });
    this.observer.observe({ entryTypes: ["gc"] });
  }

  /**
   * Runs `run(count)` between two readings of the heap and the clock. The returned object is the one
   * finish() fills in with gcCount and gcKinds.
   */
  measure(run: (count: number) => number, count: number): Measurement {
    const heapUsedBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const cycles = run(count);
    const ended = performance.now();
    const heapUsedAfter = process.memoryUsage().heapUsed;
    const measurement: Measurement = {
      cycles, gcCount: 0, gcKinds: [], heapUsedBefore, heapUsedAfter, milliseconds: Math.round(ended - started),
    };
    this.windows.push({ started, ended, measurement });
    return measurement;
  }

  /** Waits for the last 'gc' entries, stops watching, and counts the collections inside each measured loop. */
  async finish(): Promise<void> {
    await settle();
    this.observer.disconnect();
    for (const { started, ended, measurement } of this.windows) {
      for (let i = 0; i < this.gcStarts.length; i++) {
        if (this.gcStarts[i] >= started && this.gcStarts[i] <= ended) {
          measurement.gcCount++;
          if (measurement.gcKinds.length < 20) {
            measurement.gcKinds.push(this.gcKinds[i]);
          }
        }
      }
    }
  }
}

/** Runs the child's `main` and prints its result as one line of JSON; on an error, says it and exits 1. */
export function printResult(main: () => Promise<object>): void {
  main().then((result) => {
    process.stdout.write(JSON.stringify(result) + "\n");
  }).catch((error: unknown) => {
    process.stderr.write(String(error) + "\n");
    process.exit(1);
  });
}
