// The fleet simulator end to end: every scenario against the embedded Aedes broker and Debian's mosquitto, a
// planted fault it must catch, replay by seed, the command line's errors and its report file (no secret in
// it), and a real run's HTML page in headless Chromium.
//
// Fleets are small (30-60 devices) with a 2 s keep-alive, so the keep-alive and will checks fit in seconds;
// the scenarios of one broker run side by side, each with its own client ids, topics and seed.

import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it, expect, beforeAll, afterAll, vi } from "vitest";
import type { Browser } from "playwright-core";
import { fleetCommand, main, resolveConfig, UsageError } from "../../simulator/cli";
import { runFleet } from "../../simulator/run";
import { FateKind, planFleet } from "../../simulator/scenario";
import { writeReport } from "../../simulator/report";
import type { Report, RunConfig, ScenarioName, Verdict } from "../../simulator/types";
import { peerAvailable, startMosquitto } from "../peers";
import { checkReportPage, launchChromium, temporaryDirectory } from "../report-page";
import { makeCertificates } from "../tls";

const REPOSITORY = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Whether a peer's suite runs: skipped locally when the program is missing; under CI=true a missing peer is
 * not skipped but kept as the error its suite then fails with (so the other suites of this file still run).
 */
function peer(program: string, install: string): { skip: boolean; missing: Error | null } {
  try {
    return { skip: !peerAvailable(program, install), missing: null };
  } catch (error) {
    return { skip: false, missing: error as Error };
  }
}

const mosquitto = peer("mosquitto", "apt-get install mosquitto");
const chromiumPeer = peer("chromium", "apt-get install chromium");

// ------------------------------------------------------------------------------------------------ helpers

/** Seconds of traffic per scenario: keep-alive and will scenarios spread their faults over 6 s of it. */
const TRAFFIC: Record<ScenarioName, number> = { telemetry: 3, keepalive: 13, will: 13, qos: 5, mixed: 13, faults: 21 };

/** A small run with its own client ids and topics (`name`), so runs can share a broker. */
function fleet(scenario: ScenarioName, options: Partial<RunConfig> & { name: string; seed: number }): RunConfig {
  const { name, ...rest } = options;
  return {
    brokers: [], assign: "round-robin", shard: { index: 0, count: 1 }, processes: 1, sourceIps: [], devices: 40, scenario, qos: 1, rate: 2, payload: 64, duration: TRAFFIC[scenario], ramp: 1,
    protocol: 4, keepAlive: 2, keepAliveGrace: 6, username: null, password: null, clientId: `${name}-{i}`, topic: `fleet-test/${name}/{id}`,
    report: null, faultNoResend: false, faultStallMs: 0, latencyMs: 0, jitterMs: 0, brokerRestartCommand: null, startAt: null, ...rest,
  };
}

/** How many devices of the run's plan meet each fate. */
function fates(config: RunConfig): Record<FateKind, number> {
  const counted = { normal: 0, killed: 0, clean: 0, silent: 0, cut: 0, reset: 0, halfopen: 0, partitioned: 0 };
  for (const plan of planFleet(config)) counted[plan.fate.kind]++;
  return counted;
}

/** The "N checked" of a verdict's detail (digits only, whatever the locale's grouping). */
function checked(verdict: Verdict): number {
  const match = /^[^:]*: ([\d.,\s\u00a0\u202f]+) checked/.exec(verdict.detail);
  if (match === null) throw new Error(`verdict ${verdict.name} has no "N checked" in its detail: ${verdict.detail}`);
  return Number(match[1].replace(/\D/g, ""));
}

