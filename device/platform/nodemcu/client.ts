// The NodeMCU driver: the engine over the firmware's net (or, on ESP8266, tls) sockets, woken at the engine's
// next deadline by one tmr timer, with the small API a Lua application uses. Every firmware call is used as
// NodeMCU's documentation describes it (typings in nodemcu.d.ts); where the firmware differs from what a
// reader of Node would expect, the comment says so.

import { Engine, EngineEvents, EngineOptions, Link } from "../../engine";
import { Bytes, bytesToString, bytesLength, stringBytes } from "./bytes";
import type { NetModule, NodeMCUSocket, NodeMCUTimer, NodeModule, TlsModule, TmrModule } from "./nodemcu";

declare const net: NetModule;
/** nil on a firmware built without TLS (and on ESP32, whose net sockets have none). */
declare const tls: TlsModule | undefined;
declare const tmr: TmrModule;
declare const node: NodeModule;

/** Where to connect. `tls` needs the firmware's tls module (ESP8266); its certificate checks are tls.cert's. */
export interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
}

/**
 * The largest piece handed to one socket:send: a TCP segment (1460 bytes, the MSS NodeMCU's lwIP uses), so a
 * send never needs more than one segment of the firmware's send buffer.
 */
const SEGMENT = 1460;
/**
 * Bytes the driver holds while the socket is busy with an earlier send. The engine writes in bursts (a window
 * of QoS 1 messages, resends after a reconnect) that can outrun the link; past this much, the link is ended
 * (SOCKET_QUEUE_FULL) rather than grow the heap, and the engine resends what was not acknowledged once
 * reconnected. An application publishing QoS 0 in a loop paces itself with queuedBytes().
 */
const SEND_QUEUE_LIMIT = 4096;
/**
 * The timer never waits longer than this, so the clock reads the 31-bit microsecond counter well within its
 * wrap (about 35 minutes); also below tmr's longest interval (6,870,947 ms).
 */
const LONGEST_WAIT_MS = 600000;

// Codes the driver itself puts in lastSocketError (the firmware's are lwIP's, from -1 to -16).
/** socket:connect or socket:send raised an error (no WiFi, no memory, not connected). */
export const SOCKET_CALL_FAILED = -101;
/** More than SEND_QUEUE_LIMIT bytes waited for the socket. */
export const SOCKET_QUEUE_FULL = -102;

// The engine's clock: milliseconds since the first reading, counted from the firmware's microsecond counter.
// Only its low 31 bits are used (all node.uptime() gives on an integer build, all tmr.now() has), as the
// difference between two readings. Lua 5.1 counts in doubles; a Lua 5.3 with 32-bit integers wraps after 2^31
// ms (about 24 days), so there the client must be restarted within that time.
let lastMicros = -1;
let elapsedMicros = 0;
let elapsedMs = 0;

function now(): number {
  // node.uptime is the newer call (ESP32, current ESP8266 builds); tmr.now the older one (ESP8266 only).
  const uptime = node.uptime;
  const counter = uptime !== undefined ? uptime : tmr.now;
  const micros = counter !== undefined ? counter() : 0;
  if (lastMicros >= 0) {
    elapsedMicros += (micros - lastMicros) & 0x7fffffff;
    if (elapsedMicros >= 1000) {
      const whole = Math.floor(elapsedMicros / 1000);
      elapsedMs += whole;
      elapsedMicros -= whole * 1000;
    }
  }
  lastMicros = micros;
  return elapsedMs;
}

/** Closes a socket; the firmware raises "not connected" when it has already closed. */
function close(socket: NodeMCUSocket): void {
  try {
    socket.close();
  } catch (error) {
    // Closed already.
  }
}

