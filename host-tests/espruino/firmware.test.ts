// The reference firmware of each Espruino board (issue 4), as the build writes it, booted in the Espruino
// sandbox from Storage (module, .boot0, settings) with a Wifi stand-in, against a real broker: it joins WiFi
// (again, with backoff, after a wrong password and after losing the access point), comes online with a
// retained `online`, publishes telemetry at QoS 1, answers commands with an acknowledgement and keeps the
// new setting in Storage, reports its memory, and its will `offline` arrives when the board dies; over TLS
// it takes the broker's CA from its settings.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoard, Manifest } from "../../scripts/build-boards";
import { espruinoBoards, loadProfile } from "../../boards/espruino/profile";
import { Broker, peerAvailable, startAedes, startMosquitto } from "../peers";
import { EspruinoSandbox } from "./sandbox/sandbox";
import { Observer, pemBody, printed, startTlsAedes, TlsBroker, waitFor } from "./sandbox/observer";
import { checkEspruinoSyntax, formatSyntaxFinding } from "./syntax";

const SSID = "workshop";
const WIFI_PASSWORD = "solder-fumes";
const out = mkdtempSync(path.join(os.tmpdir(), "starling-boards-"));
const builds = new Map<string, Manifest>();

beforeAll(async () => {
  for (const board of espruinoBoards()) builds.set(board, await buildBoard(board, out));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function file(board: string, name: string): string {
  return readFileSync(path.join(out, board, name), "latin1");
}

/** A board whose Storage holds what the build wrote, with these settings; not yet powered on. */
function board(name: string, broker: Broker, device: string, protocolVersion: number, wifiPassword: string,
  brokerSettings: object = { host: broker.host, port: broker.port, tls: false }): EspruinoSandbox {
  const manifest = builds.get(name)!;
  const profile = loadProfile(name);
  const settings = JSON.parse(file(name, manifest.settings.example));
  settings.wifi = { ssid: SSID, password: WIFI_PASSWORD };
  settings.broker = brokerSettings;
  settings.device = device;
  settings.telemetrySeconds = 1;
  settings.protocolVersion = protocolVersion;
  const storage: Record<string, string> = { [manifest.settings.storage]: JSON.stringify(settings) };
  for (const f of manifest.files) storage[f.storage] = file(name, f.file);
  return new EspruinoSandbox({
    board: profile.board, variables: profile.espruino.variables, variableBytes: profile.espruino.variableBytes,
    storage, accessPoints: { [SSID]: wifiPassword },
  });
}

describe("the reference firmware's source", () => {
  /** What the firmware may use beyond what the client module may: Espruino's modules and globals for apps. */
  const FIRMWARE_REQUIRES = new Set(['"Storage"', '"Wifi"', '"starling"']);
  const FIRMWARE_GLOBALS = new Set(["print", "JSON", "process", "setInterval", "clearInterval", "atob"]);

  it("holds no construct Espruino lacks", () => {
    for (const name of espruinoBoards()) {
      const code = file(name, "firmware.js");
      const findings = checkEspruinoSyntax(code, "firmware.js").filter((f) =>
        !(f.rule === "require" && [...FIRMWARE_REQUIRES].some((r) => f.excerpt.includes(`require(${r})`))) &&
        !(f.rule === "unknown-global" && FIRMWARE_GLOBALS.has(f.message.split(":")[0])));
      const lines = findings.map((f) => formatSyntaxFinding(`${name}/firmware.js`, f));
      expect(lines, lines.join("\n")).toEqual([]);
    }
  });
});

function suite(brokerName: string, start: () => Promise<Broker>, protocolVersion: number): void {
  describe(`the reference firmware against ${brokerName}, MQTT ${protocolVersion === 5 ? "5.0" : "3.1.1"}`, () => {
    let broker: Broker;
    const closers: Array<() => unknown> = [];
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      for (const close of closers) await close();
      await broker.close();
    });

    const boards = protocolVersion === 5 ? espruinoBoards().filter((b) => loadProfile(b).module.includes("mqtt5"))
      : espruinoBoards();
    for (const name of boards) {
      it(`${name}: joins WiFi, comes online, publishes telemetry, answers commands, leaves its will`, async () => {
        const device = `${name}-${brokerName}-v${protocolVersion}`;
        const base = `starling/${device}`;
        const observer = await Observer.start(broker.host, broker.port, `${base}/#`);
        closers.push(() => observer.close());
        // The access point first asks for another password: the firmware is told so and joins again later.
        const box = board(name, broker, device, protocolVersion, "changed-password");
        closers.push(() => box.powerOff());
        box.boot();
        await waitFor(() => printed(box, "starling: WiFi Bad password").length >= 1, "the wrong password reported", box);
        expect(printed(box, "starling: WiFi join again in").length).toBeGreaterThanOrEqual(1);
        box.setAccessPoint(SSID, true, WIFI_PASSWORD);

        await waitFor(() => observer.on(`${base}/status`).length >= 1, "status online", box);
        expect(observer.on(`${base}/status`)[0].payload).toBe("online");
        expect(printed(box, "starling: WiFi up, 192.168.4.23")).toHaveLength(1);

        // The memory it reports: the client's buffers as the interpreter counts them, beside the profile's figure.
        const memory = builds.get(name)!.memory;
        expect(printed(box, "starling: ")).toContain(
          `starling: ${name} client uses ${memory.bufferVariables} variables (profile: ${memory.total})`);
        await waitFor(() => observer.on(`${base}/telemetry`).length >= 1, "telemetry", box);
        const telemetry = observer.on(`${base}/telemetry`)[0];
        expect(telemetry.qos).toBe(1);
        const report = JSON.parse(telemetry.payload);
        expect(report).toMatchObject({ seq: 1, clientVariables: memory.bufferVariables });
        expect(report.memory.total).toBe(loadProfile(name).espruino.variables);
        expect(report.memory.usage + report.memory.free).toBe(report.memory.total);

        // Commands: a good one changes the setting in Storage, a bad one is refused; both are acknowledged.
        await observer.publish(`${base}/command`, JSON.stringify({ id: "c1", command: "interval", seconds: 2 }), 1);
        await observer.publish(`${base}/command`, JSON.stringify({ id: "c2", command: "interval", seconds: 0 }), 1);
        await observer.publish(`${base}/command`, "{not json", 1);
        await waitFor(() => observer.on(`${base}/ack`).length === 3, "three acknowledgements", box);
        expect(observer.on(`${base}/ack`).map((m) => JSON.parse(m.payload))).toEqual([
          { id: "c1", ok: true, telemetrySeconds: 2 },
          { id: "c2", ok: false, error: "seconds must be 1 to 86400" },
          { id: null, ok: false, error: "not JSON" },
        ]);
        expect(observer.on(`${base}/ack`).every((m) => m.qos === 1)).toBe(true);
        expect(JSON.parse(box.readFile("starling.json")!).telemetrySeconds).toBe(2);

        // The access point goes away and comes back: WiFi is joined again and the client reconnects.
        box.setAccessPoint(SSID, false);
        await waitFor(() => printed(box, "starling: WiFi lost").length === 1, "WiFi lost", box);
        box.setAccessPoint(SSID, true);
        await waitFor(() => printed(box, "starling: connected to").length === 2, "the second connection", box);
        await waitFor(() => observer.on(`${base}/status`).length >= 2, "online again", box);
        // Its command subscription lived through the reconnection.
        await observer.publish(`${base}/command`, JSON.stringify({ id: "c3", command: "ping" }), 1);
        // QoS 1 is at least once: a command whose PUBACK the lost link took comes again (and is answered
        // again) before c3, so look for c3's answer, not for the fourth.
        const acks = () => observer.on(`${base}/ack`).map((m) => JSON.parse(m.payload) as { id: string | null });
        await waitFor(() => acks().some((ack) => ack.id === "c3"), "the acknowledgement after reconnecting", box);
        expect(acks().find((ack) => ack.id === "c3")).toEqual({ id: "c3", ok: true, telemetrySeconds: 2 });
        expect(printed(box, "starling: cannot subscribe")).toEqual([]);

        // The board dies: the broker publishes its will, retained for whoever looks later.
        box.powerOff();
        await waitFor(() => observer.on(`${base}/status`).some((m) => m.payload === "offline"), "the will");
        const late = await Observer.start(broker.host, broker.port, `${base}/status`);
        closers.push(() => late.close());
        await waitFor(() => late.messages.length === 1, "the retained status");
        expect(late.messages[0]).toMatchObject({ payload: "offline", retain: true });
        expect(box.uncaught).toEqual([]);
      });
    }
  });
}

suite("Aedes", startAedes, 4);
if (peerAvailable("mosquitto", "apt-get install mosquitto")) {
  suite("mosquitto", () => startMosquitto(), 5);
}

if (peerAvailable("openssl", "apt-get install openssl")) {
  describe("the reference firmware over TLS", () => {
    let broker: TlsBroker;
    beforeAll(async () => {
      broker = await startTlsAedes();
    });
    afterAll(() => broker.close());

    it("esp32: takes the broker's CA in base64 from its settings and comes online", async () => {
      const observer = await Observer.start(broker.host, broker.port, "starling/esp32-tls/status", {
        ca: readFileSync(broker.certificates.ca) });
      const box = board("esp32", broker, "esp32-tls", 4, WIFI_PASSWORD,
        { host: broker.host, port: broker.port, tls: true, ca: pemBody(broker.certificates.ca) });
      try {
        box.boot();
        await waitFor(() => observer.messages.length === 1, "online over TLS", box);
        expect(observer.messages[0].payload).toBe("online");
        expect(box.uncaught).toEqual([]);
      } finally {
        box.powerOff();
        await observer.close();
      }
    });
  });
}