function verdict(report: Report, name: string): Verdict {
  const found = report.verdicts.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no "${name}" verdict; the run gave ${report.verdicts.map((v) => v.name).join(", ")}`);
  return found;
}

/** The failing verdicts with their first counterexamples, one line each ("" when every verdict holds). */
function failures(report: Report): string {
  return report.verdicts.filter((v) => !v.pass).map((v) => `${v.name}: ${v.detail}; ` + v.counterexamples.slice(0, 5)
    .map((c) => `${c.device}${c.message >= 0 ? ` message ${c.message}` : ""}: expected ${c.expected}, observed ${c.observed}`)
    .join("; ")).join("\n");
}

interface ScenarioCase {
  label: string;
  config: RunConfig;
  /** Verdicts the scenario must produce, besides "connections" and "order". */
  required: string[];
  /** The fewest devices the plan must give each fate, so the verdicts about them check something. */
  least: Partial<Record<"killed" | "clean" | "silent" | "cut", number>>;
}

/** The five scenarios (qos at QoS 1 and 2) for one broker; `tag` keeps their names and seeds apart. */
function scenarioCases(tag: string, seeds: Record<string, number>, protocol: 4 | 5 = 4): ScenarioCase[] {
  const make = (scenario: ScenarioName, key: string, devices: number, extra: Partial<RunConfig>, required: string[], least: ScenarioCase["least"]) => ({
    label: `${scenario}${extra.qos !== undefined ? ` at QoS ${extra.qos}` : ""}`,
    config: fleet(scenario, { name: `${tag}-${key}`, seed: seeds[key], devices, protocol, ...extra }),
    required, least,
  });
  return [
    make("telemetry", "telemetry", 40, {}, ["qos1"], {}),
    make("keepalive", "keepalive", 60, {}, ["qos1", "keepalive"], { silent: 3 }),
    make("will", "will", 60, {}, ["qos1", "wills"], { killed: 2, clean: 2 }),
    make("qos", "qos1", 40, { qos: 1 }, ["qos1"], { cut: 3 }),
    make("qos", "qos2", 40, { qos: 2 }, ["qos2"], { cut: 3 }),
    make("mixed", "mixed", 60, {}, ["qos1", "qos2", "wills", "keepalive"], { killed: 2, clean: 2, silent: 2, cut: 2 }),
  ];
}

/** Everything a passing scenario run must show. */
function expectScenarioPassed(label: string, scenario: ScenarioCase, report: Report): void {
  const config = scenario.config;
  const plan = fates(config);
  expect(failures(report), `${label}: failing verdicts`).toBe("");
  expect(report.pass, label).toBe(true);
  const names = report.verdicts.map((v) => v.name);
  for (const name of ["connections", "order", ...scenario.required]) expect(names, `${label}: verdicts`).toContain(name);
  for (const v of report.verdicts) expect(checked(v), `${label}: ${v.name} checked nothing (${v.detail})`).toBeGreaterThan(0);
  expect(checked(verdict(report, "connections")), label).toBe(config.devices);
  expect(report.counts.connected, label).toBe(config.devices);
  if (scenario.required.includes("wills")) expect(checked(verdict(report, "wills")), label).toBe(plan.killed + plan.clean);
  if (scenario.required.includes("keepalive")) expect(checked(verdict(report, "keepalive")), label).toBe(plan.silent);
  // Every cut device came back on its own (and the qos verdict above says it resent what the cut lost).
  expect(report.counts.reconnects, `${label}: reconnects`).toBeGreaterThanOrEqual(plan.cut);
  if (config.scenario === "telemetry" || config.scenario === "qos") {
    // No device's life ends in these: every accepted message is owed, and was checked.
    expect(checked(verdict(report, `qos${config.qos}`)), label).toBe(report.counts.published);
  }
}

/** Runs the cases side by side (one failing run does not hide the others' results). */
function scenarioSuite(title: string, cases: () => ScenarioCase[], broker: () => Promise<{ config: RunConfig["brokers"][number]; close(): Promise<void> } | null>,
  needs: { skip: boolean; missing: Error | null } = { skip: false, missing: null }): void {
  describe.skipIf(needs.skip)(title, () => {
    const results = new Map<string, PromiseSettledResult<Report>>();
    let started: { close(): Promise<void> } | null = null;

    beforeAll(async () => {
      if (needs.missing !== null) throw needs.missing;
      const target = await broker();
      started = target;
      const planned = cases().map((c) => ({ ...c, config: { ...c.config, brokers: target === null ? [] : [target.config] } }));
      const settled = await Promise.allSettled(planned.map((c) => runFleet(c.config, () => undefined)));
      planned.forEach((c, i) => results.set(c.config.clientId, settled[i]));
    }, 90_000);

    afterAll(async () => {
      await started?.close();
    });

    for (const scenario of cases()) {
      const label = `${title}: ${scenario.label}, MQTT ${scenario.config.protocol === 5 ? "5.0" : "3.1.1"}`;
      it(`${scenario.label}, MQTT ${scenario.config.protocol === 5 ? "5.0" : "3.1.1"}: every verdict passes and checks something`, () => {
        const plan = fates(scenario.config);
        for (const [fate, least] of Object.entries(scenario.least)) {
          expect(plan[fate as keyof typeof plan], `${label}: seed ${scenario.config.seed} plans too few "${fate}" devices; pick another seed`)
            .toBeGreaterThanOrEqual(least);
        }
        const result = results.get(scenario.config.clientId);
        if (result === undefined) throw new Error(`${label}: the run was not made`);
        if (result.status === "rejected") throw result.reason;
        expectScenarioPassed(label, scenario, result.value);
      });
    }
  });
}

/** Runs main(argv) in this process, capturing everything it prints. */
async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const text = (chunk: unknown) => (typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...parts: unknown[]) => { out += `${parts.map(String).join(" ")}\n`; }),
    vi.spyOn(console, "error").mockImplementation((...parts: unknown[]) => { err += `${parts.map(String).join(" ")}\n`; }),
    vi.spyOn(process.stdout, "write").mockImplementation(((chunk: unknown) => { out += text(chunk); return true; }) as typeof process.stdout.write),
    vi.spyOn(process.stderr, "write").mockImplementation(((chunk: unknown) => { err += text(chunk); return true; }) as typeof process.stderr.write),
  ];
  try {
    return { code: await main(argv), out, err };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** A fleet command parsed from `args`, as the CLI parses it, for resolveConfig. */
function parsed(args: string[]) {
  const command = fleetCommand().exitOverride();
  command.parse(args, { from: "user" });
  return command;
}

const directory = temporaryDirectory("starling-fleet-");

// ---------------------------------------------------------------------------------------------- scenarios

scenarioSuite("embedded Aedes", () => scenarioCases("aedes", { telemetry: 101, keepalive: 3, will: 5, qos1: 9, qos2: 10, mixed: 8 }),
  async () => null);

// Seeds differ across these runs: the observer's client id is made from the seed (and the process id).
scenarioSuite("mosquitto", () => [
  ...scenarioCases("mosq", { telemetry: 201, keepalive: 6, will: 12, qos1: 13, qos2: 14, mixed: 10 }),
  ...scenarioCases("mosq5", { mixed: 17 }, 5).filter((c) => c.config.scenario === "mixed"),
], async () => {
  const broker = await startMosquitto();
  return { config: { host: broker.host, port: broker.port, tls: null, url: `mqtt://${broker.host}:${broker.port}` }, close: () => broker.close() };
}, mosquitto);

