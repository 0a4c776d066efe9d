// Fault injection for the fleet simulator: the TCP fault proxy (latency and jitter, cuts, half-open links,
// partitions, hostile first packets, bounded memory) between the project's own client and real brokers
// (embedded Aedes; Debian's mosquitto where installed), the embedded broker's crash and restart over its
// persistence, and the restart command for external brokers.
//
// Keep-alives are 1 s and reconnect backoffs short, so each fault plays out in a few seconds.

import net from "node:net";
import { performance } from "node:perf_hooks";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as mqtt from "mqtt-packet";
import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { FaultProxy, connectClientId } from "../../simulator/faults/proxy";
import { RestartCommandError, runRestartCommand } from "../../simulator/faults/restart-command";
import { startEmbeddedBroker, EmbeddedBroker } from "../../simulator/broker";
import { EngineOptions } from "../../device/engine";
import { PUBCOMP, Will } from "../../device/codec";
import { TestDevice } from "../device";
import { mulberry32 } from "../engine/harness";
import { Broker, peerAvailable, startAedes, startMosquitto } from "../peers";

// ------------------------------------------------------------------------------------------------ helpers

const KEEP_ALIVE_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `condition`, checking every 20 ms. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The proxy as the endpoint devices connect to. */
function via(proxy: FaultProxy): Broker {
  return { host: proxy.host, port: proxy.port, close: () => proxy.close() };
}

/** Clients and proxies a test made, closed after it whatever happened. */
const made: { devices: TestDevice[]; proxies: FaultProxy[] } = { devices: [], proxies: [] };

afterEach(async () => {
  for (const device of made.devices.splice(0)) device.stop();
  for (const proxy of made.proxies.splice(0)) await proxy.close();
});

async function proxyFor(broker: Broker): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ host: broker.host, port: broker.port });
  made.proxies.push(proxy);
  return proxy;
}

/**
 * A device on a persistent session with a 1 s keep-alive, quick reconnects and a QoS 1 will on
 * `<topic>/will`; started, and connected before this resolves.
 */
async function device(endpoint: Broker, clientId: string, willTopic: string | null = null,
  tune: (options: EngineOptions) => void = () => undefined): Promise<TestDevice> {
  const created = new TestDevice(endpoint, (options: EngineOptions) => {
    options.clientId = clientId;
    options.cleanStart = false;
    options.keepAlive = KEEP_ALIVE_MS / 1000;
    options.connectTimeoutMs = 1000;
    options.backoffInitialMs = 50;
    options.backoffMaxMs = 200;
    options.inflightWindow = 8;
    options.queueSlots = 64;
    options.messageSlotSize = 256;
    if (willTopic !== null) {
      const will = new Will();
      will.topic = willTopic;
      will.payload = new TextEncoder().encode("offline");
      will.qos = 1;
      options.will = will;
    }
    tune(options);
  });
  made.devices.push(created);
  created.start();
  await created.until(() => created.connects > 0, `${clientId} to connect`);
  return created;
}

/** A client straight on the broker subscribed to `filter` (at QoS 1 unless told), subscribed before this resolves. */
async function subscriber(broker: Broker, clientId: string, filter: string, qos = 1): Promise<TestDevice> {
  const created = await device(broker, clientId);
  created.subscribe(filter, qos);
  await created.until(() => created.acknowledged.length > 0, `${clientId}'s SUBACK`);
  return created;
}

/** The sequence numbers (payloads "n") a subscriber got on `topic`, in arrival order, with arrival times. */
function arrivals(from: TestDevice, topic: string): { sequence: number; at: number }[] {
  return from.received.filter((m) => m.topic === topic).map((m) => ({ sequence: Number(m.payload), at: m.at }));
}

/** Publishes "0", "1", ... on `topic` at QoS 1 every `everyMs` until stopped; remembers when each left. */
function publishing(from: TestDevice, topic: string, everyMs: number): { sentAt: number[]; stop(): void } {
  const sentAt: number[] = [];
  const timer = setInterval(() => {
    const result = from.publish(topic, String(sentAt.length), 1);
    if (result < 0) throw new Error(`publish ${sentAt.length} on ${topic} was refused (${result})`);
    sentAt.push(performance.now());
  }, everyMs);
  return { sentAt, stop: () => clearInterval(timer) };
}

