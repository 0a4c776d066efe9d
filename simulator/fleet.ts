// One process's part of a fleet run: every device of its slice is the real engine over the Node driver, all
// on one FleetClock; an observer per broker checks what arrives; the result is a Report of the slice
// (simulator/run.ts splits a run into slices and merges their reports).

import { performance } from "node:perf_hooks";
import packageJson from "../package.json";
import { Will, errorName, OK, PUBACK, PUBCOMP } from "../device/codec";
import { EngineOptions, CONNECTED } from "../device/engine";
import type { EngineEvents } from "../device/engine";
import { NodeClient, Endpoint } from "../device/platform/node/client";
import type { Transport } from "../device/platform/node/transport";
import { FleetClock, Task } from "./clock";
import { LoopDelayMonitor } from "./loop-delay";
import { proportionalSetSize } from "./memory";
import { FaultProxy } from "./faults/proxy";
import { DeviceRecord, Observer, OrderExemption, RecordTables, willDue, writeHeader } from "./observer";
import { DevicePlan, GROUP_SIZE, Slice, expand, faultTimeline, keepAliveBound, planSlice, seededRandom, usesProxy } from "./scenario";
import type { Report, RunConfig, Sample } from "./types";

/** The version reports carry (and merge compares): the package's. */
export const VERSION: string = packageJson.version;
/** How many of a run's errors its report lists. */
export const MAX_ERRORS_SHOWN = 20;

/** A simulated device: the real client, plus the faults the simulator can inflict on it. */
class SimulatedDevice extends NodeClient {
  dead = false;
  frozen = false;
  /** Bytes written now are lost on the way (until the next link opens). */
  losing = false;
  /** The fault proxy this device tells who it is, because TLS hides its CONNECT from it; null otherwise. */
  announceTo: FaultProxy | null = null;

  transportConnected(_transport: Transport, localAddress: string, localPort: number): void {
    this.announceTo?.expect(localAddress, localPort, this.engine.options.clientId);
  }

  wake(): void {
    if (!this.dead && !this.frozen) super.wake();
  }

  open(): void {
    this.losing = false;
    if (!this.dead) super.open();
  }

  write(bytes: Uint8Array, offset: number, length: number): void {
    if (!this.dead && !this.frozen && !this.losing) super.write(bytes, offset, length);
  }

  /** Powered off: the link drops without a DISCONNECT. */
  kill(): void {
    this.dead = true;
    this.transport?.destroy();
  }

  /** Hung: the link stays open, and nothing more is sent or read. */
  freeze(): void {
    this.frozen = true;
    this.transport?.pause();
  }

  /** A network fault: what is sent from now on is lost, then the link drops; the device reconnects on its own. */
  startLosing(): void {
    this.losing = true;
  }

  cut(): void {
    this.transport?.destroy();
  }
}

/** What the devices of one slice share: the run's clock and timeline, its payload buffer, its errors. */
class SliceState {
  readonly connects = { count: 0, firstAttemptAt: Infinity, lastConnectedAt: 0 };
  readonly interval: number;
  readonly end: number;

  constructor(readonly config: RunConfig, readonly clock: FleetClock, readonly runStart: number, readonly payload: Uint8Array,
    readonly maxSequence: number, readonly proxies: Map<number, FaultProxy>, readonly errors: string[],
    readonly duringRestart: (now: number) => boolean) {
    this.interval = 1000 / config.rate;
    this.end = this.at(config.ramp + config.duration);
  }

  /** Seconds after the run's start, as a time on the clock. */
  at(seconds: number): number {
    return this.runStart + seconds * 1000;
  }
}

/**
 * One device's part in the run: its engine's events, and its publishing on the open-loop schedule (fire,
 * run by the clock). Methods, not closures made per device: a run may hold 100,000 devices.
 */
class FleetDevice implements EngineEvents, Task {
  device: SimulatedDevice | null = null;
  private sequence = 0;

  constructor(private readonly shared: SliceState, private readonly plan: DevicePlan, private readonly record: DeviceRecord) {}

  connected(): void {
    const { connects, clock } = this.shared;
    if (!this.record.connectedOnce) {
      connects.count++;
      connects.lastConnectedAt = Math.max(connects.lastConnectedAt, performance.timeOrigin + clock.now());
    }
    this.record.connectedOnce = true;
  }

