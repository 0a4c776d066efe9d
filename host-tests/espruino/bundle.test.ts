// The syntax gate on the built Espruino modules (issue 4): each bundle is parsed and every construct Espruino
// lacks (DESIGN.md, "The portable subset") is refused with its location. The fixtures show the gate can fail.

import * as esbuild from "esbuild";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { Bundle, buildFlavour, ESPRUINO_TARGET, FLAVOURS } from "../../scripts/build";
import { checkEspruinoSyntax, formatSyntaxFinding, SYNTAX_RULES } from "./syntax";
import { EngineOptions } from "../../device/engine/options";
import { Counters, CONNECTED, CONNECTING } from "../../device/engine/engine";
import { Packet, Will } from "../../device/codec/packets";
import { EspruinoClient } from "../../device/platform/espruino/client";

const bundles: Bundle[] = [];

beforeAll(async () => {
  for (const flavour of FLAVOURS) {
    bundles.push(await buildFlavour(flavour));
  }
});

describe("Espruino modules", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour.file} holds no construct Espruino lacks`, () => {
      const bundle = bundles.find((b) => b.flavour === flavour)!;
      const lines = checkEspruinoSyntax(bundle.code, flavour.file).map((f) => formatSyntaxFinding(flavour.file, f));
      expect(lines, `${lines.length} construct(s) Espruino lacks:\n${lines.join("\n")}\n`).toEqual([]);
    });
  }

  it("are Espruino modules: they set fields of exports and require only net and tls", () => {
    for (const bundle of bundles) {
      for (const name of ["EspruinoClient", "EngineOptions", "Will", "topicText", "payloadText"]) {
        expect(bundle.code, `${bundle.flavour.file} exports ${name}`).toContain(`exports.${name}=`);
      }
      const required = [...bundle.code.matchAll(/\brequire\(([^)]*)\)/g)].map((m) => m[1]);
      expect(new Set(required)).toEqual(new Set(['"tls"', '"net"']));
    }
  });

  it("use the Espruino byte layer, and the 3.1.1 one leaves the 5.0 properties out", () => {
    const files = (bundle: Bundle): string[] => bundle.inputs.map((i) => i.file);
    for (const bundle of bundles) {
      expect(files(bundle)).toContain("device/platform/espruino/bytes.ts");
      expect(files(bundle)).not.toContain("device/platform/bytes.ts");
      expect(bundle.code).not.toContain("TextDecoder");
    }
    const [mqtt311, mqtt5] = bundles;
    expect(files(mqtt311)).not.toContain("device/codec/properties.ts");
    expect(files(mqtt311)).toContain("device/platform/espruino/properties-mqtt311.ts");
    expect(files(mqtt5)).toContain("device/codec/properties.ts");
  });

  it("the 3.1.1 one holds none of the 5.0 branches of the codec and the engine (MQTT5 off)", () => {
    const [mqtt311, mqtt5] = bundles;
    // What only 5.0 branches reach: the Properties class the engine makes for 5.0 (its public field names
    // stay whole), and the 5.0 reason codes of CONNACK, SUBACK and a server's DISCONNECT (MQTT 5.0 tables
    // 3-1, 3-8 and 3-10).
    const fiveOnly = [
      "payloadFormat",
      "topicAliasMaximum",
      "[0,128,129,130,131,132,133,134,135,136,137,138,140,144,149,151,153,154,155,156,157,159]",
      "[0,1,2,128,131,135,143,145,151,158,161,162]",
      "[0,128,129,130,131,135,137,139,141,142,143,144,147,148,149,150,151,152,153,154,155,156,157,158,159,160,161,162]",
    ];
    for (const text of fiveOnly) {
      expect(mqtt5.code, text).toContain(text);
      expect(mqtt311.code, text).not.toContain(text);
    }
  });

  it("load as Espruino loads a Storage module, and the 3.1.1 one refuses a 5.0 connection", () => {
    for (const bundle of bundles) {
      const { exports, sockets } = loadModule(bundle);
      const endpoint = { host: "broker", port: 1883, tls: false };
      const events = { connected() {}, disconnected() {}, message() {}, acknowledged() {} };
      const v5 = new exports.EngineOptions();
      v5.protocolVersion = 5;
      const v5Result = new exports.EspruinoClient(endpoint, v5, events).connect();
      const v4Result = new exports.EspruinoClient(endpoint, new exports.EngineOptions(), events).connect();
      expect(v4Result, bundle.flavour.file).toBe(0);
      if (bundle.flavour.mqtt5) {
        expect(v5Result).toBe(0);
        expect(sockets.map((s) => s.module)).toEqual(["net", "net"]);
      } else {
        expect(v5Result).toBe(-32); // ERR_NOT_SUPPORTED
        expect(sockets.map((s) => s.module)).toEqual(["net"]);
      }
    }
  });

  // Property names are mangled in the modules (scripts/property-names.ts): what a maker's code and the host
  // see must keep its name. Each object a maker makes or is handed must have exactly the fields the source
  // declares, and a whole session driven through the public API must work.
  for (const protocolVersion of [4, 5]) {
    it(`keep every public name: a ${protocolVersion === 5 ? "5.0" : "3.1.1"} session through the module's API`, () => {
      for (const bundle of bundles.filter((b) => protocolVersion === 4 || b.flavour.mqtt5)) {
        const label = bundle.flavour.file;
        const { exports, sockets } = loadModule(bundle);
        const v5 = protocolVersion === 5;
        const options = new exports.EngineOptions();
        expect(Object.keys(options).sort(), label).toEqual(Object.keys(new EngineOptions()).sort());
        const will = new exports.Will();
        expect(Object.keys(will).sort(), label).toEqual(Object.keys(new Will()).sort());
        options.protocolVersion = protocolVersion;
        options.clientId = "gate";
        will.topic = "gate/status";
        will.payload = new Uint8Array([111, 102, 102]);
        will.retain = true;
        options.will = will;
        const heard: string[] = [];
        const received: Packet[] = [];
        const events = {
          connected: (sessionPresent: boolean) => heard.push(`connected ${sessionPresent}`),
          disconnected: (code: number) => heard.push(`disconnected ${code}`),
          message: (packet: Packet) => {
            received.push({ ...packet });
            heard.push(`message ${exports.topicText(packet)} ${exports.payloadText(packet)}`);
          },
          acknowledged: (type: number, packetId: number, reasonCode: number) =>
            heard.push(`acknowledged ${type} ${packetId} ${reasonCode}`),
        };
        const client = new exports.EspruinoClient({ host: "broker", port: 1883, tls: false }, options, events);
        expect(client.connect(), label).toBe(0);
        const socket = sockets[0];
        expect(socket.options, label).toEqual({ host: "broker", port: 1883, tls: false });
        socket.opened();
        const connect = socket.written.shift()!;
        expect(connect.charCodeAt(0), label).toBe(0x10);
        expect(connect, label).toContain("gate/status");
        expect(connect, label).toContain("off");
        expect(client.engine.state, label).toBe(CONNECTING);
        const props = v5 ? "\x00" : "";
        socket.receive(`\x20${v5 ? "\x03" : "\x02"}\x00\x00${props}`);
        expect(client.engine.state, label).toBe(CONNECTED);

        const subscribeId = client.subscribe("gate/cmd", 1);
        expect(subscribeId, label).toBeGreaterThan(0);
        expect(socket.written.shift()!.charCodeAt(0), label).toBe(0x82);
        socket.receive(`\x90${v5 ? "\x04" : "\x03"}\x00${String.fromCharCode(subscribeId)}${props}\x01`);
        socket.receive(`\x32${String.fromCharCode(v5 ? 15 : 14)}\x00\x08gate/cmd\x00\x07${props}on`);
        expect(socket.written.shift(), label).toBe("\x40\x02\x00\x07");
        expect(Object.keys(received[0]).sort(), label).toEqual(Object.keys(new Packet()).sort());
        expect(received[0].packetId, label).toBe(7);
        expect(received[0].qos, label).toBe(1);

        const publishId = client.publish("gate/telemetry", "21.5", 1, false);
        expect(publishId, label).toBeGreaterThan(0);
        expect(client.engine.pendingMessages, label).toBe(1);
        expect(socket.written.shift(), label).toContain("gate/telemetry");
        socket.receive(`\x40\x02\x00${String.fromCharCode(publishId)}`);
        expect(client.engine.pendingMessages, label).toBe(0);

        expect(Object.keys(client.counters).sort(), label).toEqual(Object.keys(new Counters()).sort());
        expect(client.counters.messagesReceived, label).toBe(1);
        expect(client.counters.messagesSent, label).toBe(1);
        expect(client.lastSocketError, label).toBe(0);
        // And the names were mangled: of the client's own fields, only the public ones keep their names.
        const unbundled = new EspruinoClient({ host: "broker", port: 1883, tls: false }, new EngineOptions(), events);
        expect(Object.keys(client).length, label).toBe(Object.keys(unbundled).length);
        expect(Object.keys(client).filter((name) => name in unbundled).sort(), label).toEqual(["engine", "lastSocketError"]);
        expect(client.unsubscribe("gate/cmd"), label).toBeGreaterThan(0);
        client.disconnect();
        expect(socket.written.pop()!.charCodeAt(0), label).toBe(0xe0);
        expect(heard, label).toEqual([
          "connected false",
          `acknowledged 9 ${subscribeId} 1`,
          "message gate/cmd on",
          `acknowledged 4 ${publishId} 0`,
          "disconnected 0",
        ]);
      }
    });
  }
});