/** The sequence numbers below `count` that are not among `got`. */
function missing(got: { sequence: number }[], count: number): number[] {
  const seen = new Set(got.map((g) => g.sequence));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
}

// ------------------------------------------------------------------ the proxy over a broker, each fault

/** The faults every broker must come through; `exactKeepAlive` brokers also have their will timing held to 1.5x. */
function proxySuite(name: string, start: () => Promise<Broker>, exactKeepAlive: boolean, skip = false): void {
  describe.skipIf(skip)(`fault proxy over ${name}`, () => {
    let broker: Broker;
    const tag = name.replace(/\W/g, "");

    beforeAll(async () => {
      broker = await start();
    });

    afterAll(async () => {
      await broker?.close();
    });

    it("latency and jitter: nothing arrives sooner than the latency, and jitter never reorders", async () => {
      const topic = `faults/${tag}/latency`;
      const watcher = await subscriber(broker, `${tag}-lat-watch`, topic);
      const proxy = await proxyFor(broker);
      const latency = 120;
      proxy.setLatency(latency, 80, mulberry32(7));
      const connectStarted = performance.now();
      const slow = await device(via(proxy), `${tag}-lat-dev`);
      // CONNECT one way, CONNACK the other.
      expect(performance.now() - connectStarted).toBeGreaterThanOrEqual(2 * latency);
      // 10 ms apart: each message is a chunk of its own, and each later one could overtake with 80 ms of jitter.
      const sender = publishing(slow, topic, 10);
      await until(() => sender.sentAt.length >= 30, "30 messages sent");
      sender.stop();
      const count = sender.sentAt.length;
      await watcher.until(() => arrivals(watcher, topic).length >= count, `${count} messages`);
      const got = arrivals(watcher, topic);
      expect(got.map((g) => g.sequence)).toEqual(Array.from({ length: count }, (_, i) => i));
      const delays = got.map((g) => g.at - sender.sentAt[g.sequence]);
      // A timer may fire up to a millisecond short of its mark.
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(latency - 1);
      expect(Math.max(...delays) - Math.min(...delays), "the jitter varied the delays").toBeGreaterThan(10);
      expect(proxy.counters).toMatchObject({ connections: 1, identified: 1, chunksDropped: 0, cuts: 0 });
      expect(proxy.counters.bytesToBroker).toBeGreaterThan(count * topic.length);
      await slow.until(() => slow.engine.pendingMessages === 0, "every PUBACK");
      // A CONNACK and a PUBACK each (4 bytes apiece), all through the proxy.
      expect(proxy.counters.bytesToDevice).toBeGreaterThanOrEqual(4 + count * 4);
    });

    it("cut: the device reconnects through the proxy and resends the QoS 1 message the cut lost", async () => {
      const topic = `faults/${tag}/cut`;
      const watcher = await subscriber(broker, `${tag}-cut-watch`, topic);
      const proxy = await proxyFor(broker);
      const id = `${tag}-cut-dev`;
      const victim = await device(via(proxy), id);
      // The message waits in the proxy for a second; the cut comes first and takes it with the link.
      proxy.setLatency(1000);
      const packetId = victim.publish(topic, "0", 1);
      expect(packetId).toBeGreaterThan(0);
      await sleep(100);
      expect(proxy.cut(id)).toBe(true);
      proxy.setLatency(0);
      expect(proxy.counters.cuts).toBe(1);
      expect(proxy.counters.chunksDropped, "the message was in the proxy when the link was cut").toBeGreaterThanOrEqual(1);
      await victim.until(() => victim.connects >= 2, "the reconnect");
      expect(victim.disconnects[0]).toBe("ERR_LINK_LOST");
      await watcher.until(() => arrivals(watcher, topic).length >= 1, "the resent message");
      expect(arrivals(watcher, topic)[0].sequence).toBe(0);
      await victim.until(() => victim.acknowledged.some((a) => a.packetId === packetId), "the PUBACK");
      expect(victim.engine.pendingMessages).toBe(0);
      expect(proxy.cut("nobody")).toBe(false);
    });

    it("cut: a device with the planted fault (no resend after a reconnect) loses the message, and it shows", async () => {
      const topic = `faults/${tag}/planted`;
      const watcher = await subscriber(broker, `${tag}-planted-watch`, topic);
      const proxy = await proxyFor(broker);
      const id = `${tag}-planted-dev`;
      const faulty = await device(via(proxy), id, null, (options) => { options.resendOnReconnect = false; });
      proxy.setLatency(1000);
      expect(faulty.publish(topic, "0", 1)).toBeGreaterThan(0);
      await sleep(100);
      proxy.cut(id);
      proxy.setLatency(0);
      await faulty.until(() => faulty.connects >= 2, "the reconnect");
      expect(faulty.publish(topic, "1", 1)).toBeGreaterThan(0);
      await watcher.until(() => arrivals(watcher, topic).length >= 1, "message 1");
      await sleep(300);
      expect(arrivals(watcher, topic).map((g) => g.sequence), "message 0 is lost").toEqual([1]);
    });

    it("cut in each step of a QoS 2 flow: the message still arrives exactly once", async () => {
      const topic = `faults/${tag}/qos2`;
      const watcher = await subscriber(broker, `${tag}-q2-watch`, topic, 2);
      const proxy = await proxyFor(broker);
      const id = `${tag}-q2-dev`;
      const victim = await device(via(proxy), id);
      // Each packet spends `step` ms in the proxy: PUBLISH, PUBREC, PUBREL and PUBCOMP are in it by turns,
      // and the cut at (k + 0.5) steps takes the k-th with the link (timer lag may shift it to a later one).
      const step = 200;
      for (let k = 0; k < 4; k++) {
        proxy.setLatency(step);
        const packetId = victim.publish(topic, String(k), 2);
        expect(packetId).toBeGreaterThan(0);
        await sleep((k + 0.5) * step);
        expect(proxy.cut(id)).toBe(true);
        proxy.setLatency(0);
        await victim.until(() => victim.acknowledged.some((a) => a.type === PUBCOMP && a.packetId === packetId), `PUBCOMP of message ${k}`);
      }
      await sleep(300);
      expect(proxy.counters.chunksDropped, "each cut took a packet with it").toBeGreaterThanOrEqual(4);
      expect(arrivals(watcher, topic).map((g) => g.sequence)).toEqual([0, 1, 2, 3]);
    });

    it("partition: the subset goes silent, the others carry on, and after healing every queued QoS 1 message arrives", async () => {
      const base = `faults/${tag}/partition`;
      const watcher = await subscriber(broker, `${tag}-part-watch`, `${base}/+/+`);
      const proxy = await proxyFor(broker);
      const ids = ["a", "b", "c", "d"].map((letter) => `${tag}-part-${letter}`);
      const devices = await Promise.all(ids.map((id) => device(via(proxy), id, `${base}/${id}/will`)));
      const senders = devices.map((d, i) => publishing(d, `${base}/${ids[i]}/data`, 150));
      await sleep(500);
      const cutOff = ids.slice(0, 2);
      const partitionedAt = performance.now();
      proxy.partition(cutOff, true);
      await sleep(2500);
      const healedAt = performance.now();
      proxy.partition(cutOff, false);
      await sleep(500);
      for (const sender of senders) sender.stop();

      await until(() => devices.slice(0, 2).every((d) => d.connects >= 2), "the partitioned devices to reconnect", 5000);
      await until(() => senders.every((s, i) => missing(arrivals(watcher, `${base}/${ids[i]}/data`), s.sentAt.length).length === 0),
        "every message of every device", 8000);
      for (let i = 0; i < ids.length; i++) {
        const during = arrivals(watcher, `${base}/${ids[i]}/data`).filter((g) => g.at > partitionedAt + 50 && g.at < healedAt);
        if (i < 2) {
          expect(during, `${ids[i]} is partitioned: nothing of it may arrive`).toEqual([]);
          // Its keep-alive found the link dead, and its new connections were black-holed until the heal.
          expect(devices[i].disconnects).toContain("ERR_KEEPALIVE_TIMEOUT");
        } else {
          expect(during.length, `${ids[i]} is not partitioned`).toBeGreaterThanOrEqual(8);
          expect(devices[i].connects).toBe(1);
        }
      }
      expect(proxy.counters.chunksDropped).toBeGreaterThan(0);
      if (exactKeepAlive) {
        const wills = watcher.received.filter((m) => m.topic.endsWith("/will")).map((m) => m.topic);
        expect(wills.sort()).toEqual(cutOff.map((id) => `${base}/${id}/will`));
      }
    });

    it(`half-open: the device finds the link dead within 1.5x keep-alive${exactKeepAlive ? ", the broker publishes its will in time," : ""} and it reconnects`, async () => {
      const base = `faults/${tag}/half`;
      const watcher = await subscriber(broker, `${tag}-half-watch`, `${base}/+/will`);
      const proxy = await proxyFor(broker);
      const id = `${tag}-half-dev`;
      const stuck = await device(via(proxy), id, `${base}/${id}/will`);
      await sleep(200);
      const heldAt = performance.now();
      expect(proxy.halfOpen(id)).toBe(true);
      await stuck.until(() => stuck.disconnects.length > 0, "the device to give the link up", 3000);
      const noticedAfter = performance.now() - heldAt;
      // Its new connections are held back, so the will can come only from the broker's own keep-alive.
      proxy.partition([id], true);
      expect(stuck.disconnects).toEqual(["ERR_KEEPALIVE_TIMEOUT"]);
      // 1.5x after the last packet it got, which came before the hold; the rest is timer lag on a busy machine.
      expect(noticedAfter).toBeLessThanOrEqual(1.5 * KEEP_ALIVE_MS + 250);
      expect(proxy.counters.chunksDropped, "its PINGREQ went nowhere").toBeGreaterThanOrEqual(1);
      if (exactKeepAlive) {
        await watcher.until(() => watcher.received.length > 0, "the will", 3000);
        expect(watcher.received[0].topic).toBe(`${base}/${id}/will`);
        expect(watcher.received[0].at - heldAt).toBeLessThanOrEqual(1.5 * KEEP_ALIVE_MS + 500);
      }
      expect(stuck.connects).toBe(1);
      proxy.partition([id], false);
      await stuck.until(() => stuck.connects === 2, "the reconnect after healing", 4000);
    });
  });
}

