// The NodeMCU Lua build (scripts/build-lua.ts) run in real Lua: Debian's lua5.1 and lua5.3 (with luasocket and
// lua-bitop) and fengari (Lua 5.3 with 32-bit integers, in this process), on the imitation of NodeMCU's
// firmware in host-tests/lua/imitation (README.md there), against mosquitto. Each scenario is a Lua script in
// host-tests/lua/scenarios; what it reports (test.emit lines) is checked here, and what only the broker can
// see (a will, delivered messages) by an MQTT.js subscriber.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { findProgram, peerAvailable, startMosquitto, Mosquitto } from "../peers";
import { buildLuaBundle } from "../../scripts/build-lua";
import { decodeVector, encodeVectors } from "./codec-vectors";
import { DECODE_CORPUS, toBytes, toHex } from "../codec/malformed-corpus";
import { FengariControl, LuaRun, runFengari } from "./fengari";
import { Certificates, makeCertificates } from "../tls";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BOARDS = path.join(HERE, "..", "..", "boards");
const RUN = path.join(HERE, "imitation", "run.lua");
const SCENARIOS = path.join(HERE, "scenarios") + path.sep;

/** Like peerAvailable, for a Lua module the interpreter must load (luasocket, lua-bitop). */
function luaModuleAvailable(interpreter: string, module: string, install: string): boolean {
  if (findProgram(interpreter) === null) return false;
  try {
    execFileSync(interpreter, ["-e", `require("${module}")`], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env.CI === "true") {
      throw new Error(`${interpreter} cannot load the Lua module ${module}, and CI=true forbids skipping: ${install}`);
    }
    console.warn(`skipping the ${interpreter} suites: it cannot load ${module} (${install})`);
    return false;
  }
}

function luaAvailable(interpreter: string): boolean {
  const install = `apt-get install ${interpreter} lua-socket lua-bitop`;
  return peerAvailable(interpreter, install) && luaModuleAvailable(interpreter, "socket", install) &&
    luaModuleAvailable(interpreter, "bit", install);
}

const mosquittoAvailable = peerAvailable("mosquitto", "apt-get install mosquitto");
const opensslAvailable = peerAvailable("openssl", "apt-get install openssl");
const luacAvailable = peerAvailable("luac5.1", "apt-get install lua5.1");
const INTERPRETERS = [
  { name: "lua5.1", available: luaAvailable("lua5.1") },
  { name: "lua5.3", available: luaAvailable("lua5.3") },
  { name: "fengari", available: true },
];

let directory = "";
let bundle = "";
let vectors = "";

beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), "starling-lua-"));
  bundle = path.join(directory, "starling.lua");
  vectors = path.join(directory, "vectors.lua");
  fs.writeFileSync(bundle, buildLuaBundle());
  fs.writeFileSync(vectors, buildLuaBundle("host-tests/lua/codec-vectors.ts"));
}, 120_000);

afterAll(() => {
  if (directory !== "") fs.rmSync(directory, { recursive: true, force: true });
});

/** Runs a script on the imitation in `interpreter`; resolves with its lines and whether it finished. */
function runLua(interpreter: string, script: string, settings: Record<string, string>,
  environment: Record<string, string> = {}): Promise<LuaRun> {
  const all = { bundle, scenarios: SCENARIOS, ...settings };
  if (interpreter === "fengari") {
    return runFengari(script, all, environment);
  }
  return new Promise((resolve, reject) => {
    const args = [RUN, script, ...Object.entries(all).map(([key, value]) => `${key}=${value}`)];
    const child = spawn(interpreter, args, { env: { ...process.env, ...environment } });
    let out = "";
    let err = "";
    child.stdout.on("data", (data: Buffer) => { out += data.toString("latin1"); });
    child.stderr.on("data", (data: Buffer) => { err += data.toString(); });
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = out.split("\n").filter((line) => line !== "");
      if (err !== "") lines.push(`stderr: ${err}`);
      resolve({ lines, passed: code === 0 });
    });
  });
}

