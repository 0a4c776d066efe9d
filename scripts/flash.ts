// npm run flash -- --board esp32 --port /dev/ttyUSB0 [--settings my-settings.json] [--dry-run]
//
// Writes what `npm run build` made for a board (dist/espruino/<board>/manifest.json, scripts/build-boards.ts)
// into the board's Storage with the Espruino command-line tools (npm package `espruino`): the module as
// "starling", the firmware as ".boot0", and the maker's settings as "starling.json" when given; then load()
// restarts the board into the firmware. Every file goes as Storage data (--storage name:file), so the tools
// upload it as it is, with no minifying and no module lookup. --dry-run prints the files and the exact
// command, and runs nothing. Exit codes: 0 done, 2 asked wrongly (board, port, build, settings), otherwise
// the espruino tool's own.

import { Command, CommanderError } from "commander";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { OUT_DIR, ROOT } from "./build";
import type { Manifest } from "./build-boards";
import { espruinoBoards } from "../boards/espruino/profile";

/** Espruino's serial console on ESP32 and ESP8266. */
const BAUD = 115200;
/** After the files are written: restart and run the boot files (.boot0 is the firmware). */
const AFTER_UPLOAD = "load()";

export class FlashError extends Error {}

export interface FlashPlan {
  manifest: Manifest;
  /** The command, program then arguments, run from the project root. */
  command: string[];
  /** What goes where, one line each. */
  writes: string[];
}

function relative(file: string): string {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

/** A port that names a device file must exist; tcp:// addresses and Bluetooth addresses are not files. */
function checkPort(port: string | undefined, dryRun: boolean): string {
  if (port === undefined || port === "") {
    throw new FlashError("--port is missing: the board's serial port, e.g. --port /dev/ttyUSB0 (npx espruino --list shows them)");
  }
  if (!dryRun && port.startsWith("/") && !existsSync(port)) {
    throw new FlashError(`port ${port} does not exist: is the board plugged in? (npx espruino --list shows the ports)`);
  }
  return port;
}

/** The settings the firmware needs (boards/README.md), checked before anything is written. */
function checkSettings(file: string): void {
  let settings: any;
  try {
    settings = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new FlashError(`--settings ${file}: not a readable JSON file (${error instanceof Error ? error.message : error})`);
  }
  const missing = [
    ["wifi.ssid", settings?.wifi?.ssid], ["wifi.password", settings?.wifi?.password],
    ["broker.host", settings?.broker?.host], ["broker.port", settings?.broker?.port], ["device", settings?.device],
    ["topicPrefix", settings?.topicPrefix], ["telemetrySeconds", settings?.telemetrySeconds],
  ].filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length > 0) {
    throw new FlashError(`--settings ${file}: ${missing.join(", ")} missing (see the board's starling.example.json)`);
  }
}

/** What flashing `board` through `port` writes and runs; a FlashError says what was asked wrongly. */
export function planFlash(options: { board?: string; port?: string; settings?: string; dryRun: boolean },
  outDir: string = OUT_DIR): FlashPlan {
  const boards = espruinoBoards();
  if (options.board === undefined || !boards.includes(options.board)) {
    const given = options.board === undefined ? "--board is missing" : `unknown board "${options.board}"`;
    throw new FlashError(`${given}: the boards are ${boards.join(", ")}`);
  }
  const port = checkPort(options.port, options.dryRun);
  const dir = path.join(outDir, options.board);
  const manifestFile = path.join(dir, "manifest.json");
  if (!existsSync(manifestFile)) {
    throw new FlashError(`no build for ${options.board} (${relative(manifestFile)} is missing): run npm run build first`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
  const command = ["npx", "espruino", "--board", manifest.espruinoBoard, "--port", port, "-b", String(BAUD)];
  const writes: string[] = [];
  for (const f of manifest.files) {
    const file = path.join(dir, f.file);
    if (!existsSync(file)) throw new FlashError(`${relative(file)} is missing: run npm run build first`);
    command.push("--storage", `${f.storage}:${relative(file)}`);
    writes.push(`Storage "${f.storage}" <- ${relative(file)} (${statSync(file).size.toLocaleString("en-US")} B)`);
  }
  if (options.settings !== undefined) {
    // npm runs scripts from the project root; a relative path is the maker's, from where they typed it.
    const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), options.settings);
    if (!existsSync(file)) throw new FlashError(`--settings ${options.settings}: no such file`);
    checkSettings(file);
    command.push("--storage", `${manifest.settings.storage}:${relative(file)}`);
    writes.push(`Storage "${manifest.settings.storage}" <- ${relative(file)} (${statSync(file).size.toLocaleString("en-US")} B)`);
  } else {
    writes.push(`Storage "${manifest.settings.storage}" is left as it is on the board (give --settings FILE to write it; ` +
      `${relative(path.join(dir, manifest.settings.example))} shows what it holds)`);
  }
  command.push("-e", AFTER_UPLOAD);
  writes.push(`then ${AFTER_UPLOAD}: the board restarts into the firmware`);
  return { manifest, command, writes };
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

export function formatPlan(plan: FlashPlan): string {
  const m = plan.manifest.memory;
  return [
    `board ${plan.manifest.board} (Espruino ${plan.manifest.espruinoBoard}); client memory ${m.total} of ${m.budget} variables`,
    ...plan.writes.map((w) => `  ${w}`),
    `command: ${plan.command.map(shellQuote).join(" ")}`,
  ].join("\n");
}

export function main(argv: string[], outDir: string = OUT_DIR): number {
  const program = new Command("flash")
    .description("write a board's module, firmware and settings to its Storage with the Espruino tools")
    .option("--board <name>", `the board: ${espruinoBoards().join(", ")}`)
    .option("--port <port>", "the board's serial port (e.g. /dev/ttyUSB0), or tcp://HOST")
    .option("--settings <file>", "the settings to write as starling.json (see the board's starling.example.json)")
    .option("--dry-run", "print what would be written and the command, and run nothing", false)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const options = program.opts<{ board?: string; port?: string; settings?: string; dryRun: boolean }>();
  let plan: FlashPlan;
  try {
    plan = planFlash(options, outDir);
  } catch (error) {
    if (error instanceof FlashError) {
      console.error(`flash: ${error.message}`);
      return 2;
    }
    throw error;
  }
  console.log(formatPlan(plan));
  if (options.dryRun) {
    console.log("dry run: nothing was written");
    return 0;
  }
  const result = spawnSync(plan.command[0], plan.command.slice(1), { cwd: ROOT, stdio: "inherit" });
  if (result.error !== undefined) {
    console.error(`flash: could not run ${plan.command[0]}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main(process.argv.slice(2)));
}
