// A hostile broker: a raw TCP server written here that reads the device's CONNECT, answers a valid
// CONNACK (or not), then misbehaves. The device is the real engine over the Node driver (TestDevice).
// For every case: the device reports the specific error, the link closes (the server sees it), nothing
// throws, the device reconnects after backoff (a second CONNECT, which this server then answers well),
// and a 5.0 device says why in a DISCONNECT before closing. DESIGN.md, "Behaviour the engine owns":
// bad input closes the link with a specific code; the process never throws, loses queued messages or
// grows memory because of it.
//
// What the device sends is parsed with mqtt-packet's parser (the independent oracle); what the server
// sends is written byte by byte here, because most of it is deliberately invalid.

import net from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { performance } from "node:perf_hooks";
import { describe, it, expect, afterEach } from "vitest";
import * as mqtt from "mqtt-packet";
import { EngineOptions, CONNECTED } from "../../device/engine";
import { Broker } from "../peers";
import { TestDevice } from "../device";

type Version = 4 | 5;

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const PACKET_ID_NOT_FOUND = 0x92;
const PACKET_TOO_LARGE = 0x95;

// ---- the server ----

/** One TCP connection the device made to the hostile server. */
interface Conn {
  index: number;
  socket: net.Socket;
  /** Every packet the device sent on this connection, as mqtt-packet parsed it. */
  packets: mqtt.Packet[];
  /** Bytes from the device that mqtt-packet could not parse (the device's fault). */
  parseErrors: string[];
  ended: boolean;
  closed: boolean;
  closedAt: number;
}

/** Called for every packet the device sends; `conn.index` says which connection (0 = the first). */
type Behaviour = (conn: Conn, packet: mqtt.Packet, server: Hostile) => void;

class Hostile implements Broker {
  readonly host = "127.0.0.1";
  port = 0;
  readonly conns: Conn[] = [];
  private readonly server: net.Server;

  constructor(behaviour: Behaviour) {
    this.server = net.createServer((socket) => {
      socket.setNoDelay(true);
      const conn: Conn = {
        index: this.conns.length, socket, packets: [], parseErrors: [], ended: false, closed: false, closedAt: -1,
      };
      this.conns.push(conn);
      const parser = mqtt.parser();
      parser.on("packet", (packet: mqtt.Packet) => {
        conn.packets.push(packet);
        behaviour(conn, packet, this);
      });
      parser.on("error", (error: Error) => { conn.parseErrors.push(error.message); });
      socket.on("data", (data: Buffer) => { parser.parse(data); });
      socket.on("end", () => { conn.ended = true; });
      // ECONNRESET / EPIPE when the device drops a link the server is still writing to: expected here.
      socket.on("error", () => {});
      socket.on("close", () => { conn.closed = true; conn.closedAt = performance.now(); });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const conn of this.conns) conn.socket.destroy();
    });
  }
}

function connack(version: Version, sessionPresent = false): Buffer {
  const flags = sessionPresent ? 1 : 0;
  return Buffer.from(version === 5 ? [0x20, 0x03, flags, 0x00, 0x00] : [0x20, 0x02, flags, 0x00]);
}

/** Writes bytes at once, or one byte per TCP segment (the device's framer then gathers them). */
async function send(conn: Conn, bytes: Buffer, oneByteAtATime = false): Promise<void> {
  if (!oneByteAtATime) {
    if (!conn.socket.destroyed) conn.socket.write(bytes);
    return;
  }
  for (let i = 0; i < bytes.length; i++) {
    if (conn.socket.destroyed || conn.closed) return;
    conn.socket.write(bytes.subarray(i, i + 1));
    await sleep(5);
  }
}

