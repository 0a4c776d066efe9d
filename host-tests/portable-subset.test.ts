// The portable-subset gate (DESIGN.md, "The portable subset"): device/ must run on Espruino and, through
// typescript-to-lua, on NodeMCU Lua. The first test checks the real sources; the fixtures pin every rule.

import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkFiles, checkSource, formatFinding, MAX_LOCALS, RULES } from "./portable/subset";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function tsFilesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...tsFilesUnder(full));
    } else if (entry.isFile() && entry.name.endsWith(".ts")) {
      files.push(full);
    }
  }
  return files.sort();
}

describe("portable subset", () => {
  it("device/ is inside the portable subset", () => {
    const files = tsFilesUnder(path.join(ROOT, "device"));
    expect(files.length, "no .ts files found under device/").toBeGreaterThan(0);
    const findings = checkFiles(files);
    const lines = findings.map(formatFinding);
    expect(lines, `${lines.length} construct(s) outside the portable subset:\n${lines.join("\n")}\n`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

const CODEC = "device/codec/fixture.ts";
const PLATFORM = "device/platform/fixture.ts";

interface Flagged {
  rule: string;
  code: string;
  file?: string;
}

function manyLocals(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`  const v${i} = ${i};`);
  const sum: string[] = [];
  for (let i = 0; i < count; i++) sum.push(`v${i}`);
  return `export function f(): number {\n${lines.join("\n")}\n  return ${sum.join(" + ")};\n}\n`;
}

function manyModuleLocals(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`const v${i} = ${i};`);
  const sum: string[] = [];
  for (let i = 0; i < count; i++) sum.push(`v${i}`);
  return `${lines.join("\n")}\nexport const total = ${sum.join(" + ")};\n`;
}

const FLAGGED: Flagged[] = [
  // Espruino
  { rule: "default-parameter", code: "export function f(a = 1): number { return a; }" },
  { rule: "default-parameter", code: "export class C { m(a: number, b = 2): number { return a + b; } }" },
  { rule: "destructuring", code: "const { a, b } = { a: 1, b: 2 };\nexport const s = a + b;" },
  { rule: "destructuring", code: "export function f(xs: number[]): number { const [x] = xs; return x; }" },
  { rule: "destructuring", code: "export function f({ a }: { a: number }): number { return a; }" },
  { rule: "destructuring", code: "let a = 1;\nlet b = 2;\n[a, b] = [b, a];\nexport const s = a + b;" },
  { rule: "destructuring", code: "export function f(o: { a: number }): number { let a = 0; ({ a } = o); return a; }" },
  { rule: "destructuring", code: "export function f(ps: number[][]): number { let s = 0; for (const [k, v] of ps) { s += k + v; } return s; }" },
  { rule: "destructuring", code: "export function f(o: { a: number; b: number }): number { const { a, ...rest } = o; return a + rest.b; }" },
  { rule: "spread-rest", code: "export function f(xs: number[]): number[] { return [...xs, 1]; }" },
  { rule: "spread-rest", code: "export function f(...xs: number[]): number { return xs.length; }" },
  { rule: "spread-rest", code: "const base = { a: 1 };\nexport const o = { ...base, b: 2 };" },
  { rule: "spread-rest", code: "function g(a: number, b: number): number { return a + b; }\nconst args: [number, number] = [1, 2];\nexport const r = g(...args);" },
  { rule: "computed-key", code: 'const k = "a";\nexport const o = { [k]: 1 };' },
  { rule: "computed-key", code: 'const k = "m";\nexport class C { [k](): number { return 1; } }' },
  {
    rule: "labelled-statement",
    code: "export function f(n: number): number { outer: for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) { if (j === i) break outer; } } return n; }",
  },
  { rule: "optional-chaining", code: "export function f(o: { a: number } | null): number | undefined { return o?.a; }" },
  { rule: "optional-chaining", code: "export function f(g: (() => number) | null): number | undefined { return g?.(); }" },
  { rule: "exponent", code: "export const x = 2 ** 8;" },
  { rule: "exponent", code: "export function f(y: number): number { y **= 2; return y; }" },
  { rule: "logical-assignment", code: "export function f(a: number | null): number { a ??= 1; return a; }" },
  { rule: "logical-assignment", code: "export function f(b: boolean): boolean { b ||= true; return b; }" },
  { rule: "logical-assignment", code: "export function f(b: boolean): boolean { b &&= false; return b; }" },
  { rule: "async-await", code: "export async function f(p: Promise<number>): Promise<number> { return await p; }" },
  { rule: "async-await", code: "export const f = async (): Promise<number> => 1;" },
  { rule: "generator", code: "export function* g(): Generator<number> { yield 1; }" },
  { rule: "map-set-symbol", code: "export const m = new Map<string, number>();" },
  { rule: "map-set-symbol", code: "export const s = new Set<number>();" },
  { rule: "map-set-symbol", code: "export const w = new WeakMap<object, number>();" },
  { rule: "map-set-symbol", code: 'export const k = Symbol("k");' },
  { rule: "array-from", code: "export function f(xs: number[]): number[] { return Array.from(xs); }" },
  { rule: "promise-race-finally", code: "export function f(p: Promise<number>): Promise<number> { return Promise.race([p]); }" },
  { rule: "promise-race-finally", code: "export function f(p: Promise<number>): Promise<number> { return p.finally(() => undefined); }" },
  { rule: "array-method", code: "export function f(xs: number[]): number[] { return xs.slice(1); }" },
  { rule: "array-method", code: "export function f(xs: number[]): number[] { return xs.map((x) => x + 1); }" },
  { rule: "array-method", code: 'export function f(xs: string[]): string { return xs.join(","); }' },
  { rule: "array-method", code: "export function f(xs: number[] | null): void { if (xs !== null) { xs.splice(0, 1); } }" },
  { rule: "array-method", code: "export function f(t: [number, number]): number[] { return t.concat([1]); }" },
  { rule: "extends-error", code: "export class CodecError extends Error {}" },
  {
    rule: "loop-closure",
    code: "export function f(out: Array<() => number>): void { for (let i = 0; i < 3; i++) { out.push(() => i); } }",
  },
  {
    rule: "loop-closure",
    code: "export function f(xs: number[], out: Array<() => number>): void { for (const x of xs) { out.push(function () { return x; }); } }",
  },
  { rule: "fromcharcode-apply", code: "export function f(codes: number[]): string { return String.fromCharCode.apply(null, codes); }" },
  { rule: "private-field", code: "export class C { #x = 1; get x(): number { return this.#x; } }" },
  { rule: "static-block", code: "export class C { static n = 0; static { C.n = 1; } }" },
  // typescript-to-lua / NodeMCU
  {
    rule: "continue",
    code: "export function f(n: number): number { let s = 0; for (let i = 0; i < n; i++) { if (i === 2) continue; s += i; } return s; }",
  },
  { rule: "unsigned-shift", code: "export function f(x: number): number { return x >>> 1; }" },
  { rule: "unsigned-shift", code: "export function f(x: number): number { x >>>= 1; return x; }" },
  { rule: "tostring-radix", code: "export function f(x: number): string { return x.toString(16); }" },
  { rule: "tostring-radix", file: "device/platform/espruino.ts", code: "export function hex(n: number): string { return n.toString(16); }" },
  { rule: "new-error", code: 'export function f(): object { return new Error("bad"); }' },
  { rule: "new-error", code: 'export function f(): object { return RangeError("bad"); }' },
  { rule: "throw", code: 'export function f(x: number): number { if (x < 0) { throw "negative"; } return x; }' },
  { rule: "truthiness", code: "export function f(s: string): number { if (s) { return 1; } return 0; }" },
  { rule: "truthiness", code: "export function f(n: number): boolean { return !n; }" },
  { rule: "truthiness", code: 'export function f(a: string | null): string { return a || "default"; }' },
  { rule: "truthiness", code: "export function f(n: number): number { return n ? 1 : 2; }" },
  { rule: "truthiness", code: "export function f(n: number): number { while (n) { n--; } return n; }" },
  { rule: "truthiness", code: "export function f(n: number): number { let i = 0; do { i++; } while (n - i); return i; }" },
  { rule: "truthiness", code: "export function f(n: number): number { let i = 0; for (; n - i; ) { i++; } return i; }" },
  { rule: "truthiness", code: "export function f(flag: boolean, n: number): number { if (flag && n) { return 1; } return 0; }" },
  { rule: "truthiness", code: "export function f(n: number, m: number): number { return n && m; }" },
  { rule: "truthiness", code: "export function f(n: number | null): number { if (n) { return n; } return 0; }" },
  { rule: "truthiness", code: "enum Kind { A, B }\nexport function f(k: Kind): number { return k ? 1 : 0; }" },
  { rule: "truthiness", code: "export function f(x: any): number { return x ? 1 : 0; }" },
  { rule: "truthiness", code: "export function f<T>(x: T): number { return x ? 1 : 0; }" },
  { rule: "regex", code: "export const r = /ab+c/;" },
  { rule: "regex", code: 'export const r = new RegExp("ab+c");' },
  { rule: "bigint", code: "export const b = 10n;" },
  { rule: "bigint", code: "export const b = BigInt(10);" },
  { rule: "large-integer", code: "export const mask = 0xffffffff;" },
  { rule: "large-integer", code: "export const limit = 2147483648;" },
  { rule: "for-of-non-array", code: 'export function f(s: string): number { let n = 0; for (const c of s) { if (c === "a") { n++; } } return n; }' },
  { rule: "for-of-non-array", code: "export function f(b: Uint8Array): number { let n = 0; for (const x of b) { n += x; } return n; }" },
  { rule: "too-many-locals", code: manyLocals(MAX_LOCALS + 1) },
  { rule: "too-many-locals", code: manyModuleLocals(MAX_LOCALS + 1) },
  // Runtime specifics only in the platform layer
  { rule: "typed-array-outside-platform", code: "export const b = new Uint8Array(4);" },
  { rule: "bytes-index", code: 'import { Bytes } from "../platform/bytes";\nexport function f(b: Bytes): number { return b[0]; }' },
  { rule: "bytes-index", code: 'import { Bytes } from "../platform/bytes";\nexport function f(b: Bytes | null): void { if (b !== null) { b[1] = 2; } }' },
  { rule: "typed-array-outside-platform", code: "export const v = new DataView(new ArrayBuffer(4));" },
  { rule: "typed-array-outside-platform", code: "export function f(x: object): boolean { return x instanceof Uint8Array; }" },
  { rule: "runtime-global-outside-platform", code: "export const b = Buffer.alloc(4);" },
  { rule: "runtime-global-outside-platform", code: "export function f(): void { console.log(1); }" },
  { rule: "runtime-global-outside-platform", code: "export function f(): void { setTimeout(() => undefined, 1); }" },
  { rule: "runtime-global-outside-platform", code: "export function f(): void { setInterval(() => undefined, 1); }" },
  { rule: "runtime-global-outside-platform", code: "export const t = process.hrtime();" },
  { rule: "runtime-global-outside-platform", code: "export const d = new TextDecoder();" },
  { rule: "runtime-global-outside-platform", code: "export const e = new TextEncoder();" },
  { rule: "runtime-global-outside-platform", code: "export const g = globalThis;" },
  { rule: "runtime-global-outside-platform", code: 'export const m: unknown = require("net");' },
  { rule: "runtime-global-outside-platform", code: "export const now = Date.now();" },
  { rule: "node-import", code: 'import { createConnection } from "node:net";\nexport const c = createConnection;' },
  { rule: "node-import", code: 'import fc from "fast-check";\nexport const a = fc;' },
  { rule: "node-import", code: 'export { createConnection } from "node:net";' },
  { rule: "node-import", code: 'import "node:net";' },
  { rule: "node-import", file: "device/platform/espruino.ts", code: 'import { connect } from "node:net";\nexport const c = connect;' },
  { rule: "node-import", file: "device/platform/nodemcu.ts", code: 'import { connect } from "node:net";\nexport const c = connect;' },
  { rule: "dynamic-import", code: 'export function f(): Promise<unknown> { return import("./wire"); }' },
];

const CLEAN: Array<{ name: string; code: string; file?: string }> = [
  {
    name: "class with fields",
    code: "export class C { a = 0; b: string | null = null; static count = 0; constructor(x: number) { this.a = x; } }",
  },
  { name: "arrow functions", code: "export const add = (a: number, b: number): number => a + b;" },
  { name: "let/const", code: "export function f(): number { let a = 1; const b = 2; a += b; return a; }" },
  { name: "template literal", code: "export function f(n: number): string { return `n=${n}`; }" },
  { name: "for-of over an array", code: "export function f(xs: number[]): number { let s = 0; for (const x of xs) { s += x; } return s; }" },
  {
    name: "getters/setters",
    code: "export class C { private v = 0; get value(): number { return this.v; } set value(x: number) { this.v = x; } }",
  },
  { name: "??", code: "export function f(a: number | null): number { return a ?? 0; }" },
  { name: "typed-array subarray", code: "export function f(b: Uint8Array): Uint8Array { return b.subarray(1, 2); }" },
  {
    name: "explicit comparisons",
    code: 'export function f(s: string, n: number): number { if (s !== "" && n !== 0) { return 1; } return s.length > 0 ? 2 : 3; }',
  },
  { name: "if (flag) on a boolean", code: "export function f(flag: boolean): number { if (flag) { return 1; } return !flag ? 2 : 3; }" },
  {
    name: "x !== null && y",
    code: "export function f(x: object | null, y: boolean): number { if (x !== null && y) { return 1; } return x !== null && y ? 2 : 3; }",
  },
  { name: "object/null union as a condition", code: "export function f(o: { a: number } | null): number { if (o) { return o.a; } return 0; }" },
  { name: "boolean-literal union", code: "export function f(b: true | null, c: false | undefined): number { return b || c ? 1 : 0; }" },
  { name: "&& || on booleans used as values", code: "export function f(a: boolean, b: boolean): boolean { return (a && b) || !a; }" },
  { name: "do/while", code: "export function f(n: number): number { let i = 0; do { i++; } while (i < n); return i; }" },
  {
    name: "try/finally",
    code: "export function f(g: () => void): number { let done = 0; try { g(); } finally { done = 1; } return done; }",
  },
  { name: "bitwise operators", code: "export function f(a: number, b: number): number { return ((a & 0xff) | (b << 8)) ^ (a >> 2) ^ ~b; }" },
  {
    name: "push, pop, indexOf and length on arrays",
    code: "export function f(xs: number[]): number { xs.push(1); xs.pop(); return xs.indexOf(1) + xs.length + xs[0]; }",
  },
  {
    name: "type-only constructs",
    code:
      'import type { Bytes } from "../platform/bytes";\nimport type { Arbitrary } from "fast-check";\n' +
      "export interface I { a: number }\nexport type T = { b: string; m: Map<string, number> };\n" +
      "export type A = Arbitrary<number>;\n" +
      "export function f(x: I | null, b: Bytes): number { return x!.a + (b as Uint8Array).length; }",
  },
  {
    name: "relative imports",
    code: 'import { byteAt } from "../platform/bytes";\nexport function f(b: Uint8Array): number { return byteAt(b, 0); }',
  },
  {
    name: "closure in a loop that does not capture the loop variable",
    code: "export function f(out: Array<() => number>): void { for (let i = 0; i < 3; i++) { out.push(() => 1); } }",
  },
  { name: "closure outside a loop", code: "export function f(n: number): () => number { return () => n; }" },
  { name: "local shadowing a global", code: "export function f(): number { const console = 2; const process = 3; return console + process; }" },
  { name: "String.fromCharCode and toString()", code: "export function f(n: number): string { return String.fromCharCode(65, 66) + n.toString(); }" },
  {
    name: "Promise then/catch/all",
    code: "export function f(p: Promise<number>): Promise<number> { return Promise.all([p]).then((v) => v[0]).catch(() => 0); }",
  },
  { name: "largest 32-bit signed integer", code: "export const max = 0x7fffffff;\nexport const min = -2147483647;" },
  { name: "index loop with charCodeAt", code: "export function f(s: string): number { let n = 0; for (let i = 0; i < s.length; i++) { n += s.charCodeAt(i); } return n; }" },
  { name: "numeric error codes", code: "export const ERR_X = -1;\nexport function f(n: number): number { return n < 0 ? ERR_X : 0; }" },
  { name: `${MAX_LOCALS} locals in one function`, code: manyLocals(MAX_LOCALS) },
  { name: "exported constants are not module locals", code: manyModuleLocals(0) + Array.from({ length: 60 }, (_, i) => `export const C${i} = ${i};`).join("\n") },
  // The platform layer may use the runtime.
  { name: "typed arrays in device/platform/", file: PLATFORM, code: "export const b = new Uint8Array(4);\nexport const v = new DataView(b.buffer);" },
  { name: "a buffer indexed in device/platform/ (the byte layer itself)", file: PLATFORM, code: 'import { Bytes } from "./bytes";\nexport function f(b: Bytes): number { return b[0]; }' },
  { name: "a buffer read through the byte layer", code: 'import { Bytes, byteAt } from "../platform/bytes";\nexport function f(b: Bytes): number { return byteAt(b, 0); }' },
  { name: "an array of numbers indexed", code: "export function f(xs: number[]): number { return xs[0]; }" },
  {
    name: "Node globals in device/platform/",
    file: PLATFORM,
    code: 'export const b = Buffer.alloc(4);\nexport const d = new TextDecoder("utf-8");\nexport function later(f: () => void): void { setTimeout(f, 1); }',
  },
  {
    name: "E.toString(bytes) in the Espruino platform file",
    file: "device/platform/espruino.ts",
    code: "declare const E: { toString(data: Uint8Array): string };\nexport function binary(b: Uint8Array): string { return E.toString(b); }",
  },
  { name: "node: imports in device/platform/node.ts", file: "device/platform/node.ts", code: 'import { createConnection } from "node:net";\nexport const c = createConnection;' },
  { name: "node: imports in device/platform/node/", file: "device/platform/node/socket.ts", code: 'import { connect } from "node:tls";\nexport const c = connect;' },
  { name: "node: imports in device/platform/bytes.ts", file: "device/platform/bytes.ts", code: 'import { Buffer } from "node:buffer";\nexport const b = Buffer.alloc(1);' },
];

function title(code: string): string {
  const flat = code.replace(/\s+/g, " ").trim();
  return flat.length > 70 ? `${flat.slice(0, 67)}...` : flat;
}

describe("portable subset rules (fixtures)", () => {
  it("every rule has a flagged fixture", () => {
    const covered = new Set(FLAGGED.map((f) => f.rule));
    expect(Object.keys(RULES).filter((rule) => !covered.has(rule))).toEqual([]);
  });

  it.each(FLAGGED.map((f) => [f.rule, f.file ?? CODEC, title(f.code), f.code] as const))("%s in %s: %s", (rule, file, _title, code) => {
    const findings = checkSource(file, code);
    const lines = findings.map(formatFinding).join("\n");
    expect(findings.length, `expected ${rule}, got nothing`).toBeGreaterThan(0);
    expect([...new Set(findings.map((f) => f.rule))], lines).toEqual([rule]);
    for (const finding of findings) {
      expect(finding.file).toBe(file);
      expect(finding.line).toBeGreaterThan(0);
      expect(finding.column).toBeGreaterThan(0);
      expect(finding.message).toContain(RULES[rule]);
    }
  });

  it.each(CLEAN.map((c) => [c.file ?? CODEC, c.name, c.code] as const))("clean in %s: %s", (file, _name, code) => {
    const lines = checkSource(file, code).map(formatFinding);
    expect(lines).toEqual([]);
  });

  it("names the position of a finding", () => {
    const findings = checkSource(CODEC, "export const a = 1;\nexport function f(x: number): number {\n  return x >>> 1;\n}\n");
    expect(findings).toEqual([
      { file: CODEC, line: 3, column: 12, rule: "unsigned-shift", message: `>>>: ${RULES["unsigned-shift"]}` },
    ]);
  });
});
