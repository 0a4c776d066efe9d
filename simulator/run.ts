// A whole fleet run (or one shard of it) on this machine: it plans where everything runs within the
// machine's limits, starts the embedded brokers when no broker is given, runs the devices in child
// processes (each holds at most what its open-file limit allows), and merges their reports into one.
//
// Limits it plans for (checked before anything starts; a run that cannot fit says what to change):
// - open files per process (20,000 here, a hard limit): one per device connection (and two more with the
//   fault proxy), one per broker-side connection of an embedded broker;
// - ephemeral ports per source address (~28,000 by default): a device connection binds a source address,
//   so a loopback run spreads its devices over 127.0.0.0/8; a real network needs --source-ips.

import { fork, ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import type { Endpoint } from "../device/platform/node/client";
import { startEmbeddedBroker, EmbeddedBroker } from "./broker";
import type { SliceRun } from "./fleet";
import { mergeReports } from "./merge";
import { verdict } from "./observer";
import { FaultProxy } from "./faults/proxy";
import { runRestartCommand } from "./faults/restart-command";
import { Slice, faultTimeline, part, shardSlice, usesProxy } from "./scenario";
import type { Report, RunConfig, Sample, Verdict } from "./types";

/** Files a process keeps for itself (stdio, observers, IPC, the loader) beyond its connections. */
const FILES_RESERVED = 200;
/** Devices one embedded Aedes broker takes (its process holds one file per device). */
export const DEVICES_PER_EMBEDDED_BROKER = 15000;
/** Devices per loopback source address when the run picks them. */
const DEVICES_PER_LOOPBACK_ADDRESS = 200;
/** Ports of an address left unused, for reconnects while closed connections wait out TIME_WAIT. */
const PORTS_SPARE = 0.25;

// What a run takes of this machine's memory, for the plan's check (resident memory, rounded up from
// `npm run bench:fleet` and `npm start`, 2026-11-26): a device with its share of the observers, in a device
// process; a device process's start; an embedded Aedes broker's memory per device it serves, and its start.
const MEMORY_PER_DEVICE = 12 * 1024;
const MEMORY_PER_PROCESS = 64 * 1024 * 1024;
const MEMORY_PER_BROKER_DEVICE = 20 * 1024;
const MEMORY_PER_BROKER = 100 * 1024 * 1024;

/** A line about the run while it runs: on a terminal, below the live progress line rather than glued to it. */
function notice(text: string): void {
  process.stdout.write(`${process.stdout.isTTY === true ? "\n" : ""}${text}\n`);
}

/** A run that cannot be made as asked, with what to change: the CLI prints it and exits 2. */
export class PlanError extends Error {}

/** The process's open-file limit (Linux), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const line = fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Ephemeral ports per source address (Linux's ip_local_port_range), or 28,232 (its default) where unreadable. */
export function ephemeralPorts(): number {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return high - low + 1;
  } catch {
    return 28232;
  }
}