proxySuite("embedded Aedes", startAedes, true);
// mosquitto checks keep-alives on a timer (seconds late at a 1 s keep-alive), so its will timing is not held to 1.5x here.
// Locally a missing mosquitto skips its suite; under CI=true the suite fails with the reason instead.
let mosquittoMissing: unknown = null;
let mosquittoSkip = false;
try {
  mosquittoSkip = !peerAvailable("mosquitto", "apt-get install mosquitto");
} catch (error) {
  mosquittoMissing = error;
}
proxySuite("mosquitto", async () => {
  if (mosquittoMissing !== null) throw mosquittoMissing;
  return startMosquitto();
}, false, mosquittoSkip);

// ----------------------------------------------------------------------------------- hostile input, memory

describe("fault proxy: bad input and bounded memory", () => {
  it("reads the client id of 3.1, 3.1.1 and 5.0 CONNECTs, only once enough bytes have come", () => {
    const packets: [mqtt.IConnectPacket, string][] = [
      [{ cmd: "connect", protocolId: "MQIsdp", protocolVersion: 3, clientId: "old-1", clean: true, keepalive: 10 }, "old-1"],
      [{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "dev-é", clean: false, keepalive: 0,
        will: { topic: "w", payload: Buffer.from("x"), qos: 1, retain: false }, username: "u", password: Buffer.from("p") }, "dev-é"],
      [{ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "five", clean: true, keepalive: 30,
        properties: { sessionExpiryInterval: 600, receiveMaximum: 8, userProperties: { site: "lab".repeat(100) } } }, "five"],
    ];
    for (const [packet, id] of packets) {
      const bytes = mqtt.generate(packet);
      expect(connectClientId(bytes)).toBe(id);
      // Any shorter prefix that stops before the id's last byte leaves it undecided.
      const idEnd = bytes.lastIndexOf(Buffer.from(id)) + Buffer.byteLength(id);
      for (const cut of [1, 2, 5, 9, idEnd - 1]) expect(connectClientId(bytes.subarray(0, cut)), `${id} cut at ${cut}`).toBeUndefined();
      expect(connectClientId(bytes.subarray(0, idEnd))).toBe(id);
    }
  });

  it("leaves unidentified what is no CONNECT with a client id", () => {
    const connect = (fields: Partial<mqtt.IConnectPacket>) =>
      mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "x", clean: true, keepalive: 5, ...fields } as mqtt.IConnectPacket);
    const valid = connect({});
    const reserved = Buffer.from(valid);
    reserved[9] |= 1;
    const wrongName = Buffer.from(valid);
    wrongName[7] = 0x58;
    const cases: [string, Buffer][] = [
      ["a PUBLISH", mqtt.generate({ cmd: "publish", topic: "t", payload: Buffer.from("p"), qos: 0, retain: false, dup: false })],
      ["a TLS ClientHello", Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01])],
      ["an empty client id", connect({ clientId: "" })],
      ["the reserved flag set", reserved],
      ["protocol name MQTX", wrongName],
      ["a protocol name that is not UTF-8, before the rest has come", Buffer.from([0x10, 0x40, 0x00, 0x04, 0xff, 0xfe, 0x01, 0x02])],
      ["a 5-byte remaining length", Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01])],
      ["a 256 MB remaining length", Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), valid.subarray(2)])],
      ["a non-minimal remaining length", Buffer.from([0x10, 0x80, 0x00])],
      ["a client id past the packet's end", Buffer.concat([Buffer.from([0x10, 12]), valid.subarray(2, 12), Buffer.from([0x00, 0x09, 0x41])])],
      ["5.0 properties past the identify limit", mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "late",
        clean: true, keepalive: 5, properties: { userProperties: { pad: "z".repeat(5000) } } })],
    ];
    for (const [what, bytes] of cases) expect(connectClientId(bytes), what).toBeNull();
  });

  it("takes a TLS device's announcement with its first bytes, and drops one whose connection closes before any", async () => {
    const sink = net.createServer((socket) => socket.on("error", () => undefined));
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const proxy = await FaultProxy.start({ host: "127.0.0.1", port: (sink.address() as net.AddressInfo).port });
    made.proxies.push(proxy);
    try {
      const announce = (id: string) => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(proxy.port, proxy.host, () => {
          proxy.expect(socket.localAddress!, socket.localPort!, id);
          resolve(socket);
        });
      });
      // Bytes the proxy cannot read (a TLS ClientHello): the announcement says who it is.
      const speaks = await announce("tls-speaker");
      speaks.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]));
      await until(() => proxy.counters.identified === 1, "the announced device identified");
      expect(proxy.announcementsWaiting).toBe(0);
      // Gone before its first bytes: nothing of it stays behind.
      const silent = await announce("tls-silent");
      expect(proxy.announcementsWaiting).toBe(1);
      silent.destroy();
      await until(() => proxy.announcementsWaiting === 0, "the closed connection's announcement dropped");
      expect(proxy.counters.identified).toBe(1);
      speaks.destroy();
    } finally {
      sink.close();
    }
  });

  it("forwards garbage and a 256 MB header unidentified, without crashing, while a real device works", async () => {
    const broker = await startAedes();
    try {
      const proxy = await proxyFor(broker);
      const random = mulberry32(99);
      const noise = Buffer.from(Array.from({ length: 2000 }, () => Math.floor(random() * 256)));
      const body = mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "huge", clean: true, keepalive: 5 }).subarray(2);
      const hostile = [noise, Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), body]), Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01])];
      const sockets = hostile.map((bytes) => {
        const socket = net.connect(proxy.port, proxy.host);
        socket.on("error", () => undefined);
        socket.write(bytes);
        return socket;
      });
      const sent = hostile.reduce((sum, bytes) => sum + bytes.length, 0);
      await until(() => proxy.counters.bytesToBroker >= sent, "the hostile bytes forwarded");
      const topic = "faults/hostile/ok";
      const watcher = await subscriber(broker, "hostile-watch", topic);
      const good = await device(via(proxy), "hostile-good");
      good.publish(topic, "0", 1);
      await watcher.until(() => watcher.received.length === 1, "the good device's message");
      expect(proxy.counters.connections).toBe(4);
      expect(proxy.counters.identified, "only the real device is identified").toBe(1);
      expect(proxy.cut("huge")).toBe(false);
      for (const socket of sockets) socket.destroy();
    } finally {
      await broker.close();
    }
  });

  it("holds at most its limit in flight when the broker stops reading, and delivers everything once it reads again", async () => {
    let received = 0;
    const stalled: net.Socket[] = [];
    const sources: string[] = [];
    const sink = net.createServer((socket) => {
      sources.push(socket.remoteAddress!);
      socket.pause();
      socket.on("data", (chunk: Buffer) => { received += chunk.length; });
      stalled.push(socket);
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    try {
      const limit = 64 * 1024;
      // From a source address of its own, as a proxy of a large fleet would.
      const proxy = await FaultProxy.start({ host: "127.0.0.1", port: (sink.address() as net.AddressInfo).port },
        { maxPendingBytes: limit, localAddress: "127.0.0.9" });
      made.proxies.push(proxy);
      proxy.setLatency(5);
      const sender = net.connect(proxy.port, proxy.host);
      sender.on("error", () => undefined);
      await new Promise((resolve) => sender.once("connect", resolve));
      const connect = mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "firehose", clean: true, keepalive: 5 });
      const total = 64 * 1024 * 1024;
      sender.write(connect);
      const block = Buffer.alloc(64 * 1024, 0x5a);
      for (let written = 0; written < total; written += block.length) sender.write(block);
      // Wait until the flow stops: the broker side connected, the kernel's buffers full, the proxy paused.
      await until(() => sources.length > 0, "the proxy's connection to the broker");
      let last = -1;
      for (let waited = 0; proxy.counters.bytesToBroker !== last || proxy.counters.pauses === 0; waited += 200) {
        if (waited > 10_000) throw new Error("the flow did not stop within 10 s");
        last = proxy.counters.bytesToBroker;
        await sleep(200);
      }
      expect(proxy.counters.identified).toBe(1);
      expect(sources).toEqual(["127.0.0.9"]);
      // The bound: the limit, plus the one chunk (at most 64 KB) that crossed it.
      expect(proxy.counters.peakPendingBytes).toBeLessThanOrEqual(limit + 64 * 1024);
      expect(proxy.counters.bytesToBroker, "the rest waits at the sender, not in the proxy").toBeLessThan(total / 2);
      expect(sender.writableLength).toBeGreaterThan(0);
      for (const socket of stalled) socket.resume();
      await until(() => received === total + connect.length, "every byte delivered after the broker reads again", 20_000);
      expect(proxy.counters.peakPendingBytes).toBeLessThanOrEqual(limit + 64 * 1024);
      sender.destroy();
    } finally {
      for (const socket of stalled) socket.destroy();
      await new Promise((resolve) => sink.close(resolve));
    }
  });

  it("survives running out of open files, and carries connections again once files are free", async () => {
    // The proxy in a child process limited to 40 open files; the devices here, in this process.
    const child = spawn("sh", ["-c", `ulimit -n 40 && exec "${process.execPath}" --import tsx fault-proxy-files-child.ts`],
      { cwd: fileURLToPath(new URL(".", import.meta.url)), stdio: ["pipe", "pipe", "inherit"] });
    const lines: string[] = [];
    child.stdout.on("data", (data: Buffer) => lines.push(...data.toString().trim().split("\n")));
    const next = async (what: string) => {
      await until(() => lines.length > 0, what);
      return lines.shift()!;
    };
    const counters = async () => {
      child.stdin.write("counters\n");
      return JSON.parse(await next("the proxy's counters"));
    };
    let turnedAway = 0;
    const connectAs = (port: number, clientId: string) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.on("close", () => { turnedAway++; });
      socket.write(mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId, clean: true, keepalive: 60 }));
      return socket;
    };
    try {
      const port = Number(await next("the proxy's port"));
      const sockets: net.Socket[] = [];
      for (let i = 0; i < 40; i++) {
        sockets.push(connectAs(port, `files-${i}`));
        await sleep(5);
      }
      // Out of files, a device is turned away either way: libuv accepts and closes what it has no file for,
      // or the proxy's own connection to the broker fails (EMFILE) and it closes the device's.
      await until(() => turnedAway > 0, "a device turned away");
      const full = await counters();
      expect(full.open, "at three files a connection (device, broker, the sink's side), 40 cannot all be held").toBeLessThan(40);
      if (full.brokerErrors > 0) expect(full.lastError).toBe("EMFILE");
      for (const socket of sockets) socket.destroy();
      await until(() => turnedAway === sockets.length, "every device gone");
      await sleep(300);
      const freed = await counters();
      expect(freed.open).toBe(0);
      const last = connectAs(port, "files-after");
      let after = await counters();
      for (let tries = 0; after.bytesToBroker === freed.bytesToBroker && tries < 50; tries++) {
        await sleep(20);
        after = await counters();
      }
      expect(after.identified).toBe(freed.identified + 1);
      expect(after.bytesToBroker, "the new connection's CONNECT reached the broker").toBeGreaterThan(freed.bytesToBroker);
      expect(after.brokerErrors).toBe(freed.brokerErrors);
      last.destroy();
    } finally {
      child.stdin.end();
      child.kill();
    }
  });
});

