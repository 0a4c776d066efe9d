// The order verdict on its own: the observer fed deliveries of one device's messages in a chosen order, and
// the faults scenario's exemption around the broker's restart (simulator/fleet.ts restartExempt), which must
// excuse exactly the late deliveries a restarted broker's replay can cause and no others.

import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import type { Packet } from "../../device/codec";
import { restartExempt } from "../../simulator/fleet";
import { DeviceRecord, Observer, OrderExemption, RecordTables, writeHeader } from "../../simulator/observer";
import { faultTimeline, planFleet } from "../../simulator/scenario";
import type { RunConfig, Verdict } from "../../simulator/types";

function config(scenario: RunConfig["scenario"]): RunConfig {
  return {
    brokers: [], assign: "round-robin", shard: { index: 0, count: 1 }, processes: 1, sourceIps: [], devices: 60, scenario,
    qos: 1, rate: 2, payload: 64, duration: 17, ramp: 1, protocol: 4, keepAlive: 2, keepAliveGrace: 2, username: null, password: null,
    clientId: "obs-{i}", topic: "obs/{group}/{id}", report: null, faultNoResend: false, faultStallMs: 0, seed: 11,
    latencyMs: 20, jitterMs: 10, brokerRestartCommand: null, startAt: null,
  };
}

/** A delivered message of device `index` with sequence `sequence`, as the observer client hands it over. */
function delivery(index: number, sequence: number): Packet {
  const payload = new Uint8Array(64);
  writeHeader(payload, index, sequence, 0);
  return { buffer: payload, topicOffset: 0, topicLength: 0, payloadOffset: 0, payloadLength: payload.length } as unknown as Packet;
}

/** The order verdict after device 0's messages are delivered in `order`, with `exempt` as the run's exemption. */
function orderVerdict(order: number[], exempt?: OrderExemption): Verdict {
  const run = config("telemetry");
  const plans = planFleet({ ...run, devices: 1 });
  const observer = new Observer(plans, 10, exempt);
  for (const sequence of order) observer.message(delivery(0, sequence));
  const record = new DeviceRecord(plans[0], new RecordTables(1, 4, 10), 0);
  return observer.verdicts([record], 5000, 0).find((v) => v.name === "order")!;
}

describe("the order verdict", () => {
  it("holds for messages delivered in publish order, duplicates of earlier ones included", () => {
    expect(orderVerdict([0, 1, 1, 2, 0, 3]).pass).toBe(true);
  });

  it("fails for a message first delivered after a later one, naming it", () => {
    const verdict = orderVerdict([0, 1, 3, 2, 4]);
    expect(verdict.pass).toBe(false);
    expect(verdict.counterexamples.map((c) => [c.device, c.message, c.observed])).toEqual([["obs-0", 2, "delivered after a later message"]]);
  });

  it("does not count what the run's exemption names, and still counts the rest", () => {
    const exemptTwo: OrderExemption = (_plan, sequence) => sequence === 2;
    expect(orderVerdict([0, 3, 2, 4], exemptTwo).pass).toBe(true);
    const verdict = orderVerdict([0, 3, 2, 1, 4], exemptTwo);
    expect(verdict.counterexamples.map((c) => c.message)).toEqual([1]);
  });
});

describe("a late will when the simulator itself stalled", () => {
  const run = config("will");
  const plan = planFleet(run).find((p) => p.fate.kind === "killed")!;
  const BOUND_MS = 5000;

  /** The wills verdict for a will that reached the observer `afterMs` after the kill, in a process that stalled `stalledMs`. */
  function willVerdict(afterMs: number, stalledMs: number): Verdict {
    const observer = new Observer([plan], 10);
    const topic = new TextEncoder().encode(plan.willTopic);
    const will = new Uint8Array(topic.length + 7);
    will.set(topic);
    observer.message({ buffer: will, topicOffset: 0, topicLength: topic.length, payloadOffset: topic.length, payloadLength: 7 } as unknown as Packet);
    // The run's clock made to start so that the kill, at 0 on it, was afterMs before the will arrived.
    const epoch = performance.timeOrigin + performance.now() - afterMs;
    const record = new DeviceRecord(plan, new RecordTables(1, 4, 10), 0);
    record.struckAt = 0;
    return observer.verdicts([record], BOUND_MS, epoch, stalledMs).find((v) => v.name === "wills")!;
  }

  it("says the delay may be the simulator's when the process stalled at least as long as the will was late", () => {
    const verdict = willVerdict(6000, 1500);
    expect(verdict.pass).toBe(false);
    expect(verdict.counterexamples).toHaveLength(1);
    expect(verdict.counterexamples[0].observed).toMatch(/^will after 6\.0 s \(this device process stalled for up to 1\.5 s: the delay may be the simulator's\)$/);
  });

  it("blames the broker alone when the stall was shorter than the lateness, or there was none", () => {
    for (const stalledMs of [0, 500]) {
      const verdict = willVerdict(6000, stalledMs);
      expect(verdict.pass).toBe(false);
      expect(verdict.counterexamples[0].observed).toBe("will after 6.0 s");
    }
  });

  it("does not fail a will in time, stall or none", () => {
    expect(willVerdict(1000, 1500).pass).toBe(true);
    expect(willVerdict(1000, 0).pass).toBe(true);
  });
});

describe("the faults scenario's exemption around the broker's restart", () => {
  const run = config("faults");
  const timeline = faultTimeline(run);
  const start = 1_000_000;
  const exempt = restartExempt(run, start);
  const plan = planFleet(run)[0];
  /** Device 0's message published `seconds` into the run (its schedule: firstPublishAt, then 1/rate apart). */
  const sequenceAt = (seconds: number) => Math.round((seconds - plan.firstPublishAt) * run.rate);
  const at = (seconds: number) => start + seconds * 1000;

  it("excuses a message published long before the crash only when it is first delivered once the broker is back", () => {
    const early = sequenceAt(timeline.partitionAt + 1);
    expect(exempt(plan, early, at(timeline.restartAt - 1))).toBe(false);
    expect(exempt(plan, early, at(timeline.restartAt + 3))).toBe(true);
  });

  it("excuses a message published just before the crash or while the broker was down, whenever delivered", () => {
    expect(exempt(plan, sequenceAt(timeline.restartAt - 1), at(timeline.restartAt - 0.5))).toBe(true);
    expect(exempt(plan, sequenceAt(timeline.restartAt + 0.5), at(timeline.restartAt + 1))).toBe(true);
  });

  it("excuses nothing in a scenario without a restart", () => {
    const none = restartExempt(config("mixed"), start);
    expect(none(plan, 3, at(timeline.restartAt + 3))).toBe(false);
  });
});
