// The Node client's transports (device/platform/node/transport.ts, tcp-handle.ts) against a real TCP
// server in the test: the TCP handle used directly for an IP address, a net.Socket for a host name. Both
// must tell their owner the same things in the same order: opened, the bytes as they came, closed once
// (with the cause), and nothing after a destroy.

import net from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Endpoint, Transport, TransportOwner, openTransport } from "../../device/platform/node/transport";

interface Recorded {
  events: string[];
  /** The local address and port transportConnected named. */
  local: string;
  received: Buffer[];
  opened: Promise<void>;
  closed: Promise<string>;
  owner: TransportOwner;
}

function recorder(): Recorded {
  let onOpen!: () => void;
  let onClose!: (error: string) => void;
  const record: Recorded = {
    events: [],
    local: "",
    received: [],
    opened: new Promise((resolve) => { onOpen = resolve; }),
    closed: new Promise((resolve) => { onClose = resolve; }),
    owner: {
      transportConnected(_transport: Transport, address: string, port: number) {
        record.local = `${address}:${port}`;
        record.events.push("connected");
      },
      transportOpened() {
        record.events.push("opened");
        onOpen();
      },
      transportData(_transport: Transport, bytes: Uint8Array, length: number) {
        // The bytes are the transport's to reuse after the call: copy them.
        record.received.push(Buffer.from(bytes.subarray(0, length)));
        record.events.push("data");
      },
      transportClosed(_transport: Transport, error: string) {
        record.events.push(`closed:${error}`);
        onClose(error);
      },
    },
  };
  return record;
}

let server: net.Server;
let port = 0;
/** The server side of each accepted connection, in order. */
const accepted: net.Socket[] = [];
const waiting: ((socket: net.Socket) => void)[] = [];

function nextConnection(): Promise<net.Socket> {
  return new Promise((resolve) => waiting.push(resolve));
}

beforeAll(async () => {
  server = net.createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
    waiting.shift()?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** A transport to the test's server, opened, with the server's side of it. */
async function openedPair(endpoint: Endpoint): Promise<{ record: Recorded; transport: Transport; peer: net.Socket }> {
  const record = recorder();
  const connection = nextConnection();
  const transport = openTransport(endpoint, record.owner);
  await record.opened;
  return { record, transport, peer: await connection };
}

const kinds: [string, () => Endpoint, string][] = [
  ["TCP handle (an IP address)", () => ({ host: "127.0.0.1", port, tls: null }), "TcpHandleTransport"],
  ["net.Socket (a host name)", () => ({ host: "localhost", port, tls: null }), "StreamTransport"],
];

/** A full garbage collection, from a test (V8's gc() made reachable for this once). */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

/** An 8 MB chunk that nothing but the transport will hold, and a copy to compare with. */
function sendPattern(transport: Transport): Buffer {
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 255;
  transport.send(chunk);
  return Buffer.from(chunk);
}

describe.each(kinds)("%s", (_name, endpoint, className) => {
  it("opens, carries bytes both ways intact, and reports the peer's close once, without an error", async () => {
    const { record, transport, peer } = await openedPair(endpoint());
    expect(transport.constructor.name).toBe(className);
    // Connected named the address and port the server sees.
    expect(record.local).toBe(`${peer.remoteAddress}:${peer.remotePort}`);
    const fromPeer: Buffer[] = [];
    peer.on("data", (chunk: Buffer) => fromPeer.push(chunk));
    transport.send(Buffer.from("hello "));
    transport.send(Buffer.from("broker"));
    peer.write("hello device");
    await waitFor(() => Buffer.concat(fromPeer).toString() === "hello broker" && Buffer.concat(record.received).toString() === "hello device");
    peer.end();
    expect(await record.closed).toBe("");
    // Connected (naming the address and port the server saw), then opened, before anything else.
    expect(record.events.slice(0, 2)).toEqual(["connected", "opened"]);
    expect(record.events.filter((e) => e.startsWith("closed"))).toEqual(["closed:"]);
    expect(transport.writable).toBe(false);
  });

  it("keeps a chunk it could not write at once until it is written (8 MB to a peer that reads late, a GC between)", async () => {
    const { record, transport, peer } = await openedPair(endpoint());
    peer.pause();
    // More than the socket buffers hold: the rest is written later, from memory only the transport refers to.
    const expected = sendPattern(transport);
    collectGarbage();
    Buffer.alloc(8 * 1024 * 1024, 0xee);
    const got: Buffer[] = [];
    let total = 0;
    peer.on("data", (data: Buffer) => { got.push(data); total += data.length; });
    peer.resume();
    await waitFor(() => total >= expected.length);
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    transport.destroy();
    expect(await record.closed).toBe("");
  });

  it("after destroy(): closed once, later; nothing read or sent any more", async () => {
    const { record, transport, peer } = await openedPair(endpoint());
    const fromPeer: Buffer[] = [];
    peer.on("data", (chunk: Buffer) => fromPeer.push(chunk));
    transport.destroy();
    expect(record.events).toEqual(["connected", "opened"]);
    transport.send(Buffer.from("too late"));
    transport.pause();
    transport.destroy();
    expect(await record.closed).toBe("");
    peer.write("ignored");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(record.events).toEqual(["connected", "opened", "closed:"]);
    expect(Buffer.concat(fromPeer).length).toBe(0);
  });

  it("pause() stops reading: what the peer sends then waits", async () => {
    const { record, transport, peer } = await openedPair(endpoint());
    transport.pause();
    peer.write("held");
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(record.received.length).toBe(0);
    transport.destroy();
    await record.closed;
  });
});

describe("errors name their cause", () => {
  it("a refused connection: ECONNREFUSED, on either transport", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const refusedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    for (const host of ["127.0.0.1", "localhost"]) {
      const record = recorder();
      openTransport({ host, port: refusedPort, tls: null }, record.owner);
      expect(await record.closed).toBe("ECONNREFUSED");
      expect(record.events).toEqual(["closed:ECONNREFUSED"]);
    }
  });

  it("a local address this machine does not have: EADDRNOTAVAIL, reported after openTransport returns", async () => {
    const record = recorder();
    let returned = false;
    const closed = record.closed.then((error) => ({ error, returned }));
    openTransport({ host: "127.0.0.1", port, tls: null, localAddress: "192.0.2.1" }, record.owner);
    returned = true;
    expect(await closed).toEqual({ error: "EADDRNOTAVAIL", returned: true });
  });

  it("the peer resets the connection: closed with ECONNRESET", async () => {
    const { record, peer } = await openedPair({ host: "127.0.0.1", port, tls: null });
    peer.resetAndDestroy();
    expect(await record.closed).toBe("ECONNRESET");
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
