// The codec's zero-allocation promise (DESIGN.md, "Zero allocation"): a million encode+decode cycles in a
// child Node process, observed by a PerformanceObserver on 'gc' entries, must see no garbage collection
// and leave the heap where it was. A child process, so that vitest's own allocations are not counted; run
// with a 1 MB semi-space, so that even a few bytes per cycle fill the young generation many times over.
// The last case allocates on purpose and must be seen: it proves the observer can catch a failure.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CHILD = fileURLToPath(new URL("./zero-alloc-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CYCLES = 1_000_000;
// Headroom for what the measurement itself makes (process.memoryUsage, performance.now): about 2 KB.
const FLAT_HEAP_BYTES = 256 * 1024;

interface ChildResult {
  cycles: number;
  gcCount: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
}

function runChild(args: string[]): ChildResult {
  const env = { ...process.env };
  // The child's flags are exactly the ones below: nothing inherited (vitest's or a user's) may change them.
  delete env.NODE_OPTIONS;
  const child = spawnSync(
    process.execPath,
    ["--max-semi-space-size=1", "--import", "tsx", CHILD, "--cycles", String(CYCLES), ...args],
    { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 },
  );
  if (child.error !== undefined) {
    throw child.error;
  }
  if (child.status !== 0) {
    throw new Error(`child exited with ${child.status} (${child.signal}): ${child.stderr}`);
  }
  return JSON.parse(child.stdout.trim()) as ChildResult;
}

function expectNoAllocation(result: ChildResult): void {
  const report = JSON.stringify(result);
  expect(result.cycles, report).toBe(CYCLES);
  expect(result.gcCount, report).toBe(0);
  expect(result.heapUsedAfter - result.heapUsedBefore, report).toBeLessThan(FLAT_HEAP_BYTES);
}

describe("codec zero allocation: 1e6 cycles of QoS 1 PUBLISH + PUBACK, encode and decode, 3.1.1 and 5.0 alternating", () => {
  it("16-byte payload, packets framed whole: no GC, flat heap", () => {
    expectNoAllocation(runChild(["--payload", "16"]));
  });

  it("256-byte payload (the long-copy path), packets framed whole: no GC, flat heap", () => {
    expectNoAllocation(runChild(["--payload", "256"]));
  });

  it("256-byte payload given as a slice of a larger buffer (PublishFields.payloadOffset): no GC, flat heap", () => {
    expectNoAllocation(runChild(["--payload", "256", "--payload-offset", "8"]));
  });

  it("256-byte payload, each packet arriving in two chunks (gathered by the framer): no GC, flat heap", () => {
    expectNoAllocation(runChild(["--payload", "256", "--split"]));
  });

  it("the check can fail: one 64-byte Uint8Array per cycle is seen as GC", () => {
    const result = runChild(["--payload", "16", "--allocating"]);
    expect(result.cycles, JSON.stringify(result)).toBe(CYCLES);
    expect(result.gcCount, JSON.stringify(result)).toBeGreaterThan(0);
  });
});
