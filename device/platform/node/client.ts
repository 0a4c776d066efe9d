// The Node driver: the engine over node:net or node:tls, woken by one timer at the engine's next deadline,
// with the small API an application uses.

import net from "node:net";
import tls from "node:tls";
import { performance } from "node:perf_hooks";
import { Engine, EngineEvents, EngineOptions, Link, Counters } from "../../engine";
import { Bytes, utf8Length, writeUtf8 } from "../bytes";

export interface Endpoint {
  host: string;
  port: number;
  /** TLS options (ca, cert, key, servername, rejectUnauthorized); null for plain TCP. */
  tls: tls.ConnectionOptions | null;
  /** Local address to connect from (the simulator spreads devices over 127.0.0.0/8). */
  localAddress?: string;
}

export class NodeClient implements Link {
  readonly engine: Engine;
  private readonly endpoint: Endpoint;
  private socket: net.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = -1;

  constructor(endpoint: Endpoint, options: EngineOptions, events: EngineEvents) {
    this.endpoint = endpoint;
    this.engine = new Engine(options, this, events);
  }

  // ---- the application's API ----

  /** Connects, and stays connected (reconnecting with backoff) until disconnect(). */
  connect(): void {
    this.engine.start(performance.now());
    this.schedule();
  }

  /** A clean DISCONNECT: the broker discards the will. */
  disconnect(): void {
    this.engine.stop(performance.now());
    this.schedule();
  }

  /**
   * Publishes; returns the packet id (QoS 1, 2), 0 (QoS 0) or an error code (errorName(code) names it).
   * A string payload is encoded to UTF-8 first, which allocates; pass bytes on a hot path.
   */
  publish(topic: string, payload: Bytes | string, qos: number, retain: boolean): number {
    let bytes: Bytes;
    if (typeof payload === "string") {
      bytes = new Uint8Array(utf8Length(payload) < 0 ? 0 : utf8Length(payload));
      writeUtf8(bytes, 0, payload);
    } else {
      bytes = payload;
    }
    const result = this.engine.publish(topic, bytes, 0, bytes.length, qos, retain);
    this.schedule();
    return result;
  }

  subscribe(topicFilter: string, qos: number): number {
    const result = this.engine.subscribe(topicFilter, qos);
    this.schedule();
    return result;
  }

  unsubscribe(topicFilter: string): number {
    const result = this.engine.unsubscribe(topicFilter);
    this.schedule();
    return result;
  }

  get counters(): Counters {
    return this.engine.counters;
  }

  // ---- the engine's link and clock ----

  /** Keeps the one timer at the engine's next deadline; called after every call into the engine. */
  schedule(): void {
    const deadline = this.engine.nextDeadline();
    if (deadline === this.timerAt) {
      return;
    }
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.timerAt = deadline;
    if (deadline >= 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timerAt = -1;
        this.engine.poll(performance.now());
        this.schedule();
      }, Math.max(0, deadline - performance.now()));
    }
  }

  open(): void {
    const endpoint = this.endpoint;
    const address = { host: endpoint.host, port: endpoint.port, localAddress: endpoint.localAddress };
    // tls.connect hands localAddress on to net.connect, though its typings leave it out.
    const socket = endpoint.tls !== null
      ? tls.connect(Object.assign({}, endpoint.tls, address) as tls.ConnectionOptions)
      : net.connect(address);
    socket.setNoDelay(true);
    this.socket = socket;
    socket.once(endpoint.tls !== null ? "secureConnect" : "connect", () => {
      if (this.socket === socket) {
        this.engine.linkOpened(performance.now());
        this.schedule();
      }
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.socket === socket) {
        this.engine.received(chunk, 0, chunk.length, performance.now());
        this.schedule();
      }
    });
    socket.on("error", () => {
      // The close that follows tells the engine; the error itself has no further use to it.
    });
    socket.on("close", () => {
      if (this.socket === socket) {
        this.socket = null;
        this.engine.linkClosed(performance.now());
        this.schedule();
      }
    });
  }

  write(bytes: Bytes, length: number): void {
    // The engine reuses its buffer at once, and a socket may hold on to what it was given: copy.
    if (this.socket !== null) {
      this.socket.write(Buffer.from(bytes.subarray(0, length)));
    }
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.destroy();
    }
  }
}
