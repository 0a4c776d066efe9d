// The shapes shared by the fleet simulator's parts: what a run is asked to do, and what it reports.

import type tls from "node:tls";
import type { LoopDelay } from "./loop-delay";

export type ScenarioName = "telemetry" | "keepalive" | "will" | "qos" | "mixed" | "faults";

/** A broker devices connect to. */
export interface BrokerTarget {
  host: string;
  port: number;
  tls: tls.ConnectionOptions | null;
  url: string;
}

/** A run, fully resolved from the command line (or a scenario file). */
export interface RunConfig {
  /** The pool of brokers devices connect to; empty = start embedded Aedes brokers on free loopback ports. */
  brokers: BrokerTarget[];
  /** How devices are spread over the pool: by index in turn, or by a hash of the client id. */
  assign: "round-robin" | "hash";
  /** The whole fleet's size (every shard's devices). */
  devices: number;
  /** This run's part of the fleet: shard `index` of `count` (0 of 1: all of it). */
  shard: { index: number; count: number };
  /** Child processes to run the devices in (0: as many as the open-file limit requires). */
  processes: number;
  /** Addresses devices connect from, spread in turn; empty: the system's choice, or 127.0.0.0/8 for a loopback broker. */
  sourceIps: string[];
  scenario: ScenarioName;
  /** 1 or 2 for the qos and mixed scenarios' guaranteed traffic; telemetry may be 0. */
  qos: number;
  /** Messages per second per device. */
  rate: number;
  /** Payload bytes per message (at least 16: the observer's header). */
  payload: number;
  /** Seconds of traffic after the ramp. */
  duration: number;
  /** Seconds over which devices connect. */
  ramp: number;
  seed: number;
  protocol: 4 | 5;
  keepAlive: number;
  /**
   * Seconds a broker may take past 1.5x keep-alive to drop a silent device (and past a kill to publish its
   * will): brokers check keep-alives on a timer of their own (mosquitto 2.0 about every 5 s).
   */
  keepAliveGrace: number;
  username: string | null;
  password: string | null;
  /** Device id template: {i} is the device index, e.g. "dev-{i}". */
  clientId: string;
  /** Topic template: {id} is the device id. */
  topic: string;
  report: string | null;
  /** Latency the fault proxy adds to every chunk either way, and uniform jitter on top (ms); 0 and 0 with no proxy. */
  latencyMs: number;
  jitterMs: number;
  /** For an external broker, the shell command that restarts it (the faults scenario's broker restart); null: none. */
  brokerRestartCommand: string | null;
  /**
   * When the run's clock starts (the ramp's first second), epoch ms: shards given the same time start
   * together; null: as soon as the devices' processes are ready.
   */
  startAt: number | null;
  /** Test-only planted fault: devices do not resend unacknowledged messages after a reconnect. */
  faultNoResend: boolean;
  /**
   * Test-only planted fault: each device process blocks its event loop for this many ms right after the first
   * device of its slice is killed (0: never), as a starved machine would.
   */
  faultStallMs: number;
}

export interface Counterexample {
  device: string;
  /** The message (sequence number) concerned, or -1 when the verdict is about the device itself. */
  message: number;
  expected: string;
  observed: string;
}

export interface Verdict {
  name: string;
  pass: boolean;
  /** What the verdict promises, and the numbers behind it (so shard reports can be combined). */
  what: string;
  checked: number;
  failures: number;
  /** One line: what was checked and the numbers. */
  detail: string;
  counterexamples: Counterexample[];
}

/** One sample a second of the run's progress, for the report's charts. */
export interface Sample {
  /** Seconds since the run started. */
  t: number;
  connected: number;
  /** Messages observed in the last second. */
  messagesPerSecond: number;
  /** Errors in the last second (unexpected disconnects, refused publishes). */
  errors: number;
  /** The longest the simulator's event loop was late in the last second (ms; the worst device process's). */
  stalledMs: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** The histogram as [latency ms, count] buckets, for the report's distribution chart. */
  buckets: [number, number][];
  /** The whole HDR histogram (microseconds), compressed and base64-encoded, so reports can be merged. */
  histogram: string;
}

/** Memory of the processes that ran the devices. */
export interface MemorySummary {
  processes: number;
  /** Resident memory of those processes with every device connected (summed over the processes). */
  rssBytes: number;
  /** Their resident memory before the first device was made. */
  baselineBytes: number;
  /** Their proportional set size (shared pages divided among the processes sharing them) at its highest; null where unknown. */
  pssBytes: number | null;
}

/** How fast the fleet connected: from the first device's first attempt to the last device's first CONNACK. */
export interface ConnectSummary {
  count: number;
  /** Epoch milliseconds. */
  firstAttemptAt: number;
  lastConnectedAt: number;
}

export interface Report {
  starling: string;
  /**
   * The resolved configuration, with the password replaced by "***" when one was given, and of the TLS
   * options only what is not secret (no keys, certificates or CA).
   */
  config: Omit<RunConfig, "password" | "brokers"> & {
    password: string | null;
    brokers: { host: string; port: number; url: string; tls: { servername: string | null; verify: boolean } | null }[];
  };
  /** The devices this report covers: [first, end) of the fleet (all of them once shards are merged). */
  slices: { first: number; end: number }[];
  brokerUrl: string;
  startedAt: string;
  seconds: number;
  counts: {
    devices: number;
    connected: number;
    published: number;
    received: number;
    duplicates: number;
    reconnects: number;
    errors: number;
  };
  /** The first errors of the run (unexpected disconnects, refused publishes), each with its device. */
  firstErrors: string[];
  latencyMs: LatencySummary;
  memory: MemorySummary;
  connects: ConnectSummary;
  /**
   * How late the device processes' event loops ran (ms; the worst process's figures): what the run measured
   * in time (latency, when wills arrived) may be late by as much. Null in a report from before it was measured.
   */
  loopDelayMs: LoopDelay | null;
  verdicts: Verdict[];
  samples: Sample[];
  pass: boolean;
}