function fields(lines: string[], name: string): string[][] {
  return lines.filter((line) => line.split("\t")[0] === name).map((line) => line.split("\t").slice(1));
}

let uniqueId = 0;
function clientId(interpreter: string, scenario: string): string {
  uniqueId++;
  return `${interpreter.replace(".", "")}-${scenario}-${process.pid}-${uniqueId}`;
}

describe.skipIf(!luacAvailable)("the Lua bundle", () => {
  it("is accepted by luac5.1 -p (Lua 5.1's parser: no goto, no 5.3 operators)", () => {
    expect(() => execFileSync("luac5.1", ["-p", bundle], { stdio: "pipe" })).not.toThrow();
  });
});

describe("codec vectors: the same bytes from the JavaScript and the Lua builds", () => {
  const cases = DECODE_CORPUS.map((c) => ({
    name: c.name,
    hex: toHex(toBytes(c.bytes)).replace(/ /g, ""),
    version: c.version,
    maximum: c.maximumPacketSize ?? 4096,
    expected: c.decodeAlone ?? c.expected,
  }));
  let casesFile = "";
  beforeAll(() => {
    casesFile = path.join(directory, "cases.lua");
    fs.writeFileSync(casesFile, `return {\n${cases.map((c) => `{ "${c.hex}", ${c.version}, ${c.maximum} },`).join("\n")}\n}\n`);
  });

  it("covers every packet type, both versions, and the malformed-decode codes", () => {
    const encoded = encodeVectors();
    expect(encoded.length).toBeGreaterThan(60);
    const decoded = cases.map((c) => decodeVector(c.hex, c.version, c.maximum));
    // The Node run of the vectors agrees with the corpus: each case reports the code it names.
    cases.forEach((c, i) => {
      const alone = decoded[i].split("; alone: ")[1];
      if (c.expected < 0) expect(alone, c.name).toBe(`error ${c.expected}`);
      else expect(alone, c.name).toMatch(/^type /);
    });
    expect(new Set(cases.filter((c) => c.expected < 0).map((c) => c.expected)).size).toBeGreaterThan(12);
  });

  for (const { name, available } of INTERPRETERS) {
    it.skipIf(!available)(`${name} encodes and decodes exactly as Node does`, async () => {
      const run = await runLua(name, path.join(SCENARIOS, "codec.lua"), { vectors, cases: casesFile });
      expect(run.passed, run.lines.slice(-3).join("\n")).toBe(true);
      expect(fields(run.lines, "encode").map((f) => f.join("\t"))).toEqual(encodeVectors());
      const decoded = fields(run.lines, "decode");
      expect(decoded.length).toBe(cases.length);
      decoded.forEach(([index, result]) => {
        const c = cases[Number(index) - 1];
        expect(result, c.name).toBe(decodeVector(c.hex, c.version, c.maximum));
      });
    }, 60_000);
  }
});

