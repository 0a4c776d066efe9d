// The whole client over a real socket: starling's NodeClient against MQTT.js, both talking to the SAME
// broker in one run. Two measures:
//
//   throughput  one publisher sends N messages (64-byte payload, MQTT 3.1.1) to a topic that one subscriber
//               of the same library receives; messages per CPU-second of this process (process.cpuUsage(),
//               user + system), from the first publish until the subscriber has them all (and, at QoS 1,
//               the publisher has every PUBACK). QoS 0 and QoS 1; rounds alternate ours/theirs, median kept.
//               At QoS 0 the median is of the rounds in one read regime (likeForLike below).
//   memory      the marginal cost of a client: in a fresh child process per library (--expose-gc), K/2
//               clients are connected first (each with keep-alive and subscribed to its own topic), then K
//               more; RSS, heapUsed and external after GC, before and after the K; bytes per client. The
//               first clients take the one-time costs (code compiled, caches, V8 growing its heap for the
//               first time: about 26 MB for MQTT.js's first 1,000), which a single step counts as theirs.
//               Three children per library (--memory-runs), alternating; the median of each figure.
//
//   npm run bench:client                          the full run (about 2 minutes on a 2-core machine)
//   npm run bench:client -- --messages 20000 --clients 200 --rounds 1   a quick, noisier run
//   npm run bench:client -- --json out.json       also write the results as JSON
//   npm run bench:client -- --only starling       throughput of one side only (for node --cpu-prof)
//   npm run bench:client -- --write-hold 0        starling without its write hold (see Output in
//                                                 device/platform/node/client.ts; default 1 ms)
//
// The broker is Debian's mosquitto when installed, in its own process, so this process's CPU is only the
// clients'; otherwise the embedded Aedes broker, whose CPU is then counted on both sides alike (said so in
// the output). Pacing is the same for both libraries: the publisher stays at most --lag messages ahead of
// the subscriber; at QoS 1 MQTT.js pipelines everything the lag allows, and starling's in-flight window is
// the lag too unless --window says otherwise. Not a test: nothing here asserts a time.

import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { connect as mqttConnect } from "mqtt";
import type { MqttClient } from "mqtt";
import { NodeClient, setWriteHold } from "../device/platform/node/client";
import { EngineOptions } from "../device/engine";
import type { EngineEvents } from "../device/engine";
import { ERR_QUEUE_FULL, PUBACK, SUBACK } from "../device/codec";
import type { Packet } from "../device/codec";
import { findProgram, startAedes, startMosquitto } from "../host-tests/peers";
import type { Broker } from "../host-tests/peers";
import { formatRatio, judge, parseBenchOptions, ratio, wholeNumber } from "./options";

const THROUGHPUT_TARGET = 3;
const MEMORY_TARGET = 10;
const TOPIC = "bench/throughput";

interface Options {
  messages: number;
  payload: number;
  clients: number;
  memoryRuns: number;
  rounds: number;
  lag: number;
  window: number;
  writeHold: number;
  broker: "auto" | "mosquitto" | "aedes";
  only: "both" | "starling" | "mqttjs";
  json: string | null;
  // Child mode (memory): which library, which broker port.
  child: string | null;
  library: string;
  port: number;
}

/** The largest --payload: starling's default message slot also holds the PUBLISH header and the topic. */
const MAX_PAYLOAD = new EngineOptions().messageSlotSize - 64;
/** The most messages in flight (--lag, --window): the engine's packet ids must cover its window and slots. */
const MAX_IN_FLIGHT = 65_000;