/** Memory available for new work (Linux's MemAvailable), or the free memory where that cannot be read. */
export function availableMemory(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/meminfo", "utf8"));
    if (match !== null) return Number(match[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return os.freemem();
}

function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\./.test(host) || host === "::1";
}

/** Where each part of a run goes on this machine. */
export interface Layout {
  slice: Slice;
  /** Child processes for the devices. */
  processes: number;
  /** Embedded brokers to start (0 with an external broker); in this process when 1, otherwise each in a child. */
  embeddedBrokers: number;
  sourceIps: string[];
}

export function planLayout(config: RunConfig): Layout {
  const slice = shardSlice(config);
  const devices = slice.end - slice.first;
  const files = openFileLimit() ?? 1_000_000;
  const perProcess = files - FILES_RESERVED;
  if (perProcess < 1) throw new PlanError(`this process may hold only ${files} open files: raise the limit (ulimit -n)`);
  // An embedded broker holds a file per device it serves: more brokers where one process may not hold them all.
  const embeddedBrokers = config.brokers.length === 0 ? Math.max(Math.ceil(devices / DEVICES_PER_EMBEDDED_BROKER), Math.ceil(devices / perProcess)) : 0;
  // Files a device costs its process: its socket and, with the fault proxy, the proxy's two for it.
  const filesPerDevice = 1 + (usesProxy(config) ? FaultProxy.FILES_PER_CONNECTION : 0);
  const fits = (processes: number) => Math.ceil(devices / processes) * filesPerDevice <= perProcess;
  const needed = Math.max(1, Math.ceil((devices * filesPerDevice) / perProcess));
  let processes = config.processes === 0 ? needed : config.processes;
  if (config.processes !== 0 && !fits(processes)) {
    throw new PlanError(`--processes ${config.processes}: ${Math.ceil(devices / processes).toLocaleString("en-US")} devices per process need ` +
      `more open files than a process may hold here (${files.toLocaleString("en-US")}); use --processes ${needed} or more, or leave it out`);
  }
  processes = Math.min(processes, devices);
  const memory = devices * (MEMORY_PER_DEVICE + (embeddedBrokers > 0 ? MEMORY_PER_BROKER_DEVICE : 0)) +
    processes * MEMORY_PER_PROCESS + embeddedBrokers * MEMORY_PER_BROKER;
  const available = availableMemory();
  if (memory > available) {
    const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
    throw new PlanError(`${devices.toLocaleString("en-US")} devices in ${processes} processes${embeddedBrokers > 0 ? ` with ${embeddedBrokers} embedded brokers` : ""} ` +
      `need about ${gib(memory)} of memory, and ${gib(available)} is available here: run fewer --devices${embeddedBrokers > 0 ? ", use an external --broker" : ""}, ` +
      `or split the fleet over machines with --shard i/n`);
  }

  const sourceIps = config.sourceIps.length > 0 ? config.sourceIps : autoSourceIps(config, devices);
  const ports = ephemeralPorts();
  const perAddress = Math.ceil(devices / Math.max(1, sourceIps.length));
  const room = Math.floor(ports * (1 - PORTS_SPARE));
  if (perAddress > room) {
    const what = sourceIps.length === 0 ? "one source address" : `${sourceIps.length} source address(es)`;
    throw new PlanError(`${devices.toLocaleString("en-US")} devices over ${what} is ${perAddress.toLocaleString("en-US")} connections per ` +
      `address, and an address has ${ports.toLocaleString("en-US")} ephemeral ports here (${room.toLocaleString("en-US")} usable with room for ` +
      `reconnects): give --source-ips with at least ${Math.ceil(devices / room)} addresses of this machine, or widen net.ipv4.ip_local_port_range`);
  }
  return { slice, processes, embeddedBrokers, sourceIps };
}

/**
 * Source addresses when none are given: none for a remote broker (the system chooses), and for brokers on
 * loopback one of 127.0.0.0/8 per DEVICES_PER_LOOPBACK_ADDRESS devices, a block of them per shard. Many
 * addresses, not just enough for the ports: binding a source port gets slower the fuller its address is
 * (measured here: 15,000 connects took 31 s from one address, 10 s from 10, 4.5 s from 100).
 */
function autoSourceIps(config: RunConfig, devices: number): string[] {
  const loopback = config.brokers.length === 0 || config.brokers.every((broker) => isLoopback(broker.host));
  if (!loopback) return [];
  const count = Math.max(1, Math.ceil(devices / DEVICES_PER_LOOPBACK_ADDRESS));
  const block = 1 + (config.shard.index % 254);
  const ips: string[] = [];
  for (let k = 0; k < count; k++) ips.push(`127.${block}.${Math.floor(k / 250)}.${2 + (k % 250)}`);
  return ips;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const bundles = new Map<string, string>();
let bundleDir: string | null = null;

/**
 * A TypeScript module (an absolute path) bundled into one JavaScript file, made once per run of this
 * process. Child processes run the bundle, not the TypeScript through tsx's loader: the loader and its
 * compiler cost each process about 50 MB of resident memory (measured: 103 MB at start with it, 51 MB
 * bundled), which at 6 processes for 100,000 devices is 3 KiB per device.
 */
export function bundledModule(entry: string): string {
  let out = bundles.get(entry);
  if (out !== undefined) return out;
  if (bundleDir === null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "starling-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    bundleDir = dir;
  }
  out = path.join(bundleDir, `${bundles.size}-${path.basename(entry, ".ts")}.mjs`);
  esbuild.buildSync({
    entryPoints: [entry], outfile: out, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning",
    // The bundled CommonJS dependencies (Aedes and its own) call require().
    banner: { js: "import { createRequire as starlingRequire } from 'node:module'; const require = starlingRequire(import.meta.url);" },
  });
  bundles.set(entry, out);
  return out;
}

/**
 * Forks a module of the simulator (bundled), structured-clone IPC. execArgv is always given: a parent run
 * through tsx would otherwise hand its loader down.
 */
function forkModule(file: string, execArgv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return fork(bundledModule(path.join(HERE, file)), [], { execArgv, env, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/**
 * A device process's V8 flags. Its young generation is kept to 1 MB semispaces (V8's default grows them to
 * 16 MB): devices allocate little per message, so the collector runs little more often, and the resident
 * memory is 2.3 KiB per device less (measured at 10,000 devices: 15.3 -> 13.0 KiB above the process's start).
 * `--optimize-for-size` makes V8 grow its heap and compile more sparingly: 0.3 KiB per device less
 * (10,000 devices, twice each: 5.9 -> 5.6 KiB above the start).
 */
export const DEVICE_PROCESS_FLAGS = ["--max-semi-space-size=1", "--optimize-for-size"];

/**
 * A device process's environment: glibc's malloc with one arena. By default each thread that allocates
 * (V8's background compiler and collector, libuv's pool) gets an arena of its own, whose free space the
 * others cannot use; the devices' native parts (a TCP handle each) are made on the main thread. Measured at
 * 10,000 devices, three runs each: 8.7 -> 8.5-8.6 KiB per device, 4.0 -> 3.8 above the start. Other C
 * libraries ignore it.
 */
export const DEVICE_PROCESS_ENV: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: "1" };

/** Waits for the child's first message of `type`, failing if it exits or reports an error first. */
function messageFrom<T>(child: ChildProcess, type: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; value?: T; error?: string }) => {
      if (message.type === type) { cleanup(); resolve(message.value as T); }
      else if (message.type === "error") { cleanup(); reject(new Error(message.error)); }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what} ended before it was done (exit code ${code}${signal !== null ? `, signal ${signal}` : ""})`));
    };
    // "close", not "exit": a child that sends its report and exits at once can be seen to exit before its
    // last message is read from the IPC channel; "close" comes after the channel is closed and read.
    const cleanup = () => { child.off("message", onMessage); child.off("close", onExit); };
    child.on("message", onMessage);
    child.on("close", onExit);
  });
}

interface BrokerPool {
  endpoints: Endpoint[];
  url: string;
  /** Crashes every broker of the pool and brings it back after downMs (an external one by --broker-restart-cmd); false if it cannot. */
  restart(downMs: number): Promise<boolean>;
  close(): Promise<void>;
}

async function startBrokers(config: RunConfig, layout: Layout): Promise<BrokerPool> {
  if (layout.embeddedBrokers === 0) {
    const command = config.brokerRestartCommand;
    return {
      endpoints: config.brokers.map((broker) => ({ host: broker.host, port: broker.port, tls: broker.tls })),
      url: config.brokers.map((broker) => broker.url).join(", "),
      restart: async () => {
        if (command === null) return false;
        await runRestartCommand(command);
        return true;
      },
      close: async () => undefined,
    };
  }
  if (layout.embeddedBrokers === 1) {
    const broker = await startEmbeddedBroker();
    return {
      endpoints: [{ host: broker.host, port: broker.port, tls: null }],
      url: `mqtt://${broker.host}:${broker.port} (embedded Aedes)`,
      restart: async (downMs) => { await broker.restart(downMs); return true; },
      close: () => broker.close(),
    };
  }
  const children: ChildProcess[] = [];
  const brokers: EmbeddedBroker[] = [];
  let closing = false;
  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null && child.connected;
  try {
    for (let i = 0; i < layout.embeddedBrokers; i++) {
      const child = forkModule("broker-process.ts", []);
      children.push(child);
      const broker = await messageFrom<EmbeddedBroker>(child, "listening", "an embedded broker process");
      brokers.push(broker);
      // A broker that dies mid-run costs its devices their broker: the verdicts will show it; say why.
      child.once("exit", (code, signal) => {
        if (!closing) notice(`the embedded broker on port ${broker.port} ended during the run (exit code ${code}${signal !== null ? `, ${signal}` : ""}): its devices have no broker from now on`);
      });
      child.on("error", () => undefined);
    }
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  return {
    endpoints: brokers.map((broker) => ({ host: broker.host, port: broker.port, tls: null })),
    url: brokers.map((broker) => `mqtt://${broker.host}:${broker.port}`).join(", ") + ` (embedded Aedes, ${brokers.length} process${brokers.length === 1 ? "" : "es"})`,
    restart: async (downMs) => {
      await Promise.all(children.filter(alive).map((child, i) => {
        const restarted = messageFrom(child, "restarted", `embedded broker process ${i + 1}`);
        child.send({ type: "restart", downMs });
        return restarted;
      }));
      return true;
    },
    close: async () => {
      closing = true;
      await Promise.all(children.filter(alive).map((child) => new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.send({ type: "close" });
      })));
    },
  };
}

