// Child process of zero-alloc.test.ts: runs message cycles through one Engine, connected to a tiny
// in-memory broker stand-in, and reports, as one line of JSON on stdout, how many garbage collections
// happened while each measured loop ran and where the heap stood before and after.
//
//   node --import tsx host-tests/engine/zero-alloc-child.ts [--version 4|5] [--cycles N] [--warmup N]
//        [--payload BYTES] [--clock-step MS] [--ping-every N] [--split] [--allocating]
//
// The broker stand-in is the Link: write() reads the packet the engine sent (type, QoS, packet id) and
// appends the answer, copied from a preallocated template with the packet id patched in, to a preallocated
// "socket" buffer: CONNACK for CONNECT, SUBACK for SUBSCRIBE, PUBACK for a QoS 1 PUBLISH, PINGRESP for
// PINGREQ. Nothing is fed back inside an engine call (a real socket answers later): the loop delivers the
// buffered bytes with engine.received() once the call has returned (two buffers, swapped, so replies to
// what the engine writes while it handles a delivery are kept for the next one).
//
// One QoS 0 cycle: engine.publish() of a QoS 0 PUBLISH (written straight to the link), then the broker
// delivers a QoS 0 PUBLISH that reaches the message handler.
// One QoS 1 cycle: engine.publish() of a QoS 1 PUBLISH (stored in the outbox, sent); the broker answers
// with its PUBACK and, in the same chunk, delivers a QoS 1 PUBLISH with a fresh packet id; the engine
// completes its message (acknowledged event) and PUBACKs the delivered one, which the broker checks.
// Every result is checked (packet ids, topic match, payload bytes, event counts), so an engine that stopped
// working could not pass for one that stopped allocating.
//
// Time is a virtual clock: a counter advanced by --clock-step milliseconds per cycle (1 by default: whole
// milliseconds); whenever it reaches engine.nextDeadline() the loop calls engine.poll(). Every --ping-every
// cycles (warm-up included) the link goes idle: the clock jumps from deadline to deadline until the engine
// sends PINGREQ, and the broker answers PINGRESP, so the keep-alive path is measured as well. A fractional step shows GC:
// V8 boxes a double passed as a call argument into a new HeapNumber in the caller (here, this loop).
//   --version     4 (3.1.1, default) or 5
//   --split       every delivery reaches the engine in two chunks (gathered by the framer)
//   --allocating  also allocates a 64-byte Uint8Array per cycle: proves the observer sees GC
//
// GC is observed by host-tests/gc-probe.ts: only collections that start while a measured loop runs count.

import { Engine, EngineOptions, CONNECTED, topicMatches } from "../../device/engine";
import type { EngineEvents, Link } from "../../device/engine";
import { encodePublish, Packet, PublishFields, PUBACK, MQTT_5 } from "../../device/codec";
import { GcProbe, type Measurement, keepGarbage, keptLength, parseOptions, printResult, settle, warmUp } from "../gc-probe";

const options = parseOptions({
  version: 4, cycles: 1_000_000, warmup: 200_000, payload: 64, clockStep: 1, pingEvery: 20_000, split: false,
  allocating: false,
});
const v5 = options.version === MQTT_5;

const OUT_TOPIC = "fleet/device-0042/telemetry";
const IN_TOPIC = "fleet/device-0042/commands";
const FILTER = "fleet/+/commands";

// ---- everything the loops touch is made here, once ----

const payload = new Uint8Array(options.payload);
for (let i = 0; i < payload.length; i++) {
  payload[i] = 0x30 + (i % 64);
}
const filterBytes = new Uint8Array(FILTER.length);
for (let i = 0; i < FILTER.length; i++) {
  filterBytes[i] = FILTER.charCodeAt(i);
}

// Reply templates (3.1.1, or 5.0 with an empty property block / no reason code).
const CONNACK = v5 ? new Uint8Array([0x20, 0x03, 0x00, 0x00, 0x00]) : new Uint8Array([0x20, 0x02, 0x00, 0x00]);
const SUBACK = v5 ? new Uint8Array([0x90, 0x04, 0x00, 0x00, 0x00, 0x01]) : new Uint8Array([0x90, 0x03, 0x00, 0x00, 0x01]);
const PUBACK_REPLY = new Uint8Array([0x40, 0x02, 0x00, 0x00]);
const PINGRESP = new Uint8Array([0xd0, 0x00]);

