// A fleet run: every device is the real engine over the Node driver, all on one FleetClock; an observer
// checks what arrives; the result is a Report with verdicts.

import { performance } from "node:perf_hooks";
import { Will, errorName, OK, PUBACK, PUBCOMP } from "../device/codec";
import { EngineOptions, CONNECTED } from "../device/engine";
import { NodeClient, Endpoint } from "../device/platform/node/client";
import { startEmbeddedBroker } from "./broker";
import { FleetClock } from "./clock";
import { DeviceRecord, Observer, writeHeader } from "./observer";
import { DevicePlan, expand, keepAliveBound, planFleet } from "./scenario";
import type { Report, RunConfig, Sample } from "./types";

/** A simulated device: the real client, plus the faults the simulator can inflict on it. */
class SimulatedDevice extends NodeClient {
  dead = false;
  frozen = false;
  /** Bytes written now are lost on the way (until the next link opens). */
  losing = false;

  wake(): void {
    if (!this.dead && !this.frozen) super.wake();
  }

  open(): void {
    this.losing = false;
    if (!this.dead) super.open();
  }

  write(bytes: Uint8Array, length: number): void {
    if (!this.dead && !this.frozen && !this.losing) super.write(bytes, length);
  }

  /** Powered off: the link drops without a DISCONNECT. */
  kill(): void {
    this.dead = true;
    this.socket?.destroy();
  }

  /** Hung: the link stays open, and nothing more is sent or read. */
  freeze(): void {
    this.frozen = true;
    this.socket?.pause();
  }

  /** A network fault: what is sent from now on is lost, then the link drops; the device reconnects on its own. */
  startLosing(): void {
    this.losing = true;
  }

  cut(): void {
    this.socket?.destroy();
  }
}

const VERSION = "0.1.0";

