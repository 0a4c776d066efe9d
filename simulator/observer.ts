// The observer: one more client (the same engine) subscribed to everything the fleet publishes, and the
// bookkeeping that turns what it saw into verdicts with counterexamples.

// The library's modules, not its index: the index also loads its log writer, which makes an
// Intl.NumberFormat as it loads, and that starts ICU in every device process: about 7 MB of resident
// memory each (3,000 devices in 2 processes, twice each: RSS at the processes' start 115.7 -> 100.9 MB,
// at their peak 144.0 -> 130.9 MB).
import { build } from "hdr-histogram-js/dist/HistogramBuilder.js";
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js/dist/encoding.js";
import type { Histogram } from "hdr-histogram-js";
import { performance } from "node:perf_hooks";
import type { Packet } from "../device/codec";
import { readUtf8 } from "../device/platform/bytes";
import type { DevicePlan, FateKind } from "./scenario";
import type { Counterexample, LatencySummary, Verdict } from "./types";

/**
 * Whether device `plan`'s message `sequence`, first delivered at `deliveredAt` (epoch ms) after a later one,
 * is not held against the order verdict.
 */
export type OrderExemption = (plan: DevicePlan, sequence: number, deliveredAt: number) => boolean;

/** Every message starts with this header: device index, sequence number, scheduled send time. */
export const HEADER_BYTES = 16;

export function writeHeader(payload: Uint8Array, device: number, sequence: number, scheduledAt: number): void {
  const view = new DataView(payload.buffer, payload.byteOffset, HEADER_BYTES);
  view.setUint32(0, device);
  view.setUint32(4, sequence);
  view.setFloat64(8, scheduledAt);
}

/** What the fleet did to one device, as the runner records it. Kept small: a run may hold 100,000 of them. */
export class DeviceRecord {
  readonly plan: DevicePlan;
  /** Sequence numbers the engine accepted (publish() returned a packet id or 0): 0 .. accepted-1. */
  accepted = 0;
  /** The device's life ended (killed, disconnected, hung): it owes only what the broker acknowledged. */
  ended = false;
  rejected = 0;
  connectedOnce = false;
  lastError = "";
  /** When its fate struck (ms on the run clock), or -1. */
  struckAt = -1;
  /** Until then (ms on the run clock) a loss of its link is one the run caused (a strike, the partition, a broker restart): not an error. */
  excusedUntil = -1;
  private readonly tables: RecordTables;
  /** Where this device's pairs start in tables.awaiting, and its flags in tables.acknowledged. */
  private readonly awaitingAt: number;
  private readonly acknowledgedAt: number;

  constructor(plan: DevicePlan, tables: RecordTables, position: number) {
    this.plan = plan;
    this.tables = tables;
    this.awaitingAt = position * 2 * tables.slots;
    this.acknowledgedAt = position * tables.maxSequence;
  }

  /** Message `sequence` went out as `packetId`: its acknowledgement is awaited. */
  await(packetId: number, sequence: number): void {
    const pairs = this.tables.awaiting;
    const end = this.awaitingAt + 2 * this.tables.slots;
    for (let i = this.awaitingAt; i < end; i += 2) {
      if (pairs[i] === 0 || pairs[i] === packetId) {
        pairs[i] = packetId;
        pairs[i + 1] = sequence;
        return;
      }
    }
  }

  /** The broker acknowledged `packetId` (PUBACK or PUBCOMP). */
  acknowledge(packetId: number): void {
    const pairs = this.tables.awaiting;
    const end = this.awaitingAt + 2 * this.tables.slots;
    for (let i = this.awaitingAt; i < end; i += 2) {
      if (pairs[i] === packetId) {
        pairs[i] = 0;
        this.tables.acknowledged[this.acknowledgedAt + pairs[i + 1]] = 1;
        return;
      }
    }
  }

  /**
   * Whether message `sequence` must reach the observer: every accepted one of a device still alive at the
   * end (it must deliver even across cut links), but of a device whose life ended only those the broker
   * acknowledged, since the rest died with it.
   */
  owes(sequence: number): boolean {
    return !this.ended || this.tables.acknowledged[this.acknowledgedAt + sequence] === 1;
  }
}

