// The Node client's connection to its broker. Plain TCP to an IP address goes over Node's TCP handle
// directly (tcp-handle.ts), which costs a fraction of a net.Socket per connection; TLS, a host name, or a
// Node without that handle use a net/tls socket (StreamTransport below). Both call back the same three
// methods of their owner, so the client has one code path.

import { createRequire } from "node:module";
import net from "node:net";
import type tls from "node:tls";
import { openTcpHandle } from "./tcp-handle";

/** Where a client connects. */
export interface Endpoint {
  host: string;
  port: number;
  /** TLS options (ca, cert, key, servername, rejectUnauthorized); null for plain TCP. */
  tls: tls.ConnectionOptions | null;
  /** Local address to connect from (the simulator spreads devices over 127.0.0.0/8). */
  localAddress?: string;
}

/** What a transport tells its owner; transport-first, so an owner can ignore a transport it has let go. */
export interface TransportOwner {
  /** The TCP connection is up (for TLS: before its handshake), from this local address and port. */
  transportConnected(transport: Transport, localAddress: string, localPort: number): void;
  /** Ready for MQTT (for TLS: after the handshake). */
  transportOpened(transport: Transport): void;
  /** bytes[0 .. length) arrived; the bytes are reused after the call returns. */
  transportData(transport: Transport, bytes: Uint8Array, length: number): void;
  /** Closed, by either side; `error` names the cause (ECONNREFUSED, a TLS error, ...), "" when there was none. */
  transportClosed(transport: Transport, error: string): void;
}

export interface Transport {
  /** False once closing has begun: what is sent then is dropped. */
  readonly writable: boolean;
  /** When bytes were last sent (whole milliseconds of the client's output clock), -1 before any. */
  flushedAt: number;
  /** Sends `chunk`, which the transport keeps until it is written (the caller must not reuse it). */
  send(chunk: Uint8Array): void;
  /** Stops reading (the connection stays open). */
  pause(): void;
  /** Closes; transportClosed follows, later. */
  destroy(): void;
}

/** Opens a connection to `endpoint`; the owner hears transportOpened or transportClosed, later. */
export function openTransport(endpoint: Endpoint, owner: TransportOwner): Transport {
  if (endpoint.tls === null && net.isIP(endpoint.host) !== 0) {
    const handle = openTcpHandle(endpoint.host, endpoint.port, endpoint.localAddress, owner);
    if (handle !== null) {
      return handle;
    }
  }
  return new StreamTransport(endpoint, owner);
}

/**
 * node:tls, loaded for the first TLS connection: loading it starts OpenSSL, about 2 MB of resident memory
 * in a process that never uses it (a fleet's device processes over plain TCP).
 */
let tlsModule: typeof tls | null = null;

function loadTls(): typeof tls {
  if (tlsModule === null) {
    tlsModule = createRequire(import.meta.url)("node:tls") as typeof tls;
  }
  return tlsModule;
}

/** A net.Socket or tls.TLSSocket. */
class StreamTransport implements Transport {
  flushedAt = -1;
  private readonly socket: net.Socket;
  private error = "";

  constructor(endpoint: Endpoint, owner: TransportOwner) {
    const address = { host: endpoint.host, port: endpoint.port, localAddress: endpoint.localAddress };
    // tls.connect hands localAddress on to net.connect, though its typings leave it out.
    const socket = endpoint.tls !== null
      ? loadTls().connect(Object.assign({}, endpoint.tls, address) as tls.ConnectionOptions)
      : net.connect(address);
    socket.setNoDelay(true);
    this.socket = socket;
    socket.once("connect", () => owner.transportConnected(this, socket.localAddress ?? "", socket.localPort ?? 0));
    socket.once(endpoint.tls !== null ? "secureConnect" : "connect", () => owner.transportOpened(this));
    socket.on("data", (chunk: Buffer) => owner.transportData(this, chunk, chunk.length));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.error = error.code !== undefined ? error.code : error.message;
    });
    socket.on("close", () => owner.transportClosed(this, this.error));
  }

  get writable(): boolean {
    return this.socket.writable;
  }

  send(chunk: Uint8Array): void {
    this.socket.write(chunk);
  }

  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
