// Scenarios: what each device of a run does and when, decided up front from the seed, so the same seed
// replays the same run.

import type { RunConfig } from "./types";

/** What happens to a device during the run, beyond publishing. */
export type Fate =
  | { kind: "normal" }
  /** Powered off: the link drops without DISCONNECT; the broker must publish its will. */
  | { kind: "killed"; at: number }
  /** Disconnects cleanly: no will may follow. */
  | { kind: "clean"; at: number }
  /** Hangs with its link open and silent: the broker must drop it by keep-alive, then publish its will. */
  | { kind: "silent"; at: number }
  /** Its connection is cut (as by a network fault); it reconnects and must resend what was in flight. */
  | { kind: "cut"; at: number };

export interface DevicePlan {
  index: number;
  id: string;
  topic: string;
  willTopic: string;
  qos: number;
  /** Seconds after the run's start. */
  connectAt: number;
  /** Seconds after the run's start of the first publish; then every 1/rate seconds until the end. */
  firstPublishAt: number;
  fate: Fate;
  seed: number;
  /** Which broker of the run's pool it connects to (an index into RunConfig.brokers). */
  broker: number;
}

/** A small seeded generator (mulberry32) for the plan; the engines have their own. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function expand(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Fractions of the fleet given each fate, per scenario. */
const FATES: Record<RunConfig["scenario"], { killed: number; clean: number; silent: number; cut: number }> = {
  telemetry: { killed: 0, clean: 0, silent: 0, cut: 0 },
  keepalive: { killed: 0, clean: 0, silent: 0.1, cut: 0 },
  will: { killed: 0.1, clean: 0.1, silent: 0, cut: 0 },
  qos: { killed: 0, clean: 0, silent: 0, cut: 0.2 },
  mixed: { killed: 0.05, clean: 0.05, silent: 0.05, cut: 0.1 },
};

/** Seconds after a device hangs (or is killed) by which the broker must have published its will. */
export function keepAliveBound(config: RunConfig): number {
  return 1.5 * config.keepAlive + config.keepAliveGrace;
}

/** Devices per topic group: the {group} of a topic template, so that an observer can subscribe to its part of the fleet. */
export const GROUP_SIZE = 1000;

/** The devices [first, end) of a fleet: a shard's part, or a child process's part of it. */
export interface Slice {
  first: number;
  end: number;
}

/** Part `index` of `count` equal, contiguous parts of `slice`. */
export function part(slice: Slice, index: number, count: number): Slice {
  const size = slice.end - slice.first;
  return { first: slice.first + Math.floor((size * index) / count), end: slice.first + Math.floor((size * (index + 1)) / count) };
}

/** The devices of this run: its shard of the fleet. */
export function shardSlice(config: RunConfig): Slice {
  return part({ first: 0, end: config.devices }, config.shard.index, config.shard.count);
}

/**
 * Device `index`'s plan. Each device draws from a generator seeded by the run's seed and its own index, so a
 * shard or a child process plans only its own devices, and any split of the fleet plans each alike.
 */
export function planDevice(config: RunConfig, index: number): DevicePlan {
  const random = seededRandom(Math.imul(config.seed + 1, 0x9e3779b1) ^ index);
  const fates = FATES[config.scenario];
  const id = expand(config.clientId, { i: String(index) });
  const topic = expand(config.topic, { id, group: String(Math.floor(index / GROUP_SIZE)) });
  const connectAt = config.devices > 1 ? (config.ramp * index) / config.devices : 0;
  // Fates follow a Weyl sequence (index times the golden ratio, offset by the seed), not independent rolls:
  // any seed and any contiguous slice of the fleet get each fate in close to its planned share.
  const roll = (random0(config.seed) + index * 0.6180339887498949) % 1;
  // A fate strikes in the middle part of the traffic, late enough for messages to be in flight and
  // early enough for its consequence (a will within the keep-alive bound) to be seen before the end.
  const strikeAt = config.ramp + 1 + random() * Math.max(0, config.duration - keepAliveBound(config) - 2);
  let fate: Fate = { kind: "normal" };
  let threshold = fates.killed;
  if (roll < threshold) fate = { kind: "killed", at: strikeAt };
  else if (roll < (threshold += fates.clean)) fate = { kind: "clean", at: strikeAt };
  else if (roll < (threshold += fates.silent)) fate = { kind: "silent", at: strikeAt };
  else if (roll < (threshold += fates.cut)) fate = { kind: "cut", at: strikeAt };
  // The mixed scenario spreads QoS 0, 1 and 2 over the fleet; the others use --qos.
  const qos = config.scenario === "mixed" ? index % 3 : config.qos;
  const brokers = Math.max(1, config.brokers.length);
  return {
    index, id, topic, willTopic: `${topic}/will`, qos, connectAt,
    firstPublishAt: config.ramp + random() / config.rate,
    fate, seed: (config.seed * 100003 + index) % 2147483646 + 1,
    broker: config.assign === "hash" ? fnv1a(id) % brokers : index % brokers,
  };
}

/** The plans of the devices in `slice`. */
export function planSlice(config: RunConfig, slice: Slice): DevicePlan[] {
  const plans: DevicePlan[] = [];
  for (let index = slice.first; index < slice.end; index++) plans.push(planDevice(config, index));
  return plans;
}

/** The seed's offset of the fate sequence, in [0, 1). */
function random0(seed: number): number {
  return seededRandom(seed)();
}

/** FNV-1a of a string's UTF-16 code units: a stable hash for assigning devices to brokers by id. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Every device's plan (a whole fleet, whatever the shard). */
export function planFleet(config: RunConfig): DevicePlan[] {
  return planSlice(config, { first: 0, end: config.devices });
}