  disconnected(code: number): void {
    if (code === OK) return;
    const record = this.record;
    record.lastError = errorName(code);
    // A loss the run itself caused (a strike, the partition, the broker's restart) is expected; any other is an error.
    const now = this.shared.clock.now();
    if (!record.ended && now > record.excusedUntil && !this.shared.duringRestart(now)) this.shared.errors.push(`${this.plan.id}: ${record.lastError}`);
  }

  message(): void {
    // Devices subscribe to nothing.
  }

  acknowledged(type: number, packetId: number): void {
    if (type === PUBACK || type === PUBCOMP) this.record.acknowledge(packetId);
  }

  /** Publishes the next message of the schedule, and books the one after. */
  fire(): void {
    const { shared, plan, record } = this;
    const device = this.device!;
    const { config, clock, payload } = shared;
    const fate = plan.fate;
    if (device.dead || device.frozen || (fate.kind === "clean" && record.struckAt >= 0)) return;
    const first = shared.at(plan.firstPublishAt);
    const sequence = this.sequence;
    const scheduledAt = first + sequence * shared.interval;
    writeHeader(payload, plan.index, sequence, performance.timeOrigin + scheduledAt);
    // A cut strikes while this message is on the wire (a reset or a half-open link while it is in the
    // proxy, delayed by its latency): it is lost with the link, and the device must send it again.
    const cutNow = (fate.kind === "cut" || fate.kind === "reset" || fate.kind === "halfopen") && record.struckAt < 0 && scheduledAt >= shared.at(fate.at);
    if (cutNow && fate.kind === "cut") device.startLosing();
    const result = device.publish(plan.topic, payload, plan.qos, false);
    if (result >= 0) {
      record.accepted = sequence + 1;
      if (result > 0) record.await(result, sequence);
    } else {
      record.rejected++;
      shared.errors.push(`${plan.id}: publish ${sequence} ${errorName(result)}`);
    }
    this.sequence = sequence + 1;
    if (cutNow) {
      record.struckAt = clock.now();
      // The device notices at once (cut, reset) or by its keep-alive (half-open).
      record.excusedUntil = clock.now() + (fate.kind === "halfopen" ? 1500 * config.keepAlive : 0) + 2000;
      const proxy = shared.proxies.get(plan.broker);
      if (fate.kind === "cut") device.cut();
      else if (fate.kind === "reset") proxy?.cut(plan.id);
      else proxy?.halfOpen(plan.id);
    }
    // Open loop: the next message is due on the schedule, however late this one went.
    const next = first + this.sequence * shared.interval;
    if (next < shared.end && this.sequence < shared.maxSequence) clock.at(next, this);
  }
}

/** What one process runs: its slice of the fleet, against the run's brokers, on the run's timeline. */
export interface SliceRun {
  config: RunConfig;
  slice: Slice;
  /** One per broker of the pool (RunConfig.brokers, or the embedded brokers), in pool order. */
  endpoints: Endpoint[];
  brokerUrl: string;
  /** When the run's clock starts (the ramp's first second), in epoch milliseconds. */
  startAt: number;
  /** Source addresses for the devices, in turn by device index; empty: the system's choice. */
  sourceIps: string[];
}

/** What a failed connection to the broker means and what to do, from the socket's error or the engine's code. */
function brokerProblem(cause: string, client: NodeClient): string {
  const code = client.engine.lastReasonCode;
  return cause === "ECONNREFUSED" ? "connection refused: nothing listens there; check the host and port, and that the broker runs"
    : cause === "ENOTFOUND" || cause === "EAI_AGAIN" ? `the host name was not found (${cause}): check the host in --broker`
    : cause === "ERR_TLS_CERT_ALTNAME_INVALID" ? `the broker's certificate is for another host name (${cause}): give the name it is for with --servername, or --insecure`
    : cause.includes("CERT") || cause.includes("SELF_SIGNED") ? `TLS verification failed (${cause}): give the broker's CA with --ca, or --insecure`
    : cause === "ECONNRESET" || cause === "ERR_LINK_LOST" ? `the connection was closed before the broker answered (${cause}): is the port TLS ` +
      "(use mqtts://) or plain (use mqtt://), and is it an MQTT broker?"
    : cause === "ERR_CONNECT_TIMEOUT" ? "no answer to CONNECT within 10 s (ERR_CONNECT_TIMEOUT): is it an MQTT broker, and is the port plain (mqtt://) or TLS (mqtts://)?"
    : cause !== "ERR_CONNECTION_REFUSED" ? cause
    // CONNACK codes: 3.1.1 (4, 5) and 5.0 (0x86, 0x87), bad credentials or not authorized; version; client id.
    : code === 4 || code === 5 || code === 0x86 || code === 0x87 ? `the broker refused the user name or password (CONNACK code ${code}): check --username and --password, and the broker's access rules`
    : code === 1 || code === 0x84 ? `the broker does not speak this MQTT version (CONNACK code ${code}): try the other --protocol (3.1.1 or 5)`
    : code === 2 || code === 0x85 ? `the broker rejected the client id (CONNACK code ${code}): check --client-id`
    : `the broker refused the connection (CONNACK code ${code})`;
}