export async function runFleet(config: RunConfig, progress: (sample: Sample) => void): Promise<Report> {
  const embedded = config.broker === null ? await startEmbeddedBroker() : null;
  const endpoint: Endpoint = embedded !== null
    ? { host: embedded.host, port: embedded.port, tls: null }
    : { host: config.broker!.host, port: config.broker!.port, tls: config.broker!.tls };
  const brokerUrl = embedded !== null ? `mqtt://${embedded.host}:${embedded.port} (embedded Aedes)` : config.broker!.url;
  const clock = new FleetClock();
  const plans = planFleet(config);
  const maxSequence = Math.ceil(config.rate * (config.duration + 1)) + 1;
  const observer = new Observer(plans, maxSequence);
  const epoch = performance.timeOrigin;
  const startedAt = new Date().toISOString();
  const runStart = clock.now();
  const at = (seconds: number) => runStart + seconds * 1000;
  const errors: string[] = [];
  const password = config.password === null ? null : new TextEncoder().encode(config.password);

  // The observer: the same client, with room for the whole fleet's QoS 2 traffic in flight.
  const observerOptions = baseOptions(config, password);
  observerOptions.clientId = `starling-observer-${config.seed}-${process.pid}`;
  observerOptions.receiveBufferSize = Math.max(4096, config.payload + 1024);
  observerOptions.incomingQos2Slots = 8192;
  observerOptions.subscriptionSlots = 2;
  let observerReady = false;
  const observerClient = new NodeClient(endpoint, observerOptions, {
    connected: () => undefined,
    disconnected: (code) => { if (code !== OK) errors.push(`observer: ${errorName(code)}`); },
    message: (packet) => observer.message(packet),
    acknowledged: () => { observerReady = true; },
  }, clock);
  observerClient.connect();
  const anyDevice = expand(config.topic, { id: "+" });
  observerClient.subscribe(anyDevice, 2);
  observerClient.subscribe(`${anyDevice}/will`, 2);
  try {
    await until(() => observerReady || observerClient.lastSocketError !== "" || errors.length > 0, 10000, () => "no answer in 10 s");
    if (!observerReady) throw new Error(observerClient.lastSocketError !== "" ? observerClient.lastSocketError : errors[0]);
  } catch (error) {
    observerClient.disconnect();
    clock.stop();
    if (embedded !== null) await embedded.close();
    const cause = (error as Error).message;
    const hint = cause === "ECONNREFUSED" ? "connection refused: nothing listens there; check the host and port, and that the broker runs"
      : cause.includes("CERT") || cause.includes("SELF_SIGNED") ? `TLS verification failed (${cause}): give the broker's CA with --ca, or --insecure`
      : cause === "ERR_CONNECTION_REFUSED" ? "the broker refused the connection: check --username/--password and the broker's access rules"
      : cause;
    throw new Error(`cannot reach the broker at ${brokerUrl}: ${hint}`);
  }

  const records: DeviceRecord[] = [];
  const devices: SimulatedDevice[] = [];
  for (const plan of plans) {
    const record: DeviceRecord = { plan, accepted: 0, acknowledged: new Uint8Array(maxSequence), awaiting: new Map(),
      ended: false, rejected: 0, connectedOnce: false, lastError: "", struckAt: -1 };
    records.push(record);
    const device = new SimulatedDevice(endpoint, deviceOptions(config, plan, password), {
      connected: () => { record.connectedOnce = true; },
      disconnected: (code) => {
        if (code === OK) return;
        record.lastError = errorName(code);
        // A device the simulator struck down was meant to lose its link; any other loss is an error.
        if (!record.ended && record.plan.fate.kind !== "cut") errors.push(`${plan.id}: ${record.lastError}`);
      },
      message: () => undefined,
      acknowledged: (type, packetId) => {
        const sequence = record.awaiting.get(packetId);
        if (sequence !== undefined && (type === PUBACK || type === PUBCOMP)) {
          record.awaiting.delete(packetId);
          record.acknowledged[sequence] = 1;
        }
      },
    }, clock);
    devices.push(device);
    clock.at(at(plan.connectAt), () => device.connect());
    schedulePublishing(device, plan, record);
    const fate = plan.fate;
    // A cut strikes right after a publish (in publishNext), so that a message is surely in flight.
    if (fate.kind !== "normal" && fate.kind !== "cut") {
      clock.at(at(fate.at), () => {
        record.struckAt = clock.now();
        record.ended = true;
        if (fate.kind === "killed") device.kill();
        else if (fate.kind === "clean") device.disconnect();
        else device.freeze();
      });
    }
  }

  function schedulePublishing(device: SimulatedDevice, plan: DevicePlan, record: DeviceRecord): void {
    const payload = new Uint8Array(config.payload);
    const interval = 1000 / config.rate;
    const first = at(plan.firstPublishAt);
    const end = at(config.ramp + config.duration);
    let sequence = 0;
    const publishNext = () => {
      const fate = plan.fate;
      if (device.dead || device.frozen || (fate.kind === "clean" && record.struckAt >= 0)) return;
      const scheduledAt = first + sequence * interval;
      writeHeader(payload, plan.index, sequence, performance.timeOrigin + scheduledAt);
      // A cut strikes while this message is on the wire: it is lost with the link, and the device
      // must send it again after reconnecting.
      const cutNow = fate.kind === "cut" && record.struckAt < 0 && scheduledAt >= at(fate.at);
      if (cutNow) device.startLosing();
      const result = device.publish(plan.topic, payload, plan.qos, false);
      if (result >= 0) {
        record.accepted = sequence + 1;
        if (result > 0) record.awaiting.set(result, sequence);
      }
      else { record.rejected++; errors.push(`${plan.id}: publish ${sequence} ${errorName(result)}`); }
      sequence++;
      if (cutNow) {
        record.struckAt = clock.now();
        device.cut();
      }
      // Open loop: the next message is due on the schedule, however late this one went.
      const next = first + sequence * interval;
      if (next < end && sequence < maxSequence) clock.at(next, publishNext);
    };
    clock.at(first, publishNext);
  }

  // Progress: one sample a second until the traffic ends, then the drain.
  const samples: Sample[] = [];
  let errorsReported = 0;
  const sample = () => {
    let connected = 0;
    for (const device of devices) if (device.engine.state === CONNECTED) connected++;
    const s: Sample = { t: Math.round((clock.now() - runStart) / 100) / 10, connected, messagesPerSecond: observer.receivedThisSecond, errors: errors.length - errorsReported };
    errorsReported = errors.length;
    observer.receivedThisSecond = 0;
    samples.push(s);
    progress(s);
  };
  const ticker = setInterval(sample, 1000);
  await sleepUntil(at(config.ramp + config.duration));

  // Drain: give stored messages, wills and keep-alive drops time to arrive.
  const drainDeadline = Date.now() + keepAliveBound(config) * 1000 + 5000;
  await until(() => observer.complete(records) && records.every((r, i) => r.ended || devices[i].engine.pendingMessages === 0) &&
    records.every((r) => r.plan.fate.kind !== "killed" && r.plan.fate.kind !== "silent" || observer.willSeen(r.plan.index)),
    Math.max(0, drainDeadline - Date.now()), null);
  // A clean disconnect must stay without a will: wait a little past the last one.
  await new Promise((resolve) => setTimeout(resolve, 500));
  clearInterval(ticker);
  sample();

  const verdicts = observer.verdicts(records, keepAliveBound(config) * 1000, epoch);
  let reconnects = 0;
  for (const device of devices) {
    reconnects += device.engine.counters.reconnects;
    device.dead = true;
    device.disconnect();
  }
  observerClient.disconnect();
  clock.stop();
  if (embedded !== null) await embedded.close();

  const published = records.reduce((sum, r) => sum + r.accepted, 0);
  return {
    starling: VERSION,
    config: {
      ...config,
      password: config.password === null ? null : "***",
      // Keys, certificates and the CA stay out of the report.
      broker: config.broker === null ? null : {
        host: config.broker.host, port: config.broker.port, url: config.broker.url,
        tls: config.broker.tls === null ? null : {
          servername: config.broker.tls.servername ?? null, verify: config.broker.tls.rejectUnauthorized !== false,
        },
      },
    },
    brokerUrl,
    startedAt,
    seconds: Math.round((performance.now() - runStart) / 100) / 10,
    counts: {
      devices: config.devices,
      connected: records.filter((r) => r.connectedOnce).length,
      published,
      received: observer.received,
      duplicates: observer.duplicates,
      reconnects,
      errors: errors.length,
    },
    latencyMs: observer.latencySummary(),
    verdicts,
    samples,
    pass: verdicts.every((v) => v.pass),
  };
}

