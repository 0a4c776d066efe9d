// The engine and Node driver against real brokers: the embedded Aedes (MQTT 3.1.1) and Debian's
// mosquitto (3.1.1 and 5.0).

import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { Will } from "../../device/codec";
import { EngineOptions } from "../../device/engine";
import { Broker, startAedes, startMosquitto, peerAvailable } from "../peers";
import { TestDevice } from "../device";

interface Peer {
  name: string;
  version: number;
  start: () => Promise<Broker>;
  available: () => boolean;
}

const mosquittoAvailable = () => peerAvailable("mosquitto", "apt-get install mosquitto");
const peers: Peer[] = [
  { name: "aedes", version: 4, start: startAedes, available: () => true },
  { name: "mosquitto", version: 4, start: () => startMosquitto(), available: mosquittoAvailable },
  { name: "mosquitto", version: 5, start: () => startMosquitto(), available: mosquittoAvailable },
];

for (const peer of peers) {
  describe.skipIf(!peer.available())(`${peer.name}, MQTT ${peer.version === 5 ? "5.0" : "3.1.1"}`, () => {
    let broker: Broker;
    const devices: TestDevice[] = [];
    let serial = 0;

    function device(name: string, configure: (options: EngineOptions) => void = () => {}): TestDevice {
      const made = new TestDevice(broker, (options) => {
        options.protocolVersion = peer.version;
        options.clientId = `${name}-${peer.version}-${process.pid}`;
        configure(options);
      });
      devices.push(made);
      return made;
    }

    beforeAll(async () => { broker = await peer.start(); });
    afterAll(async () => { await broker.close(); });
    afterEach(() => {
      for (const made of devices.splice(0)) made.stop();
    });

    it("publishes and receives at QoS 0, 1 and 2, each QoS in order, QoS 2 without duplicates", async () => {
      const topic = `t/${++serial}`;
      const subscriber = device("subscriber");
      subscriber.start();
      subscriber.subscribe(`${topic}/#`, 2);
      await subscriber.until(() => subscriber.acknowledged.length === 1, "SUBACK");
      expect(subscriber.acknowledged[0].reasonCode).toBe(2);
      const publisher = device("publisher", (options) => { options.inflightWindow = 4; options.queueSlots = 64; });
      publisher.start();
      for (let i = 0; i < 20; i++) {
        for (let qos = 0; qos < 3; qos++) {
          expect(publisher.publish(`${topic}/q${qos}`, `${qos}:${i}`, qos)).toBeGreaterThanOrEqual(0);
        }
      }
      await subscriber.until(() => subscriber.received.length === 60, "60 messages").catch((e) => { console.log(subscriber.received.length, publisher.engine.pendingMessages, publisher.engine.counters, publisher.disconnects, subscriber.disconnects); throw e; });
      await publisher.until(() => publisher.engine.pendingMessages === 0, "every publish acknowledged");
      for (let qos = 0; qos < 3; qos++) {
        const payloads = subscriber.received.filter((m) => m.topic === `${topic}/q${qos}`).map((m) => m.payload);
        expect(payloads).toEqual(Array.from({ length: 20 }, (_, i) => `${qos}:${i}`));
      }
      expect(subscriber.received.filter((m) => m.topic.endsWith("q2")).every((m) => m.qos === 2)).toBe(true);
    });

    it("delivers a retained message to a later subscriber", async () => {
      const topic = `retained/${++serial}`;
      const publisher = device("retainer");
      publisher.start();
      publisher.publish(topic, "kept", 1, true);
      await publisher.until(() => publisher.acknowledged.length === 1, "PUBACK");
      const late = device("late");
      late.start();
      late.subscribe(topic, 1);
      await late.until(() => late.received.length === 1, "the retained message");
      expect(late.received[0]).toMatchObject({ topic, payload: "kept", retain: true });
    });

    it("sends the will when the device's link breaks, and not after a clean disconnect", async () => {
      const topic = `will/${++serial}`;
      const watcher = device("watcher");
      watcher.start();
      watcher.subscribe(`${topic}/#`, 1);
      await watcher.until(() => watcher.acknowledged.length === 1, "SUBACK");
      const willed = (name: string) => device(name, (options) => {
        const will = new Will();
        will.topic = `${topic}/${name}`;
        will.payload = new TextEncoder().encode("offline");
        will.qos = 1;
        options.will = will;
      });
      const broken = willed("broken");
      broken.start();
      await broken.until(() => broken.connects === 1, "connect");
      const clean = willed("clean");
      clean.start();
      await clean.until(() => clean.connects === 1, "connect");
      clean.stop();
      // Break the link as a crash or a lost network would: the socket goes, no DISCONNECT.
      (broken.client as unknown as { transport: { destroy(): void } }).transport.destroy();
      await watcher.until(() => watcher.received.length >= 1, "the will");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(watcher.received.map((m) => m.topic)).toEqual([`${topic}/broken`]);
      expect(watcher.received[0].payload).toBe("offline");
    });

    it("a persistent session receives what was published while it was offline", async () => {
      const topic = `session/${++serial}`;
      const sleeper = device("sleeper", (options) => { options.cleanStart = false; options.sessionExpiry = 300; });
      sleeper.start();
      sleeper.subscribe(topic, 1);
      await sleeper.until(() => sleeper.acknowledged.length === 1, "SUBACK");
      sleeper.stop();
      const publisher = device("waker");
      publisher.start();
      for (let i = 0; i < 3; i++) publisher.publish(topic, `while-away-${i}`, 1);
      await publisher.until(() => publisher.acknowledged.length === 3, "3 PUBACKs");
      sleeper.start();
      await sleeper.until(() => sleeper.received.length === 3, "the 3 stored messages");
      expect(sleeper.sessionPresent).toBe(true);
      expect(sleeper.received.map((m) => m.payload)).toEqual(["while-away-0", "while-away-1", "while-away-2"]);
    });
  });
}