export async function runSlice(run: SliceRun, progress: (sample: Sample) => void): Promise<Report> {
  const { config, slice } = run;
  const loopDelay = new LoopDelayMonitor();
  const baselineRss = process.memoryUsage.rss();
  const clock = new FleetClock();
  const plans = planSlice(config, slice, run.endpoints.length);
  const maxSequence = Math.ceil(config.rate * (config.duration + 1)) + 1;
  const observer = new Observer(plans, maxSequence, restartExempt(config, run.startAt));
  const epoch = performance.timeOrigin;
  const runStart = run.startAt - epoch;
  const at = (seconds: number) => runStart + seconds * 1000;
  const errors: string[] = [];
  const password = config.password === null ? null : new TextEncoder().encode(config.password);
  const offline = new TextEncoder().encode("offline");
  // One payload buffer for the process: publish() copies it into the engine's slot at once.
  const payload = new Uint8Array(config.payload);

  // The observers, one per broker the slice uses: the same client, with room for the slice's QoS 2 traffic in flight.
  const filters = observedFilters(config, slice);
  const used = [...new Set(plans.map((plan) => plan.broker))].sort((a, b) => a - b);
  const observers: NodeClient[] = [];
  const reached = new Set<NodeClient>();
  // When links lost to the broker's restart (run.ts restarts it) are expected: from a second before its
  // planned time (another process's timer may fire first) until every link is surely back.
  const restart = config.scenario === "faults" ? faultTimeline(config) : null;
  const restartFrom = restart === null ? Infinity : at(restart.restartAt) - 1000;
  const restartUntil = restart === null ? -Infinity : at(restart.restartAt) + restart.downMs + CONNECT_TIMEOUT_MS + 2000;
  const duringRestart = (now: number) => now >= restartFrom && now <= restartUntil;
  let subscribed = 0;
  for (const broker of used) {
    const options = baseOptions(config, password);
    options.clientId = `starling-observer-${config.seed}-${slice.first}-${broker}-${process.pid}`;
    options.receiveBufferSize = Math.max(4096, config.payload + 1024);
    options.incomingQos2Slots = 8192;
    options.subscriptionSlots = filters.length;
    // A persistent session: should the observer's own link drop, the broker keeps what arrives meanwhile.
    options.cleanStart = false;
    options.sessionExpiry = 3600;
    const client: NodeClient = new NodeClient(run.endpoints[broker], options, {
      connected: () => { reached.add(client); },
      disconnected: (code) => {
        if (code !== OK && !duringRestart(clock.now())) errors.push(`observer of ${brokerName(run, broker)}: ${brokerProblem(errorName(code), client)}`);
      },
      message: (packet) => observer.message(packet),
      acknowledged: () => { subscribed++; },
    }, clock);
    const code = client.connect();
    if (code !== OK) throw new Error(`the observers' CONNECT cannot be made (${errorName(code)}): check --username and --password`);
    for (const filter of filters) client.subscribe(filter, 2);
    observers.push(client);
  }
  const stopObservers = () => { for (const client of observers) client.disconnect(); };
  // Ending an observer's session (a clean connect), or a 3.1.1 broker would keep queueing for it forever.
  const forgetObserverSessions = () => Promise.all(observers.filter((o) => reached.has(o)).map((observer) => new Promise<void>((resolve) => {
    const options = baseOptions(config, password);
    options.clientId = observer.engine.options.clientId;
    const client: NodeClient = new NodeClient(run.endpoints[used[observers.indexOf(observer)]], options, {
      connected: () => client.disconnect(),
      disconnected: () => resolve(),
      message: () => undefined,
      acknowledged: () => undefined,
    }, clock);
    client.connect();
    setTimeout(() => { client.disconnect(); resolve(); }, 5000).unref();
  })));
  try {
    await until(() => subscribed === used.length * filters.length || errors.length > 0 ||
      observers.some((client) => client.lastSocketError !== ""), 10000, () => "no answer in 10 s");
    const failed = observers.findIndex((client) => client.lastSocketError !== "");
    if (failed >= 0) throw new Error(`cannot reach the broker at ${brokerName(run, used[failed])}: ${brokerProblem(observers[failed].lastSocketError, observers[failed])}`);
    if (errors.length > 0) throw new Error(`cannot reach the broker: ${errors[0]}`);
  } catch (error) {
    stopObservers();
    await forgetObserverSessions();
    clock.stop();
    const message = (error as Error).message;
    throw new Error(message.startsWith("cannot reach") ? message : `cannot reach the broker at ${run.brokerUrl}: ${message}`);
  }

  // The fault proxy, one per broker the slice uses, between the devices and that broker (observers go direct).
  const proxies = new Map<number, FaultProxy>();
  if (usesProxy(config)) {
    for (const broker of used) {
      const endpoint = run.endpoints[broker];
      const proxy = await FaultProxy.start({ host: endpoint.host, port: endpoint.port },
        { localAddress: run.sourceIps.length > 0 ? run.sourceIps[broker % run.sourceIps.length] : undefined });
      proxy.setLatency(config.latencyMs, config.jitterMs, seededRandom(config.seed + slice.first + broker));
      proxies.set(broker, proxy);
    }
  }
  const proxied: Endpoint[] = run.endpoints.map((endpoint, broker) => {
    const proxy = proxies.get(broker);
    return proxy === undefined ? endpoint : { host: "127.0.0.1", port: proxy.port, tls: endpoint.tls };
  });

  const shared = new SliceState(config, clock, runStart, payload, maxSequence, proxies, errors, duringRestart);
  const records: DeviceRecord[] = [];
  const devices: SimulatedDevice[] = [];
  const endpoints = new Map<string, Endpoint>();
  const connects = shared.connects;
  const tables = new RecordTables(plans.length, deviceInflightWindow(config) + deviceQueueSlots(config), maxSequence);
  const commonOptions = sliceOptions(config, plans, password, offline);
  let stalled = false;
  for (const plan of plans) {
    const options = deviceOptions(commonOptions, plan, offline);
    const record = new DeviceRecord(plan, tables, records.length);
    records.push(record);
    const fleetDevice = new FleetDevice(shared, plan, record);
    const endpoint = deviceEndpoint(run, proxied, plan, endpoints);
    const device = new SimulatedDevice(endpoint, options, fleetDevice, clock);
    if (endpoint.tls !== null) device.announceTo = proxies.get(plan.broker) ?? null;
    fleetDevice.device = device;
    devices.push(device);
    clock.at(at(plan.connectAt), () => {
      connects.firstAttemptAt = Math.min(connects.firstAttemptAt, epoch + clock.now());
      const code = device.connect();
      if (code !== OK) errors.push(`${plan.id}: its CONNECT cannot be made (${errorName(code)}): check --client-id, --topic, --username and --password`);
    });
    clock.at(at(plan.firstPublishAt), fleetDevice);
    const fate = plan.fate;
    // A cut, reset or half-open link strikes right after a publish (FleetDevice.fire), so that a message is
    // surely in flight; the partition strikes all its devices at once (below).
    if (fate.kind === "killed" || fate.kind === "clean" || fate.kind === "silent") {
      clock.at(at(fate.at), () => {
        record.struckAt = clock.now();
        record.ended = true;
        if (fate.kind === "killed") {
          device.kill();
          if (config.faultStallMs > 0 && !stalled) {
            stalled = true;
            plantedStall(config.faultStallMs);
          }
        } else if (fate.kind === "clean") device.disconnect();
        else device.freeze();
      });
    }
  }

  if (config.scenario === "faults") {
    const timeline = faultTimeline(config);
    const partitioned = records.filter((record) => record.plan.fate.kind === "partitioned");
    clock.at(at(timeline.partitionAt), () => {
      for (const record of partitioned) {
        record.struckAt = clock.now();
        // Cut off until it heals, then a connect attempt that went nowhere must time out before the next.
        record.excusedUntil = at(timeline.healAt) + CONNECT_TIMEOUT_MS + 2000;
      }
      for (const [broker, proxy] of proxies) proxy.partition(partitioned.filter((r) => r.plan.broker === broker).map((r) => r.plan.id), true);
    });
    clock.at(at(timeline.healAt), () => {
      for (const [broker, proxy] of proxies) proxy.partition(partitioned.filter((r) => r.plan.broker === broker).map((r) => r.plan.id), false);
    });
  }

  // Progress: one sample a second until the traffic ends, then the drain. Memory is taken at its highest.
  const samples: Sample[] = [];
  let errorsReported = 0;
  let peakRss = process.memoryUsage.rss();
  let peakPss = proportionalSetSize();
  const sample = () => {
    let connected = 0;
    for (const device of devices) if (device.engine.state === CONNECTED) connected++;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const pss = proportionalSetSize();
    peakPss = pss === null || peakPss === null ? null : Math.max(peakPss, pss);
    const s: Sample = { t: Math.round((clock.now() - runStart) / 100) / 10, connected, messagesPerSecond: observer.receivedThisSecond, errors: errors.length - errorsReported,
      stalledMs: loopDelay.longestSinceLast() };
    errorsReported = errors.length;
    observer.receivedThisSecond = 0;
    samples.push(s);
    progress(s);
  };
  const ticker = setInterval(sample, 1000);
  await sleepUntil(at(config.ramp + config.duration));

  // Drain: give stored messages, wills and keep-alive drops time to arrive.
  const drainDeadline = Date.now() + keepAliveBound(config) * 1000 + 5000 + (config.scenario === "faults" ? CONNECT_TIMEOUT_MS : 0);
  await until(() => observer.complete(records) && records.every((r, i) => r.ended || devices[i].engine.pendingMessages === 0) &&
    records.every((r) => !willDue(r.plan.fate.kind) || observer.willSeen(r.plan.index)),
    Math.max(0, drainDeadline - Date.now()), null);
  // A clean disconnect must stay without a will: wait a little past the last one.
  await new Promise((resolve) => setTimeout(resolve, 500));
  clearInterval(ticker);
  sample();

  const loopDelayMs = loopDelay.stop();
  const verdicts = observer.verdicts(records, keepAliveBound(config) * 1000, epoch, loopDelayMs.max);
  let reconnects = 0;
  for (const device of devices) {
    reconnects += device.engine.counters.reconnects;
    device.dead = true;
    device.disconnect();
  }
  stopObservers();
  await forgetObserverSessions();
  for (const proxy of proxies.values()) await proxy.close();
  clock.stop();

  return {
    starling: VERSION,
    config: reportedConfig(config),
    slices: [slice],
    brokerUrl: run.brokerUrl,
    startedAt: new Date(run.startAt).toISOString(),
    seconds: Math.round((performance.now() - runStart) / 100) / 10,
    counts: {
      devices: plans.length,
      connected: records.filter((r) => r.connectedOnce).length,
      published: records.reduce((sum, r) => sum + r.accepted, 0),
      received: observer.received,
      duplicates: observer.duplicates,
      reconnects,
      errors: errors.length,
    },
    firstErrors: errors.slice(0, MAX_ERRORS_SHOWN),
    latencyMs: observer.latencySummary(),
    memory: { processes: 1, rssBytes: peakRss, baselineBytes: baselineRss, pssBytes: peakPss },
    connects,
    loopDelayMs,
    verdicts,
    samples,
    pass: verdicts.every((v) => v.pass),
  };
}