export class NodeMCUClient implements Link {
  readonly engine: Engine;
  /** The last socket error: lwIP's code from the firmware (negative), a SOCKET_ code, or 0. */
  lastSocketError = 0;
  private readonly endpoint: Endpoint;
  private readonly timer: NodeMCUTimer;
  private socket: NodeMCUSocket | null = null;
  /** The deadline the timer is armed for, or -1 when it is not armed. */
  private timerDeadline = -1;
  /** A socket call failed inside open() or write(): the engine hears of it from the timer, not from inside its own call. */
  private failed = false;
  // The send queue: strings waiting while a send is on its way (pending[head .. tail)).
  private sending = false;
  private readonly pending: string[] = [];
  private head = 0;
  private tail = 0;
  private pendingBytes = 0;
  // Made once here, so that arming the timer makes no closure.
  private readonly onTimer: (this: void) => void;

  constructor(endpoint: Endpoint, options: EngineOptions, events: EngineEvents) {
    this.endpoint = endpoint;
    this.engine = new Engine(options, this, events);
    this.timer = tmr.create();
    this.onTimer = () => {
      this.timerDeadline = -1;
      const time = now();
      if (this.failed) {
        this.failed = false;
        this.engine.linkClosed(time);
      }
      this.engine.poll(time);
      this.schedule();
    };
  }

  // ---- the application's API ----

  /**
   * Connects, and stays connected (reconnecting with backoff) until disconnect(). Returns OK, or the error
   * that keeps the options from making a CONNECT: then nothing is attempted.
   */
  connect(): number {
    const result = this.engine.start(now());
    this.schedule();
    return result;
  }

  /** A clean DISCONNECT: the broker discards the will. */
  disconnect(): void {
    this.engine.stop(now());
    this.schedule();
  }

  /**
   * Publishes a Lua string (its bytes as they are); returns the packet id (QoS 1, 2), 0 (QoS 0) or an error
   * code. The payload is copied once, into the packet.
   */
  publish(topic: string, payload: string, qos: number, retain: boolean): number {
    const bytes = stringBytes(payload);
    const result = this.engine.publish(topic, bytes, 0, bytesLength(bytes), qos, retain, now());
    this.schedule();
    return result;
  }

  subscribe(topicFilter: string, qos: number): number {
    const result = this.engine.subscribe(topicFilter, qos, now());
    this.schedule();
    return result;
  }

  unsubscribe(topicFilter: string): number {
    const result = this.engine.unsubscribe(topicFilter, now());
    this.schedule();
    return result;
  }

  /** Bytes written by the engine and not yet handed to the socket: an application sending QoS 0 in bulk waits while this is high. */
  queuedBytes(): number {
    return this.pendingBytes;
  }

  // ---- the engine's link and clock ----

  /**
   * Arms the timer for the engine's next deadline; called after every call into the engine. An armed timer
   * is kept while the new deadline is later (it fires early, the engine finds nothing due, and it is armed
   * again), so a busy client re-arms about once per keep-alive interval, not per message.
   */
  private schedule(): void {
    const deadline = this.engine.nextDeadline();
    if (this.failed || (this.timerDeadline >= 0 && deadline >= this.timerDeadline) || deadline < 0) {
      return;
    }
    this.arm(deadline, deadline - now());
  }

  /** (Re)starts the one-shot timer. tmr refuses an interval of 0: the shortest wait is 1 ms. */
  private arm(deadline: number, delay: number): void {
    let wait = Math.floor(delay);
    if (wait < 1) {
      wait = 1;
    } else if (wait > LONGEST_WAIT_MS) {
      wait = LONGEST_WAIT_MS;
    }
    this.timer.stop();
    this.timer.register(wait, tmr.ALARM_SINGLE, this.onTimer);
    this.timer.start();
    this.timerDeadline = deadline;
  }

