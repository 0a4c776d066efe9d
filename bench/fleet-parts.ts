// What a fleet device's parts cost, each measured alone: N connected net.Sockets, N connections over
// Node's TCP handle (the transport starling's Node client uses for plain TCP), and N bare engines with the
// options the fleet gives its devices in `npm run bench:fleet`. Each kind runs in a fresh child process
// (bundled, --expose-gc, the device processes' V8 flags and environment: simulator/run.ts) that reads RSS
// and heap after two GCs before and after making N, and prints the difference per item. The connections go
// to Debian's mosquitto, each sends a CONNECT with a client id of its own and reads its CONNACK, so both
// kinds have read and written once, and all are still open when measured (checked).
//
//   npx tsx bench/fleet-parts.ts            5,000 of each
//   npx tsx bench/fleet-parts.ts --count N

import { spawn } from "node:child_process";
import { Command } from "commander";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Engine, EngineOptions } from "../device/engine";
import { openTransport, Transport } from "../device/platform/node/transport";
import { deviceOptions, sliceOptions } from "../simulator/fleet";
import { DEVICE_PROCESS_ENV, DEVICE_PROCESS_FLAGS, bundledModule } from "../simulator/run";
import { planSlice } from "../simulator/scenario";
import type { RunConfig } from "../simulator/types";
import { findProgram, startMosquitto } from "../host-tests/peers";
import { parseBenchOptions, wholeNumber } from "./options";

type Kind = "net.Socket" | "TCP handle" | "engine";
const KINDS: Kind[] = ["net.Socket", "TCP handle", "engine"];

interface PerItem {
  rss: number;
  heap: number;
  external: number;
}

/**
 * A 3.1.1 CONNECT of connection i: clean session, keep-alive 60 s, client id i in 4 base-36 digits. Each
 * connection has its own id: the broker would close a connection whose id a later one takes over.
 */
function connectPacket(i: number): Buffer {
  const id = i.toString(36).padStart(4, "0");
  if (id.length !== 4) throw new Error(`connection ${i}: more than 4 base-36 digits`);
  return Buffer.concat([Buffer.from([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 4]), Buffer.from(id)]);
}

/** The source address of connection i: 200 per loopback address, as the fleet spreads them. */
function sourceAddress(i: number): string {
  const k = Math.floor(i / 200);
  return `127.8.${k >> 8}.${(k & 255) + 1}`;
}

function connectSocket(i: number, port: number, kept: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: sourceAddress(i) });
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(connectPacket(i)));
    socket.on("data", () => resolve());
    socket.on("error", reject);
    socket.on("close", () => {
      closedEarly++;
    });
    kept.push(socket);
  });
}

/** Connections that ended before the measurement: it would count them as open ones. */
let closedEarly = 0;

/** The connection being made (they are made one at a time): its number, and what its CONNACK or its end settles. */
let pending: { i: number; resolve: () => void; reject: (error: Error) => void } | null = null;

/** One owner for every handle, so that what is measured is the handle's alone, not a set of callbacks each. */
const HANDLE_OWNER = {
  transportConnected: () => undefined,
  transportOpened: (transport: Transport) => transport.send(connectPacket(pending!.i)),
  transportData: () => pending?.resolve(),
  transportClosed: (_transport: Transport, error: string) => {
    closedEarly++;
    pending?.reject(new Error(`closed: ${error}`));
  },
};

function connectHandle(i: number, port: number, kept: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pending = { i, resolve, reject };
    kept.push(openTransport({ host: "127.0.0.1", port, tls: null, localAddress: sourceAddress(i) }, HANDLE_OWNER));
  });
}

/** The telemetry run of `npm run bench:fleet` (0.1 messages/s, keep-alive 30 s), whose devices' engines are measured. */
const FLEET: RunConfig = {
  brokers: [], assign: "round-robin", devices: 15000, shard: { index: 0, count: 1 }, processes: 0, sourceIps: [],
  scenario: "telemetry", qos: 1, rate: 0.1, payload: 64, duration: 60, ramp: 20, seed: 1, protocol: 4, keepAlive: 30,
  keepAliveGrace: 6, username: null, password: null, clientId: "parts-{i}", topic: "parts/{group}/{id}", report: null,
  latencyMs: 0, jitterMs: 0, brokerRestartCommand: null, startAt: null, faultNoResend: false, faultStallMs: 0,
};

