// The Node driver: the engine over node:net or node:tls, woken at the engine's next deadline by a Clock
// (its own timer by default; the simulator's one shared timer for a fleet), with the small API an
// application uses.

import { performance } from "node:perf_hooks";
import { Engine, EngineEvents, EngineOptions, Link, Counters } from "../../engine";
import { Bytes, copyBytes, utf8Length, writeUtf8 } from "../bytes";
import { ERR_BAD_ARGUMENT } from "../../codec/errors";
import { utf8Error } from "../../codec/wire";
import { Endpoint, Transport, TransportOwner, openTransport } from "./transport";
import { GuardedEvents } from "../guarded-events";

export type { Endpoint };

/** Wakes clients at their deadlines. */
export interface Clock {
  now(): number;
  /**
   * Call client.wake() at `deadline` (on this clock), replacing any earlier request; -1 cancels. Waking
   * earlier is allowed: the engine polls, finds nothing due, and the client asks again.
   */
  wakeAt(client: NodeClient, deadline: number): void;
}

/**
 * Whole milliseconds for the engine: V8 keeps a field that only ever held small integers inline, where a
 * fractional time costs a boxed number per field per client (about 150 bytes for a fleet's device).
 */
export function wholeMilliseconds(): number {
  return Math.floor(performance.now());
}

/**
 * The default clock: performance.now() in whole milliseconds and one setTimeout per client (kept in client.timer). The
 * keep-alive deadline moves later with every packet sent, so an armed timer is kept while the new
 * deadline is later than the one it was armed for: it fires early, the engine finds nothing due, and the
 * client asks again for the deadline of that moment. So a busy client re-arms about once per keep-alive
 * interval, not once per message.
 */
class TimerClock implements Clock {
  now(): number {
    return wholeMilliseconds();
  }

  wakeAt(client: NodeClient, deadline: number): void {
    if (client.timer !== null) {
      if (deadline >= client.timerDeadline) {
        return;
      }
      clearTimeout(client.timer);
      client.timer = null;
    }
    if (deadline >= 0) {
      client.timerDeadline = deadline;
      client.timer = setTimeout(wakeClient, Math.max(0, deadline - performance.now()), client);
    }
  }
}

function wakeClient(client: NodeClient): void {
  client.timer = null;
  client.wake();
}

const timers = new TimerClock();

/**
 * Coalesced output. A write per packet costs a system call per packet (on loopback also the reader's TCP
 * processing and wake-up, about 10 us of CPU each here); instead the packets written during one turn of the
 * event loop are gathered here and leave in one transport.send, on process.nextTick. Under load, a
 * connection that was written to less than `holdMs` ago (in whole milliseconds) waits for the rest of that
 * time, so that a stream of messages or acknowledgements leaves in about one write per millisecond rather
 * than one per packet: it cut the CPU per QoS 1 message about fourfold in bench/client. A connection that
 * was quiet goes at the end of the turn, so the latency added is at most `holdMs` and only under load
 * (0 turns the waiting off). There is one buffer for the whole process, holding one transport's bytes at a
 * time, so gathering costs no memory per client: when another transport's bytes come, or the buffer is
 * full, what it holds goes out at once, and a packet larger than the whole buffer goes out alone. Each
 * flush copies the bytes into a fresh Buffer (from Node's pool when small), since a transport keeps what
 * it was given until it is written and this buffer is reused at once. A client closing its link flushes
 * first, so that a DISCONNECT written just before is not lost.
 */
class Output {
  /** Whole milliseconds a recently written connection waits; set by setWriteHold(). */
  holdMs = 1;
  private readonly bytes: Buffer;
  private length = 0;
  /** The transport whose bytes are gathered, or null when there are none. */
  private transport: Transport | null = null;
  private tickScheduled = false;
  private timerScheduled = false;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  write(transport: Transport, bytes: Bytes, offset: number, length: number): void {
    if (this.transport !== transport || length > this.bytes.length - this.length) {
      this.flush();
    }
    if (length > this.bytes.length) {
      send(transport, Buffer.from(bytes.subarray(offset, offset + length)));
      return;
    }
    if (length > 256) {
      this.bytes.set(bytes.subarray(offset, offset + length), this.length);
    } else {
      copyBytes(this.bytes, this.length, bytes, offset, length);
    }
    if (this.length === 0) {
      this.schedule(transport);
    }
    this.length += length;
    this.transport = transport;
  }

  /** Arranges a flush of `transport`'s first bytes: at the end of this turn, or when its hold is over. */
  private schedule(transport: Transport): void {
    const wait = transport.flushedAt < 0 ? 0 : this.holdMs - (wholeMilliseconds() - transport.flushedAt);
    if (wait > 0) {
      // A pending timer, due for another transport, may flush these bytes sooner: never later.
      if (!this.timerScheduled) {
        this.timerScheduled = true;
        setTimeout(flushOutputOnTimer, wait);
      }
    } else if (!this.tickScheduled) {
      this.tickScheduled = true;
      process.nextTick(flushOutputOnTick);
    }
  }

  /** Sends what is gathered for `transport` now (before it closes). */
  flushFor(transport: Transport): void {
    if (this.transport === transport) {
      this.flush();
    }
  }

  /** Sends what is gathered, if its transport can still take it. */
  flush(): void {
    const transport = this.transport;
    const length = this.length;
    this.transport = null;
    this.length = 0;
    if (transport !== null && length > 0 && transport.writable) {
      const chunk = Buffer.allocUnsafe(length);
      this.bytes.copy(chunk, 0, 0, length);
      send(transport, chunk);
    }
  }

