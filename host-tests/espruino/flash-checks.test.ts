// npm run flash (scripts/flash.ts) refuses what cannot work before anything runs, and accounts for the
// Espruino tools when they fail: every settings field is checked against what the firmware and the board
// take (each error names the field, the value and what it takes), the example's placeholders are refused,
// a port must be a serial device, NodeMCU boards are pointed to their own tools, and a run of the tools
// that did not write the board ends in one line that says why, also when the tools exit with 0.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoard } from "../../scripts/build-boards";
import { explainToolFailure, planFlash } from "../../scripts/flash";
import { flash } from "./flash-run";

const out = mkdtempSync(path.join(os.tmpdir(), "starling-flash-checks-"));
beforeAll(async () => {
  await buildBoard("esp32", out);
  await buildBoard("esp8266", out);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

type Settings = Record<string, any>;

/** Filled-in settings that every board takes. */
function good(): Settings {
  return {
    wifi: { ssid: "home", password: "correct-horse" },
    broker: { host: "192.168.1.10", port: 1883, tls: false },
    device: "esp-1",
    topicPrefix: "starling",
    telemetrySeconds: 30,
  };
}

let files = 0;
function settingsFile(settings: unknown): string {
  const file = path.join(out, `settings-${++files}.json`);
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

function plan(board: string, settings: unknown) {
  return planFlash({ board, port: "/dev/ttyUSB0", settings: settingsFile(settings), dryRun: true }, out);
}

describe("npm run flash --settings", () => {
  it("takes filled-in settings, and what each board allows", () => {
    expect(plan("esp8266", good()).command).toContain("--storage");
    const tls = good();
    tls.broker = { host: "broker.local", port: 8883, tls: true, ca: "QUJD\nREVG" };
    Object.assign(tls, { protocolVersion: 5, password: "token" });
    expect(() => plan("esp32", tls)).not.toThrow();
    expect(() => plan("esp8266", { ...good(), wifi: { ssid: "cafe", password: "" }, username: "u", password: "p" })).not.toThrow();
  });

  const REFUSED: Array<{ what: string; board: string; change: (s: Settings) => void; message: string }> = [
    { what: "a port that is not a number", board: "esp32", change: (s) => { s.broker.port = "abc"; },
      message: 'broker.port is "abc"; it takes a whole number from 1 to 65535' },
    { what: "port 0", board: "esp8266", change: (s) => { s.broker.port = 0; }, message: "broker.port is 0; it takes a whole number from 1 to 65535" },
    { what: "a negative interval", board: "esp32", change: (s) => { s.telemetrySeconds = -5; },
      message: "telemetrySeconds is -5; it takes the seconds between telemetry messages: a number from 1 to 86400" },
    { what: "a device that is a number", board: "esp32", change: (s) => { s.device = 123; }, message: "device is 123; it takes the client id" },
    { what: "a device with a topic separator", board: "esp32", change: (s) => { s.device = "a/b"; }, message: 'device is "a/b"; it takes' },
    { what: "MQTT 5.0 on the ESP8266, whose module is 3.1.1 only", board: "esp8266", change: (s) => { s.protocolVersion = 5; },
      message: 'protocolVersion is 5; it takes only 4 (MQTT 3.1.1), as esp8266 runs the module without MQTT 5.0 (boards/esp8266/profile.json "module")' },
    { what: "a protocol that does not exist", board: "esp32", change: (s) => { s.protocolVersion = 7; },
      message: "protocolVersion is 7; it takes 4 (MQTT 3.1.1) or 5 (MQTT 5.0)" },
    { what: "TLS on the ESP8266", board: "esp8266", change: (s) => { s.broker.tls = true; },
      message: "broker.tls is true; it takes only false, as Espruino's build for esp8266 has no TLS" },
    { what: "a certificate without TLS", board: "esp32", change: (s) => { s.broker.ca = "QUJD"; },
      message: 'broker.ca is "QUJD"; it takes base64 text (a PEM file\'s body without its ----- lines), and only with "tls": true' },
    { what: "a host with a scheme and a port", board: "esp32", change: (s) => { s.broker.host = "mqtt://b:1883"; },
      message: 'broker.host is "mqtt://b:1883"; it takes the broker\'s host name or IPv4 address alone' },
    { what: "an empty topic prefix", board: "esp32", change: (s) => { s.topicPrefix = ""; }, message: 'topicPrefix is ""; it takes' },
    { what: "a password without a user name under MQTT 3.1.1", board: "esp8266", change: (s) => { s.password = "p"; },
      message: 'password is a string of 1 character (not shown); it takes a string, and with MQTT 3.1.1 only beside "username"' },
    { what: "a field the firmware does not read", board: "esp32", change: (s) => { s.broker.user = "x"; },
      message: "broker.user is not a setting the firmware reads: the settings are wifi.ssid, wifi.password, broker.host" },
    { what: "a broker that is not an object", board: "esp32", change: (s) => { s.broker = "b:1883"; },
      message: 'broker is "b:1883"; it takes an object: {"host": ..., "port": ..., "tls": ...}' },
  ];
  for (const r of REFUSED) {
    it(`refuses ${r.what}, naming the field, the value and what it takes`, () => {
      const settings = good();
      r.change(settings);
      expect(() => plan(r.board, settings)).toThrow(r.message);
    });
  }

  it("refuses the example's placeholders, saying what to fill in", () => {
    const example = JSON.parse(readFileSync(path.join(out, "esp32", "starling.example.json"), "utf8"));
    expect(() => plan("esp32", example)).toThrow(new RegExp("^--settings \\S+: 2 settings to fix .*\n" +
      "  wifi.ssid is still the example's \"your-network\": fill in your WiFi network's name, 1 to 32 bytes\n" +
      "  wifi.password is still the example's \"your-password\": fill in the network's password"));
  });

  it("says every problem at once, exits with 2, runs nothing and shows no password", () => {
    const settings = good();
    Object.assign(settings, { telemetrySeconds: "30", device: 123 });
    settings.wifi.password = 1234;
    settings.broker.key = "s3cr-et";
    const result = flash(["--board", "esp32", "--port", "/dev/ttyUSB0", "--settings", settingsFile(settings), "--dry-run"], out);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("4 settings to fix");
    expect(result.stderr).toContain("wifi.password is a number (not shown); it takes the network's password, a string");
    expect(result.stderr).toContain("broker.key is a string of 7 characters (not shown); it takes base64 text");
    expect(result.stderr).toContain('telemetrySeconds is "30"; it takes');
    expect(result.stderr).not.toContain("s3cr-et");
    expect(result.stderr).not.toContain("1234");
  });
});

describe("npm run flash --port and --board", () => {
  it("refuses a port that is a character device but not a serial port, and a plain file", () => {
    for (const port of ["/dev/null", settingsFile(good())]) {
      const result = flash(["--board", "esp32", "--port", port], out);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`flash: port ${port} is not a serial port: give the board's serial device, e.g. /dev/ttyUSB0`);
      expect(result.stdout).toBe("");
    }
  });

  it("points NodeMCU boards to their own tools and README", () => {
    const result = flash(["--board", "nodemcu-esp32", "--port", "/dev/ttyUSB0", "--dry-run"], out);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown board "nodemcu-esp32": the boards are esp32, esp8266 (Espruino). The NodeMCU boards ' +
      "(nodemcu-esp32, nodemcu-esp8266) are not flashed by npm run flash but with NodeMCU's own tools: see boards/nodemcu-esp32/README.md");
    expect(readFileSync(path.join("boards", "nodemcu-esp32", "README.md"), "utf8")).toContain("## Loading the client");
  });

  it("ends a run of the Espruino tools that wrote nothing with one line that says why (they exit with 0)", async () => {
    // A loopback port nothing listens on: the tools cannot connect.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = flash(["--board", "esp8266", "--port", `tcp://127.0.0.1:${port}`], out);
    expect(result.code).toBe(1);
    const last = result.stderr.trim().split("\n").pop();
    expect(last).toMatch(/^flash: the Espruino tools did not write the board \(exit code 0 without "Upload Complete"; they said: .*ECONNREFUSED.*\): nothing answered at that address/);
  });
});

describe("explainToolFailure", () => {
  it("is null only when the tools say the upload completed", () => {
    expect(explainToolFailure(0, null, "Connected\nUpload Complete\n", "")).toBeNull();
    expect(explainToolFailure(0, null, "Connected\n", "")).toContain('exit code 0 without "Upload Complete"; no error message');
  });

  it("names the first error line under a stack trace, and the fix for it", () => {
    const trace = [
      "/work/node_modules/dbus-next/lib/bus.js:159", "    } else throw err;", "           ^", "",
      "Error: connect ENOENT /var/run/dbus/system_bus_socket", "    at PipeConnectWrap.afterConnect (node:net:1611:16)",
      "Emitted 'error' event on MessageBus instance at:", "Node.js v20.20.2",
    ].join("\n");
    expect(explainToolFailure(7, null, "", trace)).toBe("the Espruino tools did not write the board (exit code 7; they said: " +
      "Error: connect ENOENT /var/run/dbus/system_bus_socket): Bluetooth needs BlueZ's D-Bus service (sudo systemctl start bluetooth); " +
      "or use the board's USB port");
    expect(explainToolFailure(0, null, "", 'serial: Port "/dev/ttyUSB0" not found\nUnable to connect!\n'))
      .toContain('they said: serial: Port "/dev/ttyUSB0" not found): the tools do not see that port');
    expect(explainToolFailure(null, "SIGKILL", "", "")).toContain("(killed by SIGKILL; no error message)");
  });
});
