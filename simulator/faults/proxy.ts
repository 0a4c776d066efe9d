// A TCP fault proxy in front of one broker endpoint: devices connect to it, it connects on to the broker
// and passes the bytes through, adding latency and jitter, cutting connections, holding them half-open,
// partitioning devices. It knows which device a connection belongs to from the client id of the first
// CONNECT packet. TLS passes through as bytes (never terminated) and hides the CONNECT: a TLS device tells
// the proxy who it is instead (expect(), from the same process, as its TCP connection comes up and before
// its first bytes reach the proxy); a TLS connection nobody announced stays unidentified and only the
// latency applies to it.

import net from "node:net";
import { performance } from "node:perf_hooks";
import { CONNECT, MQTT_5 } from "../../device/codec/constants";
import { ERR_MALFORMED } from "../../device/codec/errors";
import { Cursor, readString, readVarint } from "../../device/codec/wire";

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface FaultProxyOptions {
  /** Where the proxy listens: loopback and a free port by default. */
  host?: string;
  port?: number;
  /** Bytes one direction of a connection may hold in flight before its reading side is paused. */
  maxPendingBytes?: number;
  /**
   * The address the proxy's connections to the broker come from. One source address reaches one broker
   * port over about 28,000 ephemeral ports at most, whatever the number of proxies: past that, give each
   * proxy its own (anything in 127.0.0.0/8 for a broker on loopback).
   */
  localAddress?: string;
}

export interface FaultProxyCounters {
  /** Device connections accepted, and those open now. */
  connections: number;
  open: number;
  /** Connections whose first CONNECT named a client id. */
  identified: number;
  bytesToBroker: number;
  bytesToDevice: number;
  /** Chunks (and their bytes) dropped by half-open links and partitions. */
  chunksDropped: number;
  bytesDropped: number;
  cuts: number;
  /** Times a reading side was paused because its direction held too much, and the most one ever held. */
  pauses: number;
  peakPendingBytes: number;
  /** Accepts that failed, and connections to the broker that failed (refused while it is down, EMFILE, reset). */
  acceptErrors: number;
  brokerErrors: number;
}

/**
 * The client id a connection's first bytes carry: the id, null when they are not a well-formed CONNECT
 * with a non-empty client id within the first IDENTIFY_LIMIT bytes (such a connection is forwarded
 * unidentified), or undefined while more bytes are needed to tell. MQTT 3.1 (MQIsdp), 3.1.1 and 5.0.
 */
export function connectClientId(bytes: Buffer): string | null | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] !== CONNECT << 4) return null;
  const cursor = new Cursor();
  const available = Math.min(bytes.length, IDENTIFY_LIMIT);
  // A read that fails only because the bytes have not all come yet waits for them; any other fails for good.
  const incomplete = (end: number) => end === bytes.length && bytes.length < IDENTIFY_LIMIT ? undefined : null;
  const header = readVarint(bytes, 1, available, cursor);
  if (header !== 0) return header === ERR_MALFORMED ? incomplete(available) : null;
  if (cursor.value > MAX_CONNECT_LENGTH) return null;
  const end = Math.min(available, cursor.next + cursor.value);
  const packetEnd = cursor.next + cursor.value;
  const short = () => (end < packetEnd ? incomplete(end) : null);
  const protocol = readString(bytes, cursor.next, end, cursor);
  if (protocol !== 0) return protocol === ERR_MALFORMED ? short() : null;
  const name = bytes.toString("latin1", cursor.value, cursor.value + cursor.length);
  let at = cursor.next;
  if (at + 4 > end) return short();
  const level = bytes[at];
  if (!(name === "MQTT" && (level === 4 || level === MQTT_5)) && !(name === "MQIsdp" && level === 3)) return null;
  // The flags' reserved bit must be 0; the keep-alive (2 bytes) follows.
  if ((bytes[at + 1] & 1) !== 0) return null;
  at += 4;
  if (level === MQTT_5) {
    const properties = readVarint(bytes, at, end, cursor);
    if (properties !== 0) return properties === ERR_MALFORMED ? short() : null;
    at = cursor.next + cursor.value;
    if (at > packetEnd) return null;
  }
  const id = readString(bytes, at, end, cursor);
  if (id !== 0) return id === ERR_MALFORMED ? short() : null;
  return cursor.length === 0 ? null : bytes.toString("utf8", cursor.value, cursor.value + cursor.length);
}