// ---------------------------------------------------------------------------------------------- planted fault

describe("a planted stall: a device process's event loop blocked, as on a starved machine", () => {
  it("is measured, shown in the progress lines and the report, with a warning that names the cause and what to change", async () => {
    // 1.5 s: shorter than the broker's 1.5x keep-alive (3 s) and the will bound, so every verdict still holds.
    const args = ["--scenario", "will", "--devices", "40", "--rate", "2", "--duration", String(TRAFFIC.will), "--ramp", "1",
      "--keepalive", "2", "--seed", "15", "--client-id", "stall-{i}", "--topic", "fleet-test/stall/{id}", "--processes", "1"];
    expect(fates(resolveConfig(parsed(args))).killed, "seed 15 plans no killed device; pick another").toBeGreaterThan(0);
    const file = path.join(directory(), "stall.json");
    const result = await runMain(["fleet", ...args, "--fault-stall-ms", "1500", "--report", file]);
    expect(result.code, result.out + result.err).toBe(0);
    const report = JSON.parse(fs.readFileSync(file, "utf8")) as Report;
    expect(report.loopDelayMs).not.toBeNull();
    expect(report.loopDelayMs!.max).toBeGreaterThanOrEqual(1400);
    expect(Math.max(...report.samples.map((s) => s.stalledMs))).toBeGreaterThanOrEqual(1400);
    expect(failures(report)).toBe("");
    // Progress lines (one every 5 s off a terminal) say so from the stall on; the report warns above its verdict line.
    const progress = result.out.split("\n").filter((line) => /^\[ *\d+ s\] connected/.test(line));
    expect(progress.some((line) => /  simulator stalled up to 1\.[4-9] s/.test(line)), progress.join("\n")).toBe(true);
    expect(result.out).toMatch(/^warning: the simulator itself stalled for up to 1\.[4-9] s /m);
    expect(result.out).toMatch(/^verdict: PASS$/m);
  }, 60_000);
});