describe.skipIf(!mosquittoAvailable)("the Lua client against mosquitto, on the NodeMCU imitation", () => {
  let broker: Mosquitto;
  let observer: mqtt.MqttClient;
  const port = () => String(broker.port);

  beforeAll(async () => {
    broker = await startMosquitto();
    observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `observer-${process.pid}` });
  }, 30_000);

  afterAll(async () => {
    await observer?.endAsync();
    await broker?.close();
  });

  /** Collects what the observer receives on `topic` (subscribed at QoS 1). */
  async function watch(topic: string): Promise<string[]> {
    const seen: string[] = [];
    observer.on("message", (t, payload) => {
      if (t === topic) seen.push(payload.toString("utf8"));
    });
    await observer.subscribeAsync(topic, { qos: 1 });
    return seen;
  }

  for (const { name, available } of INTERPRETERS) {
    describe.skipIf(!available)(name, () => {
      for (const version of ["4", "5"]) {
        it(`MQTT ${version === "5" ? "5.0" : "3.1.1"}: publish and subscribe at QoS 0, 1 and 2, a payload of three segments, one send in flight`, async () => {
          const run = await runLua(name, path.join(SCENARIOS, "pubsub.lua"), {
            clientId: clientId(name, `pubsub${version}`), version, port: port(), timeLimitMs: "15000",
          });
          expect(run.passed, run.lines.join("\n")).toBe(true);
          const messages = fields(run.lines, "message");
          expect(messages.map((m) => m[0]).sort()).toEqual(["1", "2", "3", "4"]);
          expect(messages.find((m) => m[0] === "4")?.[2]).toBe("3200");
          // The imitation refuses a send while one is in flight, as the firmware can: the driver never tried.
          const [sends] = fields(run.lines, "sends");
          expect(Number(sends[0])).toBeGreaterThan(4);
          expect(sends[2]).toBe("0");
          // The 3,200-byte message came back in segments of at most 1,460 bytes, and was reassembled.
          const [receives] = fields(run.lines, "receives");
          expect(Number(receives[0])).toBeGreaterThanOrEqual(3);
          expect(Number(receives[2])).toBe(1460);
        }, 30_000);
      }

      it("the imitation: a second send before sent fails, received data comes in segments of at most 1,460 bytes", async () => {
        const run = await runLua(name, path.join(SCENARIOS, "imitation.lua"), {
          clientId: clientId(name, "imitation"), port: port(), timeLimitMs: "10000",
        });
        expect(run.passed, run.lines.join("\n")).toBe(true);
        expect(fields(run.lines, "second send")).toEqual([["false", "out of memory"]]);
        const sizes = fields(run.lines, "receive").map((f) => Number(f[0]));
        expect(Math.max(...sizes)).toBe(1460);
        expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(2800);
      }, 30_000);

      it("keep-alive: pings on its own; power lost: the broker publishes the will", async () => {
        const willTopic = `starling/lua/will/${clientId(name, "will")}`;
        const seen = await watch(willTopic);
        const run = await runLua(name, path.join(SCENARIOS, "will.lua"), {
          clientId: clientId(name, "will"), port: port(), willTopic, timeLimitMs: "10000",
        });
        expect(run.passed, run.lines.join("\n")).toBe(true);
        const [ping] = fields(run.lines, "ping");
        expect(Number(ping[0])).toBeGreaterThanOrEqual(0);
        const deadline = Date.now() + 5000;
        while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(seen).toEqual(["offline"]);
      }, 30_000);

      it("reconnects and resends after a reset mid-burst and after WiFi loss; nothing lost", async () => {
        const topic = `starling/lua/resend/${clientId(name, "resend")}`;
        const seen = await watch(topic);
        const run = await runLua(name, path.join(SCENARIOS, "resend.lua"), {
          clientId: clientId(name, "resend"), version: "4", port: port(), topic, timeLimitMs: "30000",
        });
        expect(run.passed, run.lines.join("\n")).toBe(true);
        const [counters] = fields(run.lines, "counters");
        expect(Number(counters[0])).toBeGreaterThanOrEqual(2); // reconnects: after the reset, after WiFi
        expect(Number(counters[1])).toBeGreaterThan(0); // retransmits (DUP)
        expect(fields(run.lines, "disconnected").map((d) => d[0])).toEqual(
          expect.arrayContaining(["ERR_LINK_LOST", "ERR_KEEPALIVE_TIMEOUT"]));
        await new Promise((r) => setTimeout(r, 300));
        const expected = Array.from({ length: 20 }, (_, i) => `seq ${i + 1}`);
        expect([...new Set(seen)].sort()).toEqual(expected.sort());
      }, 45_000);

      // Not in fengari (no test at all there, rather than a skip): its heap is JavaScript's, and
      // collectgarbage("count") is not implemented there.
      if (name !== "fengari") it("10,000 messages: the Lua heap stays flat", async () => {
        const run = await runLua(name, path.join(SCENARIOS, "soak.lua"), {
          clientId: clientId(name, "soak"), port: port(), timeLimitMs: "60000",
        });
        expect(run.passed, run.lines.slice(-3).join("\n")).toBe(true);
        const [[baseline, highest]] = fields(run.lines, "memory");
        // After a full collection the heap may move by a few hundred bytes; a string kept per message
        // (9,000 of them after the baseline) would add well over 200 KB.
        expect(Number(highest) - Number(baseline)).toBeLessThan(32);
      }, 90_000);
    });
  }
});