/** A broker that behaves: CONNACK, PUBACK/PUBREC/PUBCOMP, SUBACK, UNSUBACK, PINGRESP. */
function behave(version: Version, conn: Conn, packet: mqtt.Packet, sessionPresent = false): void {
  const socket = conn.socket;
  if (socket.destroyed) return;
  const id = (packet as { messageId?: number }).messageId ?? 0;
  const idBytes = [id >> 8, id & 0xff];
  switch (packet.cmd) {
    case "connect": socket.write(connack(version, sessionPresent)); break;
    case "publish":
      if (packet.qos === 1) socket.write(Buffer.from([0x40, 0x02, ...idBytes]));
      if (packet.qos === 2) socket.write(Buffer.from([0x50, 0x02, ...idBytes]));
      break;
    case "pubrel": socket.write(Buffer.from([0x70, 0x02, ...idBytes])); break;
    case "subscribe": socket.write(Buffer.from(version === 5 ? [0x90, 0x04, ...idBytes, 0x00, 0x00] : [0x90, 0x03, ...idBytes, 0x00])); break;
    case "unsubscribe": socket.write(Buffer.from(version === 5 ? [0xb0, 0x04, ...idBytes, 0x00, 0x00] : [0xb0, 0x02, ...idBytes])); break;
    case "pingreq": socket.write(Buffer.from([0xd0, 0x00])); break;
    default: break;
  }
}

/** A full garbage collection, so that what earlier tests left behind is not counted (or freed) in a measurement. */
function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- packets a broker must never send ----

const utf8 = (text: string) => [...Buffer.from(text, "utf8")];

/** A fixed header (type and flags byte, Remaining Length of `body`) followed by `body`. */
function frame(first: number, body: number[]): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    length.push(digit);
  } while (n > 0);
  return Buffer.from([first, ...length, ...body]);
}

/** A PUBLISH whose topic field is given raw (length prefix included): [props (5.0)] then payload "x". */
function publishRaw(version: Version, flags: number, topicField: number[], packetId = 0, payloadLength = 1): Buffer {
  const qos = (flags >> 1) & 3;
  const id = qos > 0 ? [packetId >> 8, packetId & 0xff] : [];
  const payload = new Array<number>(payloadLength).fill(0x78);
  return frame(0x30 | flags, [...topicField, ...id, ...(version === 5 ? [0x00] : []), ...payload]);
}

function topicField(bytes: number[]): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

interface BadInput {
  name: string;
  bytes: (version: Version) => Buffer;
  error: string;
  /** The reason code a 5.0 device must give in its DISCONNECT (any of these). */
  reasons: number[];
}

const malformed: BadInput[] = [
  {
    name: "a PUBLISH whose topic is truncated (its length says 10, 3 bytes follow)",
    bytes: () => frame(0x30, [0x00, 0x0a, ...utf8("abc")]),
    error: "ERR_MALFORMED", reasons: [MALFORMED],
  },
  {
    name: "a PUBLISH whose topic is not UTF-8 (0xC3 0x28)",
    bytes: (v) => publishRaw(v, 0, topicField([0x61, 0xc3, 0x28])),
    error: "ERR_BAD_UTF8", reasons: [MALFORMED],
  },
  {
    name: "a PUBLISH with a wildcard in its topic name (a/+/b)",
    bytes: (v) => publishRaw(v, 0, topicField(utf8("a/+/b"))),
    error: "ERR_TOPIC_WILDCARD", reasons: [MALFORMED],
  },
  {
    name: "a PUBACK with reserved flags (0x42)",
    bytes: () => Buffer.from([0x42, 0x02, 0x00, 0x01]),
    error: "ERR_RESERVED_FLAGS", reasons: [MALFORMED],
  },
  {
    name: "a PUBLISH at QoS 3",
    bytes: (v) => publishRaw(v, 0x06, topicField(utf8("a")), 1),
    error: "ERR_BAD_QOS", reasons: [MALFORMED],
  },
  {
    name: "a Remaining Length of five bytes",
    bytes: () => Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]),
    error: "ERR_REMAINING_LENGTH", reasons: [MALFORMED],
  },
];

const unexpected: BadInput[] = [
  {
    name: "a CONNECT from the server",
    bytes: (v) => mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: v, clientId: "evil", clean: true, keepalive: 10 } as mqtt.IConnectPacket),
    // The specification does not name the reason for a packet of the wrong direction: either is fair.
    error: "ERR_UNEXPECTED_PACKET", reasons: [MALFORMED, PROTOCOL_ERROR],
  },
  {
    name: "a SUBSCRIBE from the server",
    bytes: (v) => frame(0x82, [0x00, 0x01, ...(v === 5 ? [0x00] : []), ...topicField(utf8("a/#")), 0x01]),
    error: "ERR_UNEXPECTED_PACKET", reasons: [MALFORMED, PROTOCOL_ERROR],
  },
  {
    name: "a PINGREQ from the server",
    bytes: () => Buffer.from([0xc0, 0x00]),
    error: "ERR_UNEXPECTED_PACKET", reasons: [MALFORMED, PROTOCOL_ERROR],
  },
  {
    name: "a second CONNACK",
    bytes: (v) => connack(v),
    error: "ERR_PROTOCOL", reasons: [PROTOCOL_ERROR],
  },
];

