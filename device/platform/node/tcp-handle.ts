// Plain TCP over Node's own TCP handle (the `tcp_wrap` binding that net.Socket is built on), without the
// stream around it. Why: a net.Socket carries a Duplex stream's state objects, its listeners and a Buffer
// made per read; measured with 5,000 connections each (`npx tsx bench/fleet-parts.ts`): 3.8 KB of resident
// memory per net.Socket, 2.0 KB per handle. The simulator holds 100,000 connections. Reads also land in one buffer shared by every connection of the
// process (each read is handed to the engine, which copies it, before the next one), so a read allocates
// nothing.
//
// This is an internal API of Node (process.binding). It is checked when this module loads; where it is
// missing or different, openTcpHandle returns null and the caller uses a net.Socket. Written against
// Node 20's lib/net.js and lib/internal/stream_base_commons.js.

import util from "node:util";
import type { Transport, TransportOwner } from "./transport";

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
  close(callback: (this: TcpHandle) => void): void;
  /** Called with the handle as `this`; the byte count or error is in streamBaseState. */
  onread: (this: TcpHandle) => void;
  /** Ours: the transport this handle belongs to. */
  transport: TcpHandleTransport;
}

interface ConnectRequest {
  oncomplete: (status: number, handle: TcpHandle) => void;
}

interface WriteRequest {
  handle: TcpHandle;
  oncomplete: (status: number, handle: TcpHandle) => void;
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

class TcpHandleTransport implements Transport {
  writable = true;
  flushedAt = -1;
  private error = "";

  constructor(readonly handle: TcpHandle, readonly owner: TransportOwner) {
    handle.transport = this;
  }

  send(chunk: Uint8Array): void {
    if (!this.writable) {
      return;
    }
    const request = new binding!.WriteWrap();
    request.handle = this.handle;
    request.oncomplete = afterWrite;
    request.async = false;
    request.buffer = chunk;
    const status = this.handle.writeBuffer(request, chunk);
    if (status !== 0) {
      this.fail(status);
    }
  }

  pause(): void {
    if (this.writable) {
      this.handle.readStop();
    }
  }

  destroy(): void {
    if (this.writable) {
      this.writable = false;
      this.handle.close(afterClose);
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

function afterConnect(status: number, handle: TcpHandle): void {
  const transport = handle.transport;
  if (!transport.writable) {
    return;
  }
  if (status !== 0) {
    transport.fail(status);
    return;
  }
  handle.setNoDelay(true);
  const reading = handle.readStart();
  if (reading !== 0) {
    transport.fail(reading);
    return;
  }
  const local: { address?: string; port?: number } = {};
  handle.getsockname(local);
  transport.owner.transportConnected(transport, local.address ?? "", local.port ?? 0);
  transport.owner.transportOpened(transport);
}

function onRead(this: TcpHandle): void {
  const count = binding!.state[binding!.readBytesOrError];
  const transport = this.transport;
  if (count > 0) {
    transport.owner.transportData(transport, received, count);
  } else if (count < 0) {
    transport.fail(count);
  }
}

function afterWrite(status: number, handle: TcpHandle): void {
  if (status < 0) {
    handle.transport.fail(status);
  }
}

function afterClose(this: TcpHandle): void {
  this.transport.closed();
}

/** Opens plain TCP to an IP address over a TCP handle, or null where this Node lacks what it needs. */
export function openTcpHandle(host: string, port: number, localAddress: string | undefined, owner: TransportOwner): Transport | null {
  if (binding === null) {
    return null;
  }
  const handle = new binding.TCP(binding.SOCKET);
  const transport = new TcpHandleTransport(handle, owner);
  handle.onread = onRead;
  handle.useUserBuffer(received);
  const v6 = host.includes(":");
  let status = localAddress === undefined ? 0 : v6 ? handle.bind6(localAddress, 0, 0) : handle.bind(localAddress, 0);
  if (status === 0) {
    const request = new binding.TCPConnectWrap();
    request.oncomplete = afterConnect;
    status = v6 ? handle.connect6(request, host, port) : handle.connect(request, host, port);
  }
  if (status !== 0) {
    // Reported as a net.Socket would: after open() has returned.
    transport.fail(status);
  }
  return transport;
}
