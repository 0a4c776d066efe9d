// A scripted broker and a virtual clock for the sans-I/O engine.
//
// - The clock is a number. advance()/advanceTo() move it and call engine.poll(t) whenever t reaches
//   engine.nextDeadline() (and run the broker's scheduled actions), exactly as a platform driver would.
// - The fake Link records every write, copies the bytes (the engine reuses its buffers) and parses them with
//   mqtt-packet's parser, the independent oracle. Each write must be exactly one whole, valid packet.
// - The test answers with mqtt.generate(packet) fed to engine.received(), optionally cut into random pieces,
//   each piece in a fresh chunk at a random offset that is scribbled over after the call (so an engine that
//   keeps a reference to a received chunk shows up).
// - Broker reactions are never run inside an engine call (a real socket answers later): they are queued and
//   run by settle() once the engine call has returned.
// Every engine event and every packet written lands in one ordered log, so tests can check order.

import * as mqtt from "mqtt-packet";
import { Engine, EngineOptions, IDLE, CONNECTED } from "../../device/engine";
import type { EngineEvents, Link } from "../../device/engine";
import type { Packet } from "../../device/codec";

export type Version = 4 | 5;

export type Entry =
  | { t: number; kind: "out"; packet: mqtt.Packet; bytes: Buffer }
  | { t: number; kind: "open" }
  | { t: number; kind: "close" }
  | { t: number; kind: "connected"; sessionPresent: boolean }
  | { t: number; kind: "disconnected"; code: number }
  | { t: number; kind: "message"; message: Message }
  | { t: number; kind: "acknowledged"; type: number; packetId: number; reasonCode: number };

export interface Message {
  topic: string;
  payload: string;
  qos: number;
  dup: boolean;
  retain: boolean;
  packetId: number;
}

/** What the fake link does when the engine calls open(). */
export type OpenBehaviour = "open" | "fail" | "manual";

export interface HarnessConfig {
  version: Version;
  /** EngineOptions fields to set over the defaults (protocolVersion comes from `version`). */
  options?: Partial<EngineOptions>;
  /** "open": the link opens at once (default); "fail": it fails at once (linkClosed); "manual": the test decides. */
  open?: OpenBehaviour;
  /** When non-zero, every delivery to the engine is cut into random pieces drawn from this seed. */
  splitSeed?: number;
  /** Called (outside any engine call) for every packet the engine writes. */
  responder?: (packet: mqtt.Packet, h: Harness) => void;
  /** Called inside the message event, before the engine returns from it. */
  onMessage?: (message: Message, h: Harness) => void;
}

