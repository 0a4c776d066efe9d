// The built Espruino modules in the Espruino sandbox against real brokers (issue 4): each flavour is saved
// in Storage and require()d as on a board, and a program written as a maker would write it connects,
// publishes and subscribes at QoS 0/1/2, makes no buffer per message (process.memory() stays put), leaves a
// will when the board dies, and resends what was in flight when its link was cut; over TLS it checks the
// broker's certificate. An MQTT.js client on the same broker observes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bundle, buildFlavour, FLAVOURS } from "../../scripts/build";
import { Broker, peerAvailable, startAedes, startMosquitto } from "../peers";
import { EspruinoSandbox } from "./sandbox/sandbox";
import { Observer, pemBody, printed, startTlsAedes, TlsBroker, waitFor } from "./sandbox/observer";

const bundles = new Map<string, Bundle>();
beforeAll(async () => {
  for (const flavour of FLAVOURS) bundles.set(flavour.file, await buildFlavour(flavour));
});

interface Device {
  clientId: string;
  protocolVersion: number;
  cleanStart: boolean;
  will?: { topic: string; payload: string };
}

/** The program on the board: the module from Storage, a client, every event printed. */
function program(broker: Broker, device: Device): string {
  const will = device.will === undefined ? "" : `
    var will = new starling.Will();
    will.topic = ${JSON.stringify(device.will.topic)};
    will.payload = E.toUint8Array(${JSON.stringify(device.will.payload)});
    will.qos = 1;
    options.will = will;`;
  return `
    var starling = require("starling");
    var options = new starling.EngineOptions();
    options.protocolVersion = ${device.protocolVersion};
    options.clientId = ${JSON.stringify(device.clientId)};
    options.cleanStart = ${device.cleanStart};
    options.sessionExpiry = ${device.cleanStart ? 0 : 600};
    options.keepAlive = 20;
    options.backoffInitialMs = 50;
    options.backoffMaxMs = 200;${will}
    var client = new starling.EspruinoClient({ host: ${JSON.stringify(broker.host)}, port: ${broker.port}, tls: false },
      options, {
        connected: function (sessionPresent) { print("connected " + sessionPresent); },
        disconnected: function (code) { print("disconnected " + code); },
        message: function (m) {
          print("message " + starling.topicText(m) + " " + starling.payloadText(m));
          if (starling.payloadText(m) === "fail") throw new Error("the handler failed");
        },
        acknowledged: function (type, id, reason) { print("ack " + type + " " + id + " " + reason); },
      });
    print("connect " + client.connect());
  `;
}

function boot(bundle: Bundle, broker: Broker, device: Device): EspruinoSandbox {
  const sandbox = new EspruinoSandbox({ storage: { starling: bundle.code } });
  sandbox.run(program(broker, device), "program.js");
  return sandbox;
}