/** The most bytes held while looking for the client id: a CONNECT's id comes within its first few hundred. */
const IDENTIFY_LIMIT = 4096;
/** A larger first packet is no device's CONNECT (all its fields at their 3.1.1 maximum come to ~320 KB). */
const MAX_CONNECT_LENGTH = 512 * 1024;

const DEFAULT_MAX_PENDING = 64 * 1024;

/** What a direction's queue ends with when its source has closed: the target is ended after the bytes. */
const END = null;

/** One direction of a connection: chunks from `source` waiting their delivery time before `target`. */
class Direction {
  private readonly chunks: (Buffer | typeof END)[] = [];
  private readonly times: number[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Paused by this direction because it held too much. */
  private pausedSource = false;
  private ended = false;

  constructor(private readonly proxy: FaultProxy, readonly source: net.Socket, private readonly toBroker: boolean) {}

  target: net.Socket | null = null;

  /**
   * Queues a chunk (or END) for delivery after the proxy's latency. The queue is first in, first out: a
   * chunk whose time comes before an earlier chunk's waits for it, so jitter never reorders the bytes.
   */
  push(chunk: Buffer | typeof END): void {
    if (chunk === END) {
      if (this.ended) return;
      this.ended = true;
    }
    const now = performance.now();
    const at = now + this.proxy.delay();
    if (at <= now && this.head === this.chunks.length) {
      this.deliver(chunk);
    } else {
      this.chunks.push(chunk);
      this.times.push(at);
      if (chunk !== END) this.queuedBytes += chunk.length;
      if (this.timer === null) this.arm();
    }
    this.checkPressure();
  }

  private arm(): void {
    const wait = this.times[this.head] - performance.now();
    this.timer = setTimeout(() => this.flush(), Math.max(0, wait));
  }

  /** Delivers every chunk whose time has come, then waits for the next. */
  private flush(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.chunks.length && this.times[this.head] <= now) {
      const chunk = this.chunks[this.head];
      // Not kept alive by the queue once delivered.
      this.chunks[this.head] = END;
      this.head++;
      if (chunk !== END) this.queuedBytes -= chunk.length;
      this.deliver(chunk);
    }
    // Under steady traffic the queue never empties: drop the delivered slots once they are half of it.
    if (this.head === this.chunks.length || this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.times.splice(0, this.head);
      this.head = 0;
    }
    if (this.chunks.length > 0) this.arm();
    this.checkPressure();
  }

  private deliver(chunk: Buffer | typeof END): void {
    const target = this.target;
    if (target === null || target.destroyed) return;
    if (chunk === END) {
      target.end();
      return;
    }
    target.write(chunk);
    this.proxy.countDelivered(chunk.length, this.toBroker);
  }

  /** Bytes this direction holds: queued for their time, and written but not yet taken by the target. */
  pending(): number {
    return this.queuedBytes + (this.target !== null ? this.target.writableLength : 0);
  }

  /** Pauses the source past the limit, resumes it once half of that is gone (so it does not flap). */
  checkPressure(): void {
    const pending = this.pending();
    this.proxy.notePending(pending);
    if (!this.pausedSource && pending > this.proxy.maxPendingBytes) {
      this.pausedSource = true;
      this.source.pause();
      this.proxy.countPause();
    } else if (this.pausedSource && pending <= this.proxy.maxPendingBytes / 2) {
      this.pausedSource = false;
      this.source.resume();
    }
  }

  /** Throws away what is queued (counted as dropped) and lets the source flow again. */
  discard(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i];
      if (chunk !== END) this.proxy.countDropped(chunk.length);
    }
    this.chunks.length = 0;
    this.times.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    if (this.pausedSource) {
      this.pausedSource = false;
      this.source.resume();
    }
  }
}

/** How an announcement (FaultProxy.expect) and the connection it names (Connection.peer) are matched. */
function peerKey(address: string | undefined, port: number | undefined): string {
  return `${address}:${port}`;
}

const IDENTIFYING = 0;
const FORWARDING = 1;
/** Half-open or black-holed: both sockets stay open, every byte is dropped, no close is passed on. */
const DROPPING = 2;
const CUT = 3;

/** One device connection and, once it is identified and not black-holed, its connection to the broker. */
class Connection {
  state = IDENTIFYING;
  clientId: string | null = null;
  broker: net.Socket | null = null;
  readonly up: Direction;
  down: Direction | null = null;
  /** "address:port" the device connects from: where a TLS device's announcement is filed (FaultProxy.expect). */
  readonly peer: string;
  private firstBytes: Buffer = Buffer.alloc(0);

