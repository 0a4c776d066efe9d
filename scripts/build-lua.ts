// The NodeMCU Lua build (npm run build, after the Espruino one): typescript-to-lua compiles the device code
// into one Lua file, dist/nodemcu/starling.lua, that a NodeMCU application loads with require, dofile or
// from LFS (boards/nodemcu-*/README.md). Its entry is device/platform/nodemcu/index.ts.
//
// How the output is made NodeMCU-runnable (DESIGN.md, "The portable subset"; settings in tsconfig.lua.json):
// - luaTarget "JIT": bitwise operators become bit.band(...) and friends, which NodeMCU's bit module provides
//   on both its Lua 5.1 and its Lua 5.3 (the 5.1 target would refuse them; the 5.3 one would emit operators
//   5.1 cannot parse). This target turns `continue` into goto, which 5.1 cannot parse: the portable-subset
//   gate refuses `continue` in device/.
// - luaLibImport "require-minimal" with luaBundle: only the lualib functions the code uses are bundled.
// - noImplicitSelf: functions take no hidden `self`, so a Lua application calls starling.newClient(...) with
//   a dot; methods (client:publish(...)) keep theirs.
// - The byte layer. The codec and the engine import ../platform/bytes (Node's, Uint8Array); here the program
//   is given a device/platform/bytes.ts that re-exports device/platform/nodemcu/bytes.ts instead. Doing it in
//   the compiler host (not with a `paths` mapping, which TypeScript applies only to bare module names, nor
//   with a resolver plugin, which would leave the type checker reading Node's layer) means the type checker
//   and the bundler both see the Lua layer, so a codec call the Lua layer cannot serve fails the build.
// - byte-layer.lua (hand-written, typed by byte-layer.d.ts) is bundled as a module of its own.

import ts from "typescript";
import * as tstl from "typescript-to-lua";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const LUA_CONFIG = path.join(ROOT, "tsconfig.lua.json");
export const LUA_BUNDLE = path.join(ROOT, "dist", "nodemcu", "starling.lua");

const NODE_BYTES = path.join(ROOT, "device/platform/bytes.ts");
const NODE_BYTES_FOR_LUA = 'export * from "./nodemcu/bytes";\n';

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  });
}

/**
 * Compiles the device code to one Lua file (in memory); throws with the compiler's messages on any error.
 * `entry` (relative to the project root) replaces the NodeMCU module as the bundle's entry: the Lua tests
 * compile their codec vectors this way.
 */
export function buildLuaBundle(entry: string | null = null): string {
  const parsed = tstl.parseConfigFileWithSystem(LUA_CONFIG);
  if (parsed.errors.length > 0) {
    throw new Error(`lua build: ${LUA_CONFIG}:\n${formatDiagnostics(parsed.errors)}`);
  }
  const options = parsed.options;
  if (entry !== null) {
    options.luaBundleEntry = path.join(ROOT, entry);
    parsed.fileNames = [options.luaBundleEntry];
  }
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => (path.resolve(fileName) === NODE_BYTES ? NODE_BYTES_FOR_LUA : readFile(fileName));
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
    path.resolve(fileName) === NODE_BYTES
      ? ts.createSourceFile(fileName, NODE_BYTES_FOR_LUA, languageVersion, true)
      : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options, host });
  const preEmit = ts.getPreEmitDiagnostics(program);
  if (preEmit.length > 0) {
    throw new Error(`lua build: type errors:\n${formatDiagnostics(preEmit)}`);
  }
  let bundle: string | undefined;
  const result = new tstl.Transpiler().emit({
    program,
    writeFile: (fileName, text) => {
      if (fileName.endsWith(".lua")) bundle = text;
    },
  });
  if (result.diagnostics.length > 0) {
    throw new Error(`lua build: typescript-to-lua:\n${formatDiagnostics(result.diagnostics)}`);
  }
  if (bundle === undefined) {
    throw new Error("lua build: typescript-to-lua wrote no bundle");
  }
  return bundle;
}

/** Builds and writes dist/nodemcu/starling.lua; returns its size in bytes. */
export function buildLua(outFile: string = LUA_BUNDLE): number {
  const bundle = buildLuaBundle();
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, bundle);
  return Buffer.byteLength(bundle, "utf8");
}

function main(): void {
  const bytes = buildLua();
  console.log(`${path.relative(ROOT, LUA_BUNDLE)}  NodeMCU Lua (3.1.1 + 5.0): ${bytes.toLocaleString("en-US")} B source`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
