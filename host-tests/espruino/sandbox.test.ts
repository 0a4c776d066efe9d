// The Espruino sandbox itself (issue 4): it offers what Espruino offers and nothing more, and its net stand-in
// behaves as Espruino's sockets do, over real TCP.

import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EspruinoSandbox } from "./sandbox/sandbox";
import { waitFor, printed } from "./sandbox/observer";

let sandbox: EspruinoSandbox | null = null;
afterEach(() => {
  sandbox?.powerOff();
  sandbox = null;
});

function fresh(options: ConstructorParameters<typeof EspruinoSandbox>[0] = {}): EspruinoSandbox {
  sandbox = new EspruinoSandbox(options);
  return sandbox;
}

describe("the Espruino sandbox's globals", () => {
  /** Each line uses something Espruino lacks: it must throw in the sandbox (and would run in Node). */
  const LACKING = [
    "new Map()", "new Set()", "new WeakMap()", 'Symbol("k")', "Array.from([1])", "[1, 2].slice(1)",
    "[1].map(function (x) { return x; })", "[1].forEach(function () {})", "[1].filter(Boolean)", '[1, 2].join(",")',
    "Promise.race([])", "Promise.resolve().finally(function () {})", "new Uint8Array(2).slice(0)",
    'Buffer.from("a")', "process.nextTick(function () {})", 'require("fs")', 'require("events")', "new TextDecoder()",
    "setImmediate(function () {})", "queueMicrotask(function () {})", "globalThis.x", "new Proxy({}, {})",
  ];

  for (const code of LACKING) {
    it(`refuses ${code}`, () => {
      expect(() => fresh().run(code)).toThrow();
      // The same line runs in Node: the sandbox, not the line, makes it fail.
      expect(() => new Function("require", "Buffer", "process", code)(() => ({}), Buffer, process)).not.toThrow();
    });
  }

  it("offers what Espruino has", () => {
    const box = fresh({ variables: 1600, variableBytes: 12, board: "ESP8266" });
    const result = box.run(`
      var bytes = new Uint8Array([65, 66, 0, 255]);
      var view = new DataView(bytes.buffer);
      var list = [3, 4];
      list.push(5);
      JSON.stringify({
        text: E.toString(bytes), back: E.toUint8Array("AB").length, word: view.getUint16(0),
        sub: bytes.subarray(1, 2)[0], index: list.indexOf(5), popped: list.pop(), slice: "abc".slice(1),
        time: typeof getTime(), board: process.env.BOARD, memory: process.memory().total,
        block: process.memory().blocksize, floor: Math.floor(1.5), code: String.fromCharCode(67),
        promise: typeof Promise.all, base64: atob(btoa("\\x00\\xffAB")) === "\\x00\\xffAB" && btoa("AB") });
    `) as string;
    expect(JSON.parse(result)).toEqual({
      text: "AB\u0000\u00ff", back: 2, word: 0x4142, sub: 66, index: 2, popped: 5, slice: "bc", time: "number",
      board: "ESP8266", memory: 1600, block: 12, floor: 1, code: "C", promise: "function", base64: "QUI=",
    });
  });

  it("counts each buffer in process.memory() as Espruino's variables", () => {
    const box = fresh({ variables: 1600, variableBytes: 12 });
    const usage = box.run("var before = process.memory().usage; var b = new Uint8Array(120); process.memory().usage - before");
    // A flat string of 120 bytes: a header and 10 variables of 12 bytes, plus the ArrayBuffer and the view.
    expect(usage).toBe(13);
    expect(box.run("var v = b.subarray(0, 10); process.memory().usage - before")).toBe(13);
  });

  it("has Espruino's timers: integer ids, an unknown id refused, no id clears them all", async () => {
    const box = fresh();
    box.run(`
      var a = setTimeout(function () { print("a"); }, 5);
      var b = setInterval(function () { print("b"); }, 5);
      print("ids " + (typeof a) + " " + (b > a));
      var refused = "";
      try { clearTimeout(9999); } catch (e) { refused = e.message; }
      print("refused " + refused);
      clearTimeout();
      setTimeout(function () { print("later"); }, 10);
    `);
    await waitFor(() => printed(box, "later").length === 1, "the timeout set after clearing", box);
    expect(box.output).toEqual(["ids number true", "refused Unknown Timeout", "later"]);
  });

  it("requires Espruino's built-in modules and modules saved in Storage, nothing else", () => {
    const box = fresh({ storage: { greeting: 'exports.hello = function () { return "hi"; };' } });
    expect(box.run('require("greeting").hello()')).toBe("hi");
    expect(box.run('typeof require("net").connect + typeof require("tls").connect + typeof require("Storage").read'))
      .toBe("functionfunctionfunction");
    expect(() => box.run('require("http2")')).toThrow('Module "http2" not found');
    box.run('require("Storage").writeJSON("settings", {a: 1})');
    expect(box.run('require("Storage").readJSON("settings").a')).toBe(1);
    expect(box.run('require("Storage").readJSON("missing", true)')).toBeUndefined();
    expect(() => box.run('require("Storage").write("a-name-longer-than-28-characters", "x")')).toThrow();
  });

  it("reports an exception nothing caught, and carries on", async () => {
    const box = fresh();
    box.run('setTimeout(function () { throw new Error("boom"); }, 1); setTimeout(function () { print("after"); }, 5);');
    await waitFor(() => printed(box, "after").length === 1, "the next timeout", box);
    expect(box.uncaught.join("\n")).toContain("boom");
  });
});