/** A PUBLISH the broker delivers, encoded once by the codec; returns it and where its packet id sits. */
function deliveryTemplate(qos: number): { bytes: Uint8Array; idAt: number } {
  const fields = new PublishFields();
  fields.topic = IN_TOPIC;
  fields.payload = payload;
  fields.payloadOffset = 0;
  fields.payloadLength = payload.length;
  fields.qos = qos;
  fields.packetId = qos > 0 ? 0x7fff : 0;
  fields.properties = null;
  const buffer = new Uint8Array(1024);
  const length = encodePublish(buffer, 0, options.version, fields);
  if (length < 0) {
    throw new Error(`encodePublish failed: ${length}`);
  }
  let at = 1;
  while ((buffer[at] & 0x80) !== 0) {
    at++;
  }
  at++;
  return { bytes: buffer.slice(0, length), idAt: at + 2 + IN_TOPIC.length };
}
const DELIVER_QOS0 = deliveryTemplate(0);
const DELIVER_QOS1 = deliveryTemplate(1);

/** The broker stand-in's side of the link, and the counters both sides are checked against. */
class Broker implements Link {
  // Bytes waiting to reach the engine, double-buffered: `pending` fills while `delivering` is being fed.
  pending = new Uint8Array(8192);
  pendingLength = 0;
  delivering = new Uint8Array(8192);
  opens = 0;
  connects = 0;
  subscribes = 0;
  publishesQos0 = 0;
  publishesQos1 = 0;
  pubacksFromEngine = 0;
  pingreqs = 0;
  badPackets = 0;
  /** The packet id of the last QoS 1 PUBLISH delivered to the engine, which its PUBACK must carry. */
  deliveredId = 0;
  lastPublishedId = 0;

  open(): void {
    this.opens++;
  }

  close(): void {
    // Nothing to release.
  }

  write(bytes: Uint8Array, offset: number, length: number): void {
    const type = bytes[offset] >> 4;
    const end = offset + length;
    // The fixed header's remaining length, to find what follows it.
    let at = offset + 1;
    let remaining = 0;
    let shift = 0;
    while (at < end) {
      const b = bytes[at];
      remaining += (b & 0x7f) << shift;
      shift += 7;
      at++;
      if ((b & 0x80) === 0) {
        break;
      }
    }
    if (at + remaining !== end) {
      this.badPackets++;
      return;
    }
    if (type === 3) {
      const qos = (bytes[offset] >> 1) & 3;
      const topicLength = (bytes[at] << 8) | bytes[at + 1];
      if (topicLength !== OUT_TOPIC.length || bytes[at + 2 + topicLength - 1] !== 0x79 /* 'y' */) {
        this.badPackets++;
        return;
      }
      if (qos === 0) {
        this.publishesQos0++;
      } else {
        const id = (bytes[at + 2 + topicLength] << 8) | bytes[at + 3 + topicLength];
        this.publishesQos1++;
        this.lastPublishedId = id;
        this.append(PUBACK_REPLY, 2, id);
      }
    } else if (type === 4) {
      const id = (bytes[at] << 8) | bytes[at + 1];
      if (id !== this.deliveredId) {
        this.badPackets++;
        return;
      }
      this.pubacksFromEngine++;
    } else if (type === 12) {
      this.pingreqs++;
      this.append(PINGRESP, -1, 0);
    } else if (type === 1) {
      this.connects++;
      this.append(CONNACK, -1, 0);
    } else if (type === 8) {
      this.subscribes++;
      this.append(SUBACK, 2, (bytes[at] << 8) | bytes[at + 1]);
    } else if (type !== 14) {
      this.badPackets++;
    }
  }

  /** Appends `template` to what goes to the engine next, with `id` written at `idAt` (-1: none). */
  append(template: Uint8Array, idAt: number, id: number): void {
    const start = this.pendingLength;
    const target = this.pending;
    for (let i = 0; i < template.length; i++) {
      target[start + i] = template[i];
    }
    if (idAt >= 0) {
      target[start + idAt] = id >> 8;
      target[start + idAt + 1] = id & 0xff;
    }
    this.pendingLength = start + template.length;
  }
}

