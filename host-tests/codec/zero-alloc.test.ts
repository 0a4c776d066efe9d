// The codec's zero-allocation promise (DESIGN.md, "Zero allocation"): a million encode+decode cycles in a
// child Node process, observed by a PerformanceObserver on 'gc' entries, must see no garbage collection
// and leave the heap where it was. A child process, so that vitest's own allocations are not counted; run
// with a 1 MB semi-space, so that even a few bytes per cycle fill the young generation many times over.
// The last case allocates on purpose and must be seen: it proves the observer can catch a failure.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CYCLES, expectNoGc, runGcChild } from "../child";
import type { CodecResult } from "./zero-alloc-child";

const CHILD = fileURLToPath(new URL("./zero-alloc-child.ts", import.meta.url));

function runChild(args: string[]): CodecResult {
  return runGcChild<CodecResult>(CHILD, args);
}

function expectNoAllocation(result: CodecResult): void {
  const report = JSON.stringify(result);
  expect(result.cycles, report).toBe(CYCLES);
  expectNoGc(result, report);
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