function parseOptions(argv: string[]): Options {
  const program = new Command("bench:client")
    .description("starling's NodeClient against MQTT.js over one broker: throughput per CPU-second and memory per client")
    .option("--messages <n>", "messages per throughput round", wholeNumber("--messages", 1, 100_000_000), 100_000)
    .option("--payload <bytes>", "payload bytes per message",
      wholeNumber("--payload", 1, MAX_PAYLOAD, "starling's default message slot also holds the header and topic"), 64)
    .option("--clients <k>", "clients measured per memory child", wholeNumber("--clients", 1, 100_000), 2000)
    .option("--memory-runs <n>", "memory children per library (the median is kept)", wholeNumber("--memory-runs", 1, 99), 3)
    .option("--rounds <r>", "throughput rounds per QoS and library (the median is kept)", wholeNumber("--rounds", 1, 99), 5)
    .option("--lag <n>", "how far the publisher may run ahead of the subscriber", wholeNumber("--lag", 1, MAX_IN_FLIGHT), 1000)
    .option("--window <n>", "starling's inflightWindow; 0: the lag", wholeNumber("--window", 0, MAX_IN_FLIGHT), 0)
    .option("--write-hold <ms>", "starling's write hold (device/platform/node/client.ts)", wholeNumber("--write-hold", 0, 1000), 1)
    .addOption(new Option("--broker <which>", "the broker").choices(["auto", "mosquitto", "aedes"]).default("auto"))
    .addOption(new Option("--only <side>", "throughput of one side only").choices(["both", "starling", "mqttjs"]).default("both"))
    .option("--json <file>", "also write the results as JSON")
    // The memory child's own options (runMemoryChild).
    .addOption(new Option("--child <role>").hideHelp())
    .addOption(new Option("--library <name>").hideHelp().default(""))
    .addOption(new Option("--port <port>").hideHelp().argParser(wholeNumber("--port", 1, 65535)).default(0));
  const parsed = parseBenchOptions<Omit<Options, "json" | "child"> & { json?: string; child?: string }>(program, argv);
  const options: Options = { ...parsed, json: parsed.json ?? null, child: parsed.child ?? null };
  setWriteHold(options.writeHold);
  if (options.window === 0) {
    // Like for like: MQTT.js keeps as many QoS 1 messages in flight as the lag lets it.
    options.window = options.lag;
  }
  return options;
}

function payloadOf(size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    payload[i] = 0x20 + (i % 90);
  }
  return payload;
}

// ---- starling ----

let clientNumber = 0;

function starlingOptions(window: number): EngineOptions {
  const options = new EngineOptions();
  options.protocolVersion = 4;
  options.clientId = `starling-bench-${process.pid}-${++clientNumber}`;
  options.keepAlive = 60;
  options.inflightWindow = window;
  return options;
}

// The harness's default callbacks, one for every client: an arrow function made per client as a field
// initializer costs a closure and (for its name) a 256-byte property store, which the memory figure would
// charge to starling (about 620 B per client).
function ignoreMessage(_packet: Packet): void {}
function ignoreAcknowledged(_type: number, _packetId: number): void {}

/** A NodeClient with its events as plain callbacks; resolves once connected. */
class StarlingSide implements EngineEvents {
  readonly client: NodeClient;
  onMessage: (packet: Packet) => void = ignoreMessage;
  onAcknowledged: (type: number, packetId: number) => void = ignoreAcknowledged;
  private onConnected: (() => void) | null = null;

  constructor(port: number, options: EngineOptions) {
    this.client = new NodeClient({ host: "127.0.0.1", port, tls: null }, options, this);
  }

  start(): Promise<void> {
    return new Promise((resolve) => {
      this.onConnected = resolve;
      this.client.connect();
    });
  }

  /** Subscribes and resolves on the SUBACK. */
  subscribe(filter: string, qos: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const previous = this.onAcknowledged;
      const id = this.client.subscribe(filter, qos);
      if (id <= 0) {
        reject(new Error(`subscribe failed: ${id}`));
        return;
      }
      this.onAcknowledged = (type, packetId) => {
        if (type === SUBACK && packetId === id) {
          this.onAcknowledged = previous;
          resolve();
        }
      };
    });
  }

  stop(): void {
    this.client.disconnect();
  }

  connected(): void {
    const done = this.onConnected;
    this.onConnected = null;
    if (done !== null) done();
  }

  disconnected(code: number): void {
    if (code !== 0) console.error(`starling client disconnected: ${code}`);
  }

  message(packet: Packet): void {
    this.onMessage(packet);
  }

  acknowledged(type: number, packetId: number): void {
    this.onAcknowledged(type, packetId);
  }
}

// ---- MQTT.js ----

function mqttjsConnect(port: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqttConnect({
      host: "127.0.0.1", port, protocol: "mqtt", protocolVersion: 4, keepalive: 60, clean: true, reconnectPeriod: 0,
      clientId: `mqttjs-bench-${process.pid}-${++clientNumber}`,
    });
    client.once("connect", () => resolve(client));
    client.once("error", reject);
  });
}