interface FakeSocket {
  module: string;
  options: unknown;
  written: string[];
  /** The connection is made: runs connect()'s callback. */
  opened(): void;
  /** Data arrives, as Espruino hands it over: a string, one character per byte. */
  receive(data: string): void;
}

/**
 * Runs a module as Espruino runs a Storage module: its text with `exports` and `module` in scope
 * (jspEvaluateModule), offered only the globals the module may use. The sockets it opens are recorded.
 */
function loadModule(bundle: Bundle): { exports: Record<string, any>; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  const exports: Record<string, any> = {};
  const sandbox = {
    exports,
    module: { exports },
    Uint8Array,
    String,
    Math,
    getTime: () => 1000,
    setTimeout: () => 1,
    clearTimeout: () => undefined,
    E: { toString: (bytes: Uint8Array) => String.fromCharCode(...bytes) },
    require: (module: string) => ({
      connect: (options: unknown, callback: () => void) => {
        const listeners: Record<string, (data?: string) => void> = {};
        const socket: FakeSocket = {
          module, options, written: [],
          opened: callback,
          receive: (data) => listeners.data(data),
        };
        sockets.push(socket);
        return {
          on: (event: string, listener: (data?: string) => void) => { listeners[event] = listener; },
          write: (data: string) => socket.written.push(data) > 0,
          end: () => undefined,
        };
      },
    }),
  };
  vm.runInNewContext(`(function(exports, module){${bundle.code}\n})(exports, module)`, sandbox);
  return { exports, sockets };
}

