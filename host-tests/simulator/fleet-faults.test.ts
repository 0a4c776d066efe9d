// The faults scenario end to end: devices behind the fault proxy (latency and jitter, resets and half-open
// links while a message is in the proxy, a partition longer than the keep-alive bound) and a restart of the
// broker, against the embedded Aedes broker (in this process and in a broker process of its own) and
// mosquitto, plain and over TLS (where each device tells the proxy who it is, since TLS hides its CONNECT).
// A correct device keeps every verdict; a device that does not resend after a lost link fails them.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml, renderText } from "../../simulator/report";
import { runFleet } from "../../simulator/run";
import { FateKind, planFleet } from "../../simulator/scenario";
import type { Report, RunConfig, Verdict } from "../../simulator/types";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Mosquitto, peerAvailable, startMosquitto } from "../peers";
import { Certificates, makeCertificates } from "../tls";

// Aedes drops a silent client at 1.5x keep-alive exactly; the 2 s grace is room for a loaded machine's timers
// (a will seen 4.2 s after the partition against a bound of 4.0 with a grace of 1, the 2 cores running six
// busy processes besides). The duration is the shortest the faults scenario takes with it.
function faults(name: string, options: Partial<RunConfig>): RunConfig {
  return {
    brokers: [], assign: "round-robin", shard: { index: 0, count: 1 }, processes: 1, sourceIps: [], devices: 60, scenario: "faults",
    qos: 1, rate: 2, payload: 64, duration: 17, ramp: 1, protocol: 4, keepAlive: 2, keepAliveGrace: 2, username: null, password: null,
    clientId: `${name}-{i}`, topic: `faults/{group}/${name}/{id}`, report: null, faultNoResend: false, faultStallMs: 0, seed: 11,
    latencyMs: 20, jitterMs: 10, brokerRestartCommand: null, startAt: null, ...options,
  };
}

function count(config: RunConfig, kind: FateKind): number {
  return planFleet(config).filter((plan) => plan.fate.kind === kind).length;
}

function verdict(report: Report, name: string): Verdict {
  const found = report.verdicts.find((v) => v.name === name);
  expect(found, `verdict ${name} in ${report.verdicts.map((v) => v.name).join(", ")}`).toBeDefined();
  return found!;
}

function failing(report: Report): string {
  return report.verdicts.filter((v) => !v.pass).map((v) => `${v.name}: ${v.detail}; ${JSON.stringify(v.counterexamples.slice(0, 3))}`).join("\n") +
    (report.firstErrors.length > 0 ? `\nerrors: ${report.firstErrors.slice(0, 5).join(", ")}` : "");
}

const mosquittoPresent = peerAvailable("mosquitto", "apt-get install mosquitto");
const opensslPresent = mosquittoPresent && peerAvailable("openssl", "apt-get install openssl");