describe("the net stand-in, over real TCP", () => {
  async function server(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): void }> {
    const srv = net.createServer(onConnection);
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
  }

  it("sends strings byte for byte and a Uint8Array as its decimal text, as Espruino does", async () => {
    const received: Buffer[] = [];
    const srv = await server((socket) => socket.on("data", (d) => received.push(d)));
    const box = fresh();
    box.run(`
      var s = require("net").connect("127.0.0.1:${srv.port}", function (socket) {
        print("connected " + (socket === s));
        print("write " + s.write("\\x00\\x10\\xff"));
        s.write(new Uint8Array([1, 2, 3]));
      });
      s.on("drain", function () { print("drain"); });
    `);
    await waitFor(() => Buffer.concat(received).length >= 8 && printed(box, "drain").length === 2, "the bytes at the server", box);
    expect([...Buffer.concat(received)]).toEqual([0, 0x10, 0xff, ...Buffer.from("1,2,3")]);
    // Espruino's write returns false "for node.js compatibility", and a drain event follows.
    expect(box.output).toEqual(["connected true", "write false", "drain", "drain"]);
    srv.close();
  });

  it("delivers what arrives as binary strings in segments, then end and close", async () => {
    const data = Buffer.alloc(3000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const srv = await server((socket) => socket.end(data));
    const box = fresh({ maxSegment: 200, seed: 7 });
    box.run(`
      var parts = [];
      var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} }, function () {});
      s.on("data", function (d) { parts.push(d); });
      s.on("end", function () { print("end"); });
      s.on("close", function (hadError) { print("close " + parts.length + " " + hadError); });
    `);
    await waitFor(() => printed(box, "close").length === 1, "close", box);
    const parts = JSON.parse(box.run("JSON.stringify(parts)") as string) as string[];
    expect(parts.length).toBeGreaterThanOrEqual(15);
    expect(parts.every((p) => typeof p === "string" && p.length <= 200)).toBe(true);
    expect(new Set(parts.map((p) => p.length)).size).toBeGreaterThan(3);
    expect(Buffer.from(parts.join(""), "latin1").equals(data)).toBe(true);
    expect(box.output).toEqual(["end", `close ${parts.length} false`]);
    srv.close();
  });

  it("a refused connection is an error event with Espruino's code, and no close", async () => {
    const srv = await server(() => undefined);
    srv.close();
    const box = fresh();
    box.run(`
      var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} }, function () { print("connected"); });
      s.on("error", function (e) { print("error " + e.code + " " + e.message); });
      s.on("close", function () { print("close"); });
    `);
    await waitFor(() => printed(box, "error").length === 1, "the error", box);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(box.output).toEqual(["error -9 connection reset"]);
  });

  it("with Wifi modelled and not joined, connect throws as Espruino does", () => {
    const box = fresh({ accessPoints: { home: "secret" } });
    expect(() => box.run('require("net").connect({ host: "127.0.0.1", port: 1 }, function () {})'))
      .toThrow("Not connected to the internet");
  });

  it("a link that breaks gives error then close(true); afterwards writes go nowhere", async () => {
    const srv = await server(() => undefined);
    const box = fresh();
    box.run(`
      var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} }, function () { print("connected"); });
      s.on("error", function (e) { print("error " + e.code); });
      s.on("close", function (hadError) { print("close " + hadError); s.write("late"); });
    `);
    await waitFor(() => printed(box, "connected").length === 1, "connected", box);
    box.cutLinks();
    await waitFor(() => printed(box, "close").length === 1, "close", box);
    expect(box.output).toEqual(["connected", "error -9", "close true"]);
    expect(box.uncaught).toEqual([]);
    srv.close();
  });
});

describe("the Wifi stand-in", () => {
  it("joins as Espruino's Wifi does: events, callback, details, a missing access point retried", async () => {
    const box = fresh({ accessPoints: { home: "secret" }, joinMs: 5 });
    box.setAccessPoint("home", false);
    box.run(`
      var wifi = require("Wifi");
      wifi.on("associated", function (d) { print("associated " + d.ssid + " " + d.channel); });
      wifi.on("connected", function (d) { print("connected " + d.ip); });
      wifi.on("disconnected", function (d) { print("disconnected " + d.ssid + " " + d.reason); });
      print("ip before " + JSON.stringify(wifi.getIP()));
      wifi.connect("home", { password: "wrong" }, function (err) {
        print("callback " + err + " " + wifi.getDetails().status);
        wifi.connect("home", { password: "secret" }, function (err2) { print("callback " + err2); });
        setTimeout(function () { print("status " + wifi.getDetails().status); }, 30);
      });
    `);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(box.output).toEqual(['ip before {"mac":"24:0a:c4:00:00:01"}']);
    expect(box.run('require("Wifi").getDetails().status')).toBe("no_ap_found");
    box.setAccessPoint("home", true);
    await waitFor(() => printed(box, "status").length === 1, "the status", box);
    box.setAccessPoint("home", false);
    await waitFor(() => printed(box, "disconnected").length === 1, "the loss", box);
    expect(box.output).toEqual([
      'ip before {"mac":"24:0a:c4:00:00:01"}', "callback Bad password wrong_password", "associated home 6",
      "connected 192.168.4.23", "callback null", "status connected", "disconnected home beacon_timeout",
    ]);
    expect(box.run('require("Wifi").getDetails().status')).toBe("no_ap_found");
  });
});