/** `speaks5`: the broker speaks MQTT 5.0 (Aedes speaks 3.1.1 only). */
function suite(name: string, start: () => Promise<Broker>, speaks5: boolean): void {
  describe(`Espruino modules in the sandbox against ${name}`, () => {
    let broker: Broker;
    const sandboxes: EspruinoSandbox[] = [];
    const observers: Observer[] = [];
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      for (const s of sandboxes) s.powerOff();
      for (const o of observers) await o.close();
      await broker.close();
    });
    async function observe(filter: string): Promise<Observer> {
      const observer = await Observer.start(broker.host, broker.port, filter);
      observers.push(observer);
      return observer;
    }
    function device(bundle: Bundle, d: Device): EspruinoSandbox {
      const sandbox = boot(bundle, broker, d);
      sandboxes.push(sandbox);
      return sandbox;
    }

    for (const flavour of FLAVOURS) {
      const versions = flavour.mqtt5 && speaks5 ? [4, 5] : [4];
      for (const version of versions) {
        const tag = `${flavour.file} v${version}`;
        const base = `sb/${name}/${flavour.mqtt5 ? "m5" : "m3"}/v${version}`;

        it(`${tag}: connects, subscribes and gets back its own QoS 0, 1 and 2 messages`, async () => {
          const box = device(bundles.get(flavour.file)!, { clientId: `${base}-echo`.replace(/\//g, "-"), protocolVersion: version, cleanStart: true });
          await waitFor(() => printed(box, "connected").length === 1, "connected", box);
          box.run(`client.subscribe(${JSON.stringify(`${base}/echo/#`)}, 2);`);
          await waitFor(() => printed(box, "ack 9 ").length === 1, "SUBACK", box);
          box.run(`
            print("id0 " + client.publish(${JSON.stringify(`${base}/echo/0`)}, "zero", 0, false));
            print("id1 " + client.publish(${JSON.stringify(`${base}/echo/1`)}, "one", 1, false));
            print("id2 " + client.publish(${JSON.stringify(`${base}/echo/2`)}, "two \\xc3\\xa9", 2, false));
          `);
          await waitFor(() => printed(box, "message").length === 3 && printed(box, "ack 7 ").length === 1 &&
            printed(box, "ack 4 ").length === 1, "three messages, PUBACK and PUBCOMP", box);
          expect(printed(box, "message").sort()).toEqual([
            `message ${base}/echo/0 zero`, `message ${base}/echo/1 one`, `message ${base}/echo/2 two \u00c3\u00a9`,
          ]);
          expect(printed(box, "id0")).toEqual(["id0 0"]);
          expect(Number(printed(box, "id1")[0].split(" ")[1])).toBeGreaterThan(0);
          expect(box.uncaught).toEqual([]);
          box.run("client.disconnect();");
          await waitFor(() => printed(box, "disconnected").length === 1, "disconnected", box);
          expect(printed(box, "disconnected")).toEqual(["disconnected 0"]);
        });

        it(`${tag}: makes no buffer on the message path (process.memory() stays put)`, async () => {
          const box = device(bundles.get(flavour.file)!, { clientId: `${base}-steady`.replace(/\//g, "-"), protocolVersion: version, cleanStart: true });
          await waitFor(() => printed(box, "connected").length === 1, "connected", box);
          box.run(`
            var payload = E.toUint8Array("steady state");
            client.subscribe(${JSON.stringify(`${base}/steady`)}, 1);
            var before = -1;
            var round = 0;
            function publishRound() {
              for (var i = 0; i < 4; i++) client.publish(${JSON.stringify(`${base}/steady`)}, payload, 1, false);
            }
          `);
          await waitFor(() => printed(box, "ack 9 ").length === 1, "SUBACK", box);
          // A first round warms up; then 10 rounds of 4 QoS 1 messages each way must make no typed array.
          box.run("publishRound();");
          await waitFor(() => printed(box, "message").length === 4, "the first round", box);
          const before = box.run("process.memory().usage") as number;
          for (let r = 0; r < 10; r++) {
            box.run("publishRound();");
            await waitFor(() => printed(box, "message").length === 8 + 4 * r, `round ${r + 1}`, box);
          }
          expect(box.run("process.memory().usage")).toBe(before);
          expect(box.uncaught).toEqual([]);
        });

        it(`${tag}: a message handler that throws is reported at idle, after every message read with it is handled and acknowledged`, async () => {
          const publisher = await observe(`${base}/unused`);
          const box = device(bundles.get(flavour.file)!, { clientId: `${base}-throws`.replace(/\//g, "-"), protocolVersion: version, cleanStart: false });
          await waitFor(() => printed(box, "connected").length === 1, "connected", box);
          box.run(`client.subscribe(${JSON.stringify(`${base}/throws`)}, 1);`);
          await waitFor(() => printed(box, "ack 9 ").length === 1, "SUBACK", box);
          await Promise.all(["fail", "m2", "m3", "m4"].map((text) => publisher.publish(`${base}/throws`, text, 1)));
          await waitFor(() => printed(box, "message").length === 4 && box.uncaught.length === 1, "four messages and one uncaught error", box);
          expect(printed(box, "message")).toEqual(["fail", "m2", "m3", "m4"].map((text) => `message ${base}/throws ${text}`));
          // Espruino's report of a rejected promise nobody handles, not the handler's exception escaping the socket's event.
          expect(box.uncaught).toEqual(["Unhandled promise rejection: Error: the handler failed"]);
          expect(printed(box, "disconnected")).toEqual([]);
          box.run("client.disconnect();");
          await waitFor(() => printed(box, "disconnected").length === 1, "disconnected", box);
          // Every one was acknowledged, on the wire: the connection that brought them carried a PUBACK for each
          // (four packet ids), then the DISCONNECT. Not judged by what the resumed session brings: under load
          // mosquitto 2.0.11 sometimes sent the last one or two again although their PUBACKs had come before
          // the DISCONNECT on the same connection (seen in CI and in 2 of 52 runs here, four at a time).
          const wire = [...box.sent.values()][0].map((text) => Buffer.from(text, "latin1"));
          const acknowledged = wire.filter((packet) => packet[0] === 0x40 && packet[1] === 2).map((packet) => packet.readUInt16BE(2));
          expect(new Set(acknowledged).size, wire.map((packet) => packet.toString("hex")).join(" ")).toBe(4);
          expect(wire.at(-1)).toEqual(Buffer.from([0xe0, 0x00]));
          // The session resumes, and brings nothing but those four again if anything.
          box.run("client.connect();");
          await waitFor(() => printed(box, "connected").length === 2, "connected again", box);
          expect(printed(box, "connected")[1]).toBe("connected true");
          await new Promise((resolve) => setTimeout(resolve, 300));
          const delivered = printed(box, "message");
          for (const again of delivered.slice(4)) expect(delivered.slice(0, 4), box.output.join("\n")).toContain(again);
        });

        it(`${tag}: its will is published when the board dies, not when it disconnects`, async () => {
          const observer = await observe(`${base}/will/#`);
          const dying = device(bundles.get(flavour.file)!, { clientId: `${base}-dies`.replace(/\//g, "-"), protocolVersion: version,
            cleanStart: true, will: { topic: `${base}/will/dies`, payload: "offline" } });
          const leaving = device(bundles.get(flavour.file)!, { clientId: `${base}-leaves`.replace(/\//g, "-"), protocolVersion: version,
            cleanStart: true, will: { topic: `${base}/will/leaves`, payload: "offline" } });
          await waitFor(() => printed(dying, "connected").length === 1 && printed(leaving, "connected").length === 1,
            "both connected", dying);
          leaving.run("client.disconnect();");
          await waitFor(() => printed(leaving, "disconnected").length === 1, "the clean disconnect", leaving);
          dying.powerOff();
          await waitFor(() => observer.on(`${base}/will/dies`).length === 1, "the will");
          expect(observer.on(`${base}/will/dies`)[0]).toMatchObject({ payload: "offline", qos: 1 });
          await new Promise((resolve) => setTimeout(resolve, 200));
          expect(observer.on(`${base}/will/leaves`)).toEqual([]);
        });

        it(`${tag}: resends what was in flight when the link was cut`, async () => {
          const observer = await observe(`${base}/resend/#`);
          const box = device(bundles.get(flavour.file)!, { clientId: `${base}-resend`.replace(/\//g, "-"), protocolVersion: version,
            cleanStart: false });
          await waitFor(() => printed(box, "connected").length === 1, "connected", box);
          // The link dies mid-flight: what the board writes from now on never reaches the broker.
          box.dropWrites = true;
          box.run(`
            for (var i = 0; i < 3; i++) client.publish(${JSON.stringify(`${base}/resend/q1`)}, "one-" + i, 1, false);
            for (var j = 0; j < 3; j++) client.publish(${JSON.stringify(`${base}/resend/q2`)}, "two-" + j, 2, false);
          `);
          await new Promise((resolve) => setTimeout(resolve, 100));
          expect(observer.messages).toEqual([]);
          box.cutLinks();
          box.dropWrites = false;
          await waitFor(() => printed(box, "connected").length === 2, "the reconnection", box);
          await waitFor(() => printed(box, "ack 4 ").length === 3 && printed(box, "ack 7 ").length === 3,
            "every message acknowledged", box);
          await waitFor(() => observer.on(`${base}/resend/q2`).length === 3, "the QoS 2 messages", box);
          const payloads = (topic: string) => observer.on(topic).map((m) => m.payload);
          expect(new Set(payloads(`${base}/resend/q1`))).toEqual(new Set(["one-0", "one-1", "one-2"]));
          expect(payloads(`${base}/resend/q2`)).toEqual(["two-0", "two-1", "two-2"]);
          expect(printed(box, "disconnected")[0]).not.toBe("disconnected 0");
          expect(box.uncaught).toEqual([]);
        });
      }
    }
  });
}

suite("Aedes", startAedes, false);
if (peerAvailable("mosquitto", "apt-get install mosquitto")) {
  suite("mosquitto", () => startMosquitto(), true);
}

if (peerAvailable("openssl", "apt-get install openssl")) {
  describe("Espruino modules in the sandbox over TLS (tls.connect), against Aedes", () => {
    let broker: TlsBroker;
    beforeAll(async () => {
      broker = await startTlsAedes();
    });
    afterAll(() => broker.close());

    /** `ca` as Espruino's reference says to pass a certificate: atob of the PEM file's body (DER bytes). */
    function device(caFile: string): EspruinoSandbox {
      const sandbox = new EspruinoSandbox({ storage: { starling: bundles.get(FLAVOURS[0].file)!.code } });
      sandbox.run(`
        var starling = require("starling");
        var options = new starling.EngineOptions();
        options.clientId = "tls-device";
        var ca = atob(${JSON.stringify(pemBody(caFile))});
        var client = new starling.EspruinoClient({ host: "127.0.0.1", port: ${broker.port}, tls: true, ca: ca },
          options, {
            connected: function () { print("connected"); client.subscribe("tls/echo", 1); },
            disconnected: function (code) { print("disconnected " + code + " " + client.lastSocketError); },
            message: function (m) { print("message " + starling.payloadText(m)); },
            acknowledged: function (type) { if (type === 9) client.publish("tls/echo", "sealed", 1, false); },
          });
        client.connect();
      `);
      return sandbox;
    }

    it("connects with the broker's CA, and publishes and receives", async () => {
      const box = device(broker.certificates.ca);
      try {
        await waitFor(() => printed(box, "message").length === 1, "the message back over TLS", box);
        expect(printed(box, "message")).toEqual(["message sealed"]);
      } finally {
        box.powerOff();
      }
    });

    it("refuses a broker its CA did not sign: a TLS error (-13), no connection", async () => {
      const box = device(broker.certificates.clientCert);
      try {
        await waitFor(() => printed(box, "disconnected").length >= 1, "the failed attempt", box);
        expect(printed(box, "disconnected")[0]).toMatch(/^disconnected -\d+ -13$/);
        expect(printed(box, "connected")).toEqual([]);
      } finally {
        box.powerOff();
      }
    });
  });
}