function mqttjsSubscribe(client: MqttClient, filter: string, qos: 0 | 1): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos }, (error) => (error ? reject(error) : resolve()));
  });
}

function mqttjsEnd(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

// ---- throughput ----

interface Throughput {
  /** Socket reads ('data' events) on the subscriber's side during the run: the chunking the broker chose. */
  subscriberReads: number;
  messages: number;
  cpuSeconds: number;
  wallSeconds: number;
  perCpuSecond: number;
  perWallSecond: number;
}

/** The pacing both sides share: publish while the subscriber is at most `lag` behind; resume from events. */
class Pump {
  sent = 0;
  received = 0;
  acked = 0;
  reads = 0;
  private scheduled = false;
  private windowFull = false;
  private done: (() => void) | null = null;
  private startCpu = process.cpuUsage();
  private startWall = process.hrtime.bigint();
  private endCpu = this.startCpu;
  private endWall = this.startWall;

  constructor(readonly total: number, readonly lag: number, readonly qos: number,
    private readonly publishOne: () => boolean) {}

  run(): Promise<Throughput> {
    return new Promise((resolve) => {
      this.done = () => {
        const cpuSeconds = (this.endCpu.user - this.startCpu.user + this.endCpu.system - this.startCpu.system) / 1e6;
        const wallSeconds = Number(this.endWall - this.startWall) / 1e9;
        resolve({
          subscriberReads: this.reads, messages: this.total, cpuSeconds, wallSeconds,
          perCpuSecond: this.total / cpuSeconds, perWallSecond: this.total / wallSeconds,
        });
      };
      this.startCpu = process.cpuUsage();
      this.startWall = process.hrtime.bigint();
      this.pump();
    });
  }

  /** Publishes as far as the pacing allows; returns when blocked (a later event calls wake()). */
  pump(): void {
    this.scheduled = false;
    this.windowFull = false;
    while (this.sent < this.total && this.sent - this.received < this.lag) {
      if (!this.publishOne()) {
        this.windowFull = true;
        return;
      }
      this.sent++;
    }
  }

  /**
   * Called from message and acknowledgement events: pumps again once the current event is done. Blocked by
   * the lag, it waits until the subscriber has caught up by half of it, so that publishing goes in bursts
   * (as it would from a real producer) rather than settling into one-message ping-pong; blocked by
   * starling's full window, it goes on as soon as an acknowledgement frees a slot.
   */
  wake(): void {
    if (this.scheduled || this.sent >= this.total) {
      return;
    }
    if (this.windowFull || this.sent - this.received <= this.lag / 2) {
      this.scheduled = true;
      setImmediate(() => this.pump());
    }
  }

  messageArrived(): void {
    this.received++;
    this.check();
    this.wake();
  }

  ackArrived(): void {
    this.acked++;
    this.check();
    this.wake();
  }

  private check(): void {
    if (this.received === this.total && (this.qos === 0 || this.acked === this.total) && this.done !== null) {
      this.endCpu = process.cpuUsage();
      this.endWall = process.hrtime.bigint();
      const done = this.done;
      this.done = null;
      done();
    }
  }
}

/**
 * Counts the subscriber's socket reads, to show how the broker chunked the stream: a diagnostic only. On
 * MQTT.js's side an extra 'data' listener on its stream; on starling's, which reads from Node's TCP handle
 * without a stream, a count in front of the client's transportData (each call is one read).
 */
function countMqttjsReads(client: MqttClient, pump: Pump): void {
  client.stream.on("data", () => {
    pump.reads++;
  });
}

function countStarlingReads(client: NodeClient, pump: Pump): void {
  const transportData = client.transportData;
  client.transportData = function (transport, bytes, length) {
    pump.reads++;
    transportData.call(this, transport, bytes, length);
  };
}

async function starlingThroughput(port: number, qos: number, options: Options, payload: Buffer): Promise<Throughput> {
  const subscriber = new StarlingSide(port, starlingOptions(options.window));
  const publisher = new StarlingSide(port, starlingOptions(options.window));
  await Promise.all([subscriber.start(), publisher.start()]);
  const topic = `${TOPIC}/starling/${clientNumber}`;
  await subscriber.subscribe(topic, qos);
  const client = publisher.client;
  const length = payload.length;
  // The application API: publish() of a byte payload (the whole array) re-arms the driver's timer itself.
  const pump = new Pump(options.messages, options.lag, qos, () => {
    const result = client.publish(topic, payload, qos, false);
    if (result === ERR_QUEUE_FULL) {
      return false;
    }
    if (result < 0) {
      throw new Error(`publish failed: ${result}`);
    }
    return true;
  });
  countStarlingReads(subscriber.client, pump);
  let badPayload = 0;
  subscriber.onMessage = (packet) => {
    if (packet.payloadLength !== length) badPayload++;
    pump.messageArrived();
  };
  publisher.onAcknowledged = (type) => {
    if (type === PUBACK) pump.ackArrived();
  };
  const result = await pump.run();
  subscriber.stop();
  publisher.stop();
  if (badPayload > 0) throw new Error(`starling: ${badPayload} messages with a wrong payload`);
  return result;
}

async function mqttjsThroughput(port: number, qos: number, options: Options, payload: Buffer): Promise<Throughput> {
  const [subscriber, publisher] = await Promise.all([mqttjsConnect(port), mqttjsConnect(port)]);
  const topic = `${TOPIC}/mqttjs/${clientNumber}`;
  await mqttjsSubscribe(subscriber, topic, qos as 0 | 1);
  const publishOptions = { qos: qos as 0 | 1, retain: false };
  let failed: Error | null = null;
  const onPublished = qos === 0 ? undefined : (error?: Error) => {
    if (error) failed = error;
    else pump.ackArrived();
  };
  const pump = new Pump(options.messages, options.lag, qos, () => {
    publisher.publish(topic, payload, publishOptions, onPublished);
    return true;
  });
  countMqttjsReads(subscriber, pump);
  let badPayload = 0;
  subscriber.on("message", (_topic, message) => {
    if (message.length !== payload.length) badPayload++;
    pump.messageArrived();
  });
  const result = await pump.run();
  await Promise.all([mqttjsEnd(subscriber), mqttjsEnd(publisher)]);
  if (failed !== null) throw failed;
  if (badPayload > 0) throw new Error(`MQTT.js: ${badPayload} messages with a wrong payload`);
  return result;
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The round whose messages per CPU-second is the median. */
/**
 * A round's read regime: the subscriber read the stream in chunks of many messages, or about one read per
 * message. Either library falls into either (bench/README.md "client"), and a read per message costs a
 * system call and a callback each, so the regime, not the library, can decide a round.
 */
const PER_MESSAGE_READS = 0.1;

const READ_REGIMES: Array<[string, (r: Throughput) => boolean]> = [
  ["the subscriber read in chunks", (r) => r.subscriberReads / r.messages < PER_MESSAGE_READS],
  ["the subscriber read about once per message", (r) => r.subscriberReads / r.messages >= PER_MESSAGE_READS],
];

/** Each library's rounds in one read regime. */
interface RegimeRounds {
  regime: string;
  ours: Throughput[];
  theirs: Throughput[];
}

function byReadRegime(ours: Throughput[], theirs: Throughput[]): RegimeRounds[] {
  return READ_REGIMES.map(([regime, within]) => ({ regime, ours: ours.filter(within), theirs: theirs.filter(within) }));
}

/**
 * The rounds the QoS 0 row compares: those of the read regime both libraries have the most rounds in
 * (chunks on a tie), so that neither library's median is a round of the other regime; null when they share
 * no regime (then all rounds are compared).
 */
function likeForLike(regimes: RegimeRounds[]): RegimeRounds | null {
  const shared = regimes.filter((r) => r.ours.length > 0 && r.theirs.length > 0);
  if (shared.length === 0) return null;
  return shared.reduce((best, r) => (r.ours.length + r.theirs.length > best.ours.length + best.theirs.length ? r : best));
}

/** Each regime's medians per library, and their ratio where both have rounds. */
function regimeLine(regimes: RegimeRounds[]): string {
  return regimes.map(({ regime, ours, theirs }) => {
    const ourMedian = ours.length === 0 ? null : medianRun(ours).perCpuSecond;
    const theirMedian = theirs.length === 0 ? null : medianRun(theirs).perCpuSecond;
    const side = (label: string, value: number | null, rounds: number) =>
      `${label} ${value === null ? "no rounds" : `${formatNumber(value)} (${rounds})`}`;
    const both = ourMedian !== null && theirMedian !== null
      ? `, ${formatRatio(ratio(ourMedian, theirMedian), 2, "a round took no measurable time")}` : "";
    return `${regime}: ${side("starling", ourMedian, ours.length)}, ${side("MQTT.js", theirMedian, theirs.length)}${both}`;
  }).join("; ") + " (messages per CPU-second, median of the rounds in each regime, rounds in brackets)";
}

function medianRun(runs: Throughput[]): Throughput {
  const m = median(runs.map((r) => r.perCpuSecond));
  let best = runs[0];
  for (const r of runs) {
    if (Math.abs(r.perCpuSecond - m) < Math.abs(best.perCpuSecond - m)) best = r;
  }
  return best;
}

// ---- memory (child processes) ----

interface MemoryResult {
  library: string;
  clients: number;
  rssBefore: number;
  rssAfter: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  externalBefore: number;
  externalAfter: number;
  connectMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<NodeJS.MemoryUsage> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (gc !== undefined) {
    gc();
    gc();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  return process.memoryUsage();
}

/** Opens `count` clients of `library`, each subscribed to its own topic; at most 50 connecting at once. */
async function openClients(library: string, port: number, count: number, first: number,
  kept: unknown[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = first + next++;
      const filter = `bench/memory/${library}/${i}`;
      if (library === "starling") {
        const side = new StarlingSide(port, starlingOptions(4));
        await side.start();
        await side.subscribe(filter, 1);
        kept.push(side);
      } else {
        const client = await mqttjsConnect(port);
        await mqttjsSubscribe(client, filter, 1);
        kept.push(client);
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < 50; w++) workers.push(worker());
  await Promise.all(workers);
}

/** How many clients the memory child connects before it measures `clients` more. */
function warmUpClients(clients: number): number {
  return Math.ceil(clients / 2);
}

async function memoryChild(options: Options): Promise<void> {
  const kept: unknown[] = [];
  // Half as many clients first, so that what the first ones cost once (code, caches, the heap's first
  // growth) is in the baseline, not spread over the measured clients.
  const warmUp = warmUpClients(options.clients);
  await openClients(options.library, options.port, warmUp, 0, kept);
  const before = await collect();
  const started = Date.now();
  await openClients(options.library, options.port, options.clients, warmUp, kept);
  const connectMs = Date.now() - started;
  const after = await collect();
  const result: MemoryResult = {
    library: options.library,
    clients: options.clients,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapUsedBefore: before.heapUsed,
    heapUsedAfter: after.heapUsed,
    externalBefore: before.external,
    externalAfter: after.external,
    connectMs,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

function runMemoryChild(library: string, port: number, clients: number): Promise<MemoryResult> {
  const script = fileURLToPath(import.meta.url);
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath,
      ["--expose-gc", "--import", "tsx", script, "--child", "memory", "--library", library, "--port", String(port),
        "--clients", String(clients)],
      { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`memory child (${library}) exited with ${code ?? signal}: ${err}`));
        return;
      }
      resolve(JSON.parse(out.trim()) as MemoryResult);
    });
  });
}

