// Running a fleet past one process and one machine: shards that merge into the run they are parts of,
// devices in child processes against a pool of brokers, and the plan of files, ports and source addresses
// that a run at scale is checked against before it starts.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../simulator/cli";
import { mergeReports } from "../../simulator/merge";
import { DEVICES_PER_EMBEDDED_BROKER, ephemeralPorts, openFileLimit, planLayout, runFleet } from "../../simulator/run";
import { planFleet, planSlice, shardSlice } from "../../simulator/scenario";
import { writeReport } from "../../simulator/report";
import type { Report, RunConfig } from "../../simulator/types";
import { Broker, startAedes } from "../peers";
import { temporaryDirectory } from "../report-page";

function fleet(options: Partial<RunConfig>): RunConfig {
  return {
    brokers: [], assign: "round-robin", shard: { index: 0, count: 1 }, processes: 1, sourceIps: [], devices: 60, scenario: "mixed",
    qos: 1, rate: 2, payload: 64, duration: 13, ramp: 1, protocol: 4, keepAlive: 2, keepAliveGrace: 6, username: null, password: null,
    clientId: "scale-{i}", topic: "scale/{group}/{id}", report: null, faultNoResend: false, faultStallMs: 0, seed: 5, latencyMs: 0, jitterMs: 0, brokerRestartCommand: null, startAt: null, ...options,
  };
}

function target(broker: Broker): RunConfig["brokers"][number] {
  return { host: broker.host, port: broker.port, tls: null, url: `mqtt://${broker.host}:${broker.port}` };
}

/** What two runs of one seed must agree on, whatever the timing: the plan's consequences. */
function planned(report: Report): unknown {
  return {
    devices: report.counts.devices,
    connected: report.counts.connected,
    published: report.counts.published,
    slices: report.slices,
    verdicts: report.verdicts.map((v) => ({ name: v.name, pass: v.pass, checked: ["connections", "order", "wills", "keepalive"].includes(v.name) ? v.checked : "*" })),
  };
}

const directory = temporaryDirectory("starling-scale-");