  tickFlush(): void {
    this.tickScheduled = false;
    this.flush();
  }

  timerFlush(): void {
    this.timerScheduled = false;
    this.flush();
  }
}

/** Hands `chunk` to `transport`, noting when (the hold counts from there). */
function send(transport: Transport, chunk: Uint8Array): void {
  transport.flushedAt = wholeMilliseconds();
  transport.send(chunk);
}

const output = new Output(64 * 1024);

function flushOutputOnTick(): void {
  output.tickFlush();
}

function flushOutputOnTimer(): void {
  output.timerFlush();
}

/**
 * How long (whole milliseconds, 0-1000) a connection written to less than that long ago holds its next
 * bytes, for every client of this process; 1 by default, 0 sends at the end of every turn (the lowest
 * latency, one system call per burst of packets). Returns 0, or ERR_BAD_ARGUMENT (the hold is unchanged).
 */
export function setWriteHold(milliseconds: number): number {
  if (!Number.isInteger(milliseconds) || milliseconds < 0 || milliseconds > 1000) {
    return ERR_BAD_ARGUMENT;
  }
  output.holdMs = milliseconds;
  return 0;
}

export class NodeClient extends GuardedEvents implements Link, TransportOwner {
  readonly engine: Engine;
  private readonly endpoint: Endpoint;
  private readonly clock: Clock;
  protected transport: Transport | null = null;
  private wakeRequested = -1;
  /** The last connection error (ECONNREFUSED, a TLS verification error, ...), or "" since none. */
  lastSocketError = "";
  /** The default clock's timer for this client, and the deadline it was armed for. */
  timer: NodeJS.Timeout | null = null;
  timerDeadline = -1;
  /** A shared clock's note of this client's latest wake-up request (the simulator's FleetClock). */
  clockEntry: unknown = null;

  constructor(endpoint: Endpoint, options: EngineOptions, events: EngineEvents, clock?: Clock) {
    super(events);
    this.endpoint = endpoint;
    this.clock = clock !== undefined ? clock : timers;
    this.engine = new Engine(options, this, this);
  }

  // ---- the application's API ----

  /**
   * Connects, and stays connected (reconnecting with backoff) until disconnect(). Returns OK, or the error
   * that keeps the options from making a CONNECT (errorName(code) names it): then nothing is attempted.
   */
  connect(): number {
    const result = this.engine.start(this.clock.now());
    this.schedule();
    return result;
  }

  /** A clean DISCONNECT: the broker discards the will. */
  disconnect(): void {
    this.engine.stop(this.clock.now());
    this.schedule();
  }

  /**
   * Publishes; returns the packet id (QoS 1, 2), 0 (QoS 0) or an error code (errorName(code) names it).
   * A string payload is encoded to UTF-8 first, which allocates; pass bytes on a hot path.
   */
  publish(topic: string, payload: Bytes | string, qos: number, retain: boolean): number {
    let bytes: Bytes;
    if (typeof payload === "string") {
      const length = utf8Length(payload);
      if (length < 0) {
        return utf8Error(length);
      }
      bytes = new Uint8Array(length);
      writeUtf8(bytes, 0, payload);
    } else if (payload instanceof Uint8Array) {
      bytes = payload;
    } else {
      return ERR_BAD_ARGUMENT;
    }
    const result = this.engine.publish(topic, bytes, 0, bytes.length, qos, retain, this.clock.now());
    this.schedule();
    return result;
  }

  subscribe(topicFilter: string, qos: number): number {
    const result = this.engine.subscribe(topicFilter, qos, this.clock.now());
    this.schedule();
    return result;
  }

  unsubscribe(topicFilter: string): number {
    const result = this.engine.unsubscribe(topicFilter, this.clock.now());
    this.schedule();
    return result;
  }

  get counters(): Counters {
    return this.engine.counters;
  }

  // ---- the engine's link and clock ----

  /** Asks the clock to wake the engine at its next deadline; called after every call into the engine. */
  schedule(): void {
    const deadline = this.engine.nextDeadline();
    if (deadline !== this.wakeRequested) {
      this.wakeRequested = deadline;
      this.clock.wakeAt(this, deadline);
    }
  }

  /** The clock's call at the deadline. */
  wake(): void {
    this.wakeRequested = -1;
    this.engine.poll(this.clock.now());
    this.schedule();
  }

  open(): void {
    this.transport = openTransport(this.endpoint, this);
  }

  // ---- the transport's calls ----

  /** Nothing to do here; the simulator's devices tell the fault proxy who they are. */
  transportConnected(_transport: Transport, _localAddress: string, _localPort: number): void {}

  transportOpened(transport: Transport): void {
    if (this.transport === transport) {
      this.engine.linkOpened(this.clock.now());
      this.schedule();
    }
  }

  transportData(transport: Transport, bytes: Uint8Array, length: number): void {
    if (this.transport === transport) {
      this.engine.received(bytes, 0, length, this.clock.now());
      this.schedule();
    }
  }

  transportClosed(transport: Transport, error: string): void {
    // The cause is kept for the application's messages.
    if (error !== "") {
      this.lastSocketError = error;
    }
    if (this.transport === transport) {
      this.transport = null;
      this.engine.linkClosed(this.clock.now());
      this.schedule();
    }
  }

  write(bytes: Bytes, offset: number, length: number): void {
    // Gathered and sent at the end of the turn; copied, since the engine reuses its buffer at once.
    if (this.transport !== null) {
      output.write(this.transport, bytes, offset, length);
    }
  }

  close(): void {
    const transport = this.transport;
    this.transport = null;
    if (transport !== null) {
      output.flushFor(transport);
      transport.destroy();
    }
  }
}
