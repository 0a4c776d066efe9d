// npm run flash (scripts/flash.ts): the dry run says what goes where and the exact command; each way of asking
// wrongly is a clear error with exit code 2; and what the Espruino tools would send for that command, run in
// the Espruino sandbox as a board would run it, writes the built files to Storage and boots the firmware.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/build";
import { buildBoard } from "../../scripts/build-boards";
import { planFlash } from "../../scripts/flash";
import { loadProfile } from "../../boards/espruino/profile";
import { Broker, startAedes } from "../peers";
import { EspruinoSandbox } from "./sandbox/sandbox";
import { Observer, waitFor } from "./sandbox/observer";
import { flash as runFlash } from "./flash-run";

const out = mkdtempSync(path.join(os.tmpdir(), "starling-flash-"));
const empty = mkdtempSync(path.join(os.tmpdir(), "starling-flash-empty-"));
beforeAll(async () => {
  await buildBoard("esp32", out);
  await buildBoard("esp8266", out);
});
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

/** Runs the CLI in this process: its exit code, and what it printed. */
const flash = (args: string[], outDir = out) => runFlash(args, outDir);

const rel = (file: string) => path.relative(ROOT, file);

describe("npm run flash", () => {
  it("--dry-run prints each Storage file, the exact command, and runs nothing", () => {
    const result = flash(["--board", "esp32", "--port", "/dev/ttyUSB0", "--dry-run"]);
    expect(result.code).toBe(0);
    const module = path.join(out, "esp32", loadProfile("esp32").module);
    const firmware = path.join(out, "esp32", "firmware.js");
    expect(result.stdout).toContain(`Storage "starling" <- ${rel(module)} (`);
    expect(result.stdout).toContain(`Storage ".boot0" <- ${rel(firmware)} (`);
    expect(result.stdout).toContain('Storage "starling.json" is left as it is on the board');
    // The board's description from a file flash writes: given a board name, the tools download it.
    const description = path.join(out, "esp32", "espruino-board.json");
    expect(JSON.parse(readFileSync(description, "utf8")).BOARD).toBe("ESP32");
    expect(result.stdout).toContain(`command: npx espruino --board ${rel(description)} --port /dev/ttyUSB0 -b 115200 --no-ble ` +
      `--storage starling:${rel(module)} --storage .boot0:${rel(firmware)} -e 'load()'`);
    expect(result.stdout).toMatch(/dry run: nothing was written to the board$/);
  });

  it("--settings adds starling.json, checked first", () => {
    const settings = path.join(out, "settings.json");
    const example = JSON.parse(readFileSync(path.join(out, "esp8266", "starling.example.json"), "utf8"));
    writeFileSync(settings, JSON.stringify({ ...example, wifi: { ssid: "home", password: "12345678" } }));
    const result = flash(["--board", "esp8266", "--port", "/dev/ttyUSB0", "--settings", settings, "--dry-run"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--storage starling.json:${rel(settings)} -e 'load()'`);
    expect(JSON.parse(readFileSync(path.join(out, "esp8266", "espruino-board.json"), "utf8")).BOARD).toBe("ESP8266_4MB");

    writeFileSync(settings, JSON.stringify({ wifi: { ssid: "x" } }));
    const bad = flash(["--board", "esp8266", "--port", "/dev/ttyUSB0", "--settings", settings, "--dry-run"]);
    expect(bad.code).toBe(2);
    for (const field of ["wifi.password", "broker", "device", "topicPrefix", "telemetrySeconds"]) {
      expect(bad.stderr).toContain(`  ${field} is missing: `);
    }
  });

  const ERRORS: Array<{ what: string; args: string[]; outDir?: string; message: string }> = [
    { what: "a bad board name, listing the valid ones", args: ["--board", "esp99", "--port", "/dev/ttyUSB0"],
      message: 'unknown board "esp99": the boards are esp32, esp8266' },
    { what: "no board", args: ["--port", "/dev/ttyUSB0"], message: "--board is missing: the boards are esp32, esp8266" },
    { what: "no port", args: ["--board", "esp32", "--dry-run"], message: "--port is missing" },
    { what: "a port that does not exist", args: ["--board", "esp32", "--port", "/dev/ttyNOSUCHPORT"],
      message: "port /dev/ttyNOSUCHPORT does not exist" },
    { what: "no build", args: ["--board", "esp32", "--port", "/dev/ttyUSB0", "--dry-run"], outDir: empty,
      message: "run npm run build first" },
    { what: "an unknown option", args: ["--board", "esp32", "--colour"], message: "unknown option '--colour'" },
  ];
  for (const e of ERRORS) {
    it(`refuses ${e.what} with exit code 2`, () => {
      const result = flash(e.args, e.outDir);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(e.message);
      expect(result.stdout).toBe("");
    });
  }

  it("exits with 2 as a process too", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/flash.ts", "--board", "nope", "--port", "/dev/ttyUSB0"],
      { cwd: ROOT, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('flash: unknown board "nope"');
  });
});

describe("what the Espruino tools send for the flash command", () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(() => broker.close());

  it("writes the built files to Storage and boots the firmware, which comes online", async () => {
    const settings = JSON.parse(readFileSync(path.join(out, "esp8266", "starling.example.json"), "utf8"));
    settings.wifi = { ssid: "bench", password: "pw" };
    settings.broker = { host: broker.host, port: broker.port, tls: false };
    settings.device = "flashed-1";
    const settingsFile = path.join(out, "flashed.json");
    writeFileSync(settingsFile, JSON.stringify(settings));
    const plan = planFlash({ board: "esp8266", port: "/dev/ttyUSB0", settings: settingsFile, dryRun: true }, out);
    // The same arguments, minus the board and its port: -n (no board) -o (write what would be sent).
    const sent = path.join(out, "sent.js");
    const args = plan.command.slice(2);
    for (const option of ["--board", "--port", "-b"]) args.splice(args.indexOf(option), 2);
    const tools = spawnSync("npx", ["espruino", "-n", "-o", sent, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
    expect(tools.status, tools.stderr + tools.stdout).toBe(0);

    const profile = loadProfile("esp8266");
    const board = new EspruinoSandbox({ board: profile.board, variables: profile.espruino.variables,
      variableBytes: profile.espruino.variableBytes, accessPoints: { bench: "pw" } });
    const observer = await Observer.start(broker.host, broker.port, "starling/flashed-1/status");
    try {
      board.run(readFileSync(sent, "latin1"), "sent.js");
      expect(board.readFile("starling")).toBe(readFileSync(path.join(out, "esp8266", profile.module), "latin1"));
      expect(board.readFile(".boot0")).toBe(readFileSync(path.join(out, "esp8266", "firmware.js"), "latin1"));
      expect(JSON.parse(board.readFile("starling.json")!)).toEqual(settings);
      await waitFor(() => observer.messages.length === 1, "the flashed board online", board);
      expect(observer.messages[0].payload).toBe("online");
      expect(board.uncaught).toEqual([]);
    } finally {
      board.powerOff();
      await observer.close();
    }
  });
});