/** The planted stall (--fault-stall-ms): the process busy for `ms`, its timers and sockets waiting, as on a starved machine. */
function plantedStall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose.
  }
}

/** The configuration as a report shows it: the password masked, and of TLS only what is not secret. */
export function reportedConfig(config: RunConfig): Report["config"] {
  return {
    ...config,
    password: config.password === null ? null : "***",
    brokers: config.brokers.map((broker) => ({
      host: broker.host, port: broker.port, url: broker.url,
      tls: broker.tls === null ? null : { servername: broker.tls.servername ?? null, verify: broker.tls.rejectUnauthorized !== false },
    })),
  };
}

/**
 * What an observer of `slice` subscribes to: the devices' topics and wills. With {group} in the topic
 * template, only the slice's groups; without it, every device's (messages of other slices are ignored).
 */
export function observedFilters(config: RunConfig, slice: Slice): string[] {
  const groups: string[] = [];
  if (config.topic.includes("{group}")) {
    for (let group = Math.floor(slice.first / GROUP_SIZE); group * GROUP_SIZE < slice.end; group++) groups.push(String(group));
  } else {
    groups.push("+");
  }
  const filters: string[] = [];
  for (const group of groups) {
    const topic = expand(config.topic, { id: "+", group });
    filters.push(topic, `${topic}/will`);
  }
  return filters;
}

