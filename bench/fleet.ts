// A fleet at scale, starling against MQTT.js, in one run: the same telemetry scenario (QoS 1, keep-alive,
// a message every 1/rate seconds per device) against the same kind of broker pool (Debian's mosquitto, one
// process per 15,000 devices, a fresh pool for each side). Measured per side: devices connected, memory per
// device (resident memory of the processes that hold the devices, with every device connected, divided by
// the devices; and above those processes' start), connects per second, and verified messages per second
// (messages the observer received, each counted once, per second of traffic).
//
//   npm run bench:fleet                                   10,000 devices each side (about 3 minutes)
//   npm run bench:fleet -- --devices 100000 --only starling --rate 0.02 --duration 120 --ramp 100 --keepalive 60
//   npm run bench:fleet -- --devices 25000 --only mqttjs  MQTT.js in one process meets the open-file limit
//   npm run bench:fleet -- --json out.json                also write the results as JSON
//
// starling runs as `starling fleet` does (devices spread over child processes by the open-file limit,
// loopback source addresses planned); MQTT.js runs as a load script usually does: one process
// (bench/mqttjs-fleet.ts). Not a test: nothing here asserts a time.

import { spawn } from "node:child_process";
import { Command, Option } from "commander";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { DEVICES_PER_EMBEDDED_BROKER, bundledModule, runFleet } from "../simulator/run";
import type { Report } from "../simulator/types";
import { findProgram, startMosquitto, Mosquitto } from "../host-tests/peers";
import type { MqttJsFleetResult } from "./mqttjs-fleet";
import { formatRatio, parseBenchOptions, positiveNumber, ratio, wholeNumber } from "./options";

interface Options {
  devices: number;
  rate: number;
  duration: number;
  ramp: number;
  keepalive: number;
  only: "both" | "starling" | "mqttjs";
  json: string | null;
}

function parseOptions(argv: string[]): Options {
  const program = new Command("bench:fleet")
    .description("a fleet at scale, starling against MQTT.js, against pools of mosquitto")
    .option("--devices <n>", "devices per side", wholeNumber("--devices", 1, 10_000_000), 10_000)
    .option("--rate <msg/s>", "messages per second per device", positiveNumber("--rate", 1000), 0.1)
    .option("--duration <s>", "seconds of traffic after the ramp", positiveNumber("--duration", 86_400), 60)
    .option("--ramp <s>", "seconds over which the devices connect", positiveNumber("--ramp", 3600), 20)
    .option("--keepalive <s>", "the devices' keep-alive", wholeNumber("--keepalive", 1, 65_535), 30)
    .addOption(new Option("--only <side>", "run one side only").choices(["both", "starling", "mqttjs"]).default("both"))
    .option("--json <file>", "also write the results as JSON");
  const options = parseBenchOptions<Omit<Options, "json"> & { json?: string }>(program, argv);
  return { ...options, json: options.json ?? null };
}

/** What both sides are measured by. */
interface Figures {
  side: string;
  devices: number;
  connected: number;
  memoryPerDevice: number;
  memoryPerDeviceAboveStart: number;
  /** Proportional set size per device (shared code counted once), or null where unknown. */
  pssPerDevice: number | null;
  connectsPerSecond: number;
  verifiedPerSecond: number;
  /** Messages published that the observer never received. */
  lost: number;
  note: string;
}

async function startPool(devices: number): Promise<Mosquitto[]> {
  const pool: Mosquitto[] = [];
  for (let i = 0; i < Math.ceil(devices / DEVICES_PER_EMBEDDED_BROKER); i++) {
    pool.push(await startMosquitto(["persistence false", "max_queued_messages 0"]));
  }
  return pool;
}

async function runStarling(options: Options): Promise<Figures> {
  const pool = await startPool(options.devices);
  try {
    let last = 0;
    const report: Report = await runFleet({
      brokers: pool.map((broker) => ({ host: broker.host, port: broker.port, tls: null, url: `mqtt://${broker.host}:${broker.port}` })),
      assign: "round-robin", shard: { index: 0, count: 1 }, processes: 0, sourceIps: [], devices: options.devices,
      scenario: "telemetry", qos: 1, rate: options.rate, payload: 64, duration: options.duration, ramp: options.ramp, protocol: 4,
      keepAlive: options.keepalive, keepAliveGrace: 6, username: null, password: null, clientId: "bench-{i}", topic: "bench/{group}/{id}",
      report: null, faultNoResend: false, faultStallMs: 0, seed: 1, latencyMs: 0, jitterMs: 0, brokerRestartCommand: null, startAt: null,
    }, (sample) => {
      if (sample.t - last >= 10) {
        last = sample.t;
        console.log(`  starling [${sample.t.toFixed(0)} s] connected ${sample.connected.toLocaleString("en-US")}, messages/s ${sample.messagesPerSecond.toLocaleString("en-US")}`);
      }
    });
    const span = (report.connects.lastConnectedAt - report.connects.firstAttemptAt) / 1000;
    const failed = report.verdicts.filter((v) => !v.pass).map((v) => v.name);
    return {
      side: "starling",
      devices: options.devices,
      connected: report.counts.connected,
      memoryPerDevice: report.memory.rssBytes / options.devices,
      memoryPerDeviceAboveStart: (report.memory.rssBytes - report.memory.baselineBytes) / options.devices,
      pssPerDevice: report.memory.pssBytes === null ? null : report.memory.pssBytes / options.devices,
      connectsPerSecond: report.connects.count / span,
      verifiedPerSecond: report.latencyMs.count / options.duration,
      lost: report.counts.published - report.latencyMs.count,
      note: `${report.memory.processes} device processes; verdict ${report.pass ? "PASS" : `FAIL (${failed.join(", ")})`}; ${report.counts.errors} errors` +
        (report.loopDelayMs === null ? "" : `; event loop up to ${report.loopDelayMs.max} ms late`),
    };
  } finally {
    for (const broker of pool) await broker.close();
  }
}