const broker = new Broker();

/** The application's side: counts and checks every event. */
class App implements EngineEvents {
  connectedCount = 0;
  disconnectedCount = 0;
  messages = 0;
  badMessages = 0;
  acknowledgedCount = 0;
  badAcks = 0;
  expectedQos = 0;
  expectedAckId = 0;

  connected(_sessionPresent: boolean): void {
    this.connectedCount++;
  }

  disconnected(_code: number): void {
    this.disconnectedCount++;
  }

  message(packet: Packet): void {
    const buffer = packet.buffer;
    if (buffer === null || packet.qos !== this.expectedQos || packet.payloadLength !== payload.length ||
      !topicMatches(filterBytes, filterBytes.length, buffer, packet.topicOffset, packet.topicLength) ||
      buffer[packet.payloadOffset] !== payload[0] ||
      buffer[packet.payloadOffset + packet.payloadLength - 1] !== payload[payload.length - 1]) {
      this.badMessages++;
      return;
    }
    this.messages++;
  }

  acknowledged(type: number, packetId: number, reasonCode: number): void {
    if (type === PUBACK && (packetId !== this.expectedAckId || reasonCode !== 0)) {
      this.badAcks++;
      return;
    }
    this.acknowledgedCount++;
  }
}

const app = new App();
const engineOptions = new EngineOptions();
engineOptions.protocolVersion = options.version;
engineOptions.clientId = "device-0042";
engineOptions.keepAlive = 60;
const engine = new Engine(engineOptions, broker, app);

// The virtual clock lives in an object field: V8 updates a double field in place, while a module-level
// `let` holding a fractional number would box a new HeapNumber on every update (the test's allocation, not
// the engine's).
class Clock {
  now = 1000;
  /** Cycles run so far, warm-up included, so the idle gaps (and their pings) fall in the warm-up too. */
  cycles = 0;
}
const clock = new Clock();
const allocating = options.allocating;
const split = options.split;
const clockStep = options.clockStep;
const pingEvery = options.pingEvery;

/** Hands what the broker has written so far to the engine (and whatever that makes it answer, in turn). */
function flush(): void {
  while (broker.pendingLength > 0) {
    const chunk = broker.pending;
    const length = broker.pendingLength;
    broker.pending = broker.delivering;
    broker.delivering = chunk;
    broker.pendingLength = 0;
    if (split && length > 1) {
      const first = length >> 1;
      engine.received(chunk, 0, first, clock.now);
      engine.received(chunk, first, length - first, clock.now);
    } else {
      engine.received(chunk, 0, length, clock.now);
    }
  }
}

/** Advances the virtual clock; polls when the engine's deadline has come; every pingEvery cycles, idles. */
function tick(): void {
  clock.now += clockStep;
  clock.cycles++;
  if (pingEvery > 0 && clock.cycles % pingEvery === 0) {
    // The link goes quiet: the clock moves from deadline to deadline until the engine pings (a deadline
    // may first only move the next one on, when traffic came after it was set); the broker answers.
    const pings = broker.pingreqs;
    for (let step = 0; step < 4 && broker.pingreqs === pings; step++) {
      const next = engine.nextDeadline();
      if (next > clock.now) {
        clock.now = next;
      }
      engine.poll(clock.now);
    }
    flush();
  }
  const deadline = engine.nextDeadline();
  if (deadline >= 0 && clock.now >= deadline) {
    engine.poll(clock.now);
    flush();
  }
}

/** Runs `count` QoS 0 cycles; returns how many completed with every check passing. */
function runQos0(count: number): number {
  let good = 0;
  app.expectedQos = 0;
  for (let i = 0; i < count; i++) {
    tick();
    const sentBefore = broker.publishesQos0;
    const messagesBefore = app.messages;
    if (engine.publish(OUT_TOPIC, payload, 0, payload.length, 0, false, clock.now) !== 0 || broker.publishesQos0 !== sentBefore + 1) {
      continue;
    }
    broker.append(DELIVER_QOS0.bytes, -1, 0);
    flush();
    if (app.messages !== messagesBefore + 1) {
      continue;
    }
    if (allocating) {
      keepGarbage(i);
    }
    good++;
  }
  return good;
}