  open(): void {
    const endpoint = this.endpoint;
    const secure = endpoint.tls;
    if (secure && tls === undefined) {
      this.fail(null, SOCKET_CALL_FAILED);
      return;
    }
    const socket = secure && tls !== undefined ? tls.createConnection() : net.createConnection(net.TCP);
    this.socket = socket;
    this.sending = false;
    this.clearQueue();
    socket.on("connection", (opened) => {
      if (this.socket === opened) {
        this.engine.linkOpened(now());
        this.schedule();
      }
    });
    socket.on("receive", (from, data) => {
      if (this.socket === from) {
        // Decoded where it lies: the segment is a string, which the byte layer reads as it is.
        this.engine.received(stringBytes(data), 0, data.length, now());
        this.schedule();
      }
    });
    socket.on("sent", (from) => {
      if (this.socket === from) {
        this.sendNext(from);
      }
    });
    // With "reconnection" registered, "disconnection" gets only normal closes; both end the link.
    socket.on("disconnection", (from, code) => {
      this.lost(from, code);
    });
    socket.on("reconnection", (from, code) => {
      this.lost(from, code);
    });
    try {
      socket.connect(endpoint.port, endpoint.host);
    } catch (error) {
      // Raised, for example, when WiFi has no IP address yet.
      this.fail(socket, SOCKET_CALL_FAILED);
    }
  }

  write(bytes: Bytes, offset: number, length: number): void {
    const socket = this.socket;
    if (socket === null) {
      return;
    }
    // The engine reuses its buffer at once, and a socket sends strings: the packet becomes one now.
    const data = bytesToString(bytes, offset, length);
    if (this.sending) {
      if (this.pendingBytes + length > SEND_QUEUE_LIMIT) {
        this.fail(socket, SOCKET_QUEUE_FULL);
        return;
      }
      this.pending[this.tail] = data;
      this.tail++;
      this.pendingBytes += length;
      return;
    }
    this.send(socket, data);
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    this.clearQueue();
    if (socket !== null) {
      close(socket);
    }
  }

  /**
   * The previous send is done: the next piece goes, made of the queued packets that fit in one segment (a
   * packet longer than a segment goes a segment at a time).
   */
  private sendNext(socket: NodeMCUSocket): void {
    if (this.head === this.tail) {
      this.sending = false;
      return;
    }
    let data = this.pending[this.head];
    this.pending[this.head] = "";
    this.head++;
    while (this.head < this.tail && data.length + this.pending[this.head].length <= SEGMENT) {
      data = data + this.pending[this.head];
      this.pending[this.head] = "";
      this.head++;
    }
    if (data.length > SEGMENT) {
      this.head--;
      this.pending[this.head] = data.substring(SEGMENT);
      data = data.substring(0, SEGMENT);
    }
    this.pendingBytes -= data.length;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    }
    this.send(socket, data);
  }

  /** One send at a time: the firmware does not queue them, so the next waits for this one's "sent". */
  private send(socket: NodeMCUSocket, data: string): void {
    if (data.length > SEGMENT) {
      // A packet longer than a segment: its first segment now, the rest from the queue.
      this.pending[this.tail] = data.substring(SEGMENT);
      this.tail++;
      this.pendingBytes += data.length - SEGMENT;
      data = data.substring(0, SEGMENT);
    }
    this.sending = true;
    try {
      socket.send(data);
    } catch (error) {
      this.fail(socket, SOCKET_CALL_FAILED);
    }
  }

  private clearQueue(): void {
    for (let i = this.head; i < this.tail; i++) {
      this.pending[i] = "";
    }
    this.head = 0;
    this.tail = 0;
    this.pendingBytes = 0;
  }

  /**
   * A socket call failed (`socket` null: none was made). The link ends, and the engine hears of it from the
   * timer, once the current call has returned, not from inside its own call to open() or write(); it
   * reconnects with backoff and resends what was not acknowledged.
   */
  private fail(socket: NodeMCUSocket | null, code: number): void {
    this.lastSocketError = code;
    this.socket = null;
    this.clearQueue();
    if (socket !== null) {
      close(socket);
    }
    this.failed = true;
    this.arm(-1, 1);
  }

  private lost(socket: NodeMCUSocket, code: number): void {
    if (this.socket === socket) {
      this.socket = null;
      this.clearQueue();
      if (code !== 0) {
        this.lastSocketError = code;
      }
      this.engine.linkClosed(now());
      this.schedule();
    }
  }
}
