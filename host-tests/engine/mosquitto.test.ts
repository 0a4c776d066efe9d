// Against Debian's mosquitto only: TLS with a CA the test makes (and a client certificate), user name and
// password, and a broker killed with SIGKILL and restarted while QoS 1 and 2 messages are in flight.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { EngineOptions } from "../../device/engine";
import { Broker, Mosquitto, startMosquitto, peerAvailable } from "../peers";
import { TestDevice } from "../device";
import { Certificates, makeCertificates } from "../tls";

const available = peerAvailable("mosquitto", "apt-get install mosquitto");

describe.skipIf(!available)("mosquitto: TLS, authentication, crash and restart", () => {
  let certificates: Certificates;
  const devices: TestDevice[] = [];
  const brokers: Broker[] = [];

  function device(broker: Broker, name: string, version: number, configure: (options: EngineOptions) => void = () => {}) {
    const made = new TestDevice(broker, (options) => {
      options.protocolVersion = version;
      options.clientId = `${name}-${version}-${process.pid}`;
      configure(options);
    });
    devices.push(made);
    return made;
  }

  async function broker(extra: string[]): Promise<Mosquitto> {
    const started = await startMosquitto(extra);
    brokers.push(started);
    return started;
  }

  beforeAll(() => {
    certificates = makeCertificates(fs.mkdtempSync(path.join(os.tmpdir(), "starling-tls-")));
  });
  afterEach(async () => {
    for (const made of devices.splice(0)) made.stop();
    for (const started of brokers.splice(0)) await started.close();
  });
  afterAll(() => fs.rmSync(certificates.directory, { recursive: true, force: true }));

  for (const version of [4, 5]) {
    const label = version === 5 ? "5.0" : "3.1.1";

    it(`MQTT ${label} over TLS with the test's CA and a client certificate (mqtts)`, async () => {
      const plain = await broker([
        `cafile ${certificates.ca}`, `certfile ${certificates.serverCert}`, `keyfile ${certificates.serverKey}`,
        "require_certificate true",
      ]);
      const secure: Broker = { ...plain, tls: {
        ca: fs.readFileSync(certificates.ca), cert: fs.readFileSync(certificates.clientCert),
        key: fs.readFileSync(certificates.clientKey), servername: "localhost",
      } };
      const subscriber = device(secure, "tls-subscriber", version);
      subscriber.start();
      subscriber.subscribe("secure/#", 1);
      await subscriber.until(() => subscriber.acknowledged.length === 1, "SUBACK over TLS");
      const publisher = device(secure, "tls-publisher", version);
      publisher.start();
      publisher.publish("secure/reading", "21.5", 1);
      await subscriber.until(() => subscriber.received.length === 1, "the message over TLS");
      expect(subscriber.received[0]).toMatchObject({ topic: "secure/reading", payload: "21.5" });

      // Without the CA the server's certificate is not trusted: the link never opens, and the device retries.
      const stranger = device({ ...plain, tls: { servername: "localhost" } }, "tls-stranger", version);
      stranger.start();
      await stranger.until(() => stranger.disconnects.length >= 1, "a refused TLS handshake");
      expect(stranger.connects).toBe(0);
      expect(stranger.disconnects[0]).toBe("ERR_LINK_LOST");
    });

    it(`MQTT ${label} with user name and password; a wrong password is refused`, async () => {
      const passwords = path.join(certificates.directory, `passwords-${version}`);
      const made = spawnSync("mosquitto_passwd", ["-b", "-c", passwords, "maker", "s3cret"], { encoding: "utf8" });
      expect(made.status, made.stderr).toBe(0);
      const guarded = await broker(["allow_anonymous false", `password_file ${passwords}`]);
      const good = device(guarded, "authorised", version, (options) => {
        options.username = "maker";
        options.password = new TextEncoder().encode("s3cret");
      });
      good.start();
      await good.until(() => good.connects === 1, "an accepted CONNECT");
      const bad = device(guarded, "refused", version, (options) => {
        options.username = "maker";
        options.password = new TextEncoder().encode("wrong");
      });
      bad.start();
      await bad.until(() => bad.disconnects.length >= 1, "a refused CONNECT");
      expect(bad.connects).toBe(0);
      expect(bad.disconnects[0]).toBe("ERR_CONNECTION_REFUSED");
      // 3.1.1 return code 5 (not authorised); 5.0 reason code 0x86 (bad user name or password) or 0x87.
      expect(version === 5 ? [0x86, 0x87] : [4, 5]).toContain(bad.engine.lastReasonCode);
    });

    const crashTest = (resend: boolean) => async () => {
      // The broker saves its state every second. The test lets it save, freezes it (SIGSTOP), publishes
      // more, then kills it (SIGKILL): so everything the broker acknowledged was saved, and everything
      // after the save is in the client's hands only. What the client must do is resend it all.
      const crashing = await broker(["autosave_interval 1"]);
      const persistent = (options: EngineOptions) => {
        options.cleanStart = false;
        options.sessionExpiry = 3600;
        options.keepAlive = 5;
        options.backoffInitialMs = 20;
        options.backoffMaxMs = 200;
      };
      const subscriber = device(crashing, "crash-subscriber", version, persistent);
      subscriber.start();
      subscriber.subscribe("crash/#", 2);
      await subscriber.until(() => subscriber.acknowledged.length === 1, "SUBACK");
      const publisher = device(crashing, "crash-publisher", version, (options) => {
        persistent(options);
        options.resendOnReconnect = resend;
        options.inflightWindow = 8;
        options.queueSlots = 100;
      });
      publisher.start();
      await publisher.until(() => publisher.connects === 1, "connect");
      const publishRange = (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          expect(publisher.publish(`crash/q${1 + (i % 2)}`, `m${i}`, 1 + (i % 2))).toBeGreaterThan(0);
        }
      };
      publishRange(0, 40);
      await subscriber.until(() => subscriber.received.length >= 40 && publisher.engine.pendingMessages === 0, "the first 40");
      await new Promise((resolve) => setTimeout(resolve, 2500));
      crashing.freeze();
      publishRange(40, 100);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(publisher.engine.pendingMessages).toBe(60);
      await crashing.killAndRestart();
      if (!resend) {
        // The planted fault: without resend the 8 in flight are never acknowledged, and lost; they also
        // hold the window shut, so the 52 queued behind them never go.
        await publisher.until(() => publisher.connects === 2, "the reconnect");
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(publisher.engine.pendingMessages).toBe(60);
        expect(subscriber.received.some((r) => r.payload === "m40")).toBe(false);
        return;
      }
      await publisher.until(() => publisher.engine.pendingMessages === 0, "every message acknowledged after the restart", 20000);
      const expected = Array.from({ length: 100 }, (_, i) => `m${i}`);
      await subscriber.until(() => expected.every((m) => subscriber.received.some((r) => r.payload === m)),
        "every message at the subscriber", 20000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const qos2 = subscriber.received.filter((m) => m.topic === "crash/q2").map((m) => m.payload);
      expect(new Set(qos2).size).toBe(qos2.length);
      expect(publisher.connects).toBe(2);
      expect(publisher.sessionPresent).toBe(true);
      expect(publisher.engine.counters.retransmits).toBe(8);
    };
    it(`MQTT ${label}: mosquitto killed with SIGKILL and restarted mid-stream loses no QoS 1/2 message and duplicates no QoS 2`,
      crashTest(true));
    if (version === 4) {
      it("the same crash with resend switched off (a planted fault) does lose the in-flight messages", crashTest(false));
    }
  }
});