// ---- report ----

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "-";
}

interface Row {
  metric: string;
  starling: number;
  mqttjs: number;
  /**
   * starling / MQTT.js for rates, MQTT.js / starling for costs: above 1 means starling is better. Null when
   * a side measured nothing (options.ts ratio); `why` then says what to change.
   */
  advantage: number | null;
  why: string;
}

function verdictWord(met: boolean | null): string {
  if (met === null) return "NOT JUDGED (a figure was not measured: see the table)";
  return met ? "MET" : "NOT MET";
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.child === "memory") {
    await memoryChild(options);
    return;
  }
  const started = Date.now();
  const machine = { node: process.version, nproc: cpus().length, cpu: cpuModel(), memoryGiB: Math.round(totalmem() / 2 ** 30) };
  const useMosquitto = options.broker === "mosquitto" || (options.broker === "auto" && findProgram("mosquitto") !== null);
  // No limit on what mosquitto queues for a client: pacing, not the broker, bounds the backlog.
  const broker: Broker = useMosquitto
    ? await startMosquitto(["max_queued_messages 0", "max_inflight_messages 0"])
    : await startAedes();
  const brokerName = useMosquitto
    ? `mosquitto (${findProgram("mosquitto")}, its own process: this process's CPU is the clients' only)`
    : "embedded Aedes (in this process: its CPU is counted on both sides)";
  console.log(`client benchmark: starling (NodeClient) vs MQTT.js — node ${machine.node}, ${machine.nproc} CPUs, ${machine.cpu}`);
  console.log(`broker: ${brokerName}, 127.0.0.1:${broker.port}`);
  console.log(`throughput: ${formatNumber(options.messages)} messages of ${options.payload} B, MQTT 3.1.1, one publisher -> one ` +
    `subscriber, publisher at most ${options.lag} ahead; starling inflightWindow ${options.window}, write hold ${options.writeHold} ms; ` +
    `${options.rounds} rounds alternating, median; load average ${loadavg()[0].toFixed(2)}`);
  console.log("");

  const payload = payloadOf(options.payload);
  const rows: Row[] = [];
  /** Lines under the table: each round's figures, the subscriber's reads, each memory child's RSS. */
  const detailLines: string[] = [];
  const runs: Record<string, { starling: Throughput[]; mqttjs: Throughput[] }> = {};
  try {
    // Warm-up: both sides, both QoS, a tenth of the messages, so that neither is timed cold.
    const warm = { ...options, messages: Math.max(1000, Math.round(options.messages / 10)) };
    for (const qos of [0, 1]) {
      if (options.only !== "mqttjs") await starlingThroughput(broker.port, qos, warm, payload);
      if (options.only !== "starling") await mqttjsThroughput(broker.port, qos, warm, payload);
    }
    for (const qos of [0, 1]) {
      const key = `QoS ${qos}`;
      runs[key] = { starling: [], mqttjs: [] };
      for (let round = 0; round < options.rounds; round++) {
        if (options.only !== "mqttjs") runs[key].starling.push(await starlingThroughput(broker.port, qos, options, payload));
        if (options.only !== "starling") runs[key].mqttjs.push(await mqttjsThroughput(broker.port, qos, options, payload));
      }
      if (options.only !== "both") {
        const side = options.only === "starling" ? runs[key].starling : runs[key].mqttjs;
        const m = medianRun(side);
        console.log(`${options.only} ${key}: ${formatNumber(m.perCpuSecond)} messages per CPU-second ` +
          `(${m.cpuSeconds.toFixed(2)} CPU-s, ${formatNumber(m.perWallSecond)} per wall second)`);
        continue;
      }
      // At QoS 0 the subscriber's reads are bimodal (above); at QoS 1 the acknowledgements pace them.
      const regimes = qos === 0 ? byReadRegime(runs[key].starling, runs[key].mqttjs) : null;
      const compared = regimes === null ? null : likeForLike(regimes);
      const ours = medianRun(compared === null ? runs[key].starling : compared.ours);
      const theirs = medianRun(compared === null ? runs[key].mqttjs : compared.theirs);
      const why = "a round took no measurable time: give more --messages";
      rows.push({ metric: `throughput ${key} (messages / CPU-s)`, starling: ours.perCpuSecond, mqttjs: theirs.perCpuSecond,
        advantage: ratio(ours.perCpuSecond, theirs.perCpuSecond), why });
      rows.push({ metric: `  (for reference: messages / wall-s)`, starling: ours.perWallSecond, mqttjs: theirs.perWallSecond,
        advantage: ratio(ours.perWallSecond, theirs.perWallSecond), why });
      detailLines.push(`${key}: subscriber socket reads per 1,000 messages (median round) — starling ` +
        `${(ours.subscriberReads * 1000 / ours.messages).toFixed(0)}, MQTT.js ${(theirs.subscriberReads * 1000 / theirs.messages).toFixed(0)}; ` +
        `per round: starling ${runs[key].starling.map((r) => formatNumber(r.perCpuSecond)).join(" ")}, ` +
        `MQTT.js ${runs[key].mqttjs.map((r) => formatNumber(r.perCpuSecond)).join(" ")}`);
      if (regimes !== null) {
        detailLines.push(`${key}: the table compares ${compared === null ? "all rounds (the libraries share no read regime)" : `the rounds in which ${compared.regime}`}; ` +
          regimeLine(regimes));
      }
    }
    if (options.only !== "both") {
      return;
    }

    // Resident memory moves with when V8 commits heap pages: several children per library, alternating,
    // and the median of each figure.
    const memory: Record<string, MemoryResult[]> = { starling: [], mqttjs: [] };
    for (let run = 0; run < options.memoryRuns; run++) {
      memory.starling.push(await runMemoryChild("starling", broker.port, options.clients));
      memory.mqttjs.push(await runMemoryChild("mqttjs", broker.port, options.clients));
    }
    const per = (m: MemoryResult, field: "rss" | "heapUsed" | "external" | "heap+external"): number => {
      if (field === "heap+external") return per(m, "heapUsed") + per(m, "external");
      return (m[`${field}After` as keyof MemoryResult] as number - (m[`${field}Before` as keyof MemoryResult] as number)) / m.clients;
    };
    // heapUsed leaves out ArrayBuffer contents (starling's preallocated buffers): they are in external.
    // Clients always take RSS and heap: a figure of 0 or less there means the step was too small to see
    // (RSS grows by whole pages), not a free client. External memory may truly stay 0 (MQTT.js has almost none).
    for (const field of ["rss", "heapUsed", "external", "heap+external"] as const) {
      const ours = median(memory.starling.map((m) => per(m, field)));
      const theirs = median(memory.mqttjs.map((m) => per(m, field)));
      const grows = field !== "external";
      rows.push({ metric: `memory per client: ${field} (bytes)`, starling: ours, mqttjs: theirs,
        advantage: grows && theirs <= 0 ? null : ratio(theirs, ours),
        why: `${field} did not grow over ${options.clients} clients: too few to see, give --clients 2000 or more` });
    }
    const rssRuns = (library: string): string => memory[library].map((m) => formatNumber(per(m, "rss"))).join(" ");
    detailLines.push(`memory: RSS per client in each child — starling ${rssRuns("starling")}, MQTT.js ${rssRuns("mqttjs")}`);

    const header = ["metric", "starling", "MQTT.js", "ratio"];
    const widths = [42, 12, 12, 7];
    const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
    console.log(line(header));
    console.log(line(widths.map((w) => "-".repeat(w))));
    for (const row of rows) {
      console.log(line([row.metric, formatNumber(row.starling), formatNumber(row.mqttjs), formatRatio(row.advantage, 2, row.why)]));
    }
    for (const detail of detailLines) console.log(detail);
    console.log("ratio: starling's advantage (its rate / MQTT.js's; MQTT.js's bytes / its bytes): above 1 is better");
    console.log(`memory: ${options.clients} clients per library after ${warmUpClients(options.clients)} already connected, in ` +
      `${options.memoryRuns} fresh children each, median (keep-alive 60 s, one QoS 1 subscription each; starling ` +
      `EngineOptions defaults), after GC; connect took ${memory.starling[0].connectMs} ms / ${memory.mqttjs[0].connectMs} ms`);
    console.log("");
    const q0 = rows[0].advantage;
    const q1 = rows[2].advantage;
    const rssRatio = rows[4].advantage;
    const heapRatio = rows[7].advantage;
    const throughputMet = judge([q0, q1], THROUGHPUT_TARGET);
    const memoryMet = judge([rssRatio, heapRatio], MEMORY_TARGET);
    const smaller = (r: number | null): string => (r === null ? "not measured" : `${r.toFixed(2)}x smaller`);
    console.log(`target: ${THROUGHPUT_TARGET}x MQTT.js throughput per CPU-second (QoS 0 and 1): ` +
      `${verdictWord(throughputMet)} (${formatRatio(q0, 2, rows[0].why)}, ${formatRatio(q1, 2, rows[2].why)})`);
    console.log(`target: one tenth of MQTT.js memory per client (RSS, and heap + external): ${verdictWord(memoryMet)} ` +
      `(RSS ${smaller(rssRatio)}, heap + external ${smaller(heapRatio)})`);
    console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s, load average ${loadavg()[0].toFixed(2)})`);

    if (options.json !== null) {
      writeFileSync(options.json, JSON.stringify({
        benchmark: "client", date: new Date().toISOString(), machine, broker: useMosquitto ? "mosquitto" : "aedes",
        options: { messages: options.messages, payload: options.payload, clients: options.clients, rounds: options.rounds,
          lag: options.lag, window: options.window, writeHold: options.writeHold, memoryRuns: options.memoryRuns },
        rows, runs, memory, targets: { throughput: THROUGHPUT_TARGET, memory: MEMORY_TARGET, throughputMet, memoryMet },
      }, null, 2) + "\n");
      console.log(`wrote ${options.json}`);
    }
  } finally {
    await broker.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