describe("the faults scenario", () => {
  const runs = new Map<string, { config: RunConfig; report: Report }>();
  let mosquitto: Mosquitto | null = null;
  let secure: Mosquitto | null = null;
  let certificates: Certificates | null = null;

  beforeAll(async () => {
    const configs: [string, RunConfig][] = [
      ["aedes", faults("aedes", {})],
      ["planted", faults("planted", { faultNoResend: true, seed: 12 })],
      ["processes", faults("processes", { processes: 2, seed: 13 })],
    ];
    if (mosquittoPresent) {
      mosquitto = await startMosquitto();
      // mosquitto checks keep-alives on a timer of its own (about every 5 s): the grace says so. No restart
      // command: the run says it skips the restart, and every other fault still strikes.
      configs.push(["mosquitto", faults("mosquitto", {
        brokers: [{ host: mosquitto.host, port: mosquitto.port, tls: null, url: `mqtt://${mosquitto.host}:${mosquitto.port}` }],
        keepAliveGrace: 6, duration: 21, seed: 14,
      })]);
      // A restart command that fails: the run goes on, and its restart verdict fails it.
      configs.push(["restart fails", faults("norestart", {
        brokers: [{ host: mosquitto.host, port: mosquitto.port, tls: null, url: `mqtt://${mosquitto.host}:${mosquitto.port}` }],
        keepAliveGrace: 6, duration: 21, seed: 16, devices: 20, brokerRestartCommand: "echo no restart here; exit 3",
      })]);
    }
    if (opensslPresent) {
      certificates = makeCertificates(fs.mkdtempSync(path.join(os.tmpdir(), "starling-faults-tls-")));
      secure = await startMosquitto([`cafile ${certificates.ca}`, `certfile ${certificates.serverCert}`, `keyfile ${certificates.serverKey}`]);
      configs.push(["mosquitto over TLS", faults("tls", {
        brokers: [{ host: secure.host, port: secure.port, tls: { ca: fs.readFileSync(certificates.ca), servername: "localhost" }, url: `mqtts://${secure.host}:${secure.port}` }],
        keepAliveGrace: 6, duration: 21, seed: 15,
      })]);
    }
    const reports = await Promise.all(configs.map(([, config]) => runFleet(config, () => undefined)));
    configs.forEach(([name, config], i) => runs.set(name, { config, report: reports[i] }));
  }, 120_000);

  afterAll(async () => {
    await mosquitto?.close();
    await secure?.close();
    if (certificates !== null) fs.rmSync(certificates.directory, { recursive: true, force: true });
  });

  const brokers = ["aedes", "processes", ...(mosquittoPresent ? ["mosquitto"] : []), ...(opensslPresent ? ["mosquitto over TLS"] : [])];
  it.each(brokers)("%s: a correct fleet keeps every verdict through latency, resets, half-open links, a partition and the broker's restart", (name) => {
    const { config, report } = runs.get(name)!;
    expect(failing(report)).toBe("");
    expect(report.pass).toBe(true);
    for (const kind of ["reset", "halfopen", "partitioned"] as const) expect(count(config, kind), kind).toBeGreaterThanOrEqual(2);
    // Every message of every device was owed (no device's life ends here) and checked.
    expect(verdict(report, "qos1").checked).toBe(report.counts.published);
    expect(report.counts.published).toBeGreaterThan(config.devices * config.rate * (config.duration - 1));
    // A will for each device reset by the network or cut off by the partition.
    expect(verdict(report, "wills").checked).toBe(count(config, "reset") + count(config, "partitioned"));
    // Each struck device came back on a new link; with the restart, every device did (a partitioned device
    // still waiting out a connect attempt the partition swallowed comes back once for both).
    const struck = count(config, "reset") + count(config, "halfopen") + count(config, "partitioned");
    expect(report.counts.reconnects).toBeGreaterThanOrEqual(name.startsWith("mosquitto") ? struck : config.devices);
    // Latency: nothing arrives sooner than the proxy's 20 ms each way.
    expect(report.latencyMs.p50).toBeGreaterThanOrEqual(20);
  });

  it("the broker's restart is a verdict: done (embedded), skipped and said so (external, no command), failed (a command that fails)", () => {
    expect(verdict(runs.get("aedes")!.report, "restart")).toMatchObject({ pass: true, checked: 1, failures: 0 });
    expect(verdict(runs.get("aedes")!.report, "restart").detail).toMatch(/restarted \d+(\.\d+)? s into the run.*: done$/);
    if (!mosquittoPresent) return;
    expect(verdict(runs.get("mosquitto")!.report, "restart").detail).toMatch(/skipped: give --broker-restart-cmd/);
    const { report } = runs.get("restart fails")!;
    const restart = verdict(report, "restart");
    expect([restart.pass, restart.failures]).toEqual([false, 1]);
    expect(restart.detail).toMatch(/failed: .*exit code 3/);
    expect(report.pass).toBe(false);
  });

  it("the summary says what was injected and when, as the run shows it", () => {
    const { config, report } = runs.get("aedes")!;
    const line = renderText(report, false).split("\n").find((l) => l.startsWith("  faults "));
    expect(line).toBeDefined();
    expect(line).toContain(`fault proxy: ${config.latencyMs} ms latency + up to ${config.jitterMs} ms jitter each way`);
    expect(line).toContain("connection resets and half-open links in the first seconds of traffic");
    const partitionAt = planFleet(config).find((plan) => plan.fate.kind === "partitioned")!.fate.at;
    expect(line).toContain(`a partition from ${partitionAt.toFixed(1)} s to `);
    // The broker's restart drops every device: the connected count is high before the time said, and dips after it.
    const restartAt = Number(/a broker restart at ([\d.]+) s \(down [\d.]+ s\)/.exec(line!)![1]);
    const connected = (from: number, to: number) => report.samples.filter((s) => s.t >= from && s.t < to).map((s) => s.connected);
    expect(Math.min(...connected(restartAt - 2, restartAt - 0.5)), JSON.stringify(report.samples)).toBeGreaterThan(config.devices / 2);
    expect(Math.min(...connected(restartAt, restartAt + 2)), JSON.stringify(report.samples)).toBeLessThan(config.devices / 2);
    expect(renderHtml(report)).toContain(`<dt>faults</dt><dd>${line!.replace(/^ {2}faults +/, "")}</dd>`);
  });

  it("a device that does not resend after a lost link fails qos1, named with the messages it lost", () => {
    const { config, report } = runs.get("planted")!;
    const qos1 = verdict(report, "qos1");
    expect(qos1.pass).toBe(false);
    expect(qos1.failures).toBeGreaterThan(0);
    const struck = new Set(planFleet(config).filter((p) => p.fate.kind !== "normal").map((p) => p.id));
    // Lost messages belong to devices whose link a fault or the restart took (here: every device, through the restart).
    for (const example of qos1.counterexamples) {
      expect(example.device).toMatch(/^planted-\d+$/);
      expect(example.observed).toBe("never delivered");
    }
    expect(qos1.counterexamples.some((example) => struck.has(example.device))).toBe(true);
    expect(report.pass).toBe(false);
  });
});