const UNKNOWN_ID = 0x4321;
const unknownAcks: BadInput[] = [
  { name: "a PUBACK", bytes: () => Buffer.from([0x40, 0x02, 0x43, 0x21]), error: "ERR_UNKNOWN_PACKET_ID", reasons: [PROTOCOL_ERROR] },
  { name: "a PUBREC", bytes: () => Buffer.from([0x50, 0x02, 0x43, 0x21]), error: "ERR_UNKNOWN_PACKET_ID", reasons: [PROTOCOL_ERROR] },
  { name: "a PUBCOMP", bytes: () => Buffer.from([0x70, 0x02, 0x43, 0x21]), error: "ERR_UNKNOWN_PACKET_ID", reasons: [PROTOCOL_ERROR] },
  {
    name: "a SUBACK",
    bytes: (v) => Buffer.from(v === 5 ? [0x90, 0x04, 0x43, 0x21, 0x00, 0x00] : [0x90, 0x03, 0x43, 0x21, 0x00]),
    error: "ERR_UNKNOWN_PACKET_ID", reasons: [PROTOCOL_ERROR],
  },
  {
    name: "an UNSUBACK",
    bytes: (v) => Buffer.from(v === 5 ? [0xb0, 0x04, 0x43, 0x21, 0x00, 0x00] : [0xb0, 0x02, 0x43, 0x21]),
    error: "ERR_UNKNOWN_PACKET_ID", reasons: [PROTOCOL_ERROR],
  },
];

// ---- the suite ----

const servers: Hostile[] = [];
const devices: TestDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.stop();
  for (const server of servers.splice(0)) await server.close();
});

async function hostile(behaviour: Behaviour): Promise<Hostile> {
  const server = await new Hostile(behaviour).listen();
  servers.push(server);
  return server;
}

function device(server: Hostile, version: Version, configure: (options: EngineOptions) => void = () => {}): TestDevice {
  const made = new TestDevice(server, (options) => {
    options.protocolVersion = version;
    options.clientId = `hostile-${version}-${devices.length}`;
    options.backoffInitialMs = 20;
    options.backoffMaxMs = 100;
    options.connectTimeoutMs = 3000;
    configure(options);
  });
  devices.push(made);
  return made;
}

/** Records the size of every chunk the driver hands the engine until the first disconnect (test-side only). */
function recordChunks(made: TestDevice, chunks: number[]): void {
  const engine = made.engine;
  const received = engine.received.bind(engine);
  engine.received = (chunk, offset, length, now) => {
    if (made.disconnects.length === 0) chunks.push(length);
    received(chunk, offset, length, now);
  };
}

const connects = (conn: Conn | undefined) => conn !== undefined && conn.packets.some((p) => p.cmd === "connect");
const sent = (conn: Conn, cmd: string) => conn.packets.filter((p) => p.cmd === cmd);

interface Extra {
  configure?: (options: EngineOptions) => void;
  /** Filled with the size of every chunk the engine is handed on the first link. */
  chunks?: number[];
  /** How long to wait for the error (the default suits every case that passes). */
  timeoutMs?: number;
}

/**
 * The first connection gets `misbehave` once the device's CONNECT is in; later connections are answered
 * well. Checks the error, the close, the v5 DISCONNECT reason and the reconnect; returns for more checks.
 */
