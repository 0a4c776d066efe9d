// Scenarios: what each device of a run does and when, decided up front from the seed, so the same seed
// replays the same run.

import type { RunConfig, ScenarioName } from "./types";

/** What happens to a device during the run, beyond publishing. */
export type FateKind =
  | "normal"
  /** Powered off: the link drops without DISCONNECT; the broker must publish its will. */
  | "killed"
  /** Disconnects cleanly: no will may follow. */
  | "clean"
  /** Hangs with its link open and silent: the broker must drop it by keep-alive, then publish its will. */
  | "silent"
  /** Its connection is cut at the device (as by a network fault); it reconnects and must resend what was in flight. */
  | "cut"
  /** The fault proxy resets its connection while a message is in the proxy: the broker publishes its will, the device resends. */
  | "reset"
  /** The fault proxy turns its link half-open while a message is in the proxy: keep-alives must end it, the device resends. */
  | "halfopen"
  /** Cut off by the run's partition for longer than the keep-alive bound: its will is due, and its messages after it heals. */
  | "partitioned";

export interface Fate {
  kind: FateKind;
  /** Seconds after the run's start when it strikes (0 for "normal"). */
  at: number;
}

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

/** Fractions of the fleet given each fate, per scenario (the rest are "normal"). */
const FATES: Record<ScenarioName, [FateKind, number][]> = {
  telemetry: [],
  keepalive: [["silent", 0.1]],
  will: [["killed", 0.1], ["clean", 0.1]],
  qos: [["cut", 0.2]],
  mixed: [["killed", 0.05], ["clean", 0.05], ["silent", 0.05], ["cut", 0.1]],
  faults: [["reset", 0.05], ["halfopen", 0.05], ["partitioned", 0.1]],
};

/** Whether devices reach the broker through the fault proxy. */
export function usesProxy(config: RunConfig): boolean {
  return config.scenario === "faults" || config.latencyMs > 0 || config.jitterMs > 0;
}

/**
 * The faults scenario's timeline, in seconds after the run's start: resets and half-open links strike in
 * the first seconds of traffic; the partition lasts past the keep-alive bound, so the broker must give up
 * the partitioned devices (their wills are due); the broker restarts once the partition has healed.
 */
export function faultTimeline(config: RunConfig): { partitionAt: number; healAt: number; restartAt: number; downMs: number } {
  const partitionAt = config.ramp + 1;
  const healAt = partitionAt + keepAliveBound(config) + 2;
  return { partitionAt, healAt, restartAt: healAt + 3, downMs: 1000 };
}

/** The shortest traffic a scenario needs (seconds) for its faults to strike and their consequences to be seen. */
export function shortestDuration(config: RunConfig): number {
  if (config.scenario === "telemetry") return 0;
  if (config.scenario === "qos") return 4;
  if (config.scenario === "faults") return Math.ceil(faultTimeline(config).restartAt - config.ramp + 6);
  return Math.ceil(keepAliveBound(config) + 4);
}

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

/** Most devices' fate: one object for all of them (fates are never changed), not one each. */
const NORMAL_FATE: Fate = { kind: "normal", at: 0 };

/**
 * Device `index`'s plan. Each device draws from a generator seeded by the run's seed and its own index, so a
 * shard or a child process plans only its own devices, and any split of the fleet plans each alike.
 */
export function planDevice(config: RunConfig, index: number, brokers = Math.max(1, config.brokers.length)): DevicePlan {
  const random = seededRandom(Math.imul(config.seed + 1, 0x9e3779b1) ^ index);
  const id = expand(config.clientId, { i: String(index) });
  const topic = expand(config.topic, { id, group: String(Math.floor(index / GROUP_SIZE)) });
  const connectAt = config.devices > 1 ? (config.ramp * index) / config.devices : 0;
  // Fates follow a Weyl sequence (index times the golden ratio, offset by the seed), not independent rolls:
  // any seed and any contiguous slice of the fleet get each fate in close to its planned share.
  const roll = (random0(config.seed) + index * 0.6180339887498949) % 1;
  // A fate strikes in the middle part of the traffic, late enough for messages to be in flight and
  // early enough for its consequence (a will within the keep-alive bound) to be seen before the end.
  // The network faults strike in the first seconds of traffic (faultTimeline).
  const strikeAt = config.ramp + 1 + random() * Math.max(0, config.duration - keepAliveBound(config) - 2);
  let fate = NORMAL_FATE;
  let threshold = 0;
  for (const [kind, share] of FATES[config.scenario]) {
    threshold += share;
    if (roll < threshold) {
      const at = kind === "partitioned" ? faultTimeline(config).partitionAt
        : kind === "reset" || kind === "halfopen" ? config.ramp + 1 + 2 * random() : strikeAt;
      fate = { kind, at };
      break;
    }
  }
  // The mixed scenario spreads QoS 0, 1 and 2 over the fleet; the others use --qos.
  const qos = config.scenario === "mixed" ? index % 3 : config.qos;
  return {
    index, id, topic, willTopic: `${topic}/will`, qos, connectAt,
    firstPublishAt: config.ramp + random() / config.rate,
    fate, seed: (config.seed * 100003 + index) % 2147483646 + 1,
    broker: config.assign === "hash" ? fnv1a(id) % brokers : index % brokers,
  };
}

/** The plans of the devices in `slice`, spread over a pool of `brokers` (the given ones, or the embedded ones). */
export function planSlice(config: RunConfig, slice: Slice, brokers = Math.max(1, config.brokers.length)): DevicePlan[] {
  const plans: DevicePlan[] = [];
  for (let index = slice.first; index < slice.end; index++) plans.push(planDevice(config, index, brokers));
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