// ---------------------------------------------------------------------------------------------------------

/** One construct per line: the gate must name each rule at its line. */
const FIXTURE: Array<{ rule: string; code: string }> = [
  { rule: "default-parameter", code: "function f1(a=1){return a}" },
  { rule: "destructuring", code: "var {d1}=o1;" },
  { rule: "destructuring", code: "var [d2]=o1;" },
  { rule: "destructuring", code: "var d3,d4;[d3,d4]=[d4,d3];" },
  { rule: "destructuring", code: "var d5;({d5}=o1);" },
  { rule: "destructuring", code: "for(var [k1,v1] of o1);" },
  { rule: "destructuring", code: "function f2({a}){return a}" },
  { rule: "spread-rest", code: "f1(...o1);" },
  { rule: "spread-rest", code: "var s1=[...o1];" },
  { rule: "spread-rest", code: "var s2={...o1};" },
  { rule: "spread-rest", code: "function f3(...a){return a}" },
  { rule: "computed-key", code: "var c1={[o1]:1};" },
  { rule: "computed-key", code: "class C1{[o1](){return 1}}" },
  { rule: "labelled-statement", code: "outer:for(;;){break outer}" },
  { rule: "optional-chaining", code: "var q1=o1?.a;" },
  { rule: "optional-chaining", code: "var q2=f1?.();" },
  { rule: "exponent", code: "var x1=2**8;" },
  { rule: "exponent", code: "x1**=2;" },
  { rule: "logical-assignment", code: "x1??=1;" },
  { rule: "logical-assignment", code: "x1||=1;" },
  { rule: "logical-assignment", code: "x1&&=1;" },
  { rule: "async-await", code: "async function f4(p){return await p}" },
  { rule: "async-await", code: "var f5=async()=>1;" },
  { rule: "generator", code: "function*g1(){yield 1}" },
  { rule: "map-set-symbol", code: "var m1=new Map;" },
  { rule: "map-set-symbol", code: "var m2=new Set;" },
  { rule: "map-set-symbol", code: "var m3=new WeakMap;" },
  { rule: "map-set-symbol", code: 'var m4=Symbol("k");' },
  { rule: "array-from", code: "var a1=Array.from(o1);" },
  { rule: "promise-race-finally", code: "var p1=Promise.race([o1]);" },
  { rule: "promise-race-finally", code: "o1.finally(f1);" },
  { rule: "array-method", code: "var a2=o1.slice(1);" },
  { rule: "array-method", code: "var a3=o1.map(f1);" },
  { rule: "array-method", code: 'var a4=o1.join(",");' },
  { rule: "extends-error", code: "class E1 extends Error{}" },
  { rule: "loop-closure", code: "for(let i=0;i<3;i++)o1.push(()=>i);" },
  { rule: "loop-closure", code: "for(const x of o1)o1.push(function(){return x});" },
  { rule: "fromcharcode-apply", code: "var t1=String.fromCharCode.apply(null,o1);" },
  { rule: "private-field", code: "class C2{#x=1;get x(){return this.#x}}" },
  { rule: "static-block", code: "class C3{static{C3.n=1}}" },
  { rule: "optional-catch-binding", code: "try{f1()}catch{}" },
  { rule: "es-module", code: 'export{f1 as g};' },
  { rule: "es-module", code: 'var i1=import("x");' },
  { rule: "require", code: 'var r1=require("fs");' },
  { rule: "require", code: "var r2=require(o1);" },
  { rule: "unknown-global", code: "var u1=new TextDecoder;" },
  { rule: "unknown-global", code: "var u2=Buffer.from(o1);" },
  { rule: "unknown-global", code: "process.nextTick(f1);" },
  { rule: "unknown-global", code: "console.log(1);" },
];