// -------------------------------------------------------------------------------------------- restarts

describe("embedded broker restart", () => {
  let broker: EmbeddedBroker;

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
  });

  afterAll(async () => {
    await broker?.close();
  });

  it("keeps sessions, subscriptions and queued QoS 1 messages; a message sent during the outage arrives", async () => {
    const topic = "faults/restart/data";
    // It also takes the sender's will topic: a will published at the crash would be queued for it.
    const away = await subscriber(broker, "restart-away", "faults/restart/+");
    // The sender comes through a proxy, as a fleet's devices do: it must see the crash and the refusals through it.
    const proxy = await proxyFor(broker);
    const sender = await device(via(proxy), "restart-sender", "faults/restart/will");
    sender.publish("faults/kept/retained", "kept", 1, true);
    // Before: delivered live.
    sender.publish(topic, "0", 1);
    await away.until(() => away.received.length === 1, "message 0 live");
    // Away on its persistent session: 1-4 are queued for it by the broker.
    away.stop();
    for (let i = 1; i <= 4; i++) sender.publish(topic, String(i), 1);
    await sender.until(() => sender.engine.pendingMessages === 0, "1-4 acknowledged");

    const restarted = broker.restart(600);
    await sender.until(() => sender.disconnects.length > 0, "the crash to reach the sender");
    // During the outage: the device keeps 5-7 and sends them once the broker is back.
    for (let i = 5; i <= 7; i++) expect(sender.publish(topic, String(i), 1)).toBeGreaterThan(0);
    await restarted;
    await sender.until(() => sender.connects >= 2 && sender.engine.pendingMessages === 0, "5-7 acknowledged by the new instance", 5000);

    away.start();
    await away.until(() => arrivals(away, topic).length >= 8, "1-7 after the restart", 5000);
    expect(away.sessionPresent, "the subscriber's session survived").toBe(true);
    expect(missing(arrivals(away, topic), 8)).toEqual([]);
    // A crash publishes no will, though the sender was connected when the broker went down.
    await sleep(200);
    expect(away.received.filter((m) => m.topic !== topic)).toEqual([]);
    expect(proxy.counters.brokerErrors, "the proxy found the broker down at least once").toBeGreaterThan(0);
    // The retained message survived too.
    const late = await subscriber(broker, "restart-late", "faults/kept/retained");
    await late.until(() => late.received.length === 1, "the retained message");
    expect(late.received[0]).toMatchObject({ payload: "kept", retain: true });
  });

  it("waits for its port when something else holds it as the broker comes back", async () => {
    const restarted = broker.restart(300);
    let back = false;
    void restarted.then(() => { back = true; });
    // While it is down its port is free: take it, and hold it past the end of the downtime.
    let squatter: net.Server | null = null;
    await until(() => {
      if (squatter === null) {
        const server = net.createServer();
        server.once("error", () => undefined);
        server.listen(broker.port, "127.0.0.1", () => { squatter = server; });
      }
      return squatter !== null;
    }, "the broker's port to be free", 2000);
    await sleep(600);
    expect(back, "the restart waits while the port is held").toBe(false);
    await new Promise((resolve) => squatter!.close(resolve));
    await restarted;
    const returning = await device(broker, "restart-after-squatter");
    expect(returning.connects).toBe(1);
  });

  it("refuses a second restart while one is under way", async () => {
    const first = broker.restart(100);
    await expect(broker.restart(100)).rejects.toThrow("already restarting");
    await first;
  });
});

describe("broker restart command", () => {
  it("runs a working command and keeps its output", async () => {
    const result = await runRestartCommand("echo restarted; echo on stderr >&2");
    expect(result.output).toContain("restarted");
    expect(result.output).toContain("on stderr");
  });

  it("names the command and its exit code when it fails", async () => {
    const failing = "echo no such service >&2; exit 3";
    const error = await runRestartCommand(failing).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RestartCommandError);
    expect((error as RestartCommandError).exitCode).toBe(3);
    expect((error as Error).message).toContain(`\`${failing}\` failed with exit code 3`);
    expect((error as Error).message).toContain("no such service");
  });

  it("kills a command that hangs past its timeout", async () => {
    const started = Date.now();
    await expect(runRestartCommand("sleep 10", 200)).rejects.toThrow("`sleep 10` did not finish within 200 ms");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