/** Runs the fleet (this shard of it) as `layout` says; progress is the whole run's, once a second. */
export async function runFleet(config: RunConfig, progress: (sample: Sample) => void): Promise<Report> {
  const layout = planLayout(config);
  const brokers = await startBrokers(config, layout);
  let restart: RestartTracker | null | undefined;
  try {
    // The run's clock starts once every process is ready; the devices' schedule counts from there.
    const run = (slice: Slice, startAt: number): SliceRun => {
      // Children share one start: the restart is scheduled once.
      restart ??= scheduleRestart(config, brokers, startAt);
      return { config, slice, endpoints: brokers.endpoints, brokerUrl: brokers.url, startAt, sourceIps: layout.sourceIps };
    };
    const report = await runChildren(config, layout, run, progress);
    if (restart) {
      report.verdicts.push(restart.verdict());
      report.pass = report.pass && report.verdicts.every((verdict) => verdict.pass);
    }
    return report;
  } finally {
    if (restart) clearTimeout(restart.timer);
    await brokers.close();
  }
}

interface RestartTracker {
  timer: NodeJS.Timeout;
  /** Whether the restart was made: a verdict, so that a run whose restart failed cannot pass. */
  verdict(): Verdict;
}

/**
 * The faults scenario's broker restart, at its time on the run's timeline; null for other scenarios. A
 * failed restart command is reported at once and the run goes on: the other verdicts say what it cost, and
 * the restart's own verdict fails. Skipped (an external broker without --broker-restart-cmd), it passes
 * having checked nothing, and says so.
 */