let deliverId = 0;

/** Runs `count` QoS 1 cycles; returns how many completed with every check passing. */
function runQos1(count: number): number {
  let good = 0;
  app.expectedQos = 1;
  for (let i = 0; i < count; i++) {
    tick();
    const acksBefore = app.acknowledgedCount;
    const messagesBefore = app.messages;
    const pubacksBefore = broker.pubacksFromEngine;
    const id = engine.publish(OUT_TOPIC, payload, 0, payload.length, 1, false, clock.now);
    if (id <= 0 || broker.lastPublishedId !== id) {
      continue;
    }
    app.expectedAckId = id;
    deliverId = deliverId === 65535 ? 1 : deliverId + 1;
    broker.deliveredId = deliverId;
    broker.append(DELIVER_QOS1.bytes, DELIVER_QOS1.idAt, deliverId);
    flush();
    if (app.acknowledgedCount !== acksBefore + 1 || app.messages !== messagesBefore + 1 ||
      broker.pubacksFromEngine !== pubacksBefore + 1 || engine.pendingMessages !== 0) {
      continue;
    }
    if (allocating) {
      keepGarbage(i);
    }
    good++;
  }
  return good;
}

/** One measured loop: what the probe saw, and what went through the engine and the broker meanwhile. */
export interface Measured extends Measurement {
  messages: number;
  published: number;
  acknowledged: number;
  pubacksFromEngine: number;
  pings: number;
}

/** What the child prints. */
export interface EngineResult {
  version: number;
  qos0: Measured;
  qos1: Measured;
  warmupCycles: number;
  connected: boolean;
  connects: number;
  disconnects: number;
  badMessages: number;
  badAcks: number;
  badPackets: number;
  engineCounters: { messagesSent: number; messagesReceived: number; drops: number; pingRoundTripMs: number };
  options: typeof options;
  kept: number;
}

printResult(async (): Promise<EngineResult> => {
  const probe = new GcProbe();

  // Connect and subscribe through the broker stand-in.
  engine.start(clock.now);
  engine.linkOpened(clock.now);
  flush();
  if (engine.state !== CONNECTED) {
    throw new Error(`engine did not connect (state ${engine.state})`);
  }
  if (engine.subscribe(FILTER, 1, clock.now) <= 0) {
    throw new Error("subscribe failed");
  }
  flush();

  const warmed = await warmUp(options.warmup, [runQos0, runQos1]);

  const measure = async (run: (count: number) => number): Promise<Measured> => {
    await settle();
    const messages = app.messages;
    const published = broker.publishesQos0 + broker.publishesQos1;
    const acknowledged = app.acknowledgedCount;
    const pubacks = broker.pubacksFromEngine;
    const pings = broker.pingreqs;
    // The probe's own object, which finish() fills in, with the counters added.
    return Object.assign(probe.measure(run, options.cycles), {
      messages: app.messages - messages,
      published: broker.publishesQos0 + broker.publishesQos1 - published,
      acknowledged: app.acknowledgedCount - acknowledged,
      pubacksFromEngine: broker.pubacksFromEngine - pubacks,
      pings: broker.pingreqs - pings,
    });
  };
  const qos0 = await measure(runQos0);
  const qos1 = await measure(runQos1);
  await probe.finish();

  const counters = engine.counters;
  return {
    version: options.version,
    qos0,
    qos1,
    warmupCycles: warmed,
    connected: engine.state === CONNECTED,
    connects: app.connectedCount,
    disconnects: app.disconnectedCount,
    badMessages: app.badMessages,
    badAcks: app.badAcks,
    badPackets: broker.badPackets,
    engineCounters: {
      messagesSent: counters.messagesSent,
      messagesReceived: counters.messagesReceived,
      drops: counters.drops,
      pingRoundTripMs: counters.pingRoundTripMs,
    },
    options,
    kept: keptLength(),
  };
});