async function runMqttJs(options: Options): Promise<Figures> {
  const pool = await startPool(options.devices);
  try {
    // Bundled, as starling's device processes are: neither side pays for tsx's loader.
    const script = bundledModule(fileURLToPath(new URL("./mqttjs-fleet.ts", import.meta.url)));
    const urls = pool.map((broker) => `mqtt://${broker.host}:${broker.port}`).join(",");
    console.log(`  MQTT.js: ${options.devices.toLocaleString("en-US")} clients in one process (${options.ramp} s ramp, ${options.duration} s traffic)`);
    const result = await new Promise<MqttJsFleetResult>((resolve, reject) => {
      const child = spawn(process.execPath, [script, String(options.devices), String(options.rate), String(options.duration),
        String(options.ramp), String(options.keepalive), urls], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (data: Buffer) => { out += data.toString(); });
      child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as MqttJsFleetResult) : reject(new Error(`the MQTT.js fleet exited with ${code}`))));
    });
    return {
      side: "MQTT.js",
      devices: options.devices,
      connected: result.connected,
      memoryPerDevice: result.rssBytes / Math.max(1, result.connected),
      memoryPerDeviceAboveStart: (result.rssBytes - result.baselineBytes) / Math.max(1, result.connected),
      pssPerDevice: result.pssBytes === null ? null : result.pssBytes / Math.max(1, result.connected),
      connectsPerSecond: result.connected / result.connectSeconds,
      verifiedPerSecond: result.verified / result.trafficSeconds,
      lost: result.published - result.verified,
      note: `1 process; ${result.errors} errors${result.firstError !== "" ? ` (first: ${result.firstError})` : ""}`,
    };
  } finally {
    for (const broker of pool) await broker.close();
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "-";
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (findProgram("mosquitto") === null) {
    console.error("bench/fleet needs Debian's mosquitto as the broker pool: apt-get install mosquitto");
    process.exit(2);
  }
  const started = new Date();
  console.log(`bench/fleet: ${options.devices.toLocaleString("en-US")} devices, QoS 1 every ${(1 / options.rate).toFixed(1)} s, ` +
    `keep-alive ${options.keepalive} s, ${options.ramp} s ramp + ${options.duration} s traffic; Node ${process.version}, ` +
    `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  const results: Figures[] = [];
  if (options.only !== "mqttjs") results.push(await runStarling(options));
  if (options.only !== "starling") results.push(await runMqttJs(options));

  const rows: [string, (f: Figures) => string][] = [
    ["devices connected", (f) => `${count(f.connected)} of ${count(f.devices)}`],
    ["memory per device", (f) => kib(f.memoryPerDevice)],
    ["  above the processes' start", (f) => kib(f.memoryPerDeviceAboveStart)],
    ["  shared code counted once (PSS)", (f) => (f.pssPerDevice === null ? "n/a" : kib(f.pssPerDevice))],
    ["connects per second", (f) => count(f.connectsPerSecond)],
    ["verified messages per second", (f) => count(f.verifiedPerSecond)],
    ["messages lost", (f) => count(f.lost)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const column = 2 + Math.max(...results.flatMap((f) => [f.side, ...rows.map(([, cell]) => cell(f))]).map((text) => text.length));
  console.log("");
  console.log(`${"".padEnd(width)}  ${results.map((f) => f.side.padStart(column)).join("")}${results.length === 2 ? "     ratio" : ""}`);
  for (const [label, cell] of rows) {
    let ratioCell = "";
    if (results.length === 2) {
      const [ours, theirs] = results;
      const pick: Record<string, [number, number, boolean]> = {
        "memory per device": [ours.memoryPerDevice, theirs.memoryPerDevice, false],
        "  above the processes' start": [ours.memoryPerDeviceAboveStart, theirs.memoryPerDeviceAboveStart, false],
        "  shared code counted once (PSS)": [ours.pssPerDevice ?? NaN, theirs.pssPerDevice ?? NaN, false],
        "connects per second": [ours.connectsPerSecond, theirs.connectsPerSecond, true],
        "verified messages per second": [ours.verifiedPerSecond, theirs.verifiedPerSecond, true],
      };
      const entry = pick[label];
      // Above 1 means starling is better: rates ours/theirs, costs theirs/ours.
      if (entry !== undefined) {
        const value = entry[2] ? ratio(entry[0], entry[1]) : ratio(entry[1], entry[0]);
        ratioCell = `  ${formatRatio(value, 2, "a side has no figure")}`.padStart(10);
      }
    }
    console.log(`${label.padEnd(width)}  ${results.map((f) => cell(f).padStart(column)).join("")}${ratioCell}`);
  }
  for (const f of results) console.log(`${f.side}: ${f.note}`);
  console.log(`target: at most 4 KiB per device; starling ${results[0].side === "starling" ? kib(results[0].memoryPerDevice) : "not run"}`);
  if (options.json !== null) writeFileSync(options.json, JSON.stringify({ started: started.toISOString(), options, results }, null, 2) + "\n");
}

void main();