/** What Espruino runs (DESIGN.md): none of it may be refused. */
const CLEAN = [
  "class K1{constructor(a){this.a=a}get b(){return this.a}set b(v){this.a=v}m(){return this.a}}",
  "var k2=class{constructor(){this.c=null}};",
  "var k3=(a,b)=>a+b;",
  "let k4=1;const k5=2;",
  "var k6=`n=${k4}`;",
  "for(const k7 of [1,2]);",
  "for(let k8=0;k8<2;k8++){}",
  "var k9=null??1;",
  "var k10=new Uint8Array(4);k10.set(k10.subarray(0,1),1);",
  "try{k3(1,2)}finally{k4=0}",
  "try{k3(1,2)}catch(k16){k4=0}",
  "var k11=E.toString(k10);",
  'var k12=require("net").connect({host:"h",port:1},function(){});',
  "var k13=setTimeout(k3,getTime());clearTimeout(k13);",
  "var k14=String.fromCharCode(65)+Math.floor(1.5);",
  "var k15={a:1,b:function(){return 2}};k15.b();",
  "exports.K1=K1;",
];

describe("Espruino syntax gate fixtures", () => {
  it("refuses each construct Espruino lacks, at its line", () => {
    const code = FIXTURE.map((f) => f.code).join("\n");
    const findings = checkEspruinoSyntax(code, "fixture.js");
    FIXTURE.forEach((f, index) => {
      const here = findings.filter((x) => x.line === index + 1).map((x) => x.rule);
      expect(here, `line ${index + 1}: ${f.code}`).toContain(f.rule);
    });
    for (const rule of Object.keys(SYNTAX_RULES)) {
      expect(FIXTURE.some((f) => f.rule === rule), `a fixture for ${rule}`).toBe(true);
    }
    // A location is reported: line, column and the text there.
    const exponent = findings.find((x) => x.rule === "exponent")!;
    expect(exponent.line).toBe(FIXTURE.findIndex((f) => f.rule === "exponent") + 1);
    expect(exponent.column).toBe("var x1=2".length + 1);
    expect(exponent.excerpt).toContain("**8");
  });

  it("accepts what Espruino runs", () => {
    const lines = checkEspruinoSyntax(CLEAN.join("\n"), "clean.js").map((f) => formatSyntaxFinding("clean.js", f));
    expect(lines).toEqual([]);
  });

  it("the esbuild settings of DESIGN.md lower what the source may not hold but esbuild can lower", async () => {
    const body = [
      "function f(o: { a?: { b: number } } | null, x: number, p: object, q: number | null): unknown {",
      "  let r = q;",
      "  r ??= 1;",
      "  return [o?.a?.b, x ** 2, { ...p, c: 1 }, r];",
      "}",
    ].join("\n");
    const build = (source: string, options: esbuild.TransformOptions): Promise<string> =>
      esbuild.transform(source, { loader: "ts", format: "cjs", ...options }).then((r) => r.code);
    const rules = (code: string): string[] => checkEspruinoSyntax(code).map((f) => f.rule);
    // Exported the way the Espruino entry does it: by setting a field of `exports`.
    const source = `declare const exports: { f: unknown };\n${body}\nexports.f = f;\n`;
    expect(rules(await build(source, { ...ESPRUINO_TARGET }))).toEqual([]);
    // Without the `supported` overrides, es2020 keeps ?., ** and object spread (??= is ES2021, lowered anyway).
    expect(rules(await build(source, { target: "es2020" }))).toEqual(
      expect.arrayContaining(["optional-chaining", "exponent", "spread-rest"]),
    );
    // An unused catch variable: kept with the Espruino settings, dropped (catch {}) without them.
    const tryCatch = `declare const exports: { g: unknown };\nfunction g(h: () => void): number { try { h(); } catch (e) { return 1; } return 0; }\nexports.g = g;\n`;
    expect(rules(await build(tryCatch, { ...ESPRUINO_TARGET, minify: true }))).toEqual([]);
    expect(rules(await build(tryCatch, { target: "es2020", minify: true }))).toContain("optional-catch-binding");
    // Why the entry does not use `export`: esbuild's CommonJS interop copies the exports with getters made in
    // a for (let ...) loop, which Espruino would break.
    expect(rules(await build(`export ${body}`, { ...ESPRUINO_TARGET }))).toContain("loop-closure");
  });
});