/** A script started in the background: its lines so far, and stop(), which cuts its power (no DISCONNECT). */
interface Started {
  lines: string[];
  stop(): Promise<void>;
}

function startLua(interpreter: string, script: string, environment: Record<string, string>): Started {
  const lines: string[] = [];
  if (interpreter === "fengari") {
    const control: FengariControl = { stop: false };
    const done = runFengari(script, { timeLimitMs: "60000" }, environment, control, lines);
    return {
      lines,
      async stop() {
        control.stop = true;
        control.wake?.();
        await done;
      },
    };
  }
  const child = spawn(interpreter, [RUN, script, "timeLimitMs=60000"], { env: { ...process.env, ...environment } });
  child.stdout.on("data", (data: Buffer) => lines.push(...data.toString().split("\n").filter((l) => l !== "")));
  child.stderr.on("data", (data: Buffer) => lines.push(`stderr: ${data.toString()}`));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    lines,
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!mosquittoAvailable)("the NodeMCU reference firmware, on the imitation", () => {
  let broker: Mosquitto;
  let observer: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `fw-observer-${process.pid}` });
  }, 30_000);

  afterAll(async () => {
    await observer?.endAsync();
    await broker?.close();
  });

  const BOARD_RUNS = [
    { board: "esp8266", interpreter: "lua5.1" },
    { board: "esp32", interpreter: "lua5.3" },
    { board: "esp32", interpreter: "fengari" },
  ];
  for (const { board, interpreter } of BOARD_RUNS) {
    const available = INTERPRETERS.find((i) => i.name === interpreter)?.available ?? false;
    it.skipIf(!available)(`nodemcu-${board} on ${interpreter}: presence, telemetry at QoS 1, commands answered and kept, broker restart, will`, async () => {
      // The board's file system: the files a maker uploads, and its settings.
      const flash = fs.mkdtempSync(path.join(directory, `flash-${board}-`));
      for (const name of ["init.lua", "application.lua"]) fs.copyFileSync(path.join(BOARDS, "nodemcu", name), path.join(flash, name));
      fs.copyFileSync(path.join(BOARDS, `nodemcu-${board}`, "wifi.lua"), path.join(flash, "wifi.lua"));
      fs.copyFileSync(bundle, path.join(flash, "starling.lua"));
      const id = clientId(interpreter, `fw-${board}`);
      fs.writeFileSync(path.join(flash, "settings.txt"),
        `ssid=lab\npassword=secret\nhost=127.0.0.1\nport=${broker.port}\nclientId=${id}\ninterval=1\nkeepAlive=5\n`);
      const seen: Array<[string, string]> = [];
      observer.on("message", (topic, payload) => {
        if (topic.startsWith(`devices/${id}/`)) seen.push([topic.slice(`devices/${id}/`.length), payload.toString()]);
      });
      await observer.subscribeAsync(`devices/${id}/#`, { qos: 1 });
      const got = (topic: string) => seen.filter(([t]) => t === topic).map(([, p]) => p);

      const device = startLua(interpreter, path.join(flash, "init.lua"), { NODEMCU_DIR: flash, NODEMCU_BOARD: board });
      try {
        await until(() => got("presence").includes("online"), 15_000, `online (${device.lines.join(" | ")})`);
        await until(() => got("telemetry").length >= 2, 10_000, "two telemetry messages");
        expect(JSON.parse(got("telemetry")[0])).toMatchObject({ seq: 1 });
        await observer.publishAsync(`devices/${id}/command`, "interval=2", { qos: 1 });
        await observer.publishAsync(`devices/${id}/command`, "fly", { qos: 1 });
        await until(() => got("ack").length >= 2, 10_000, "two acknowledgements");
        expect(got("ack")).toEqual(["interval=2 -> ok interval=2", "fly -> error unknown command"]);
        expect(fs.readFileSync(path.join(flash, "settings.txt"), "utf8")).toContain("interval=2\n");
        // The broker dies and comes back: the device reconnects by itself, and still obeys commands.
        await broker.killAndRestart();
        await until(() => got("telemetry").some((t) => JSON.parse(t).reconnects >= 1), 20_000, "telemetry after reconnecting");
        await until(() => observer.connected, 10_000, "the observer reconnected");
        await observer.subscribeAsync(`devices/${id}/#`, { qos: 1 });
        await observer.publishAsync(`devices/${id}/command`, "ping", { qos: 1 });
        await until(() => got("ack").includes("ping -> ok pong"), 10_000, "the acknowledgement after reconnecting");
      } finally {
        await device.stop();
      }
      // Power lost: the broker publishes the will.
      await until(() => got("presence").includes("offline"), 15_000, "the will (offline)");
    }, 60_000);
  }
});