/** The options every device of the slice shares (simulator/fleet.ts sliceOptions), made once. */
let common: EngineOptions | null = null;

/** Device i's engine, with the options the fleet gives it (simulator/fleet.ts deviceOptions). */
function deviceEngine(i: number): Engine {
  const [plan] = planSlice(FLEET, { first: i, end: i + 1 });
  common ??= sliceOptions(FLEET, planSlice(FLEET, { first: 0, end: FLEET.devices }), null, OFFLINE);
  return new Engine(deviceOptions(common, plan, OFFLINE), { open() {}, write() {}, close() {} },
    { connected() {}, disconnected() {}, message() {}, acknowledged() {} });
}

const OFFLINE = new TextEncoder().encode("offline");

async function settled(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc();
  return process.memoryUsage();
}

async function child(kind: Kind, count: number, port: number): Promise<void> {
  const kept: unknown[] = [];
  const before = await settled();
  for (let i = 0; i < count; i++) {
    if (kind === "net.Socket") await connectSocket(i, port, kept);
    else if (kind === "TCP handle") await connectHandle(i, port, kept);
    else kept.push(deviceEngine(i));
  }
  const after = await settled();
  if (closedEarly > 0) {
    throw new Error(`${closedEarly} of the ${kind} connections closed before the measurement`);
  }
  const per = (field: "rss" | "heapUsed" | "external") => (after[field] - before[field]) / count;
  const result: PerItem = { rss: per("rss"), heap: per("heapUsed"), external: per("external") };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

function measure(kind: Kind, count: number, port: number): Promise<PerItem> {
  const script = bundledModule(fileURLToPath(import.meta.url));
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, ["--expose-gc", ...DEVICE_PROCESS_FLAGS, script, "--child", kind, String(count), String(port)],
      { env: DEVICE_PROCESS_ENV, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    run.stdout.on("data", (data: Buffer) => { out += data.toString(); });
    run.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as PerItem) : reject(new Error(`${kind}: the measuring process exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    await child(argv[1] as Kind, Number(argv[2]), Number(argv[3]));
    return;
  }
  const program = new Command("fleet-parts")
    .description("what a fleet device's parts cost alone: net.Socket, TCP handle, engine")
    .option("--count <n>", "items of each kind", wholeNumber("--count", 100, 15_000, "a process may hold 20,000 open files"), 5000);
  const { count } = parseBenchOptions<{ count: number }>(program, argv);
  if (findProgram("mosquitto") === null) {
    console.error("bench/fleet-parts needs Debian's mosquitto: apt-get install mosquitto");
    process.exit(2);
  }
  const broker = await startMosquitto();
  try {
    console.log(`bench/fleet-parts: ${count.toLocaleString("en-US")} of each, in a fresh process each; Node ${process.version}`);
    console.log(`${"".padEnd(12)}${"RSS".padStart(10)}${"heap".padStart(10)}${"external".padStart(10)}   (bytes per item)`);
    const results = new Map<Kind, PerItem>();
    for (const kind of KINDS) {
      const r = await measure(kind, count, broker.port);
      results.set(kind, r);
      console.log(`${kind.padEnd(12)}${Math.round(r.rss).toLocaleString("en-US").padStart(10)}${Math.round(r.heap).toLocaleString("en-US").padStart(10)}` +
        `${Math.round(r.external).toLocaleString("en-US").padStart(10)}`);
    }
    const socket = results.get("net.Socket")!;
    const handle = results.get("TCP handle")!;
    console.log(`a TCP handle takes ${(socket.rss / handle.rss).toFixed(2)}x less resident memory than a net.Socket (heap ${(socket.heap / handle.heap).toFixed(2)}x)`);
  } finally {
    await broker.close();
  }
}

void main();