function baseOptions(config: RunConfig, password: Uint8Array | null): EngineOptions {
  const options = new EngineOptions();
  options.protocolVersion = config.protocol;
  options.keepAlive = config.keepAlive;
  options.username = config.username;
  options.password = password;
  options.backoffInitialMs = 200;
  options.backoffMaxMs = 5000;
  options.seed = config.seed;
  return options;
}

function deviceOptions(config: RunConfig, plan: DevicePlan, password: Uint8Array | null): EngineOptions {
  const options = baseOptions(config, password);
  options.clientId = plan.id;
  options.seed = plan.seed;
  // A persistent session, so a cut connection resumes and in-flight messages are resent.
  options.cleanStart = false;
  options.sessionExpiry = 600;
  options.receiveBufferSize = 1024;
  options.messageSlotSize = config.payload + plan.topic.length + 64;
  options.inflightWindow = 8;
  options.queueSlots = 32;
  options.incomingQos2Slots = 2;
  options.subscriptionSlots = 1;
  options.resendOnReconnect = !config.faultNoResend;
  const will = new Will();
  will.topic = plan.willTopic;
  will.payload = new TextEncoder().encode("offline");
  will.qos = 1;
  options.will = will;
  return options;
}

async function sleepUntil(time: number): Promise<void> {
  const wait = time - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Waits for `condition`, checking every 50 ms; past `timeoutMs` it throws `failure()` or just returns. */
async function until(condition: () => boolean, timeoutMs: number, failure: (() => string) | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      if (failure !== null) throw new Error(failure());
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