function brokerName(run: SliceRun, broker: number): string {
  const endpoint = run.endpoints[broker];
  return `${endpoint.tls !== null ? "mqtts" : "mqtt"}://${endpoint.host}:${endpoint.port}`;
}

/** The device's broker and source address; devices that share both share one Endpoint object. */
function deviceEndpoint(run: SliceRun, targets: Endpoint[], plan: DevicePlan, cache: Map<string, Endpoint>): Endpoint {
  const source = run.sourceIps.length > 0 ? run.sourceIps[plan.index % run.sourceIps.length] : undefined;
  const key = `${plan.broker} ${source ?? ""}`;
  let endpoint = cache.get(key);
  if (endpoint === undefined) {
    endpoint = { ...targets[plan.broker], localAddress: source };
    cache.set(key, endpoint);
  }
  return endpoint;
}

/** How long a device waits for its CONNACK (EngineOptions.connectTimeoutMs, the default kept). */
const CONNECT_TIMEOUT_MS = new EngineOptions().connectTimeoutMs;
/** The cap of every simulated client's reconnect backoff: a fleet comes back within seconds, not a minute. */
const BACKOFF_MAX_MS = 5000;

/**
 * The late first deliveries the order verdict does not hold against a run with a broker restart. A broker
 * that comes back replays what it stored for a resumed subscriber while new messages flow (Aedes does), so a
 * stored message can arrive after a later live one. Exempt are the messages that can meet that: those still
 * in flight when it crashed (published up to RESTART_IN_FLIGHT_S before) or published until devices and
 * observers are surely back, and those first delivered in that time whenever they were published (a
 * partitioned device whose connect attempt the partition swallowed sends its backlog only then). Delivery
 * (qos1, qos2) is still checked for every message, and order for every one delivered before the crash.
 */