  constructor(private readonly proxy: FaultProxy, readonly device: net.Socket) {
    this.up = new Direction(proxy, device, true);
    // Read now: a closed socket no longer knows its peer.
    this.peer = peerKey(device.remoteAddress, device.remotePort);
    device.on("data", (chunk: Buffer) => this.fromDevice(chunk));
    device.on("end", () => this.sourceEnded(this.up));
    device.on("close", () => this.socketClosed(this.up));
    device.on("error", () => undefined);
  }

  private fromDevice(chunk: Buffer): void {
    if (this.state === FORWARDING) {
      this.up.push(chunk);
    } else if (this.state === IDENTIFYING) {
      this.firstBytes = this.firstBytes.length === 0 ? chunk : Buffer.concat([this.firstBytes, chunk]);
      const id = connectClientId(this.firstBytes);
      if (id !== undefined) this.identified(id);
    } else {
      this.proxy.countDropped(chunk.length);
    }
  }

  /** The first bytes told who this is (or that nobody can tell): black-hole it, or connect on to the broker. */
  private identified(id: string | null): void {
    const first = this.firstBytes;
    this.firstBytes = Buffer.alloc(0);
    if (id === null) id = this.proxy.announced(this.peer);
    this.clientId = id;
    if (id !== null) this.proxy.register(this, id);
    if (id !== null && this.proxy.isPartitioned(id)) {
      this.state = DROPPING;
      this.proxy.countDropped(first.length);
      return;
    }
    this.state = FORWARDING;
    const broker = net.connect({ host: this.proxy.target.host, port: this.proxy.target.port, localAddress: this.proxy.localAddress });
    broker.setNoDelay(true);
    this.device.setNoDelay(true);
    this.broker = broker;
    this.up.target = broker;
    const down = new Direction(this.proxy, broker, false);
    down.target = this.device;
    this.down = down;
    broker.on("data", (chunk: Buffer) => {
      if (this.state === FORWARDING) down.push(chunk);
      else this.proxy.countDropped(chunk.length);
    });
    broker.on("drain", () => this.up.checkPressure());
    this.device.on("drain", () => down.checkPressure());
    broker.on("end", () => this.sourceEnded(down));
    broker.on("close", () => this.socketClosed(down));
    broker.on("error", (error: NodeJS.ErrnoException) => this.proxy.brokerError(error));
    this.up.push(first);
  }

  private sourceEnded(direction: Direction): void {
    // A half-open link passes no close on: the far end must find out by its keep-alive.
    if (this.state === FORWARDING) direction.push(END);
    else if (this.state === IDENTIFYING) this.device.destroy();
  }

  private socketClosed(direction: Direction): void {
    // A reset arrives as a close without an end: the far side is ended after what was already queued.
    this.sourceEnded(direction);
    const deviceGone = this.device.destroyed;
    const brokerGone = this.broker === null || this.broker.destroyed;
    if (deviceGone && brokerGone) {
      this.up.discard();
      this.down?.discard();
      this.proxy.unregister(this);
    }
  }

  /** From now on every byte is dropped both ways and both sockets stay open. */
  dropAll(): void {
    if (this.state === DROPPING || this.state === CUT) return;
    this.state = DROPPING;
    this.up.discard();
    this.down?.discard();
  }

  /** Both sides closed at once: the device gets a reset, the broker a closed connection. */
  cut(): void {
    this.state = CUT;
    this.up.discard();
    this.down?.discard();
    this.device.resetAndDestroy();
    this.broker?.destroy();
  }
}

/**
 * The proxy. Each device connection costs it two file descriptors (the device's socket and its own to the
 * broker; a black-holed one only the first), on top of the device's own: count them in an open-file budget.
 */
export class FaultProxy {
  /** Open files the proxy needs per device connection. */
  static readonly FILES_PER_CONNECTION = 2;

  readonly counters: FaultProxyCounters = {
    connections: 0, open: 0, identified: 0, bytesToBroker: 0, bytesToDevice: 0,
    chunksDropped: 0, bytesDropped: 0, cuts: 0, pauses: 0, peakPendingBytes: 0, acceptErrors: 0, brokerErrors: 0,
  };
  /** The last accept or broker connection error ("" while there was none). */
  lastError = "";
  readonly maxPendingBytes: number;
  readonly localAddress: string | undefined;
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  /** Each identified device's latest connection. */
  private readonly byClientId = new Map<string, Connection>();
  /** Client ids announced by TLS devices (expect()), by the "address:port" their connection comes from. */
  private readonly expected = new Map<string, string>();
  private readonly partitioned = new Set<string>();
  private latencyMs = 0;
  private jitterMs = 0;
  private random: () => number = Math.random;