describe.skipIf(!mosquittoAvailable || !opensslAvailable)("TLS (the ESP8266 firmware's tls module)", () => {
  let broker: Mosquitto;
  let certificates: Certificates;

  beforeAll(async () => {
    certificates = makeCertificates(fs.mkdtempSync(path.join(directory, "tls-")));
    broker = await startMosquitto([
      `cafile ${certificates.ca}`, `certfile ${certificates.serverCert}`, `keyfile ${certificates.serverKey}`,
    ]);
  }, 30_000);

  afterAll(async () => {
    await broker?.close();
  });

  it("fengari (whose imitation has tls): the broker's certificate checked against the CA, a QoS 1 round trip", async () => {
    const flash = fs.mkdtempSync(path.join(directory, "flash-tls-"));
    fs.copyFileSync(certificates.ca, path.join(flash, "ca.crt"));
    const run = await runLua("fengari", path.join(SCENARIOS, "tls.lua"), {
      clientId: clientId("fengari", "tls"), port: String(broker.port), timeLimitMs: "15000",
    }, { NODEMCU_DIR: flash });
    expect(run.passed, run.lines.join("\n")).toBe(true);
    expect(fields(run.lines, "message")).toEqual([["over tls"]]);
  }, 30_000);

  it("fengari: a broker whose certificate the CA did not sign is refused, and the client retries", async () => {
    const flash = fs.mkdtempSync(path.join(directory, "flash-tls-"));
    // The client certificate is no CA: nothing verifies against it.
    fs.copyFileSync(certificates.clientCert, path.join(flash, "ca.crt"));
    const run = await runLua("fengari", path.join(SCENARIOS, "tls.lua"), {
      clientId: clientId("fengari", "tls-refused"), port: String(broker.port), expectFailure: "true", timeLimitMs: "15000",
    }, { NODEMCU_DIR: flash });
    expect(run.passed, run.lines.join("\n")).toBe(true);
    expect(fields(run.lines, "connected")).toEqual([]);
    expect(fields(run.lines, "disconnected").map((d) => d[0])).toEqual(["ERR_LINK_LOST", "ERR_LINK_LOST", "ERR_LINK_LOST"]);
  }, 30_000);

  const lua51 = INTERPRETERS[0];
  it.skipIf(!lua51.available)("lua5.1 (no tls module, as on the ESP32): the link fails, the client retries", async () => {
    const run = await runLua("lua5.1", path.join(SCENARIOS, "tls.lua"), {
      clientId: clientId("lua5.1", "tls"), port: String(broker.port), expectFailure: "true", timeLimitMs: "10000",
    });
    expect(run.passed, run.lines.join("\n")).toBe(true);
    // SOCKET_CALL_FAILED (device/platform/nodemcu/client.ts), three times.
    expect(fields(run.lines, "disconnected")).toEqual([
      ["ERR_LINK_LOST", "-101"], ["ERR_LINK_LOST", "-101"], ["ERR_LINK_LOST", "-101"],
    ]);
  }, 30_000);
});
