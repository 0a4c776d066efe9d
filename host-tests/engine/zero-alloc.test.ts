// The engine's zero-allocation promise (DESIGN.md, "Zero allocation"): a million message cycles at QoS 0
// and a million at QoS 1 through one Engine, connected to an in-memory broker stand-in (preallocated
// CONNACK, SUBACK, PUBACK with the packet id patched in, PINGRESP, and the PUBLISH it delivers), on a
// virtual clock, with keep-alive pings in the idle gaps. Run in a child Node process (so vitest's own
// allocations are not counted) with a 1 MB semi-space, so that even a few bytes per cycle would fill the
// young generation many times over; a PerformanceObserver on 'gc' entries must see no collection in
// either measured loop, the heap must stay where it was, and every message must reach the handler.
// The last case allocates on purpose and must be seen: it proves the observer can catch a failure.
//
// The clock counts whole milliseconds. A fractional `now` (performance.now()) is boxed by V8 into a new
// HeapNumber at each call that passes it as an argument: that allocation is the caller's, not the engine's
// (the engine stores the time in place; checked by hand with a pre-boxed fractional clock: no GC).

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CYCLES, expectNoGc, runGcChild } from "../child";
import type { EngineResult } from "./zero-alloc-child";

const CHILD = fileURLToPath(new URL("./zero-alloc-child.ts", import.meta.url));

function runChild(args: string[], cycles = CYCLES): EngineResult {
  return runGcChild<EngineResult>(CHILD, args, cycles);
}

/** Every cycle completed and was checked on both sides: the engine worked all the way through. */
function expectWorked(result: EngineResult, cycles = CYCLES): void {
  const report = JSON.stringify(result);
  expect(result.connected, report).toBe(true);
  expect(result.connects, report).toBe(1);
  expect(result.disconnects, report).toBe(0);
  expect(result.badMessages + result.badAcks + result.badPackets, report).toBe(0);
  for (const measured of [result.qos0, result.qos1]) {
    expect(measured.cycles, report).toBe(cycles);
    expect(measured.published, report).toBe(cycles);
    // The message handler saw every delivered message.
    expect(measured.messages, report).toBe(cycles);
    expect(measured.pings, report).toBeGreaterThan(0);
  }
  expect(result.qos0.acknowledged, report).toBe(0);
  expect(result.qos1.acknowledged, report).toBe(cycles);
  expect(result.qos1.pubacksFromEngine, report).toBe(cycles);
}

function expectNoAllocation(result: EngineResult): void {
  const report = JSON.stringify(result);
  expectWorked(result);
  for (const measured of [result.qos0, result.qos1]) {
    expectNoGc(measured, report);
  }
}

describe("engine zero allocation: 1e6 QoS 0 cycles and 1e6 QoS 1 cycles against an in-memory broker", () => {
  it("MQTT 3.1.1: no GC, flat heap, every message delivered and acknowledged", () => {
    expectNoAllocation(runChild(["--version", "4"]));
  });

  it("MQTT 5.0: no GC, flat heap, every message delivered and acknowledged", () => {
    expectNoAllocation(runChild(["--version", "5"]));
  });

  it("MQTT 5.0, every delivery in two chunks (gathered by the framer): no GC, flat heap", () => {
    expectNoAllocation(runChild(["--version", "5", "--split"]));
  });

  // A fifth of the cycles is plenty here: 64 bytes a cycle fill a 1 MB semi-space every ~16,000 cycles.
  it("the check can fail: one 64-byte Uint8Array per cycle is seen as GC", () => {
    const cycles = CYCLES / 5;
    const result = runChild(["--version", "4", "--allocating", "--warmup", "100000"], cycles);
    expectWorked(result, cycles);
    expect(result.qos0.gcCount, JSON.stringify(result)).toBeGreaterThan(0);
    expect(result.qos1.gcCount, JSON.stringify(result)).toBeGreaterThan(0);
  });
});