/**
 * The tables of a slice's DeviceRecords, one allocation each for all its devices: a typed array of its own
 * would cost each device about 350 B of heap and native memory beside its contents.
 */
export class RecordTables {
  /** Per device, `slots` pairs of (packet id, sequence number) awaiting their acknowledgement; id 0 is a free pair. */
  readonly awaiting: Int32Array;
  /** Per device and sequence number, 1 once the broker acknowledged it (PUBACK or PUBCOMP). */
  readonly acknowledged: Uint8Array;

  constructor(devices: number, readonly slots: number, readonly maxSequence: number) {
    this.awaiting = new Int32Array(devices * 2 * slots);
    this.acknowledged = new Uint8Array(devices * maxSequence);
  }
}

export const MAX_COUNTEREXAMPLES = 20;

/**
 * Whether the broker owes the device's will: it lost the device without a DISCONNECT and must notice, by
 * the link's end or by keep-alive. Not for a half-open link: the device reconnects by its own keep-alive,
 * racing the broker's, and a broker may end the old session without a will then.
 */
export function willDue(fate: FateKind): boolean {
  return fate === "killed" || fate === "silent" || fate === "reset" || fate === "partitioned";
}

/** How the counterexamples say what happened to a device whose will is due. */
const STRUCK: Record<FateKind, string> = {
  normal: "", clean: "", cut: "", halfopen: "",
  killed: "killed", silent: "hung", reset: "reset by the network", partitioned: "cut off by the partition",
};

/** A latency histogram in microseconds, from 1 µs to an hour at 3 significant digits. */
export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/** A verdict from its numbers: it holds when nothing failed. */
export function verdict(name: string, what: string, checked: number, failures: number, examples: Counterexample[]): Verdict {
  return {
    name, pass: failures === 0, what, checked, failures,
    detail: `${what}: ${checked.toLocaleString("en-US")} checked, ${failures.toLocaleString("en-US")} failed`,
    counterexamples: examples.slice(0, MAX_COUNTEREXAMPLES),
  };
}

export class Observer {
  readonly latency: Histogram = latencyHistogram();
  received = 0;
  duplicates = 0;
  receivedThisSecond = 0;
  /** The index of the first device observed: the observer sees one slice of the fleet. */
  private readonly first: number;
  private readonly devices: number;
  private readonly maxSequence: number;
  // What arrived, per device of the slice (by index - first), in columns: an object per device would cost
  // more than the numbers it holds.
  /** Times each sequence number 0 .. maxSequence arrived, maxSequence + 1 per device. */
  private readonly counts: Uint16Array;
  /** The highest sequence number delivered for the first time, or -1. */
  private readonly lastFirstDelivery: Int32Array;
  /** When the will arrived (epoch ms), or -1. */
  private readonly willAt: Float64Array;
  /** Up to 3 sequence numbers delivered after a later one (and not exempt), for the devices that had any. */
  private readonly outOfOrder = new Map<number, number[]>();
  private readonly willTopics = new Map<string, number>();
  private readonly plans: DevicePlan[];
  private readonly orderExempt: OrderExemption;

  /** `orderExempt` names the late first deliveries the order verdict does not count (see fleet.ts). */
  constructor(plans: DevicePlan[], maxSequence: number, orderExempt: OrderExemption = () => false) {
    this.plans = plans;
    this.orderExempt = orderExempt;
    this.first = plans.length > 0 ? plans[0].index : 0;
    this.devices = plans.length;
    this.maxSequence = maxSequence;
    this.counts = new Uint16Array(plans.length * (maxSequence + 1));
    this.lastFirstDelivery = new Int32Array(plans.length).fill(-1);
    this.willAt = new Float64Array(plans.length).fill(-1);
    for (const plan of plans) this.willTopics.set(plan.willTopic, plan.index);
  }

  /** Where device `position` (index - first)'s count of `sequence` is in `counts`. */
  private countIndex(position: number, sequence: number): number {
    return position * (this.maxSequence + 1) + sequence;
  }

  private countAt(device: number, sequence: number): number {
    return this.counts[this.countIndex(device - this.first, sequence)];
  }