export function restartExempt(config: RunConfig, runStartEpochMs: number): OrderExemption {
  if (config.scenario !== "faults") return () => false;
  const timeline = faultTimeline(config);
  const from = timeline.restartAt - RESTART_IN_FLIGHT_S;
  const until = timeline.restartAt + (timeline.downMs + CONNECT_TIMEOUT_MS + BACKOFF_MAX_MS) / 1000;
  return (plan, sequence, deliveredAt) => {
    const scheduled = plan.firstPublishAt + sequence / config.rate;
    const delivered = (deliveredAt - runStartEpochMs) / 1000;
    return (scheduled >= from && scheduled <= until) || (delivered >= timeline.restartAt && delivered <= until);
  };
}

/** How long before the broker's crash a message may still be on its way (proxy latency, the broker's queue). */
const RESTART_IN_FLIGHT_S = 2;

function baseOptions(config: RunConfig, password: Uint8Array | null): EngineOptions {
  const options = new EngineOptions();
  options.protocolVersion = config.protocol;
  options.keepAlive = config.keepAlive;
  options.username = config.username;
  options.password = password;
  options.backoffInitialMs = 200;
  options.backoffMaxMs = BACKOFF_MAX_MS;
  options.seed = config.seed;
  return options;
}

/**
 * The longest a device of the run may be without a link, beyond the backoff: a dead link noticed after
 * 1.5x keep-alive, or (faults) the partition and a connect attempt it swallowed.
 */
function longestOutageMs(config: RunConfig): number {
  if (config.scenario !== "faults") return 1500 * config.keepAlive;
  const timeline = faultTimeline(config);
  return (timeline.healAt - timeline.partitionAt) * 1000 + CONNECT_TIMEOUT_MS;
}