describe("shards", () => {
  const brokers: Broker[] = [];
  let shards: Report[] = [];
  let whole: Report;

  beforeAll(async () => {
    // The shards share one broker, as the jobs of one run would; the whole run has a broker of its own, so
    // all three go at once.
    brokers.push(await startAedes(), await startAedes());
    const [shared, own] = brokers.map(target);
    // The shards start together, at a time given to both (--start-at), as a Job's pods would be told.
    const startAt = Date.now() + 4000;
    const runs = [
      runFleet(fleet({ brokers: [shared], shard: { index: 0, count: 2 }, startAt }), () => undefined),
      runFleet(fleet({ brokers: [shared], shard: { index: 1, count: 2 }, startAt }), () => undefined),
      runFleet(fleet({ brokers: [own], startAt }), () => undefined),
    ];
    const [a, b, c] = await Promise.all(runs);
    shards = [a, b];
    whole = c;
  }, 60_000);

  afterAll(async () => {
    for (const broker of brokers) await broker.close();
  });

  it("start at the time they were given, together", () => {
    const startAt = shards[0].config.startAt!;
    for (const report of [...shards, whole]) {
      expect(report.startedAt).toBe(new Date(startAt).toISOString());
      expect(report.connects.firstAttemptAt).toBeGreaterThanOrEqual(startAt);
    }
  });

  it("each covers its half of the fleet, planned as the whole run plans it", () => {
    expect(shards.map((s) => s.slices)).toEqual([[{ first: 0, end: 30 }], [{ first: 30, end: 60 }]]);
    const all = planFleet(fleet({}));
    const second = fleet({ shard: { index: 1, count: 2 } });
    expect(shardSlice(second)).toEqual({ first: 30, end: 60 });
    // A device's plan depends on the seed and its index only, not on which shard runs it.
    expect(planFleet(second).slice(30)).toEqual(all.slice(30));
    for (const shard of shards) expect(shard.pass, JSON.stringify(shard.verdicts.filter((v) => !v.pass))).toBe(true);
  });

  it("merged, equal one run of the same seed", () => {
    const merged = mergeReports(shards);
    expect(merged.pass).toBe(true);
    expect(whole.pass).toBe(true);
    expect(planned(merged)).toEqual(planned(whole));
    expect(merged.config).toEqual({ ...whole.config, brokers: merged.config.brokers });
    expect(merged.latencyMs.count).toBe(shards[0].latencyMs.count + shards[1].latencyMs.count);
    // The same maximum, to the histogram's 3 significant digits.
    const max = Math.max(shards[0].latencyMs.max, shards[1].latencyMs.max);
    expect(Math.abs(merged.latencyMs.max - max) / max).toBeLessThan(0.001);
    expect(merged.memory.processes).toBe(2);
    // Every second of the run, both shards' devices: at the end all that remain connected are counted.
    expect(merged.samples.at(-1)!.connected).toBe(shards[0].samples.at(-1)!.connected + shards[1].samples.at(-1)!.connected);
  });

  it("a failing shard fails the merged run, its counterexamples kept", () => {
    const failing = structuredClone(shards[1]);
    const qos2 = failing.verdicts.find((v) => v.name === "qos2")!;
    Object.assign(qos2, { pass: false, failures: 1, counterexamples: [{ device: "scale-31", message: 4, expected: "delivered exactly once", observed: "delivered 2 times" }] });
    failing.pass = false;
    const merged = mergeReports([shards[0], failing]);
    expect(merged.pass).toBe(false);
    const verdict = merged.verdicts.find((v) => v.name === "qos2")!;
    expect(verdict.pass).toBe(false);
    expect(verdict.detail).toMatch(/ 1 failed$/);
    expect(verdict.counterexamples).toEqual(qos2.counterexamples);
  });

  it("starling merge writes the whole run's report, and refuses reports that are not parts of one run", async () => {
    const files = shards.map((shard, i) => {
      const file = path.join(directory(), `shard-${i}.json`);
      writeReport(shard, file);
      return file;
    });
    const out = path.join(directory(), "merged.json");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(await main(["merge", ...files, "--report", out])).toBe(0);
      expect(planned(JSON.parse(fs.readFileSync(out, "utf8")) as Report)).toEqual(planned(whole));
      expect(log.mock.calls.flat().join("\n")).toMatch(/verdict: PASS/);

      const other = path.join(directory(), "other-seed.json");
      writeReport({ ...shards[1], config: { ...shards[1].config, seed: 6 } }, other);
      const notJson = path.join(directory(), "notes.json");
      fs.writeFileSync(notJson, "{\"hello\": 1}");
      const cases: [string[], RegExp][] = [
        [[files[0], files[0]], /overlap: devices 0-29 are in two of them/],
        [[files[0], other], /not parts of one run.*seed 5 vs 6/],
        [[files[0], notJson], /notes\.json: not a starling fleet report/],
        [[files[0], path.join(directory(), "absent.json")], /absent\.json: cannot read it \(ENOENT\)/],
      ];
      for (const [args, says] of cases) {
        error.mockClear();
        expect(await main(["merge", ...args]), args.join(" ")).toBe(2);
        expect(error.mock.calls.flat().join("\n")).toMatch(says);
      }
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});

describe("devices in child processes against a pool of brokers", () => {
  const brokers: Broker[] = [];
  const seen: Set<string>[] = [];
  const watchers: mqtt.MqttClient[] = [];
  let report: Report;

  beforeAll(async () => {
    brokers.push(await startAedes(), await startAedes());
    // An independent subscriber on each broker (MQTT.js) notes which devices publish there.
    for (const broker of brokers) {
      const ids = new Set<string>();
      seen.push(ids);
      const watcher = await mqtt.connectAsync(`mqtt://${broker.host}:${broker.port}`, { clientId: `watcher-${broker.port}` });
      await watcher.subscribeAsync("pool/+/+");
      watcher.on("message", (topic) => ids.add(topic.split("/")[2]));
      watchers.push(watcher);
    }
    report = await runFleet(fleet({ brokers: brokers.map(target), processes: 2, devices: 90, clientId: "pool-{i}", topic: "pool/{group}/{id}" }), () => undefined);
  }, 60_000);

  afterAll(async () => {
    for (const watcher of watchers) await watcher.endAsync();
    for (const broker of brokers) await broker.close();
  });

  it("every verdict holds, and the report covers both processes", () => {
    expect(report.pass, JSON.stringify(report.verdicts.filter((v) => !v.pass))).toBe(true);
    expect(report.firstErrors).toEqual([]);
    expect(report.memory.processes).toBe(2);
    expect(report.counts.devices).toBe(90);
    expect(report.counts.connected).toBe(90);
    expect(report.connects.count).toBe(90);
    expect(report.memory.rssBytes).toBeGreaterThan(report.memory.baselineBytes);
    expect(report.brokerUrl).toContain(`:${brokers[1].port}`);
  });

  it("devices went round-robin: even-numbered to the first broker, odd-numbered to the second", () => {
    const even = [...seen[0]].map((id) => Number(id.split("-")[1]));
    const odd = [...seen[1]].map((id) => Number(id.split("-")[1]));
    expect(even.length).toBeGreaterThan(30);
    expect(odd.length).toBeGreaterThan(30);
    expect(even.every((i) => i % 2 === 0)).toBe(true);
    expect(odd.every((i) => i % 2 === 1)).toBe(true);
  });
});

describe("the plan of a run at scale", () => {
  it("spreads 100,000 devices over processes within the open-file limit, and over loopback addresses within their ports", () => {
    const files = openFileLimit();
    const layout = planLayout(fleet({ devices: 100_000, processes: 0 }));
    expect(layout.embeddedBrokers).toBe(Math.ceil(100_000 / DEVICES_PER_EMBEDDED_BROKER));
    if (files !== null) expect(Math.ceil(100_000 / layout.processes)).toBeLessThan(files);
    expect(layout.sourceIps.length).toBeGreaterThanOrEqual(Math.ceil(100_000 / ephemeralPorts()));
    expect(new Set(layout.sourceIps).size).toBe(layout.sourceIps.length);
    for (const ip of layout.sourceIps) expect(net.isIPv4(ip) && ip.startsWith("127."), ip).toBe(true);
    // Another shard on the same machine takes other addresses.
    const other = planLayout(fleet({ devices: 100_000, processes: 0, shard: { index: 1, count: 2 } }));
    for (const ip of other.sourceIps) expect(layout.sourceIps).not.toContain(ip);
  });

  it("plans the files of a device's process: its socket, and the fault proxy's two with it", () => {
    const files = openFileLimit() ?? 20_000;
    // One embedded broker's worth of devices: the broker holds its side of each connection in another
    // process, so the devices fit one process as long as their own sockets do.
    const devices = Math.min(DEVICES_PER_EMBEDDED_BROKER, Math.floor(files * 0.6));
    const plain = planLayout(fleet({ devices, processes: 0 }));
    expect(plain.embeddedBrokers).toBe(1);
    expect(plain.processes).toBe(devices > files - 200 ? 2 : 1);
    // The faults scenario's proxy costs two more files per device, in the devices' process.
    const faults = planLayout(fleet({ devices, processes: 0, scenario: "faults", duration: 60 }));
    expect(faults.processes).toBe(Math.ceil((3 * devices) / (files - 200)));
  });

  it("binds no source address for a remote broker unless --source-ips says so", () => {
    const remote = { host: "broker.example", port: 1883, tls: null, url: "mqtt://broker.example:1883" };
    expect(planLayout(fleet({ brokers: [remote], devices: 5000 })).sourceIps).toEqual([]);
    expect(planLayout(fleet({ brokers: [remote], devices: 5000, sourceIps: ["10.0.0.5", "10.0.0.6"] })).sourceIps).toEqual(["10.0.0.5", "10.0.0.6"]);
  });

  it("spreads devices over the embedded brokers a run starts, which its options do not list", () => {
    const config = fleet({ devices: 40_000, processes: 0 });
    const layout = planLayout(config);
    expect(layout.embeddedBrokers).toBeGreaterThan(1);
    const counts = new Array<number>(layout.embeddedBrokers).fill(0);
    for (const plan of planSlice(config, { first: 0, end: 3000 }, layout.embeddedBrokers)) counts[plan.broker]++;
    for (const count of counts) expect(count).toBe(3000 / layout.embeddedBrokers);
  });

  it("assigns by hash of the client id: stable, and spread over the pool", () => {
    const pool = [1, 2, 3].map((n) => ({ host: "127.0.0.1", port: 1880 + n, tls: null, url: `mqtt://127.0.0.1:${1880 + n}` }));
    const config = fleet({ brokers: pool, assign: "hash", devices: 3000 });
    const counts = [0, 0, 0];
    for (const plan of planFleet(config)) counts[plan.broker]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(planFleet(config).map((p) => p.broker)).toEqual(planFleet({ ...config, clientId: "scale-{i}" }).map((p) => p.broker));
  });
});