  /** Handles one delivered message (the observer client's message event). */
  message(packet: Packet): void {
    const buffer = packet.buffer as Uint8Array;
    const now = performance.timeOrigin + performance.now();
    if (packet.payloadLength < HEADER_BYTES) {
      const topic = readUtf8(buffer, packet.topicOffset, packet.topicLength);
      const device = this.willTopics.get(topic);
      if (device !== undefined && this.willAt[device - this.first] < 0) this.willAt[device - this.first] = now;
      return;
    }
    const view = new DataView(buffer.buffer, buffer.byteOffset + packet.payloadOffset, HEADER_BYTES);
    const device = view.getUint32(0);
    const sequence = view.getUint32(4);
    const scheduledAt = view.getFloat64(8);
    // Another slice's device (an observer that had to subscribe to the whole fleet), or not a header at all.
    const position = device - this.first;
    if (!(position >= 0 && position < this.devices) || sequence > this.maxSequence) return;
    const counts = this.counts;
    const at = this.countIndex(position, sequence);
    this.received++;
    this.receivedThisSecond++;
    if (counts[at] > 0) {
      this.duplicates++;
    } else {
      // Latency from the scheduled send time, not the actual one: a stalled sender shows as latency
      // instead of hiding it (no coordinated omission).
      this.latency.recordValue(Math.max(1, Math.round((now - scheduledAt) * 1000)));
      if (sequence < this.lastFirstDelivery[position] && !this.orderExempt(this.plans[position], sequence, now)) {
        const early = this.outOfOrder.get(position);
        if (early === undefined) this.outOfOrder.set(position, [sequence]);
        else if (early.length < 3) early.push(sequence);
      }
      this.lastFirstDelivery[position] = Math.max(this.lastFirstDelivery[position], sequence);
    }
    if (counts[at] < 65535) counts[at]++;
  }

  /** True once every owed QoS 1/2 message of every device has arrived (for the end of a run). */
  complete(records: DeviceRecord[]): boolean {
    for (const record of records) {
      if (record.plan.qos === 0) continue;
      for (let s = 0; s < record.accepted; s++) if (record.owes(s) && this.countAt(record.plan.index, s) === 0) return false;
    }
    return true;
  }

  willSeen(device: number): boolean {
    return this.willAt[device - this.first] >= 0;
  }

