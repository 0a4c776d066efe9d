// Combining reports of parts of one run (child processes of one machine, or shards of many) into the report
// of the whole: counts added, latency histograms merged, verdicts combined from their numbers, progress
// samples added second by second.

import { addHistograms, latencySummary, MAX_COUNTEREXAMPLES, verdict } from "./observer";
import { MAX_ERRORS_SHOWN } from "./fleet";
import { shardSlice } from "./scenario";
import type { Report, Sample, Verdict } from "./types";

export class MergeError extends Error {}

type ReportedConfig = Report["config"];

/**
 * Every option of a run, by its flag: whether it defines the run, and how a replay of the run takes it.
 * `show`: parts of one run agree on each option with one (compared as it shows the value); those without one
 * may differ between parts: the report's file, how a machine spreads its devices over processes and source
 * addresses, how it logs in, and how it restarts an external broker (when is the run's timing).
 * `replay`: the option's value for the same run again, as a scenario file gives it (`starling fleet
 * --scenario REPORT.json`), or undefined to leave it to the command line: where to write the report, this
 * machine's processes and addresses, the start time (past), and what a report never holds (the password,
 * the TLS files).
 */
const RUN_OPTIONS: Record<keyof ReportedConfig, {
  flag: string;
  show: ((config: ReportedConfig) => string) | null;
  replay: (config: ReportedConfig) => unknown;
}> = {
  // The pool, in order (devices are assigned by their place in it); how a machine verifies TLS is its own.
  brokers: { flag: "--broker", show: (c) => (c.brokers.length === 0 ? "embedded" : c.brokers.map((b) => b.url).join(" ")),
    replay: (c) => (c.brokers.length === 0 ? undefined : c.brokers.map((b) => b.url)) },
  assign: { flag: "--assign", show: (c) => c.assign, replay: (c) => c.assign },
  devices: { flag: "--devices", show: (c) => String(c.devices), replay: (c) => c.devices },
  // The index differs from shard to shard; the count is the run's.
  shard: { flag: "--shard", show: (c) => `i/${c.shard.count}`, replay: (c) => `${c.shard.index}/${c.shard.count}` },
  processes: { flag: "--processes", show: null, replay: () => undefined },
  sourceIps: { flag: "--source-ips", show: null, replay: () => undefined },
  scenario: { flag: "--scenario", show: (c) => c.scenario, replay: (c) => c.scenario },
  qos: { flag: "--qos", show: (c) => String(c.qos), replay: (c) => c.qos },
  rate: { flag: "--rate", show: (c) => String(c.rate), replay: (c) => c.rate },
  payload: { flag: "--payload", show: (c) => String(c.payload), replay: (c) => c.payload },
  duration: { flag: "--duration", show: (c) => String(c.duration), replay: (c) => c.duration },
  ramp: { flag: "--ramp", show: (c) => String(c.ramp), replay: (c) => c.ramp },
  seed: { flag: "--seed", show: (c) => String(c.seed), replay: (c) => c.seed },
  protocol: { flag: "--protocol", show: (c) => (c.protocol === 5 ? "5" : "3.1.1"), replay: (c) => (c.protocol === 5 ? "5" : "3.1.1") },
  keepAlive: { flag: "--keepalive", show: (c) => String(c.keepAlive), replay: (c) => c.keepAlive },
  keepAliveGrace: { flag: "--keepalive-grace", show: (c) => String(c.keepAliveGrace), replay: (c) => c.keepAliveGrace },
  username: { flag: "--username", show: null, replay: (c) => c.username ?? undefined },
  password: { flag: "--password", show: null, replay: () => undefined },
  clientId: { flag: "--client-id", show: (c) => c.clientId, replay: (c) => c.clientId },
  topic: { flag: "--topic", show: (c) => c.topic, replay: (c) => c.topic },
  report: { flag: "--report", show: null, replay: () => undefined },
  latencyMs: { flag: "--latency", show: (c) => String(c.latencyMs), replay: (c) => c.latencyMs },
  jitterMs: { flag: "--jitter", show: (c) => String(c.jitterMs), replay: (c) => c.jitterMs },
  brokerRestartCommand: { flag: "--broker-restart-cmd", show: null, replay: (c) => c.brokerRestartCommand ?? undefined },
  startAt: { flag: "--start-at", show: (c) => ((c.startAt ?? null) === null ? "none" : new Date(c.startAt!).toISOString()), replay: () => undefined },
  faultNoResend: { flag: "--fault-no-resend", show: (c) => (c.faultNoResend ? "on" : "off"), replay: (c) => (c.faultNoResend ? true : undefined) },
  // A report from before the option has none.
  faultStallMs: { flag: "--fault-stall-ms", show: (c) => String(c.faultStallMs ?? 0), replay: (c) => ((c.faultStallMs ?? 0) > 0 ? c.faultStallMs : undefined) },
};

