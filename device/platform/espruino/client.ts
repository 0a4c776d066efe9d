// The Espruino driver: the engine over Espruino's require("net") / require("tls") sockets, woken at the
// engine's next deadline by one setTimeout, with the small API an application uses. Every Espruino call here
// is used as Espruino's reference documents it.

import { Engine, EngineEvents, EngineOptions, Link, Counters } from "../../engine";
import { MQTT_3_1_1, MQTT5 } from "../../codec/constants";
import { ERR_NOT_SUPPORTED, ERR_BAD_ARGUMENT } from "../../codec/errors";
import { Bytes, newBytes, writeUtf8 } from "./bytes";
import { GuardedEvents } from "../guarded-events";

/** Espruino's net.Socket (also what tls.connect returns). */
interface Socket {
  /** Sends a string, one character per byte (a Uint8Array would be sent as its decimal text). */
  write(data: string): boolean;
  /** Closes the socket once what was written has been sent. */
  end(): void;
  on(event: "data", listener: (data: string) => void): void;
  on(event: "close", listener: () => void): void;
  on(event: "error", listener: (details: SocketError) => void): void;
}

/** The argument of a socket's "error" event: a negative code (-3 timeout, -6 DNS, -9 reset, -13 TLS, ...). */
interface SocketError {
  code: number;
  message: string;
}

interface SocketModule {
  /** Connects; `callback` runs once the connection is made (for TLS, once the handshake is done). */
  connect(options: Endpoint, callback: () => void): Socket;
}

declare function require(module: "net" | "tls"): SocketModule;
/** Seconds since 1970 (or since power-on, until the clock is set), with sub-millisecond resolution. */
declare function getTime(): number;
declare const E: { toString(data: Uint8Array): string | undefined };

/**
 * Where to connect: the options object Espruino's net.connect / tls.connect take, handed to it as it is.
 * With `tls` true, `ca`, `key` and `cert` are as tls.connect takes them (the decoded certificate data, or
 * the name of a file).
 */
export interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
  key?: string;
  cert?: string;
}

/**
 * Received data is copied into a buffer of this size, a piece at a time, and the engine reads it there. A
 * packet longer than this is gathered in the engine's own receive buffer.
 */
export const RECEIVE_CHUNK = 256;

// Codes of Espruino's socket "error" event that the driver also sets in lastSocketError itself.
/** Out of memory: here, no string could be made of a packet for socket.write. */
const SOCKET_NO_MEMORY = -2;
/** No connection: here, a socket call threw (Espruino throws "Not connected to the internet" when WiFi is down). */
const SOCKET_NO_CONNECTION = -11;

/** Closes a socket once what was written has been sent; a socket call can throw when WiFi is down. */
function end(socket: Socket): void {
  try {
    socket.end();
  } catch (error) {
    // Nothing left to close.
  }
}

/** The engine's clock: milliseconds. */
function now(): number {
  return getTime() * 1000;
}

