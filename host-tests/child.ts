// The parent side of the zero-allocation suites: runs a gc-probe child (host-tests/gc-probe.ts) in its own
// Node process, so that vitest's own allocations are not counted, with a 1 MB semi-space, so that even a
// few bytes per cycle fill the young generation many times over; and checks what it measured.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Measurement } from "./gc-probe";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Cycles a measured loop runs unless a case says otherwise. */
export const CYCLES = 1_000_000;
/** Headroom for what the measurement itself makes (process.memoryUsage, performance.now): about 2 KB. */
export const FLAT_HEAP_BYTES = 256 * 1024;

/** Runs `child` (a TypeScript file, through tsx) with `--cycles cycles` and `args`; returns the JSON it printed. */
export function runGcChild<T>(child: string, args: string[], cycles = CYCLES): T {
  const env = { ...process.env };
  // The child's flags are exactly the ones below: nothing inherited (vitest's or a user's) may change them.
  delete env.NODE_OPTIONS;
  const result = spawnSync(
    process.execPath,
    ["--max-semi-space-size=1", "--import", "tsx", child, "--cycles", String(cycles), ...args],
    { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 },
  );
  if (result.error !== undefined) {
    throw result.error;
  }
  if (result.status !== 0) {
    throw new Error(`child exited with ${result.status} (${result.signal}): ${result.stderr}`);
  }
  return JSON.parse(result.stdout.trim()) as T;
}

/** The measured loop saw no garbage collection and left the heap where it was; `report` labels a failure. */
export function expectNoGc(measured: Pick<Measurement, "gcCount" | "heapUsedBefore" | "heapUsedAfter">, report: string): void {
  expect(measured.gcCount, report).toBe(0);
  expect(measured.heapUsedAfter - measured.heapUsedBefore, report).toBeLessThan(FLAT_HEAP_BYTES);
}