async function expectRejected(version: Version, misbehave: (conn: Conn) => void | Promise<void>, error: string,
  reasons: number[] | null, extra: Extra = {}): Promise<{ server: Hostile; made: TestDevice }> {
  const server = await hostile((conn, packet) => {
    if (conn.index === 0) {
      if (packet.cmd === "connect") void misbehave(conn);
    } else {
      behave(version, conn, packet);
    }
  });
  const made = device(server, version, extra.configure);
  if (extra.chunks !== undefined) recordChunks(made, extra.chunks);
  made.start();
  await made.until(() => made.disconnects.length >= 1, error, extra.timeoutMs);
  expect(made.disconnects[0]).toBe(error);
  await made.until(() => server.conns[0].closed, "the server to see the first link close");
  await made.until(() => connects(server.conns[1]), "a second CONNECT after backoff");
  await made.until(() => made.engine.state === CONNECTED && server.conns.length === 2, "connected again");
  const first = server.conns[0];
  expect(first.parseErrors).toEqual([]);
  const disconnect = sent(first, "disconnect") as mqtt.IDisconnectPacket[];
  if (version === 5 && reasons !== null) {
    expect(disconnect.length, "a 5.0 DISCONNECT before the close").toBe(1);
    expect(reasons).toContain(disconnect[0].reasonCode);
    // The DISCONNECT is the last thing on the link.
    expect(first.packets[first.packets.length - 1].cmd).toBe("disconnect");
  } else if (version === 4) {
    // 3.1.1 has no client DISCONNECT that keeps the will: the device just closes.
    expect(disconnect).toEqual([]);
  }
  // The second, well-behaved connection stays up.
  expect(made.disconnects).toEqual([error]);
  return { server, made };
}