describe("a planted fault: devices that do not resend after a cut", () => {
  it("fails the qos1 verdict, naming a cut device and a message never delivered; the same run without the fault passes", async () => {
    const config = fleet("qos", { name: "fault", seed: 9, qos: 1 });
    const cut = planFleet(config).filter((p) => p.fate.kind === "cut").map((p) => p.id);
    expect(cut.length, `seed ${config.seed} plans no cut device in the qos scenario; pick another`).toBeGreaterThan(0);

    const [faulty, healthy] = await Promise.all([
      runFleet({ ...config, faultNoResend: true }, () => undefined),
      runFleet(config, () => undefined),
    ]);

    expect(failures(healthy), "without the fault").toBe("");
    expect(healthy.pass).toBe(true);

    expect(faulty.pass).toBe(false);
    const qos1 = verdict(faulty, "qos1");
    expect(qos1.pass, qos1.detail).toBe(false);
    expect(qos1.detail).toMatch(/ [1-9][\d,.]* failed$/);
    expect(qos1.counterexamples.length).toBeGreaterThan(0);
    for (const example of qos1.counterexamples) {
      expect(cut, `${example.device} lost a message but was never cut`).toContain(example.device);
      expect(example.message).toBeGreaterThanOrEqual(0);
      expect(example.expected).toBe("delivered at least once");
      expect(example.observed).toBe("never delivered");
    }
    // Each cut lost the message on the wire: every cut device is named (there are fewer than 20).
    expect(new Set(qos1.counterexamples.map((c) => c.device))).toEqual(new Set(cut));
    // The fault is in delivery only: the other verdicts hold.
    for (const other of faulty.verdicts.filter((v) => v.name !== "qos1")) expect(other.pass, `${other.name}: ${other.detail}`).toBe(true);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------- determinism

describe("the same seed replays the same run", () => {
  it("planFleet gives the identical plan for a seed, and a different one for another seed", () => {
    for (const scenario of ["telemetry", "keepalive", "will", "qos", "mixed"] as ScenarioName[]) {
      const config = fleet(scenario, { name: "plan", seed: 42, devices: 50 });
      expect(planFleet(config), scenario).toEqual(planFleet({ ...config }));
      expect(planFleet({ ...config, seed: 43 }), scenario).not.toEqual(planFleet(config));
    }
  });

  it("two telemetry runs with the same seed publish as many messages and check as many", async () => {
    const config = fleet("telemetry", { name: "replay", seed: 77, devices: 30, duration: 2 });
    const [first, second] = await Promise.all([runFleet(config, () => undefined), runFleet({ ...config }, () => undefined)]);
    expect(first.counts.published).toBeGreaterThan(0);
    expect(second.counts.published).toBe(first.counts.published);
    const summary = (report: Report) => report.verdicts.map((v) => [v.name, checked(v)]);
    expect(summary(second)).toEqual(summary(first));
    expect(first.pass && second.pass, failures(first) + failures(second)).toBe(true);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------- command line

describe("starling fleet on the command line", () => {
  let caFile: string;
  beforeAll(() => {
    caFile = path.join(directory(), "ca.pem");
    fs.writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nnot used\n-----END CERTIFICATE-----\n");
  });

  // [what is wrong, the arguments, what the error must say]
  const bad: [string, () => string[], RegExp[]][] = [
    ["--devices 0", () => ["--devices", "0"], [/--devices/, /whole number from 1 to 10,000,000/, /"0"/]],
    ["--devices abc", () => ["--devices", "abc"], [/--devices/, /whole number/, /"abc"/]],
    ["--qos 3", () => ["--qos", "3"], [/--qos/, /from 0 to 2/, /"3"/]],
    ["--broker http://x", () => ["--broker", "http://x"], [/--broker/, /mqtt:\/\/ or mqtts:\/\//, /http:/]],
    ["--broker with nothing listening", () => ["--broker", "mqtt://127.0.0.1:1"], [/mqtt:\/\/127\.0\.0\.1:1\b/, /connection refused/, /check the host and port/]],
    ["--protocol 4", () => ["--protocol", "4"], [/--protocol/, /3\.1\.1, 5/]],
    ["--scenario nope", () => ["--scenario", "nope"], [/--scenario/, /"nope"/, /telemetry, keepalive, will, qos, mixed/, /\.json/]],
    // What to write instead: a scenario name, or a file that is there.
    ["--scenario missing.json", () => ["--scenario", path.join(directory(), "missing.json")],
      [/--scenario/, /missing\.json/, /cannot read|ENOENT/, /telemetry|check the (file|path)/]],
    ["a scenario file that is not JSON", () => {
      const file = path.join(directory(), "broken.json");
      fs.writeFileSync(file, "{ scenario: telemetry,");
      return ["--scenario", file];
    }, [/--scenario/, /broken\.json/, /JSON object of options/]],
    ["--report out.txt", () => ["--report", path.join(directory(), "out.txt")], [/--report/, /out\.txt/, /\.json or \.html/]],
    ["--duration too short for the keep-alive", () => ["--duration", "3", "--scenario", "keepalive", "--keepalive", "5"],
      [/--duration 3/, /--keepalive 5/, /use --duration 18 or more/, /shorter --keepalive/]],
    ["--ca with an mqtt:// broker", () => ["--ca", caFile, "--broker", "mqtt://127.0.0.1:1883"], [/--ca/, /TLS/, /mqtts:\/\//]],
    ["--shard 2/2", () => ["--shard", "2/2"], [/--shard/, /0 <= i < n/, /"2\/2"/]],
    ["--broker-restart-cmd outside the faults scenario", () => ["--broker", "mqtt://127.0.0.1:1", "--broker-restart-cmd", "true"],
      [/--broker-restart-cmd/, /--scenario faults/]],
    ["--duration too short for the faults scenario", () => ["--scenario", "faults", "--duration", "10", "--keepalive", "2"],
      [/--duration 10/, /faults scenario/, /use --duration \d+ or more/]],
    ["--latency -5", () => ["--latency", "-5"], [/--latency/, /from 0 to 60,000/]],
    ["--shard half", () => ["--shard", "half"], [/--shard/, /i\/n/, /"half"/]],
    ["--source-ips with a name", () => ["--source-ips", "10.0.0.1,eth0"], [/--source-ips/, /"eth0" is not an IP address/]],
    ["--assign random", () => ["--assign", "random"], [/--assign/, /round-robin, hash/]],
    ["--start-at without a zone", () => ["--start-at", "2030-01-01T10:00:00"], [/--start-at/, /ISO 8601 time with its zone/, /"2030-01-01T10:00:00"/]],
    ["--start-at in the past", () => ["--start-at", "2020-01-01T10:00:00Z"], [/--start-at 2020-01-01T10:00:00.000Z is not ahead of now/, /give a later time/]],
    ["the same --broker twice", () => ["--broker", "mqtt://127.0.0.1:1883", "--broker", "mqtt://127.0.0.1:1883"], [/mqtt:\/\/127\.0\.0\.1:1883 is given twice/]],
    ["--processes 1 for more devices than a process may hold", () => ["--devices", "50000", "--processes", "1", "--broker", "mqtt://127.0.0.1:1"],
      [/--processes 1/, /open files/, /use --processes [2-9]/]],
    ["more devices than one --source-ips address has ports for", () => ["--devices", "90000", "--source-ips", "127.0.0.9", "--broker", "mqtt://127.0.0.1:1"],
      [/90,000 devices over 1 source address/, /ephemeral ports/, /--source-ips with at least [2-9]/]],
    ["--source-ips with an address of another machine", () => ["--source-ips", "192.0.2.1"], [/--source-ips/, /192\.0\.2\.1 is not an address of this machine/, /127\.0\.0\.1/]],
    ["--devices 1e3", () => ["--devices", "1e3"], [/--devices/, /whole number/, /"1e3"/]],
    ["--ramp -1", () => ["--ramp", "-1"], [/--ramp/, /from 0 to 3,600/, /"-1"/]],
    ["--client-id without {i}", () => ["--client-id", "same"], [/--client-id "same" has no \{i\}/, /same client id/, /"same-\{i\}"/]],
    ["--client-id with an unknown placeholder", () => ["--client-id", "dev-{n}"], [/--client-id/, /\{n\} is not a placeholder/, /\{i\}/]],
    ["--topic with a wildcard", () => ["--topic", "a/+/{id}"], [/--topic "a\/\+\/\{id\}"/, /wildcards/]],
    ["--topic empty", () => ["--topic", ""], [/--topic ""/, /not empty/]],
    ["--topic with an unknown placeholder", () => ["--topic", "x/{foo}/{id}"], [/--topic/, /\{foo\} is not a placeholder/, /\{group\}/]],
    ["--password without --username (3.1.1)", () => ["--password", "s3cret"], [/--password without --username/, /3\.1\.1/, /--protocol 5/]],
    ["--broker with a port out of range", () => ["--broker", "mqtt://127.0.0.1:99999"], [/port 99999 is out of range/, /1 to 65535/]],
    ["--broker with port 0", () => ["--broker", "mqtt://127.0.0.1:0"], [/port 0 is out of range/]],
    ["--broker with credentials in the URL", () => ["--broker", "mqtt://user:pw@127.0.0.1:1883"], [/--username and --password, not in the URL/]],
    ["--broker with a query", () => ["--broker", "mqtt://127.0.0.1:1883?x=1"], [/no \?query/]],
    ["--ca that holds a key", () => {
      const file = path.join(directory(), "key-as-ca.pem");
      fs.writeFileSync(file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
      return ["--broker", "mqtts://127.0.0.1:1", "--ca", file];
    }, [/--ca .*key-as-ca\.pem/, /holds no PEM certificate/]],
    ["more devices than this machine's memory holds", () => ["--devices", "10000000", "--broker", "mqtt://127.0.0.1:1"],
      [/10,000,000 devices/, /need about [\d.]+ GiB of memory/, /available here/, /--shard i\/n/]],
  ];

  it.each(bad)("%s: exit code 2 and an error naming the option and what to write instead", async (_what, args, says) => {
    const result = await runMain(["fleet", ...args()]);
    expect(result.code, result.out + result.err).toBe(2);
    const error = result.err.trim();
    expect(error).toMatch(/^error: /);
    for (const words of says) expect(error).toMatch(words);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(directory(), "out.txt"))).toBe(false);
    // Only a run that got as far as the broker announces itself.
    if (!args().includes("mqtt://127.0.0.1:1")) expect(result.out).not.toContain("starling fleet:");
  });

  it("--ca with the embedded broker (plain mqtt://) is an error too, not silently ignored", () => {
    expect(() => resolveConfig(parsed(["--ca", caFile]))).toThrow(UsageError);
    expect(() => resolveConfig(parsed(["--ca", caFile]))).toThrow(/--ca.*mqtts:\/\//);
  });

  it("takes --start-at from the command line or a scenario file, as epoch milliseconds", () => {
    const at = new Date(Date.now() + 3_600_000);
    at.setUTCMilliseconds(0);
    expect(resolveConfig(parsed(["--start-at", at.toISOString()])).startAt).toBe(at.getTime());
    expect(resolveConfig(parsed(["--start-at", at.toISOString().replace("Z", "+00:00")])).startAt).toBe(at.getTime());
    expect(resolveConfig(parsed([])).startAt).toBeNull();
    const file = path.join(directory(), "start.json");
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", startAt: at.toISOString() }));
    expect(resolveConfig(parsed(["--scenario", file])).startAt).toBe(at.getTime());
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", startAt: "tomorrow" }));
    expect(() => resolveConfig(parsed(["--scenario", file]))).toThrow(/the scenario file --start-at takes an ISO 8601 time/);
  });

  it("uses a scenario file's options, and a flag given on the command line wins over the file", () => {
    const file = path.join(directory(), "fleet.json");
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", devices: 5, duration: 2, seed: 9, keepalive: 3 }));
    expect(resolveConfig(parsed(["--scenario", file]))).toMatchObject({ scenario: "telemetry", devices: 5, duration: 2, seed: 9, keepAlive: 3 });
    expect(resolveConfig(parsed(["--scenario", file, "--devices", "3"]))).toMatchObject({ scenario: "telemetry", devices: 3, duration: 2 });
  });

  it("a scenario file's keys are the options' names: another key is an error naming it, and its values are checked as the flags'", () => {
    const file = path.join(directory(), "typo.json");
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", keepAlive: 10, clientID: "zz-{i}" }));
    expect(() => resolveConfig(parsed(["--scenario", file]))).toThrow(/has "keepAlive", "clientID", which is no option/);
    expect(() => resolveConfig(parsed(["--scenario", file]))).toThrow(/keepalive/);
    for (const [options, says] of [[{ sourceIps: "bar" }, /source-ips.*"bar" is not an IP address/], [{ processes: 0 }, /processes takes a whole number/],
      [{ assign: "zzz" }, /assign takes one of round-robin, hash/]] as const) {
      fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", ...options }));
      expect(() => resolveConfig(parsed(["--scenario", file]))).toThrow(says);
    }
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", sourceIps: ["127.0.0.7", "127.0.0.8"], processes: 2, assign: "hash" }));
    expect(resolveConfig(parsed(["--scenario", file]))).toMatchObject({ sourceIps: ["127.0.0.7", "127.0.0.8"], processes: 2, assign: "hash" });
  });

  it("a scenario file's protocol 5 is MQTT 5.0, or an error, never silently 3.1.1", () => {
    const file = path.join(directory(), "version-five.json");
    fs.writeFileSync(file, JSON.stringify({ scenario: "telemetry", protocol: 5 }));
    let config: RunConfig;
    try {
      config = resolveConfig(parsed(["--scenario", file]));
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(/\bprotocol\b/);
      return;
    }
    expect(config.protocol).toBe(5);
  });

  it("--help exits 0 and lists every option", async () => {
    const result = await runMain(["fleet", "--help"]);
    expect(result.code).toBe(0);
    const listed = fleetCommand().options.filter((o) => !o.hidden).map((o) => o.long as string);
    expect(listed).toEqual(expect.arrayContaining(["--broker", "--devices", "--scenario", "--qos", "--rate", "--payload", "--duration",
      "--ramp", "--seed", "--protocol", "--keepalive", "--client-id", "--topic", "--ca", "--cert", "--key", "--servername", "--insecure",
      "--username", "--password", "--report"]));
    for (const option of [...listed, "--help"]) expect(result.out).toMatch(new RegExp(`^\\s+(-\\w, )?${option}\\b`, "m"));
    expect(result.out).toMatch(/^Usage: starling fleet \[options\]/m);
  });

  it("bin.js exits with the same codes: 2 with the error for a bad value, 0 for --help", () => {
    const bin = path.join(REPOSITORY, "simulator", "bin.js");
    const failed = spawnSync(process.execPath, [bin, "fleet", "--devices", "0"], { cwd: REPOSITORY, encoding: "utf8", timeout: 30_000 });
    expect(failed.status, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/--devices takes a whole number from 1 to 10,000,000, not "0"/);
    const help = spawnSync(process.execPath, [bin, "fleet", "--help"], { cwd: REPOSITORY, encoding: "utf8", timeout: 30_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain("--report <file>");
  }, 60_000);

  it("a small run exits 0 and writes the JSON report, with the password masked and printed nowhere", async () => {
    const file = path.join(directory(), "run.json");
    const secret = `Pw-${process.pid}-q8Zr!`;
    const result = await runMain(["fleet", "--scenario", "telemetry", "--devices", "5", "--duration", "1", "--ramp", "1", "--seed", "3",
      "--keepalive", "2", "--client-id", "cli-{i}", "--topic", "cli-test/{id}", "--username", "maker", "--password", secret, "--report", file]);
    expect(result.code, result.out + result.err).toBe(0);
    expect(result.out).toContain("starling fleet: 5 devices, scenario telemetry");
    expect(result.out).toMatch(/^verdict: PASS$/m);
    expect(result.out).toContain(`report written to ${file}`);
    const text = fs.readFileSync(file, "utf8");
    const report = JSON.parse(text) as Report;
    expect(report.pass).toBe(true);
    expect(report.config.password).toBe("***");
    expect(report.config.username).toBe("maker");
    expect(report.counts.published).toBeGreaterThan(0);
    expect(report.verdicts.map((v) => v.name)).toEqual(expect.arrayContaining(["connections", "qos1", "order"]));
    expect(text).not.toContain(secret);
    expect(result.out).not.toContain(secret);
    expect(result.err).not.toContain(secret);
  }, 30_000);
});

describe.skipIf(mosquitto.skip)("a TLS run's report", () => {
  it("holds no private key: the JSON names the broker, never the device's key", async () => {
    if (mosquitto.missing !== null) throw mosquitto.missing;
    const certificates = makeCertificates(fs.mkdtempSync(path.join(directory(), "tls-")));
    const broker = await startMosquitto([`cafile ${certificates.ca}`, `certfile ${certificates.serverCert}`,
      `keyfile ${certificates.serverKey}`, "require_certificate true"]);
    try {
      const file = path.join(directory(), "tls.json");
      const result = await runMain(["fleet", "--broker", `mqtts://127.0.0.1:${broker.port}`, "--ca", certificates.ca,
        "--cert", certificates.clientCert, "--key", certificates.clientKey, "--servername", "localhost",
        "--scenario", "telemetry", "--devices", "3", "--duration", "1", "--ramp", "1", "--client-id", "tls-{i}", "--report", file]);
      expect(result.code, result.out + result.err).toBe(0);
      const text = fs.readFileSync(file, "utf8");
      // Every string in the report, and every byte array (a Buffer in JSON) read as text.
      const strings: string[] = [];
      const walk = (value: unknown): void => {
        if (typeof value === "string") strings.push(value);
        else if (Array.isArray(value)) value.forEach(walk);
        else if (value !== null && typeof value === "object") {
          const object = value as Record<string, unknown>;
          if (object.type === "Buffer" && Array.isArray(object.data)) strings.push(Buffer.from(object.data as number[]).toString("latin1"));
          else Object.values(object).forEach(walk);
        }
      };
      walk(JSON.parse(text));
      const keyLine = fs.readFileSync(certificates.clientKey, "utf8").split("\n")[1];
      const leaks = strings.filter((s) => s.includes("PRIVATE KEY") || s.includes(keyLine));
      expect(leaks.map((s) => s.slice(0, 60)), "the device's TLS private key is in the report").toEqual([]);
      expect(text).not.toContain(keyLine);
    } finally {
      await broker.close();
      fs.rmSync(certificates.directory, { recursive: true, force: true });
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------- HTML report

describe.skipIf(chromiumPeer.skip)("a real run's HTML report in headless Chromium", () => {
  let browser: Browser | null = null;
  afterAll(async () => {
    await browser?.close();
  });

  it("draws its three charts and lists the run's verdicts", async () => {
    if (chromiumPeer.missing !== null) throw chromiumPeer.missing;
    const file = path.join(directory(), "x.html");
    const config = fleet("telemetry", { name: "html", seed: 5, devices: 30, duration: 3, report: file });
    const report = await runFleet(config, () => undefined);
    writeReport(report, config.report as string);

    browser = await launchChromium();
    await checkReportPage(browser, file, async ({ page, errors }) => {
      const table = await page.evaluate(`Array.from(document.querySelectorAll("table.verdicts tbody tr:not(.examples)")).map((row) => ({
        name: row.querySelector("td.name").textContent,
        result: row.querySelector(".badge").textContent,
        detail: row.querySelector("td.detail").textContent,
      }))`) as { name: string; result: string; detail: string }[];
      expect(table).toEqual(report.verdicts.map((v) => ({ name: v.name, result: v.pass ? "PASS" : "FAIL", detail: v.detail })));
      expect(table.map((row) => row.name)).toEqual(expect.arrayContaining(["connections", "qos1", "order"]));
      expect(await page.evaluate(`document.querySelector("header.banner h1").textContent`)).toBe(report.pass ? "PASS" : expect.stringMatching(/^FAIL/));
      expect(await page.evaluate(`document.body.dataset.chartsFailed || null`)).toBeNull();
      expect(errors).toEqual([]);
    });
  }, 60_000);
});