  /**
   * The verdicts. `stalledMs` is how long this process's event loop was held up at most (loop-delay.ts): a
   * will or keep-alive drop seen late by no more than that may have been on time, and its counterexample says so.
   */
  verdicts(records: DeviceRecord[], keepAliveBoundMs: number, epoch: number, stalledMs = 0): Verdict[] {
    const verdicts: Verdict[] = [];
    const add = (name: string, checked: number, what: string, examples: Counterexample[], failures: number) => {
      verdicts.push(verdict(name, what, checked, failures, examples));
    };

    let connected = 0;
    const neverConnected: Counterexample[] = [];
    for (const record of records) {
      if (record.connectedOnce) connected++;
      else neverConnected.push({ device: record.plan.id, message: -1, expected: "connected at least once", observed: `never connected (${record.lastError || "no answer"})` });
    }
    add("connections", records.length, "every device connected", neverConnected, neverConnected.length);

    for (const qos of [1, 2]) {
      const examples: Counterexample[] = [];
      let checked = 0;
      let failures = 0;
      for (const record of records) {
        if (record.plan.qos !== qos) continue;
        for (let s = 0; s < record.accepted; s++) {
          if (!record.owes(s)) continue;
          checked++;
          const count = this.countAt(record.plan.index, s);
          const lost = count === 0;
          const duplicated = qos === 2 && count > 1;
          if (lost || duplicated) {
            failures++;
            if (examples.length < MAX_COUNTEREXAMPLES) {
              examples.push({ device: record.plan.id, message: s,
                expected: qos === 2 ? "delivered exactly once" : "delivered at least once",
                observed: lost ? "never delivered" : `delivered ${count} times` });
            }
          }
        }
      }
      if (checked > 0) {
        add(`qos${qos}`, checked, qos === 2 ? "QoS 2 messages delivered exactly once" : "QoS 1 messages delivered at least once",
          examples, failures);
      }
    }

    const order: Counterexample[] = [];
    let orderChecked = 0;
    for (const record of records) {
      orderChecked++;
      for (const sequence of this.outOfOrder.get(record.plan.index - this.first) ?? []) {
        order.push({ device: record.plan.id, message: sequence, expected: "delivered after the messages published before it",
          observed: "delivered after a later message" });
      }
    }
    add("order", orderChecked, "per-device publish order kept", order, order.length);

    const willExamples: Counterexample[] = [];
    let willChecked = 0;
    let willFailures = 0;
    const keepAliveExamples: Counterexample[] = [];
    let keepAliveChecked = 0;
    let keepAliveFailures = 0;
    for (const record of records) {
      const fate = record.plan.fate.kind;
      if (!willDue(fate) && fate !== "clean") continue;
      const willAt = this.willAt[record.plan.index - this.first];
      // How long after the strike the will arrived (ms), and whether within the bound.
      const afterMs = willAt - epoch - record.struckAt;
      const inTime = willAt >= 0 && afterMs <= keepAliveBoundMs;
      const after = `${(afterMs / 1000).toFixed(1)} s`;
      const late = (what: string) => `${what} after ${after}` + (afterMs - keepAliveBoundMs <= stalledMs
        ? ` (this device process stalled for up to ${(stalledMs / 1000).toFixed(1)} s: the delay may be the simulator's)` : "");
      if (fate === "silent") {
        keepAliveChecked++;
        if (!inTime) {
          keepAliveFailures++;
          keepAliveExamples.push({ device: record.plan.id, message: -1,
            expected: `dropped by the broker within ${(keepAliveBoundMs / 1000).toFixed(1)} s of going silent (its will published)`,
            observed: willAt < 0 ? "never dropped" : late("dropped") });
        }
        continue;
      }
      willChecked++;
      if (fate !== "clean" && !inTime) {
        willFailures++;
        willExamples.push({ device: record.plan.id, message: -1,
          expected: `its will within ${(keepAliveBoundMs / 1000).toFixed(1)} s of being ${STRUCK[fate]}`,
          observed: willAt < 0 ? "no will" : late("will") });
      } else if (fate === "clean" && willAt >= 0) {
        willFailures++;
        willExamples.push({ device: record.plan.id, message: -1, expected: "no will after a clean disconnect",
          observed: `will published ${after} after it` });
      }
    }
    if (willChecked > 0) add("wills", willChecked, "a will for every device killed or cut off, none for a clean disconnect", willExamples, willFailures);
    if (keepAliveChecked > 0) add("keepalive", keepAliveChecked, "silent devices dropped by the broker in time", keepAliveExamples, keepAliveFailures);
    return verdicts;
  }

  latencySummary(): LatencySummary {
    return latencySummary(this.latency);
  }
}

/** How many recorded values are at or below `value` (a binary search over percentiles). */
function countBelow(h: Histogram, value: number): number {
  let low = 0;
  let high = 100;
  for (let i = 0; i < 30; i++) {
    const middle = (low + high) / 2;
    if (h.getValueAtPercentile(middle) <= value) low = middle;
    else high = middle;
  }
  return Math.round((low / 100) * h.totalCount);
}

/** Percentiles, chart buckets and the encoded histogram of a latency histogram (microseconds). */
export function latencySummary(h: Histogram): LatencySummary {
  const ms = (micros: number) => micros / 1000;
  const buckets: [number, number][] = [];
  if (h.totalCount > 0) {
    // About 60 log-spaced buckets between the smallest and largest latency.
    const low = Math.max(1, h.minNonZeroValue);
    const high = Math.max(low * 1.01, h.maxValue);
    const step = Math.pow(high / low, 1 / 60);
    let previous = 0;
    for (let edge = low; edge <= high * step; edge *= step) {
      const below = countBelow(h, edge);
      if (below > previous) buckets.push([ms(edge), below - previous]);
      previous = below;
    }
  }
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    buckets,
    histogram: encodeIntoCompressedBase64(h),
  };
}

/** The sum of encoded histograms (LatencySummary.histogram), as one histogram. */
export function addHistograms(encoded: string[]): Histogram {
  const sum = latencyHistogram();
  for (const text of encoded) sum.add(decodeFromCompressedBase64(text));
  return sum;
}