/** A small seeded generator for the chunk cuts (independent of the engine's own Random). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeOptions(version: Version, overrides?: Partial<EngineOptions>): EngineOptions {
  const options = new EngineOptions();
  options.protocolVersion = version;
  options.clientId = "device-1";
  if (overrides !== undefined) {
    Object.assign(options, overrides);
  }
  options.protocolVersion = version;
  return options;
}

export class Harness implements Link {
  /** The virtual clock, in milliseconds. */
  t = 0;
  readonly version: Version;
  readonly options: EngineOptions;
  readonly engine: Engine;
  readonly log: Entry[] = [];
  /** Everything the engine did wrong on the wire: writes on a closed link, unparsable bytes, ... */
  readonly violations: string[] = [];
  openBehaviour: OpenBehaviour;
  responder: ((packet: mqtt.Packet, h: Harness) => void) | null;
  onMessage: ((message: Message, h: Harness) => void) | null;
  /** Runs inside the engine's connected event, as an application's handler does. */
  onConnected: ((sessionPresent: boolean, h: Harness) => void) | null = null;
  /** open() calls and close() calls made by the engine. */
  opens = 0;
  closes = 0;
  /** True between linkOpened() and close()/linkClosed(). */
  linkUp = false;

  private random: (() => number) | null;
  private parser: mqtt.Parser;
  private parsedInWrite: mqtt.Packet[] = [];
  private pendingOpen = false;
  private settling = false;
  private responderCursor = 0;
  private takeCursor = 0;
  private readonly actions: { at: number; seq: number; run: () => void }[] = [];
  private actionSeq = 0;
  private readonly out: mqtt.Packet[] = [];

  constructor(config: HarnessConfig) {
    this.version = config.version;
    this.options = makeOptions(config.version, config.options);
    this.openBehaviour = config.open ?? "open";
    this.responder = config.responder ?? null;
    this.onMessage = config.onMessage ?? null;
    this.random = config.splitSeed ? mulberry32(config.splitSeed) : null;
    this.parser = this.newParser();
    const events: EngineEvents = {
      connected: (sessionPresent) => {
        this.log.push({ t: this.t, kind: "connected", sessionPresent });
        if (this.onConnected !== null) {
          this.onConnected(sessionPresent, this);
        }
      },
      disconnected: (code) => {
        this.log.push({ t: this.t, kind: "disconnected", code });
      },
      message: (packet) => {
        const message = copyMessage(packet);
        this.log.push({ t: this.t, kind: "message", message });
        if (this.onMessage !== null) {
          this.onMessage(message, this);
        }
      },
      acknowledged: (type, packetId, reasonCode) => {
        this.log.push({ t: this.t, kind: "acknowledged", type, packetId, reasonCode });
      },
    };
    this.engine = new Engine(this.options, this, events);
  }

  // ---- Link (called by the engine) ----

  open(): void {
    this.opens++;
    this.log.push({ t: this.t, kind: "open" });
    if (this.linkUp) {
      this.violations.push(`t=${this.t}: open() while the previous link is still up`);
    }
    this.parser = this.newParser();
    this.pendingOpen = true;
  }

  write(bytes: Uint8Array, offset: number, length: number): void {
    const copy = Buffer.from(bytes.subarray(offset, offset + length));
    if (!this.linkUp) {
      this.violations.push(`t=${this.t}: write of ${length} bytes on a link that is not open: ${copy.toString("hex")}`);
    }
    this.parsedInWrite = [];
    const left = this.parser.parse(copy);
    const packets = this.parsedInWrite;
    if (packets.length !== 1 || left !== 0) {
      this.violations.push(
        `t=${this.t}: a write held ${packets.length} whole packet(s) and ${left} stray byte(s): ${copy.toString("hex")}`);
      this.parser = this.newParser();
    }
    for (const packet of packets) {
      this.out.push(packet);
      this.log.push({ t: this.t, kind: "out", packet, bytes: copy });
    }
  }

  close(): void {
    this.closes++;
    this.log.push({ t: this.t, kind: "close" });
    this.linkUp = false;
    this.pendingOpen = false;
  }

  // ---- the driver's side ----

  start(): void {
    this.engine.start(this.t);
    this.settle();
  }

  stop(): void {
    this.engine.stop(this.t);
    this.settle();
  }

  /** Completes a pending open (for open: "manual"). */
  openLink(): void {
    this.pendingOpen = false;
    this.linkUp = true;
    this.engine.linkOpened(this.t);
    this.settle();
  }

  /** The transport fails (refused, reset, ...): the driver reports linkClosed(). */
  loseLink(): void {
    this.pendingOpen = false;
    this.linkUp = false;
    this.engine.linkClosed(this.t);
    this.settle();
  }

  get pendingOpenRequest(): boolean {
    return this.pendingOpen;
  }

  /** Moves the clock by `ms`, polling the engine at each deadline on the way. */
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  advanceTo(target: number): void {
    let stalls = 0;
    for (;;) {
      const next = this.nextEventTime();
      if (next > target) {
        this.t = Math.max(this.t, target);
        return;
      }
      this.t = next;
      while (this.actions.length > 0 && this.actions[0].at <= this.t) {
        const first = this.actions[0];
        this.actions.shift();
        first.run();
        this.settle();
      }
      const due = this.engine.nextDeadline();
      if (due >= 0 && due <= this.t) {
        this.engine.poll(this.t);
        this.settle();
        const after = this.engine.nextDeadline();
        if (after >= 0 && after <= this.t) {
          stalls++;
          if (stalls > 100) {
            throw new Error(`engine deadline stuck at ${after} (t=${this.t}): poll() does not move it`);
          }
        } else {
          stalls = 0;
        }
      }
    }
  }

  /** Advances until `predicate` holds (checked after every step), at most `limit` ms; returns whether it held. */
  advanceUntil(predicate: () => boolean, limit: number): boolean {
    const end = this.t + limit;
    for (;;) {
      if (predicate()) {
        return true;
      }
      if (this.t >= end) {
        return false;
      }
      this.advanceTo(Math.min(this.nextEventTime(), end));
    }
  }

  /** When the next deadline or broker action is due (never before now), or Infinity. */
  nextEventTime(): number {
    const deadline = this.engine.nextDeadline();
    let next = deadline >= 0 ? Math.max(deadline, this.t) : Infinity;
    if (this.actions.length > 0 && Math.max(this.actions[0].at, this.t) < next) {
      next = Math.max(this.actions[0].at, this.t);
    }
    return next;
  }

  /** Runs `run` when the clock reaches `at` (broker-side actions such as a delayed PINGRESP). */
  schedule(at: number, run: () => void): void {
    this.actions.push({ at, seq: this.actionSeq++, run });
    this.actions.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  // ---- the application's side ----

  publish(topic: string, payload: string, qos: number, retain = false): number {
    // The payload sits inside a larger buffer, so that (offset, length) are really honoured.
    const body = Buffer.from(payload, "utf8");
    const buffer = new Uint8Array(body.length + 7);
    buffer.fill(0x5a);
    buffer.set(body, 3);
    const result = this.engine.publish(topic, buffer, 3, body.length, qos, retain, this.t);
    buffer.fill(0xa5);
    this.settle();
    return result;
  }

  subscribe(filter: string, qos: number): number {
    const result = this.engine.subscribe(filter, qos, this.t);
    this.settle();
    return result;
  }

  unsubscribe(filter: string): number {
    const result = this.engine.unsubscribe(filter, this.t);
    this.settle();
    return result;
  }

  // ---- the broker's side ----

  /** Sends a packet to the engine, encoded by mqtt-packet for this protocol version. */
  send(packet: mqtt.Packet): void {
    this.deliver(mqtt.generate(packet, { protocolVersion: this.version }));
  }

  /** Sends raw bytes to the engine (cut into random pieces when a split seed is set). */
  deliver(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      let size = bytes.length - at;
      if (this.random !== null) {
        const r = this.random();
        size = r < 0.3 ? 1 : 1 + Math.floor(this.random() * size);
      }
      const pad = this.random !== null ? Math.floor(this.random() * 5) : 0;
      const chunk = new Uint8Array(pad + size + 3);
      chunk.fill(0xee);
      chunk.set(bytes.subarray(at, at + size), pad);
      this.engine.received(chunk, pad, size, this.t);
      chunk.fill(0xee);
      at += size;
      this.settle();
    }
  }

  /** Sends bytes cut exactly into pieces of the given sizes (the rest, if any, as one last piece). */
  deliverPieces(bytes: Uint8Array, sizes: number[]): void {
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const size = i < sizes.length ? Math.min(sizes[i], bytes.length - at) : bytes.length - at;
      const chunk = new Uint8Array(size + 2);
      chunk.set(bytes.subarray(at, at + size), 1);
      this.engine.received(chunk, 1, size, this.t);
      chunk.fill(0xee);
      at += size;
      this.settle();
    }
  }

  connack(sessionPresent = false, reasonCode = 0, properties?: Record<string, unknown>): void {
    if (this.version === 5) {
      const packet: Record<string, unknown> = { cmd: "connack", sessionPresent, reasonCode };
      if (properties !== undefined) {
        packet.properties = properties;
      }
      this.send(packet as unknown as mqtt.IConnackPacket);
    } else {
      this.send({ cmd: "connack", sessionPresent, returnCode: reasonCode });
    }
  }

  puback(messageId: number): void {
    this.send({ cmd: "puback", messageId });
  }

  /** Brings the engine up: start() when idle, wait for the link to open and the CONNECT, answer CONNACK. */
  connect(sessionPresent = false, properties?: Record<string, unknown>): mqtt.IConnectPacket {
    if (this.engine.state === IDLE) {
      this.start();
    }
    const found = this.advanceUntil(() => this.takeOf("connect", false) !== null, 3_600_000);
    if (!found) {
      throw new Error("the engine never sent CONNECT");
    }
    const connect = this.takeOf("connect", true) as mqtt.IConnectPacket;
    this.connack(sessionPresent, 0, properties);
    if (this.engine.state !== CONNECTED) {
      throw new Error(`not connected after CONNACK (state ${this.engine.state})`);
    }
    return connect;
  }

  // ---- what happened ----

  /** Every packet the engine has written. */
  get written(): mqtt.Packet[] {
    return this.out;
  }

  /** Packets written since the last take(). */
  take(): mqtt.Packet[] {
    const packets = this.out.slice(this.takeCursor);
    this.takeCursor = this.out.length;
    return packets;
  }

  /** The first not-yet-taken packet of `cmd` (consuming everything up to it when `consume`), or null. */
  private takeOf(cmd: string, consume: boolean): mqtt.Packet | null {
    for (let i = this.takeCursor; i < this.out.length; i++) {
      if (this.out[i].cmd === cmd) {
        if (consume) {
          this.takeCursor = i + 1;
        }
        return this.out[i];
      }
    }
    return null;
  }

  /** The log entries of one kind. */
  entries<K extends Entry["kind"]>(kind: K): Extract<Entry, { kind: K }>[] {
    return this.log.filter((e) => e.kind === kind) as Extract<Entry, { kind: K }>[];
  }

  get disconnects(): number[] {
    return this.entries("disconnected").map((e) => e.code);
  }

  get messages(): Message[] {
    return this.entries("message").map((e) => e.message);
  }

  get acks(): { type: number; packetId: number; reasonCode: number }[] {
    return this.entries("acknowledged").map((e) => ({ type: e.type, packetId: e.packetId, reasonCode: e.reasonCode }));
  }

  /** Times at which the engine wrote a packet of `cmd`. */
  timesOf(cmd: string): number[] {
    return this.entries("out").filter((e) => e.packet.cmd === cmd).map((e) => e.t);
  }

  // ---- inside ----

  /** Runs what the link and the broker do in reaction to the last engine call, outside that call. */
  settle(): void {
    if (this.settling) {
      return;
    }
    this.settling = true;
    try {
      for (;;) {
        if (this.pendingOpen) {
          if (this.openBehaviour === "open") {
            this.pendingOpen = false;
            this.linkUp = true;
            this.engine.linkOpened(this.t);
            continue;
          }
          if (this.openBehaviour === "fail") {
            this.pendingOpen = false;
            this.engine.linkClosed(this.t);
            continue;
          }
        }
        if (this.responderCursor < this.out.length) {
          const packet = this.out[this.responderCursor++];
          if (this.responder !== null) {
            this.responder(packet, this);
          }
          continue;
        }
        return;
      }
    } finally {
      this.settling = false;
    }
  }

  private newParser(): mqtt.Parser {
    const parser = mqtt.parser({ protocolVersion: this.version });
    parser.on("packet", (packet: mqtt.Packet) => {
      this.parsedInWrite.push(packet);
    });
    parser.on("error", (error: Error) => {
      this.violations.push(`t=${this.t}: mqtt-packet rejects what the engine wrote: ${error.message}`);
    });
    return parser;
  }
}

function copyMessage(packet: Packet): Message {
  const buffer = packet.buffer as Uint8Array;
  return {
    topic: Buffer.from(buffer.subarray(packet.topicOffset, packet.topicOffset + packet.topicLength)).toString("utf8"),
    payload: Buffer.from(buffer.subarray(packet.payloadOffset, packet.payloadOffset + packet.payloadLength))
      .toString("utf8"),
    qos: packet.qos,
    dup: packet.dup,
    retain: packet.retain,
    packetId: packet.packetId,
  };
}

/** Bytes as a Buffer, for mqtt-packet fields. */
export function buf(text: string): Buffer {
  return Buffer.from(text, "utf8");
}
