// Size of the NodeMCU Lua client (dist/nodemcu/starling.lua, scripts/build-lua.ts): the Lua source, the same
// compiled by Debian's luac5.1 with debug information stripped (-s), and, run in Debian's lua5.1, the heap the
// loaded module and one client take. bench/size.ts prints these rows after the Espruino ones.
//
// What the figures mean for a board: NodeMCU compiles with its own luac.cross (same Lua 5.1 bytecode format,
// but 32-bit pointers and its own number type), so the stripped bytecode here is an estimate of what goes
// into LFS, not the exact figure. The heap figures are a 64-bit desktop Lua's, where every table slot and
// pointer is larger than on the ESP8266: an upper bound. A module loaded from LFS leaves its code in flash;
// only the tables it makes (the client's buffers) take heap.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { buildLuaBundle } from "../scripts/build-lua";

export interface LuaSizes {
  source: number;
  gzip: number;
  /** luac5.1 -s output bytes; null when luac5.1 is not installed. */
  bytecode: number | null;
  /** KB of Lua heap after loading the source (lua5.1), and after making one client; null without lua5.1. */
  heapModuleKb: number | null;
  heapClientKb: number | null;
}

// The client the heap figure makes: the buffer sizes of the reference firmware (boards/nodemcu/application.lua).
const HEAP_PROBE = `
bit = require("bit")
tmr = { create = function() return { stop = function() end } end, ALARM_SINGLE = 0 }
node = {}
collectgarbage("collect")
local before = collectgarbage("count")
local starling = dofile(arg[1])
collectgarbage("collect")
local loaded = collectgarbage("count")
local options = starling.newOptions()
options.receiveBufferSize, options.transmitBufferSize, options.messageSlotSize = 512, 128, 128
options.inflightWindow, options.queueSlots, options.incomingQos2Slots, options.subscriptionSlots = 2, 4, 4, 2
local client = starling.newClient({ host = "127.0.0.1", port = 1883, tls = false }, options, {})
collectgarbage("collect")
io.write(string.format("%.1f %.1f", loaded - before, collectgarbage("count") - loaded))
`;

function has(program: string): boolean {
  try {
    execFileSync(program, ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Builds the Lua bundle in memory and measures it. */
export function luaBundleSizes(): LuaSizes {
  const code = buildLuaBundle();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "starling-size-lua-"));
  try {
    const source = path.join(directory, "starling.lua");
    fs.writeFileSync(source, code);
    let bytecode: number | null = null;
    if (has("luac5.1")) {
      const compiled = path.join(directory, "starling.luac");
      execFileSync("luac5.1", ["-s", "-o", compiled, source]);
      bytecode = fs.statSync(compiled).size;
    }
    let heapModuleKb: number | null = null;
    let heapClientKb: number | null = null;
    if (has("lua5.1")) {
      const probe = path.join(directory, "probe.lua");
      fs.writeFileSync(probe, HEAP_PROBE);
      const [module, client] = execFileSync("lua5.1", [probe, source]).toString().split(" ").map(Number);
      heapModuleKb = module;
      heapClientKb = client;
    }
    const bytes = Buffer.byteLength(code, "utf8");
    return { source: bytes, gzip: gzipSync(code, { level: 9 }).length, bytecode, heapModuleKb, heapClientKb };
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** The rows bench/size.ts prints. */
export function luaSizeRows(): string {
  const sizes = luaBundleSizes();
  const n = (value: number): string => value.toLocaleString("en-US");
  const missing = "(luac5.1 / lua5.1 not installed: apt-get install lua5.1)";
  return [
    "NodeMCU Lua client (typescript-to-lua, MQTT 3.1.1 + 5.0), dist/nodemcu/starling.lua:",
    `  Lua source                          ${n(sizes.source).padStart(9)} B  (gzip -9 ${n(sizes.gzip)} B)`,
    `  bytecode, luac5.1 -s (LFS estimate) ${sizes.bytecode === null ? missing : `${n(sizes.bytecode).padStart(9)} B`}`,
    sizes.heapModuleKb === null ? `  heap (lua5.1) ${missing}` :
      `  heap in lua5.1 (64-bit, upper bound): module loaded from source ${sizes.heapModuleKb} KB, ` +
      `one client (ESP8266 buffers) ${sizes.heapClientKb} KB more`,
  ].join("\n");
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  console.log(luaSizeRows());
}