  private constructor(readonly target: ProxyTarget, readonly host: string, public port: number, options: FaultProxyOptions) {
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.localAddress = options.localAddress;
    this.server = net.createServer((socket) => {
      this.counters.connections++;
      this.counters.open++;
      this.connections.add(new Connection(this, socket));
    });
  }

  /**
   * Listens, then keeps listening through failed accepts. Out of files, libuv itself accepts and closes the
   * excess connections (the device sees a close) and says nothing; other accept errors come here.
   */
  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.server.on("error", (error: NodeJS.ErrnoException) => {
      this.counters.acceptErrors++;
      this.lastError = error.code ?? error.message;
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** A proxy listening (on loopback, a free port unless told) in front of `target`. */
  static async start(target: ProxyTarget, options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, options.host ?? "127.0.0.1", options.port ?? 0, options);
    await proxy.listen();
    return proxy;
  }

  // ---- controls: each takes effect at once ----

  /** Each chunk from now on, either way, is delayed by ms plus up to jitterMs (uniform, drawn from random). */
  setLatency(ms: number, jitterMs = 0, random: () => number = Math.random): void {
    if (!(ms >= 0) || !(jitterMs >= 0)) throw new RangeError(`latency and jitter must be >= 0 ms (got ${ms}, ${jitterMs})`);
    this.latencyMs = ms;
    this.jitterMs = jitterMs;
    this.random = random;
  }

  /** Closes both sides of the device's current connection; false when it has none. */
  cut(clientId: string): boolean {
    const connection = this.byClientId.get(clientId);
    if (connection === undefined) return false;
    this.counters.cuts++;
    connection.cut();
    return true;
  }

  /** Drops every byte of the device's current connection from now on, both sockets left open; false when it has none. */
  halfOpen(clientId: string): boolean {
    const connection = this.byClientId.get(clientId);
    if (connection === undefined) return false;
    connection.dropAll();
    return true;
  }

  /**
   * On: the devices' connections turn half-open, and their new ones are accepted and black-holed (never
   * reach the broker). Off: new connections get through again; ones already held stay as they are.
   */
  partition(clientIds: Iterable<string>, on: boolean): void {
    for (const id of clientIds) {
      if (on) {
        this.partitioned.add(id);
        this.byClientId.get(id)?.dropAll();
      } else {
        this.partitioned.delete(id);
      }
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.cut();
    this.partitioned.clear();
    await closed;
  }

  // ---- what connections report ----

  /** The delay for the next chunk. */
  delay(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.random() * this.jitterMs : 0);
  }

  isPartitioned(clientId: string): boolean {
    return this.partitioned.has(clientId);
  }

  /**
   * A device whose CONNECT the proxy cannot read (TLS) says who it is: its connection from `address:port`
   * is `clientId`'s. Called as its TCP connection comes up, before its first bytes reach the proxy.
   */
  expect(address: string, port: number, clientId: string): void {
    this.expected.set(peerKey(address, port), clientId);
  }

  /** Announcements not yet taken by a connection (each is taken, or dropped when its connection closes first). */
  get announcementsWaiting(): number {
    return this.expected.size;
  }

  /** The client id announced for the connection from `peer` (taken: a port is reused later), or null. */
  announced(peer: string): string | null {
    const id = this.expected.get(peer);
    if (id === undefined) return null;
    this.expected.delete(peer);
    return id;
  }

  register(connection: Connection, clientId: string): void {
    this.counters.identified++;
    this.byClientId.set(clientId, connection);
  }

  unregister(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    this.counters.open--;
    // Gone before its first bytes: its announcement would otherwise stay until its port is reused.
    if (connection.clientId === null) this.expected.delete(connection.peer);
    const id = connection.clientId;
    if (id !== null && this.byClientId.get(id) === connection) this.byClientId.delete(id);
  }

  countDelivered(bytes: number, toBroker: boolean): void {
    if (toBroker) this.counters.bytesToBroker += bytes;
    else this.counters.bytesToDevice += bytes;
  }

  countDropped(bytes: number): void {
    this.counters.chunksDropped++;
    this.counters.bytesDropped += bytes;
  }

  brokerError(error: NodeJS.ErrnoException): void {
    this.counters.brokerErrors++;
    this.lastError = error.code ?? error.message;
  }

  countPause(): void {
    this.counters.pauses++;
  }

  notePending(bytes: number): void {
    if (bytes > this.counters.peakPendingBytes) this.counters.peakPendingBytes = bytes;
  }
}