/**
 * The options that run the reported run again, keyed as a scenario file keys them (each flag's name in
 * camelCase): the same devices, schedule, faults and checks. TLS is replayed as far as a report says
 * (the server name, whether to verify); its files are not in it.
 */
export function replayOptions(config: ReportedConfig): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const { flag, replay } of Object.values(RUN_OPTIONS)) {
    const value = replay(config);
    if (value !== undefined) options[flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())] = value;
  }
  const tls = config.brokers.find((broker) => broker.tls !== null)?.tls ?? null;
  if (tls !== null && tls.servername !== null) options.servername = tls.servername;
  if (tls !== null && !tls.verify) options.insecure = true;
  return options;
}

/** How `other` differs from `first` in what defines a run (its starling version included: it plans the run), e.g. ["--seed 1 vs 2"]. */
function differences(first: Report, other: Report): string[] {
  const found: string[] = [];
  if (first.starling !== other.starling) found.push(`starling ${first.starling} vs ${other.starling}`);
  for (const { flag, show } of Object.values(RUN_OPTIONS)) {
    if (show === null) continue;
    const [a, b] = [show(first.config), show(other.config)];
    if (a !== b) found.push(`${flag} ${a} vs ${b}`);
  }
  return found;
}

/** The parts' slices in order, checked to be parts of one run that do not overlap; a MergeError says which options differ, or where they overlap. */
function checkParts(parts: Report[]): { first: number; end: number }[] {
  if (parts.length === 0) throw new MergeError("no reports to merge");
  for (const other of parts.slice(1)) {
    const found = differences(parts[0], other);
    if (found.length > 0) {
      throw new MergeError(`the reports are not parts of one run: their options differ (${found.join(", ")}); ` +
        `run every shard with the same options (only ${Object.values(RUN_OPTIONS).filter((o) => o.show === null).map((o) => o.flag).join(", ")} may differ)`);
    }
  }
  const slices = parts.flatMap((part) => part.slices).sort((a, b) => a.first - b.first);
  for (let i = 1; i < slices.length; i++) {
    if (slices[i].first < slices[i - 1].end) {
      throw new MergeError(`the reports overlap: devices ${slices[i].first}-${slices[i - 1].end - 1} are in two of them (the same shard twice?)`);
    }
  }
  return slices;
}

/**
 * Checks that `parts` are the reports of every shard of one run, each once (a report of one unsharded run
 * is all of it); a MergeError names the shards missing. Merging fewer would report part of the fleet as the
 * whole run.
 */
export function checkShards(parts: Report[]): void {
  const covered = joinSlices(checkParts(parts));
  const config = parts[0].config;
  const count = config.shard.count;
  const missing: number[] = [];
  for (let index = 0; index < count; index++) {
    const slice = shardSlice({ ...config, brokers: [], shard: { index, count } });
    const whole = slice.first === slice.end || covered.some((c) => c.first <= slice.first && slice.end <= c.end);
    if (!whole) missing.push(index);
  }
  if (missing.length > 0) {
    throw new MergeError(`missing shard${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of ${count} ` +
      `(${missing.map((index) => `--shard ${index}/${count}`).join(", ")}): merge needs the report of every shard`);
  }
}

/**
 * The report of the run made of `parts`, which must be parts of one run (same seed and options) that do not
 * overlap: a shard's child processes, or shards (checkShards checks that none is missing).
 */