function scheduleRestart(config: RunConfig, brokers: BrokerPool, startAt: number): RestartTracker | null {
  if (config.scenario !== "faults") return null;
  const timeline = faultTimeline(config);
  const what = `the broker is restarted ${timeline.restartAt} s into the run, down for ${timeline.downMs / 1000} s`;
  let outcome = "it was not made: the run ended first";
  let failed = 1;
  const timer = setTimeout(() => {
    outcome = "under way at the end of the run";
    brokers.restart(timeline.downMs).then((done) => {
      failed = 0;
      outcome = done ? "done" : "skipped: give --broker-restart-cmd to restart an external broker";
      if (!done) notice(`the faults scenario's broker restart was ${outcome}`);
    }, (error: unknown) => {
      outcome = `failed: ${(error as Error).message}`;
      notice(`the broker restart ${outcome}`);
    });
  }, startAt + timeline.restartAt * 1000 - Date.now());
  return {
    timer,
    verdict: () => ({ ...verdict("restart", what, 1, failed, []), detail: `${what}: ${outcome}` }),
  };
}

async function runChildren(config: RunConfig, layout: Layout, run: (slice: Slice, startAt: number) => SliceRun, progress: (sample: Sample) => void): Promise<Report> {
  const children: ChildProcess[] = [];
  // Each child's latest sample, and the errors it reported since the last line.
  const latest: (Sample | null)[] = [];
  let newErrors = 0;
  try {
    for (let i = 0; i < layout.processes; i++) {
      const child = forkModule("worker.ts", DEVICE_PROCESS_FLAGS, DEVICE_PROCESS_ENV);
      children.push(child);
      latest.push(null);
    }
    await Promise.all(children.map((child, i) => messageFrom(child, "ready", `device process ${i + 1}`)));
    // Allow the children a moment to plan their devices before the first connects are due.
    const startAt = config.startAt ?? Date.now() + 1000;
    if (startAt < Date.now() + 200) {
      throw new PlanError(`the devices' processes were ready only at ${new Date().toISOString()}, after --start-at ` +
        `${new Date(startAt).toISOString()}: give a later time`);
    }
    const reports = children.map((child, i) => {
      child.on("message", (message: { type: string; value?: Sample }) => {
        if (message.type === "sample") {
          latest[i] = message.value as Sample;
          newErrors += latest[i]!.errors;
        }
      });
      const report = messageFrom<Report>(child, "report", `device process ${i + 1}`);
      child.send({ type: "run", value: run(part(layout.slice, i, layout.processes), startAt) });
      return report;
    });
    // One line of progress a second for the whole run: the children's latest samples added up.
    const ticker = setInterval(() => {
      const samples = latest.filter((s): s is Sample => s !== null);
      progress({
        t: Math.round((Date.now() - startAt) / 100) / 10,
        connected: samples.reduce((total, s) => total + s.connected, 0),
        messagesPerSecond: samples.reduce((total, s) => total + s.messagesPerSecond, 0),
        errors: newErrors,
        stalledMs: Math.max(0, ...samples.map((s) => s.stalledMs)),
      });
      newErrors = 0;
    }, 1000);
    try {
      return mergeReports(await Promise.all(reports));
    } finally {
      clearInterval(ticker);
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
