// The Node client's write hold (device/platform/node/client.ts, Output): a connection written to less than
// the hold ago (1 ms by default) keeps its next bytes until the hold is over, so a stream of packets leaves
// in about one write per millisecond; a quiet connection's bytes leave at the end of the turn. The peer is
// a raw TCP server in the test that answers the CONNECT with a CONNACK and counts its socket reads; what
// the client sends is parsed with mqtt-packet (the independent oracle). Holds of a second are used where
// the test tells "held" from "sent at once", so that a slow machine cannot blur the two.

import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as mqtt from "mqtt-packet";
import { EngineOptions } from "../../device/engine";
import type { EngineEvents } from "../../device/engine";
import { NodeClient, setWriteHold } from "../../device/platform/node/client";
import { ERR_BAD_ARGUMENT } from "../../device/codec";

interface Peer {
  reads: number;
  packets: mqtt.Packet[];
  socket: net.Socket;
}

let server: net.Server;
let port = 0;
const peers: Peer[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => {
    const peer: Peer = { reads: 0, packets: [], socket };
    peers.push(peer);
    const parser = mqtt.parser();
    parser.on("packet", (packet: mqtt.Packet) => {
      peer.packets.push(packet);
      if (packet.cmd === "connect") socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    });
    socket.on("data", (data: Buffer) => {
      peer.reads++;
      parser.parse(data);
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const peer of peers) peer.socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => setWriteHold(1));

function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > until) reject(new Error("timed out"));
      else setTimeout(check, 2);
    };
    check();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A connected client and the server's side of it. */
async function connected(): Promise<{ client: NodeClient; peer: Peer }> {
  const options = new EngineOptions();
  options.clientId = `write-hold-${peers.length}`;
  let onConnected!: () => void;
  const up = new Promise<void>((resolve) => { onConnected = resolve; });
  const events: EngineEvents = {
    connected: () => onConnected(),
    disconnected: () => undefined,
    message: () => undefined,
    acknowledged: () => undefined,
  };
  const before = peers.length;
  const client = new NodeClient({ host: "127.0.0.1", port, tls: null }, options, events);
  client.connect();
  await up;
  return { client, peer: peers[before] };
}

const publishes = (peer: Peer): number => peer.packets.filter((p) => p.cmd === "publish").length;

/** Publishes `count` QoS 0 messages, one per turn of the event loop; returns the peer's reads for them. */
async function publishOnePerTurn(client: NodeClient, peer: Peer, count: number): Promise<number> {
  const readsBefore = peer.reads;
  const payload = new Uint8Array(16);
  for (let i = 0; i < count; i++) {
    expect(client.publish("hold/stream", payload, 0, false)).toBe(0);
    await nextTurn();
  }
  await waitFor(() => publishes(peer) === count);
  return peer.reads - readsBefore;
}

describe("write hold", () => {
  it("a stream of packets, one per turn, leaves in a few writes; with the hold at 0, in about one per turn", async () => {
    const held = await connected();
    const readsHeld = await publishOnePerTurn(held.client, held.peer, 300);
    held.client.disconnect();
    setWriteHold(0);
    const eager = await connected();
    const readsEager = await publishOnePerTurn(eager.client, eager.peer, 300);
    eager.client.disconnect();
    // Every message arrived either way; held, the 300 turns (a few ms) went out in about one write per ms.
    expect(readsHeld).toBeLessThan(100);
    expect(readsEager).toBeGreaterThan(200);
  });

  it("bytes for a connection written to within the hold wait for it; a DISCONNECT still goes out at once", async () => {
    setWriteHold(1000);
    // The CONNECT was written just now, so the hold of a second runs.
    const { client, peer } = await connected();
    expect(client.publish("hold/held", "a", 0, false)).toBe(0);
    await sleep(200);
    expect(publishes(peer)).toBe(0);
    await waitFor(() => publishes(peer) === 1, 3000);
    // disconnect() closes the link at once: it flushes what is held first.
    expect(client.publish("hold/held", "b", 0, false)).toBe(0);
    client.disconnect();
    await waitFor(() => peer.packets.some((p) => p.cmd === "disconnect"), 500);
    expect(publishes(peer)).toBe(2);
  });

  it("a connection quiet for longer than the hold sends at the end of the turn", async () => {
    setWriteHold(1000);
    const { client, peer } = await connected();
    await sleep(1100);
    expect(client.publish("hold/quiet", "a", 0, false)).toBe(0);
    // Held, it would wait a second; sent at once, it is there long before.
    await waitFor(() => publishes(peer) === 1, 500);
    client.disconnect();
  });

  it("refuses a hold that is not a whole number of milliseconds from 0 to 1000, and keeps the one it had", async () => {
    expect(setWriteHold(1000)).toBe(0);
    for (const bad of [-1, 1.5, 1001, Number.NaN]) {
      expect(setWriteHold(bad)).toBe(ERR_BAD_ARGUMENT);
    }
    // Still a second: a publish right after connecting is held.
    const { client, peer } = await connected();
    expect(client.publish("hold/kept", "a", 0, false)).toBe(0);
    await sleep(200);
    expect(publishes(peer)).toBe(0);
    client.disconnect();
    await waitFor(() => publishes(peer) === 1, 500);
  });
});