export function mergeReports(parts: Report[]): Report {
  const slices = checkParts(parts);
  const first = parts[0];
  const sum = (pick: (report: Report) => number) => parts.reduce((total, part) => total + pick(part), 0);
  const verdicts = mergeVerdicts(parts.map((part) => part.verdicts));
  const covered = sum((part) => part.counts.devices);
  return {
    starling: first.starling,
    config: {
      ...first.config,
      shard: covered === first.config.devices ? { index: 0, count: 1 } : first.config.shard,
      // A shard's report file is its own; where the merge of shards goes, the shards do not say (null).
      report: parts.every((part) => part.config.shard.index === first.config.shard.index) ? first.config.report : null,
    },
    slices: joinSlices(slices),
    brokerUrl: [...new Set(parts.map((part) => part.brokerUrl))].join(", "),
    startedAt: parts.map((part) => part.startedAt).sort()[0],
    seconds: Math.max(...parts.map((part) => part.seconds)),
    counts: {
      devices: covered,
      connected: sum((part) => part.counts.connected),
      published: sum((part) => part.counts.published),
      received: sum((part) => part.counts.received),
      duplicates: sum((part) => part.counts.duplicates),
      reconnects: sum((part) => part.counts.reconnects),
      errors: sum((part) => part.counts.errors),
    },
    firstErrors: parts.flatMap((part) => part.firstErrors).slice(0, MAX_ERRORS_SHOWN),
    latencyMs: latencySummary(addHistograms(parts.map((part) => part.latencyMs.histogram))),
    memory: {
      processes: sum((part) => part.memory.processes),
      rssBytes: sum((part) => part.memory.rssBytes),
      baselineBytes: sum((part) => part.memory.baselineBytes),
      // A report from before PSS was measured has none.
      pssBytes: parts.some((part) => (part.memory.pssBytes ?? null) === null) ? null : sum((part) => part.memory.pssBytes!),
    },
    // The worst part's: each part's loop ran apart from the others'. A report from before it was measured has none.
    loopDelayMs: parts.some((part) => (part.loopDelayMs ?? null) === null) ? null : {
      p99: Math.max(...parts.map((part) => part.loopDelayMs!.p99)),
      max: Math.max(...parts.map((part) => part.loopDelayMs!.max)),
    },
    connects: {
      count: sum((part) => part.connects.count),
      firstAttemptAt: Math.min(...parts.map((part) => part.connects.firstAttemptAt)),
      lastConnectedAt: Math.max(...parts.map((part) => part.connects.lastConnectedAt)),
    },
    verdicts,
    samples: addSamples(parts.map((part) => part.samples)),
    pass: verdicts.every((v) => v.pass) && parts.every((part) => part.pass),
  };
}

/** Verdicts by name, in the order they first appear; each holds when it holds in every part. */
function mergeVerdicts(lists: Verdict[][]): Verdict[] {
  const byName = new Map<string, Verdict[]>();
  for (const list of lists) {
    for (const v of list) {
      const same = byName.get(v.name);
      if (same === undefined) byName.set(v.name, [v]);
      else same.push(v);
    }
  }
  return [...byName.entries()].map(([name, same]) => verdict(name, same[0].what,
    same.reduce((total, v) => total + v.checked, 0), same.reduce((total, v) => total + v.failures, 0),
    same.flatMap((v) => v.counterexamples).slice(0, MAX_COUNTEREXAMPLES)));
}

/** Samples of parts that ran side by side, added up per second of the run. */
export function addSamples(lists: Sample[][]): Sample[] {
  const bySecond = new Map<number, Sample>();
  for (const list of lists) {
    for (const s of list) {
      const t = Math.round(s.t);
      const total = bySecond.get(t);
      if (total === undefined) bySecond.set(t, { ...s, t });
      else {
        total.connected += s.connected;
        total.messagesPerSecond += s.messagesPerSecond;
        total.errors += s.errors;
        // A sample from before stalls were measured has none.
        total.stalledMs = Math.max(total.stalledMs ?? 0, s.stalledMs ?? 0);
      }
    }
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

/** Adjacent slices as one: [0,500) and [500,1000) are [0,1000). */
function joinSlices(sorted: { first: number; end: number }[]): { first: number; end: number }[] {
  const joined: { first: number; end: number }[] = [];
  for (const slice of sorted) {
    const last = joined[joined.length - 1];
    if (last !== undefined && last.end === slice.first) last.end = slice.end;
    else joined.push({ ...slice });
  }
  return joined;
}