/**
 * A device's outgoing QoS 1/2 messages in flight at once: those of half a second (a QoS 2 message holds its
 * slot for two round trips, through the fault proxy's latency on a loaded machine), at least 2 (DESIGN.md:
 * a window above 1) and at most 16. Each slot is a message's bytes in every device: sized to the rate.
 */
function deviceInflightWindow(config: RunConfig): number {
  return Math.min(16, Math.max(2, Math.ceil(config.rate / 2)));
}

/**
 * A device's queue: room for the messages of the longest time it may spend without a link in the run
 * (longestOutageMs, then the backoff cap), and no more (at least 2). The same for every device of a run.
 */
function deviceQueueSlots(config: RunConfig): number {
  return Math.max(2, Math.ceil(config.rate * (longestOutageMs(config) + BACKOFF_MAX_MS) / 1000));
}

/**
 * At most the size of a device's CONNECT: its fixed part (fixed header 5, variable header 10, the length
 * prefixes of client id, will topic, will payload, user name and password 10, the 5.0 properties the engine
 * sends 14) and the fields themselves. The transmit buffer must hold it: a long --topic or long credentials
 * would otherwise make a CONNECT the engine cannot write.
 */
function connectSizeBound(plan: DevicePlan, username: string | null, password: Uint8Array | null, offline: Uint8Array): number {
  return 39 + Buffer.byteLength(plan.id) + Buffer.byteLength(plan.willTopic) + offline.length +
    (username === null ? 0 : Buffer.byteLength(username)) + (password === null ? 0 : password.length);
}

/**
 * What the devices of a slice are given alike, sized like a small board, since a run may hold 100,000 of
 * them: the prototype of each device's options (deviceOptions). Its buffers fit the slice's longest CONNECT
 * and topic, so a device's own options need not hold sizes of their own.
 */
export function sliceOptions(config: RunConfig, plans: DevicePlan[], password: Uint8Array | null, offline: Uint8Array): EngineOptions {
  const options = baseOptions(config, password);
  // A persistent session, so a cut connection resumes and in-flight messages are resent.
  options.cleanStart = false;
  options.sessionExpiry = 600;
  // Devices subscribe to nothing: they receive acknowledgements and pings only, so they need no
  // subscription slots and no slots for incoming QoS 2 messages (each would be state per device).
  options.receiveBufferSize = 128;
  let connect = 0;
  let topic = 0;
  let qos0 = false;
  for (const plan of plans) {
    connect = Math.max(connect, connectSizeBound(plan, config.username, password, offline));
    topic = Math.max(topic, Buffer.byteLength(plan.topic));
    qos0 ||= plan.qos === 0;
  }
  options.incomingQos2Slots = 0;
  options.subscriptionSlots = 0;
  // A PUBLISH's fixed header (up to 5 bytes), topic length and packet id (4), the topic and the payload.
  options.messageSlotSize = config.payload + topic + 9;
  // The CONNECT is written there, and a QoS 0 PUBLISH (one of QoS 1 or 2 in its slot); besides them only
  // acknowledgements, PINGREQ and DISCONNECT.
  options.transmitBufferSize = Math.max(32, connect, qos0 ? options.messageSlotSize : 0);
  options.inflightWindow = deviceInflightWindow(config);
  options.queueSlots = deviceQueueSlots(config);
  options.resendOnReconnect = !config.faultNoResend;
  return options;
}

/**
 * A device's options: its own client id, seed and will, over the slice's (sliceOptions) as their prototype.
 * A whole EngineOptions per device would cost about 170 B more of heap each.
 */
export function deviceOptions(slice: EngineOptions, plan: DevicePlan, offline: Uint8Array): EngineOptions {
  const options = Object.create(slice) as EngineOptions;
  options.clientId = plan.id;
  options.seed = plan.seed;
  const will = new Will();
  will.topic = plan.willTopic;
  will.payload = offline;
  will.qos = 1;
  options.will = will;
  return options;
}

async function sleepUntil(time: number): Promise<void> {
  const wait = time - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Waits for `condition`, checking every 50 ms; past `timeoutMs` it throws `failure()` or just returns. */
export async function until(condition: () => boolean, timeoutMs: number, failure: (() => string) | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      if (failure !== null) throw new Error(failure());
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
