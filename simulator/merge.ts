// Combining reports of parts of one run (child processes of one machine, or shards of many) into the report
// of the whole: counts added, latency histograms merged, verdicts combined from their numbers, progress
// samples added second by second.

import { addHistograms, latencySummary, MAX_COUNTEREXAMPLES, verdict } from "./observer";
import { MAX_ERRORS_SHOWN } from "./fleet";
import type { Report, Sample, Verdict } from "./types";

export class MergeError extends Error {}

/** The report of the whole run made of `parts`, which must be parts of one run (same seed and options) that do not overlap. */
export function mergeReports(parts: Report[]): Report {
  if (parts.length === 0) throw new MergeError("no reports to merge");
  const first = parts[0];
  for (const part of parts) {
    const { shard: _a, ...same } = part.config;
    const { shard: _b, ...expected } = first.config;
    if (JSON.stringify(same) !== JSON.stringify(expected)) {
      throw new MergeError(`the reports are not parts of one run: their options differ (seed ${first.config.seed} vs ${part.config.seed}, ` +
        `${first.config.devices} vs ${part.config.devices} devices, scenario ${first.config.scenario} vs ${part.config.scenario})`);
    }
  }
  const slices = parts.flatMap((part) => part.slices).sort((a, b) => a.first - b.first);
  for (let i = 1; i < slices.length; i++) {
    if (slices[i].first < slices[i - 1].end) {
      throw new MergeError(`the reports overlap: devices ${slices[i].first}-${slices[i - 1].end - 1} are in two of them (the same shard twice?)`);
    }
  }
  const sum = (pick: (report: Report) => number) => parts.reduce((total, part) => total + pick(part), 0);
  const verdicts = mergeVerdicts(parts.map((part) => part.verdicts));
  const covered = sum((part) => part.counts.devices);
  return {
    starling: first.starling,
    config: { ...first.config, shard: covered === first.config.devices ? { index: 0, count: 1 } : first.config.shard },
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