export class EspruinoClient extends GuardedEvents implements Link {
  readonly engine: Engine;
  /** The last socket error code (Espruino's, negative), or 0 since none. */
  lastSocketError = 0;
  private readonly endpoint: Endpoint;
  private readonly version: number;
  private readonly receive: Bytes;
  private socket: Socket | null = null;
  /** The armed timeout, and the deadline it was armed for. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDeadline = -1;
  // Made once here, so that arming the timer or failing a link makes no closure.
  private readonly onTimer: () => void;
  private readonly onLinkFailed: () => void;

  constructor(endpoint: Endpoint, options: EngineOptions, events: EngineEvents) {
    super(events);
    this.endpoint = endpoint;
    this.version = options.protocolVersion;
    this.receive = newBytes(RECEIVE_CHUNK);
    // Its events are the application's, each called so that one that throws cannot stop the engine midway.
    this.engine = new Engine(options, this, this);
    this.onTimer = () => {
      this.timer = null;
      this.engine.poll(now());
      this.schedule();
    };
    this.onLinkFailed = () => {
      // Unless the engine has moved on to another link meanwhile, tell it this one is gone.
      if (this.socket === null) {
        this.engine.linkClosed(now());
        this.schedule();
      }
    };
  }

  // ---- the application's API ----

  /**
   * Connects, and stays connected (reconnecting with backoff) until disconnect(). Returns OK,
   * ERR_NOT_SUPPORTED when the options ask for MQTT 5.0 and this module speaks 3.1.1 only, or the error that
   * keeps the options from making a CONNECT: then nothing is attempted.
   */
  connect(): number {
    if (!MQTT5 && this.version !== MQTT_3_1_1) {
      return ERR_NOT_SUPPORTED;
    }
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
   * Publishes; returns the packet id (QoS 1, 2), 0 (QoS 0) or an error code. A string payload is sent as
   * its characters, one byte each, after a copy into a new buffer: pass bytes on a hot path.
   */
  publish(topic: string, payload: Bytes | string, qos: number, retain: boolean): number {
    let bytes: Bytes;
    if (typeof payload === "string") {
      bytes = newBytes(payload.length);
      writeUtf8(bytes, 0, payload);
    } else if (payload instanceof Uint8Array) {
      bytes = payload;
    } else {
      return ERR_BAD_ARGUMENT;
    }
    const result = this.engine.publish(topic, bytes, 0, bytes.length, qos, retain, now());
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

  get counters(): Counters {
    return this.engine.counters;
  }

  // ---- the engine's link and clock ----

  /**
   * Arms the timeout for the engine's next deadline; called after every call into the engine. The
   * keep-alive deadline moves later with every packet sent, so an armed timeout is kept while the new
   * deadline is later than the one it was armed for: it fires early, the engine finds nothing due, and the
   * timeout is armed again for the deadline of that moment. clearTimeout is only ever given the id of a
   * timeout that has not fired (Espruino reports an unknown id as an error, and no id at all clears every
   * timer of the application).
   */
  private schedule(): void {
    const deadline = this.engine.nextDeadline();
    if (this.timer !== null) {
      if (deadline >= this.timerDeadline) {
        return;
      }
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (deadline >= 0) {
      this.timerDeadline = deadline;
      const delay = deadline - now();
      this.timer = setTimeout(this.onTimer, delay > 0 ? delay : 0);
    }
  }

  open(): void {
    const endpoint = this.endpoint;
    let socket: Socket;
    try {
      // require("tls") only when asked for: ESP8266 builds have no TLS (and then it throws, like a connect
      // while WiFi is down).
      socket = require(endpoint.tls ? "tls" : "net").connect(endpoint, () => {
        if (this.socket === socket) {
          this.engine.linkOpened(now());
          this.schedule();
        }
      });
    } catch (error) {
      this.fail(null, SOCKET_NO_CONNECTION);
      return;
    }
    this.socket = socket;
    socket.on("data", (data: string) => {
      this.received(socket, data);
    });
    // An error comes with no close event when the connection was never made (a refused connection, a
    // failed DNS lookup), so either one ends the link.
    socket.on("error", (details: SocketError) => {
      this.lastSocketError = details.code;
      this.lost(socket);
    });
    socket.on("close", () => {
      this.lost(socket);
    });
  }

  write(bytes: Bytes, offset: number, length: number): void {
    const socket = this.socket;
    if (socket === null) {
      return;
    }
    // The socket takes a string, so one is made whatever we do; E.toString makes it in one native copy. The
    // view that tells it where to start is one variable, freed at once; a string built byte by byte would
    // make a string per byte.
    const text = E.toString(bytes.subarray(offset, offset + length));
    if (text === undefined) {
      // No memory for the string: this packet is lost, so the link must not carry on without it.
      this.fail(socket, SOCKET_NO_MEMORY);
      return;
    }
    try {
      socket.write(text);
    } catch (error) {
      this.fail(socket, SOCKET_NO_CONNECTION);
    }
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      end(socket);
    }
  }

  /** Data arrived as a string, one character per byte: copied into the receive buffer a piece at a time. */
  private received(socket: Socket, data: string): void {
    const buffer = this.receive;
    const count = data.length;
    let at = 0;
    while (at < count && this.socket === socket) {
      let length = count - at;
      if (length > RECEIVE_CHUNK) {
        length = RECEIVE_CHUNK;
      }
      for (let i = 0; i < length; i++) {
        buffer[i] = data.charCodeAt(at + i);
      }
      at += length;
      this.engine.received(buffer, 0, length, now());
    }
    this.schedule();
  }

  /**
   * A socket call failed (`socket` null: connect itself). The link ends, and the engine hears of it once the
   * current call has returned, not from inside its own call to open() or write(); it reconnects with backoff
   * and resends what was not acknowledged.
   */
  private fail(socket: Socket | null, code: number): void {
    this.lastSocketError = code;
    this.socket = null;
    if (socket !== null) {
      end(socket);
    }
    setTimeout(this.onLinkFailed, 0);
  }

  private lost(socket: Socket): void {
    if (this.socket === socket) {
      this.socket = null;
      this.engine.linkClosed(now());
      this.schedule();
    }
  }
}
