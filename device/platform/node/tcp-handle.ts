// Plain TCP over Node's own TCP handle (the `tcp_wrap` binding that net.Socket is built on), without the
// stream around it. Why: a net.Socket carries a Duplex stream's state objects, its listeners and a Buffer
// made per read; measured with 5,000 open connections each (`npx tsx bench/fleet-parts.ts`): 3.8-4.0 KB of
// resident memory per net.Socket, 1.3-1.5 KB per handle. The simulator holds 100,000 connections. Reads
// also land in one buffer shared by every connection of the process (each read is handed to the engine,
// which copies it, before the next one), so a read allocates nothing.
//
// This is an internal API of Node (process.binding). It is checked when this module loads; where it is
// missing or different, openTcpHandle returns null and the caller uses a net.Socket. Written against
// Node 20's lib/net.js and lib/internal/stream_base_commons.js.

import util from "node:util";
import type { Transport, TransportOwner } from "./transport";

/** The handle as Node's binding makes it: its methods return 0 or a negative errno. */
interface TcpHandle {
  bind(address: string, port: number): number;
  getsockname(out: { address?: string; port?: number }): number;
  bind6(address: string, port: number, flags: number): number;
  connect(request: ConnectRequest, address: string, port: number): number;
  connect6(request: ConnectRequest, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(request: WriteRequest, chunk: Uint8Array): number;
  close(callback: (this: TcpHandleTransport) => void): void;
  /**
   * Called with the handle as `this`; the byte count or error is in streamBaseState. An accessor of the
   * handle's prototype that keeps the function in the handle's native part, so it must be assigned.
   */
  onread: (this: TcpHandleTransport) => void;
}

interface ConnectRequest {
  oncomplete: (status: number, handle: TcpHandleTransport) => void;
}

interface WriteRequest {
  handle: TcpHandleTransport;
  oncomplete: (status: number, handle: TcpHandleTransport) => void;
  async: boolean;
  /** Holds the chunk while an asynchronous write is in progress. */
  buffer: Uint8Array | null;
}

interface Binding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectRequest;
  WriteWrap: new () => WriteRequest;
  SOCKET: number;
  state: Int32Array;
  readBytesOrError: number;
}

function loadBinding(): Binding | null {
  try {
    const load = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = load("tcp_wrap");
    const stream = load("stream_wrap");
    const constants = tcp.constants as { SOCKET?: number } | undefined;
    const ok = typeof tcp.TCP === "function" && typeof tcp.TCPConnectWrap === "function" && typeof stream.WriteWrap === "function" &&
      stream.streamBaseState instanceof Int32Array && typeof stream.kReadBytesOrError === "number" && constants !== undefined && typeof constants.SOCKET === "number" &&
      typeof (tcp.TCP as { prototype: { useUserBuffer?: unknown } }).prototype.useUserBuffer === "function";
    if (!ok) {
      return null;
    }
    return {
      TCP: tcp.TCP as Binding["TCP"], TCPConnectWrap: tcp.TCPConnectWrap as Binding["TCPConnectWrap"],
      WriteWrap: stream.WriteWrap as Binding["WriteWrap"], SOCKET: constants!.SOCKET!,
      state: stream.streamBaseState as Int32Array, readBytesOrError: stream.kReadBytesOrError as number,
    };
  } catch {
    return null;
  }
}

const binding = loadBinding();
/** Where every handle of the process reads into. */
const received = new Uint8Array(64 * 1024);

function errorName(status: number): string {
  const name = util.getSystemErrorName(status);
  return name === "EOF" ? "" : name;
}

/** What the transport extends: the binding's handle class, or (where it is missing) one never made. */
const TcpHandleBase: Binding["TCP"] = binding !== null ? binding.TCP : (class {} as unknown as Binding["TCP"]);

/**
 * The transport is the handle itself (a subclass of the binding's): a transport object beside the handle,
 * and a property on the handle pointing at it, would cost about 130 B of heap per connection.
 */
class TcpHandleTransport extends TcpHandleBase implements Transport {
  writable = true;
  flushedAt = -1;
  private error = "";

  constructor(readonly owner: TransportOwner) {
    super(binding!.SOCKET);
    this.onread = onRead;
    this.useUserBuffer(received);
  }

  send(chunk: Uint8Array): void {
    if (!this.writable) {
      return;
    }
    const request = new binding!.WriteWrap();
    request.handle = this;
    request.oncomplete = afterWrite;
    request.async = false;
    request.buffer = chunk;
    const status = this.writeBuffer(request, chunk);
    if (status !== 0) {
      this.fail(status);
    }
  }

  pause(): void {
    if (this.writable) {
      this.readStop();
    }
  }

  destroy(): void {
    if (this.writable) {
      this.writable = false;
      this.close(afterClose);
    }
  }

  fail(status: number): void {
    if (this.writable && this.error === "") {
      this.error = errorName(status);
    }
    this.destroy();
  }

  closed(): void {
    this.owner.transportClosed(this, this.error);
  }
}

function afterConnect(status: number, transport: TcpHandleTransport): void {
  if (!transport.writable) {
    return;
  }
  if (status !== 0) {
    transport.fail(status);
    return;
  }
  transport.setNoDelay(true);
  const reading = transport.readStart();
  if (reading !== 0) {
    transport.fail(reading);
    return;
  }
  const local: { address?: string; port?: number } = {};
  transport.getsockname(local);
  transport.owner.transportConnected(transport, local.address ?? "", local.port ?? 0);
  transport.owner.transportOpened(transport);
}

function onRead(this: TcpHandleTransport): void {
  const count = binding!.state[binding!.readBytesOrError];
  if (count > 0) {
    this.owner.transportData(this, received, count);
  } else if (count < 0) {
    this.fail(count);
  }
}

function afterWrite(status: number, transport: TcpHandleTransport): void {
  if (status < 0) {
    transport.fail(status);
  }
}

function afterClose(this: TcpHandleTransport): void {
  this.closed();
}

/** Opens plain TCP to an IP address over a TCP handle, or null where this Node lacks what it needs. */
export function openTcpHandle(host: string, port: number, localAddress: string | undefined, owner: TransportOwner): Transport | null {
  if (binding === null) {
    return null;
  }
  const transport = new TcpHandleTransport(owner);
  const v6 = host.includes(":");
  let status = localAddress === undefined ? 0 : v6 ? transport.bind6(localAddress, 0, 0) : transport.bind(localAddress, 0);
  if (status === 0) {
    const request = new binding.TCPConnectWrap();
    request.oncomplete = afterConnect;
    status = v6 ? transport.connect6(request, host, port) : transport.connect(request, host, port);
  }
  if (status !== 0) {
    // Reported as a net.Socket would: after open() has returned.
    transport.fail(status);
  }
  return transport;
}