for (const version of [4, 5] as Version[]) {
  describe(`hostile broker, MQTT ${version === 5 ? "5.0" : "3.1.1"}`, () => {
    describe("malformed packets close the link with their own error", () => {
      for (const bad of malformed) {
        it(`${bad.name} -> ${bad.error}`, async () => {
          await expectRejected(version, (conn) => {
            conn.socket.write(connack(version));
            conn.socket.write(bad.bytes(version));
          }, bad.error, bad.reasons);
        });
        it(`${bad.name}, one byte per segment -> ${bad.error}`, async () => {
          const chunks: number[] = [];
          await expectRejected(version, async (conn) => {
            conn.socket.write(connack(version));
            await sleep(20);
            await send(conn, bad.bytes(version), true);
          }, bad.error, bad.reasons, { chunks });
          // It really came in pieces: the CONNACK, then at least two chunks of the bad packet.
          expect(chunks.length).toBeGreaterThanOrEqual(3);
        });
      }
    });

    describe("a remaining length of about 256 MB is refused from the header alone", () => {
      const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);
      for (const split of [false, true]) {
        it(`ERR_PACKET_TOO_LARGE, no body sent, memory does not grow${split ? " (header one byte per segment)" : ""}`, async () => {
          collectGarbage();
          const before = process.memoryUsage();
          const chunks: number[] = [];
          const { made, server } = await expectRejected(version, async (conn) => {
            conn.socket.write(connack(version));
            await sleep(20);
            await send(conn, header, split);
          }, "ERR_PACKET_TOO_LARGE", [PACKET_TOO_LARGE], {
            configure: (options) => { options.receiveBufferSize = 8192; }, chunks,
          });
          // Everything the server sent on the first link: the CONNACK and the 5 header bytes, no body.
          expect(chunks.reduce((a, b) => a + b, 0)).toBe(connack(version).length + header.length);
          if (split) expect(chunks.length).toBeGreaterThanOrEqual(3);
          expect(server.conns[0].socket.bytesWritten).toBe(connack(version).length + header.length);
          const after = process.memoryUsage();
          const mb = 1024 * 1024;
          // 268,435,455 bytes asked for; a device that allocated even a tenth of it shows here.
          expect((after.arrayBuffers - before.arrayBuffers) / mb).toBeLessThan(16);
          expect((after.external - before.external) / mb).toBeLessThan(16);
          expect((after.heapUsed - before.heapUsed) / mb).toBeLessThan(32);
          expect((after.rss - before.rss) / mb).toBeLessThan(64);
          expect(made.engine.state).toBe(CONNECTED);
        });
      }
    });

    describe("the receive limit is exact", () => {
      // The receive buffer is the largest packet accepted (Maximum Packet Size counts the whole packet).
      const limit = 8192;
      const publishOfSize = (total: number) => {
        // 0x30, a 2-byte Remaining Length, topic "big" (5 bytes), [properties], payload.
        const fixed = 1 + 2 + 5 + (version === 5 ? 1 : 0);
        return publishRaw(version, 0, topicField(utf8("big")), 0, total - fixed);
      };

      it(`a PUBLISH of exactly ${limit} bytes is delivered; one of ${limit + 1} -> ERR_PACKET_TOO_LARGE`, async () => {
        expect(publishOfSize(limit).length).toBe(limit);
        expect(publishOfSize(limit + 1).length).toBe(limit + 1);
        const { made } = await expectRejected(version, async (conn) => {
          conn.socket.write(connack(version));
          conn.socket.write(publishOfSize(limit));
          await sleep(50);
          conn.socket.write(publishOfSize(limit + 1));
        }, "ERR_PACKET_TOO_LARGE", [PACKET_TOO_LARGE], {
          configure: (options) => { options.receiveBufferSize = limit; },
        });
        expect(made.received.length).toBe(1);
        expect(made.received[0].topic).toBe("big");
        expect(made.received[0].payload.length).toBe(limit - (1 + 2 + 5 + (version === 5 ? 1 : 0)));
      });
    });

    describe("packets a client never receives", () => {
      for (const bad of unexpected) {
        it(`${bad.name} -> ${bad.error}`, async () => {
          await expectRejected(version, (conn) => {
            conn.socket.write(connack(version));
            conn.socket.write(bad.bytes(version));
          }, bad.error, bad.reasons);
        });
      }

      it("a PUBLISH before the CONNACK -> ERR_PROTOCOL", async () => {
        // The DISCONNECT before a CONNACK is checked separately below (5.0 only).
        await expectRejected(version, (conn) => {
          conn.socket.write(publishRaw(version, 0, topicField(utf8("early"))));
        }, "ERR_PROTOCOL", null);
      });

      if (version === 5) {
        // [MQTT-4.13.1] (5.0): on a Malformed Packet or Protocol Error in any packet but AUTH, the client
        // SHOULD send a DISCONNECT with the reason before closing; a client may send packets before its
        // CONNACK arrives (3.1.4), so "not connected yet" is no exception.
        it("before the CONNACK too, a 5.0 device says why: a PUBLISH first -> DISCONNECT 0x82", async () => {
          await expectRejected(version, (conn) => {
            conn.socket.write(publishRaw(version, 0, topicField(utf8("early"))));
          }, "ERR_PROTOCOL", [PROTOCOL_ERROR]);
        });

        it("before the CONNACK too, a 5.0 device says why: a CONNACK with reserved flags -> DISCONNECT 0x81", async () => {
          await expectRejected(version, (conn) => {
            conn.socket.write(Buffer.from([0x20, 0x03, 0x02, 0x00, 0x00]));
          }, "ERR_RESERVED_FLAGS", [MALFORMED]);
        });

        it("a CONNACK with Session Present 1 answering Clean Start 1 -> ERR_PROTOCOL ([MQTT-3.2.2-4])", async () => {
          // "If the Client does not have Session State and it receives Session Present set to 1 it MUST
          // close the Network Connection." A device that believed it would keep, for instance, its
          // subscriptions as active while the broker (told Clean Start) has none.
          await expectRejected(version, (conn) => {
            conn.socket.write(connack(version, true));
          }, "ERR_PROTOCOL", [PROTOCOL_ERROR], { timeoutMs: 1000 });
        });
      }
    });

    describe("acknowledgements for packet ids the client never used", () => {
      for (const bad of unknownAcks) {
        it(`${bad.name} for id ${UNKNOWN_ID} -> ${bad.error}`, async () => {
          await expectRejected(version, (conn) => {
            conn.socket.write(connack(version));
            conn.socket.write(bad.bytes(version));
          }, bad.error, bad.reasons);
        });
      }

      it(`a PUBREL for an unknown id is answered with PUBCOMP${version === 5 ? " 0x92" : ""}, and the link stays up`, async () => {
        const server = await hostile((conn, packet) => {
          if (packet.cmd === "connect") {
            conn.socket.write(connack(version));
            if (conn.index === 0) conn.socket.write(Buffer.from([0x62, 0x02, 0x43, 0x21]));
          }
        });
        const made = device(server, version);
        made.start();
        await made.until(() => server.conns.length > 0 && sent(server.conns[0], "pubcomp").length === 1, "PUBCOMP");
        const pubcomp = sent(server.conns[0], "pubcomp")[0] as mqtt.IPubcompPacket;
        expect(pubcomp.messageId).toBe(UNKNOWN_ID);
        if (version === 5) expect(pubcomp.reasonCode).toBe(PACKET_ID_NOT_FOUND);
        await sleep(150);
        expect(made.disconnects).toEqual([]);
        expect(server.conns.length).toBe(1);
        expect(server.conns[0].closed).toBe(false);
        expect(server.conns[0].parseErrors).toEqual([]);
        expect(made.engine.state).toBe(CONNECTED);
      });
    });

    describe("a silent or half-talking broker", () => {
      it("half a PUBLISH then silence: ERR_KEEPALIVE_TIMEOUT 1.5 keep-alive intervals after the last byte", async () => {
        let halfSentAt = -1;
        const publish = publishRaw(version, 0x02, topicField(utf8("half/packet")), 7);
        const half = Buffer.concat([publish, Buffer.alloc(100, 0x61)]);
        half[1] += 100; // the payload grows by 100 bytes (still a one-byte Remaining Length)
        expect(half[1]).toBeLessThan(128);
        const { server } = await expectRejected(version, async (conn) => {
          conn.socket.write(connack(version));
          await sleep(20);
          conn.socket.write(half.subarray(0, half.length >> 1));
          halfSentAt = performance.now();
        }, "ERR_KEEPALIVE_TIMEOUT", null, { configure: (options) => { options.keepAlive = 1; } });
        const first = server.conns[0];
        const elapsed = first.closedAt - halfSentAt;
        expect(elapsed).toBeGreaterThanOrEqual(1450);
        expect(elapsed).toBeLessThan(1500 + 400);
        // The device pinged (it was quiet for a keep-alive interval) and nothing was delivered.
        expect(sent(first, "pingreq").length).toBe(1);
        // A dead link is not a protocol error: no DISCONNECT reason to give.
        expect(sent(first, "disconnect")).toEqual([]);
      });

      it("a trickling broker (one byte of a never-finished packet every 200 ms, no PINGRESP): ERR_KEEPALIVE_TIMEOUT once the PINGRESP is late", async () => {
        // DESIGN.md: the link is declared dead when nothing was received for 1.5x the interval "(or the
        // PINGRESP is late)". Bytes that never make a packet must not keep a dead link alive forever.
        let connackAt = -1;
        let trickling = true;
        const body = publishRaw(version, 0, topicField(utf8("slow")), 0, 4000);
        const { server } = await expectRejected(version, async (conn) => {
          conn.socket.write(connack(version));
          connackAt = performance.now();
          for (let i = 0; i < body.length && trickling && !conn.closed; i++) {
            conn.socket.write(body.subarray(i, i + 1));
            await sleep(200);
          }
        }, "ERR_KEEPALIVE_TIMEOUT", null, {
          configure: (options) => { options.keepAlive = 1; }, timeoutMs: 3000,
        }).finally(() => { trickling = false; });
        const first = server.conns[0];
        // PINGREQ at ~1 s; a PINGRESP owed since then is late by 1.5 s at the latest.
        expect(sent(first, "pingreq").length).toBeGreaterThanOrEqual(1);
        expect(first.closedAt - connackAt).toBeLessThan(1000 + 1500 + 400);
      }, 6000);

      it("half a CONNACK then silence: ERR_CONNECT_TIMEOUT", async () => {
        const connectTimeoutMs = 400;
        const startedAt = performance.now();
        const { server } = await expectRejected(version, (conn) => {
          conn.socket.write(connack(version).subarray(0, 2));
        }, "ERR_CONNECT_TIMEOUT", null, { configure: (options) => { options.connectTimeoutMs = connectTimeoutMs; } });
        const elapsed = server.conns[0].closedAt - startedAt;
        expect(elapsed).toBeGreaterThanOrEqual(connectTimeoutMs - 5);
        expect(elapsed).toBeLessThan(connectTimeoutMs + 300);
      });

      it("a broker that never answers CONNECT: ERR_CONNECT_TIMEOUT after connectTimeoutMs", async () => {
        const connectTimeoutMs = 400;
        const startedAt = performance.now();
        const { server } = await expectRejected(version, () => {}, "ERR_CONNECT_TIMEOUT", null, {
          configure: (options) => { options.connectTimeoutMs = connectTimeoutMs; },
        });
        const first = server.conns[0];
        const elapsed = first.closedAt - startedAt;
        expect(elapsed).toBeGreaterThanOrEqual(connectTimeoutMs - 5);
        expect(elapsed).toBeLessThan(connectTimeoutMs + 300);
        expect(first.packets.map((p) => p.cmd)).toEqual(["connect"]);
      });
    });

    describe("queued messages survive a broken link", () => {
      const payloads = ["m0", "m1", "m2", "m3", "m4"];
      const garbage = Buffer.from([0x00, 0x03, 0xde, 0xad, 0xbe]);

      it("5 QoS 1 messages published at once, garbage after the first arrives, clean session: all 5 arrive again, in order", async () => {
        const server = await hostile((conn, packet) => {
          if (conn.index === 0) {
            if (packet.cmd === "connect") conn.socket.write(connack(version));
            if (packet.cmd === "publish" && sent(conn, "publish").length === 1) conn.socket.write(garbage);
            return;
          }
          behave(version, conn, packet);
        });
        const made = device(server, version);
        made.start();
        await made.until(() => made.connects === 1, "connected");
        const ids = payloads.map((p) => made.publish("q/1", p, 1));
        for (const id of ids) expect(id).toBeGreaterThan(0);
        await made.until(() => made.disconnects.length === 1, "the garbage to end the link");
        expect(made.disconnects[0]).toBe("ERR_UNEXPECTED_PACKET");
        await made.until(() => made.acknowledged.length === 5, "5 PUBACKs on the second connection");
        const second = sent(server.conns[1], "publish") as mqtt.IPublishPacket[];
        expect(second.map((p) => p.payload.toString())).toEqual(payloads);
        expect(second.every((p) => p.qos === 1)).toBe(true);
        expect(made.acknowledged.map((a) => a.packetId)).toEqual(ids);
        expect(made.engine.pendingMessages).toBe(0);
        expect(made.disconnects).toEqual(["ERR_UNEXPECTED_PACKET"]);
        expect(server.conns[0].closed).toBe(true);
        expect(server.conns.length).toBe(2);
        if (version === 5) {
          const disconnect = sent(server.conns[0], "disconnect") as mqtt.IDisconnectPacket[];
          expect(disconnect.length).toBe(1);
          expect([MALFORMED, PROTOCOL_ERROR]).toContain(disconnect[0].reasonCode);
        }
      });

      it("2 sent, garbage, 3 more while offline, session resumed: resent with DUP, then the rest, in order", async () => {
        const server = await hostile((conn, packet) => {
          if (conn.index === 0) {
            if (packet.cmd === "connect") conn.socket.write(connack(version));
            if (packet.cmd === "publish" && sent(conn, "publish").length === 2) conn.socket.write(garbage);
            return;
          }
          if (packet.cmd === "connect") {
            // Answer late, so the last three are published while the device is offline.
            setTimeout(() => behave(version, conn, packet, true), 100);
            return;
          }
          behave(version, conn, packet, true);
        });
        const made = device(server, version, (options) => { options.cleanStart = false; options.sessionExpiry = 60; });
        made.start();
        await made.until(() => made.connects === 1, "connected");
        const ids = [made.publish("q/2", payloads[0], 1), made.publish("q/2", payloads[1], 1)];
        await made.until(() => made.disconnects.length === 1, "the garbage to end the link");
        expect(made.engine.state).not.toBe(CONNECTED);
        for (const p of payloads.slice(2)) ids.push(made.publish("q/2", p, 1));
        for (const id of ids) expect(id).toBeGreaterThan(0);
        await made.until(() => made.acknowledged.length === 5, "5 PUBACKs on the second connection");
        const first = sent(server.conns[0], "publish") as mqtt.IPublishPacket[];
        const second = sent(server.conns[1], "publish") as mqtt.IPublishPacket[];
        expect(first.map((p) => p.payload.toString())).toEqual(payloads.slice(0, 2));
        expect(second.map((p) => p.payload.toString())).toEqual(payloads);
        expect(second.map((p) => p.dup)).toEqual([true, true, false, false, false]);
        expect(second.map((p) => p.messageId)).toEqual(ids);
        expect(made.sessionPresent).toBe(true);
        expect(made.engine.pendingMessages).toBe(0);
        expect(made.engine.counters.retransmits).toBe(2);
        expect(made.disconnects).toEqual(["ERR_UNEXPECTED_PACKET"]);
      });
    });
  });
}
