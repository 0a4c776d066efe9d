// npm run flash -- --board esp32 --port /dev/ttyUSB0 [--settings my-settings.json] [--dry-run]
//
// Writes what `npm run build` made for a board (dist/espruino/<board>/manifest.json, scripts/build-boards.ts)
// into the board's Storage with the Espruino command-line tools (npm package `espruino`): the module as
// "starling", the firmware as ".boot0", and the maker's settings as "starling.json" when given; then load()
// restarts the board into the firmware. Every file goes as Storage data (--storage name:file), so the tools
// upload it as it is, with no minifying and no module lookup. The tools get the board's description from a
// local file (--board FILE.json), never from espruino.com. --dry-run prints the files and the exact command,
// and runs nothing. Exit codes: 0 done, 2 asked wrongly (board, port, build, settings), 1 the Espruino tools
// did not finish writing the board (the last line says why).

import { Command, CommanderError } from "commander";
import { spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isatty } from "node:tty";
import { pathToFileURL } from "node:url";
import { FLAVOURS, OUT_DIR, ROOT } from "./build";
import type { Manifest } from "./build-boards";
import { BOARDS_DIR, espruinoBoards, loadProfile, profileOptions } from "../boards/espruino/profile";
import { MIN_SECONDS, MAX_SECONDS } from "../boards/espruino/settings";

/** Espruino's serial console on ESP32 and ESP8266. */
const BAUD = 115200;
/** After the files are written: restart and run the boot files (.boot0 is the firmware). */
const AFTER_UPLOAD = "load()";
/** Bluetooth LE addresses, as the Espruino tools take them for --port. */
const BLUETOOTH_ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export class FlashError extends Error {}

export interface FlashPlan {
  manifest: Manifest;
  /** The command, program then arguments, run from the project root. */
  command: string[];
  /** What goes where, one line each. */
  writes: string[];
  /** The board's description for the Espruino tools (--board), written before they run. */
  boardDescription: { file: string; text: string };
}

/** What a board's settings may ask for, from its profile (boards/<board>/profile.json). */
interface BoardFacts {
  name: string;
  /** Its module speaks MQTT 5.0 as well as 3.1.1 (the profile's "module", scripts/build.ts FLAVOURS). */
  mqtt5: boolean;
  /** Espruino's build for the board has the tls module (the profile's "tls"). */
  tls: boolean;
  /** The profile's MQTT version: the firmware's when the settings give none. */
  protocolVersion: number;
}

function boardFacts(name: string): BoardFacts {
  const profile = loadProfile(name);
  return {
    name,
    mqtt5: FLAVOURS.some((f) => f.file === profile.module && f.mqtt5),
    tls: (profile as { tls?: unknown }).tls === true,
    protocolVersion: profileOptions(profile).protocolVersion,
  };
}

function relative(file: string): string {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

/** Where a maker finds the board's serial port. */
function listPortsHint(): string {
  const list = process.platform === "darwin" ? "ls /dev/cu.*" : "ls /dev/ttyUSB* /dev/ttyACM*";
  return `${list} shows the board's port once it is plugged in; npx espruino --list --no-ble lists the ports too`;
}

/** When another program holds the port. */
const PORT_BUSY_FIX = "another program has the port open (a serial monitor, screen, the Web IDE): close it and flash again";
/** How to get permission to open a serial port on Linux. */
const PERMISSION_FIX = "add yourself to the group that owns the port (dialout on Debian and Ubuntu: " +
  "sudo usermod -aG dialout $USER), then log out and in again";

/** The port, checked: tcp:// and Bluetooth addresses are not files, Windows names ports COMn, a dry run needs no board. */
function checkPort(port: string | undefined, dryRun: boolean): string {
  if (port === undefined || port === "") {
    throw new FlashError(`--port is missing: the board's serial port, e.g. --port /dev/ttyUSB0 (${listPortsHint()})`);
  }
  if (!dryRun && !port.startsWith("tcp://") && !BLUETOOTH_ADDRESS.test(port) && process.platform !== "win32") {
    checkSerialDevice(port);
  }
  return port;
}

/** Linux and macOS: the port must be a serial device that this user may open. */
function checkSerialDevice(port: string): void {
  if (!existsSync(port)) {
    throw new FlashError(`port ${port} does not exist: is the board plugged in, with a data cable (not a charge-only one)? ` +
      listPortsHint());
  }
  const notSerial = new FlashError(`port ${port} is not a serial port: give the board's serial device, e.g. /dev/ttyUSB0 ` +
    `(${listPortsHint()})`);
  if (!statSync(port).isCharacterDevice()) throw notSerial;
  // /dev/null is a character device too: a serial port is a terminal device. Opened without waiting for a
  // carrier and without becoming this process's terminal, and closed at once.
  let fd: number;
  try {
    fd = openSync(port, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new FlashError(`no permission to open ${port} (ls -l ${port} shows its group): ${PERMISSION_FIX}`);
    }
    if (code === "EBUSY") throw new FlashError(`${port} is busy: ${PORT_BUSY_FIX}`);
    throw new FlashError(`cannot open ${port} (${code}): is the board still plugged in? ${listPortsHint()}`);
  }
  try {
    if (!isatty(fd)) throw notSerial;
  } finally {
    closeSync(fd);
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === "string" && value !== "";

/** A field of starling.json (boards/README.md "Settings"). */
interface SettingsField {
  /** Its path, e.g. "broker.port". */
  name: string;
  required: boolean;
  /** What it accepts, as the error tells the maker. */
  accepts: string;
  ok(value: unknown, settings: Json): boolean;
  /** A password or key: an error says its length, not the value. */
  secret?: boolean;
}

/** Every field the firmware reads, with what a board accepts in it (boards/espruino/firmware.ts Settings). */
function settingsFields(board: BoardFacts): SettingsField[] {
  const profile = `boards/${board.name}/profile.json`;
  const certificate = (name: string): SettingsField => ({
    name: `broker.${name}`, required: false, secret: name === "key",
    accepts: `base64 text (a PEM file's body without its ----- lines), and only with "tls": true`,
    ok: (value, settings) => isText(value) && /^[A-Za-z0-9+/=\s]+$/.test(value) && (settings.broker as Json).tls === true,
  });
  return [
    { name: "wifi", required: true, accepts: 'an object: {"ssid": ..., "password": ...}', ok: isObject },
    { name: "wifi.ssid", required: true, accepts: "your WiFi network's name, 1 to 32 bytes",
      ok: (value) => isText(value) && Buffer.byteLength(value) <= 32 },
    { name: "wifi.password", required: true, secret: true, accepts: `the network's password, a string ("" for an open network)`,
      ok: (value) => typeof value === "string" },
    { name: "broker", required: true, accepts: 'an object: {"host": ..., "port": ..., "tls": ...}', ok: isObject },
    { name: "broker.host", required: true, accepts: `the broker's host name or IPv4 address alone, without mqtt:// or :port (e.g. "192.168.1.10")`,
      ok: (value) => isText(value) && /^[A-Za-z0-9.-]+$/.test(value) },
    { name: "broker.port", required: true, accepts: "a whole number from 1 to 65535 (1883 for MQTT, 8883 for MQTT over TLS)",
      ok: (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535 },
    board.tls
      ? { name: "broker.tls", required: false, accepts: "true or false", ok: (value) => typeof value === "boolean" }
      : { name: "broker.tls", required: false, ok: (value) => value === false,
        accepts: `only false, as Espruino's build for ${board.name} has no TLS (${profile} "tls"): use the broker's port without TLS, or an ESP32` },
    certificate("ca"), certificate("key"), certificate("cert"),
    { name: "device", required: true, accepts: "the client id and the device's topic level: a non-empty string without /, + or #",
      ok: (value) => isText(value) && !/[/+#]/.test(value) },
    { name: "topicPrefix", required: true, accepts: `the topics' first level or levels: a non-empty string without + or #, not starting with $ (e.g. "starling")`,
      ok: (value) => isText(value) && !/[+#]/.test(value) && !value.startsWith("$") },
    { name: "telemetrySeconds", required: true, accepts: `the seconds between telemetry messages: a number from ${MIN_SECONDS} to ${MAX_SECONDS}`,
      ok: (value) => typeof value === "number" && value >= MIN_SECONDS && value <= MAX_SECONDS },
    board.mqtt5
      ? { name: "protocolVersion", required: false, accepts: "4 (MQTT 3.1.1) or 5 (MQTT 5.0)", ok: (value) => value === 4 || value === 5 }
      : { name: "protocolVersion", required: false, ok: (value) => value === 4,
        accepts: `only 4 (MQTT 3.1.1), as ${board.name} runs the module without MQTT 5.0 (${profile} "module")` },
    { name: "username", required: false, accepts: "a non-empty string", ok: isText },
    { name: "password", required: false, secret: true, accepts: `a string, and with MQTT 3.1.1 only beside "username" (3.1.1 has no password without a user name)`,
      ok: (value, settings) => typeof value === "string" && (settings.username !== undefined || (settings.protocolVersion ?? board.protocolVersion) === 5) },
  ];
}

/** The value at a path such as "broker.port", or undefined. */
function lookup(settings: Json, name: string): unknown {
  return name.split(".").reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), settings);
}

function describeValue(value: unknown, secret: boolean): string {
  if (secret && typeof value === "string") return `a string of ${value.length} character${value.length === 1 ? "" : "s"} (not shown)`;
  if (secret) return `${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`} (not shown)`;
  return JSON.stringify(value);
}

/**
 * Checks settings against what the firmware and the board take: every field's type and range, the example's
 * placeholders left as they were (its "your-..." values), and fields the firmware does not know (a typo
 * would be ignored on the board). Returns one line per problem.
 */
function settingsProblems(settings: unknown, board: BoardFacts, example: Json): string[] {
  if (!isObject(settings)) return [`the file holds ${JSON.stringify(settings)}, not an object of settings`];
  const fields = settingsFields(board);
  const problems: string[] = [];
  for (const field of fields) {
    const parent = field.name.includes(".") ? lookup(settings, field.name.split(".")[0]) : settings;
    if (!isObject(parent)) continue; // the parent's own problem is already said
    const value = lookup(settings, field.name);
    const placeholder = lookup(example, field.name);
    if (value === undefined) {
      if (field.required) problems.push(`${field.name} is missing: ${field.accepts}`);
    } else if (typeof placeholder === "string" && placeholder.startsWith("your-") && value === placeholder) {
      problems.push(`${field.name} is still the example's "${placeholder}": fill in ${field.accepts}`);
    } else if (!field.ok(value, settings)) {
      problems.push(`${field.name} is ${describeValue(value, field.secret === true)}; it takes ${field.accepts}`);
    }
  }
  const known = new Set(fields.map((f) => f.name));
  const given = Object.entries(settings).flatMap(([key, value]) =>
    [key, ...(known.has(key) && isObject(value) ? Object.keys(value).map((sub) => `${key}.${sub}`) : [])]);
  const leaves = [...known].filter((name) => !fields.some((f) => f.name.startsWith(`${name}.`)));
  for (const name of given.filter((n) => !known.has(n))) {
    problems.push(`${name} is not a setting the firmware reads: the settings are ${leaves.join(", ")}`);
  }
  return problems;
}

/** The settings file the maker gave, checked before anything is written. */
function checkSettings(file: string, given: string, board: BoardFacts, exampleFile: string): void {
  let settings: unknown;
  try {
    settings = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new FlashError(`--settings ${given}: not a readable JSON file (${error instanceof Error ? error.message : error})`);
  }
  const problems = settingsProblems(settings, board, JSON.parse(readFileSync(exampleFile, "utf8")) as Json);
  if (problems.length > 0) {
    throw new FlashError(`--settings ${given}: ${problems.length === 1 ? "1 setting" : `${problems.length} settings`} to fix ` +
      `(boards/README.md "Settings" says what each does; ${relative(exampleFile)} is an example):\n` +
      problems.map((p) => `  ${p}`).join("\n"));
  }
}

/** The NodeMCU boards (boards/nodemcu-<chip>/, each with its README): npm run flash does not write them. */
function nodemcuBoards(): string[] {
  return readdirSync(BOARDS_DIR).filter((name) => name.startsWith("nodemcu-") &&
    existsSync(path.join(BOARDS_DIR, name, "README.md"))).sort();
}

function boardError(given: string | undefined, boards: string[]): FlashError {
  const what = given === undefined ? "--board is missing" : `unknown board "${given}"`;
  const nodemcu = nodemcuBoards();
  const readmes = (given !== undefined && nodemcu.includes(given) ? [given] : nodemcu).map((name) => `boards/${name}/README.md`);
  return new FlashError(`${what}: the boards are ${boards.join(", ")} (Espruino). The NodeMCU boards (${nodemcu.join(", ")}) ` +
    `are not flashed by npm run flash but with NodeMCU's own tools: see ${readmes.join(", ")}`);
}

/**
 * The board's description for the Espruino tools. Given only a board name they download it from
 * espruino.com on every run, and nothing may be downloaded at run time. They use it here only to tell
 * Espruino's built-in modules from modules to fetch for a require() in the code they send, which is just
 * load() (the files go as Storage data): the built-in modules the firmware requires are enough.
 */
function boardDescription(espruinoBoard: string, board: BoardFacts): string {
  const modules = ["Storage", "Wifi", "net", ...(board.tls ? ["tls"] : [])];
  return `${JSON.stringify({ BOARD: espruinoBoard, info: { builtin_modules: modules } }, null, 2)}\n`;
}

/** What flashing `board` through `port` writes and runs; a FlashError says what was asked wrongly. */
export function planFlash(options: { board?: string; port?: string; settings?: string; dryRun: boolean },
  outDir: string = OUT_DIR): FlashPlan {
  const boards = espruinoBoards();
  if (options.board === undefined || !boards.includes(options.board)) throw boardError(options.board, boards);
  const board = boardFacts(options.board);
  const port = checkPort(options.port, options.dryRun);
  const dir = path.join(outDir, options.board);
  const manifestFile = path.join(dir, "manifest.json");
  if (!existsSync(manifestFile)) {
    throw new FlashError(`no build for ${options.board} (${relative(manifestFile)} is missing): run npm run build first`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
  const description = { file: path.join(dir, "espruino-board.json"), text: boardDescription(manifest.espruinoBoard, board) };
  const command = ["npx", "espruino", "--board", relative(description.file), "--port", port, "-b", String(BAUD)];
  // Looking a port up, the tools also scan for Bluetooth through D-Bus, and crash where there is none:
  // only a Bluetooth address needs that.
  if (!BLUETOOTH_ADDRESS.test(port)) command.push("--no-ble");
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
    checkSettings(file, options.settings, board, path.join(dir, manifest.settings.example));
    command.push("--storage", `${manifest.settings.storage}:${relative(file)}`);
    writes.push(`Storage "${manifest.settings.storage}" <- ${relative(file)} (${statSync(file).size.toLocaleString("en-US")} B)`);
  } else {
    writes.push(`Storage "${manifest.settings.storage}" is left as it is on the board (give --settings FILE to write it; ` +
      `${relative(path.join(dir, manifest.settings.example))} shows what it holds)`);
  }
  command.push("-e", AFTER_UPLOAD);
  writes.push(`then ${AFTER_UPLOAD}: the board restarts into the firmware`);
  return { manifest, command, writes, boardDescription: description };
}

/** The Espruino tools print this once every file is sent; a run without it did not write the board. */
const UPLOAD_DONE = "Upload Complete";

/** A cause the tools' first error line shows, and its fix; the first match wins. */
const TOOL_FAILURES: Array<[RegExp, string]> = [
  [/EACCES|permission denied/i, `no permission to open the port: ${PERMISSION_FIX}`],
  [/EBUSY|busy|cannot lock/i, PORT_BUSY_FIX],
  [/ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENOTFOUND/, "nothing answered at that address: check the board's address and " +
    "that its telnet console is on (Espruino listens on port 23)"],
  [/not found/i, "the tools do not see that port: plug the board in and check the port (npx espruino --list --no-ble " +
    "lists what they see; they leave out /dev/ttyS*)"],
  [/dbus|bluetooth|noble/i, "Bluetooth needs BlueZ's D-Bus service (sudo systemctl start bluetooth); or use the board's USB port"],
];
const UNKNOWN_FAILURE = `check that the board is plugged in and runs Espruino at ${BAUD} baud (press its reset button), ` +
  "then run the command above to see all that the tools print";

/** The first line that reads as an error: the cause comes before its consequences. Stack frames are not causes. */
function firstErrorLine(output: string): string | null {
  return output.split("\n").map((line) => line.trim())
    .find((line) => /error|unable|not found|cannot|failed|denied/i.test(line) && !line.startsWith("at ")) ?? null;
}

/**
 * Null when the Espruino tools wrote the board; otherwise one line: how they ended, their first error line and
 * the fix for it. Their exit code alone does not tell: it is 0 also when they could not connect.
 */
export function explainToolFailure(status: number | null, signal: string | null, stdout: string, stderr: string): string | null {
  if (status === 0 && stdout.includes(UPLOAD_DONE)) return null;
  const ended = status === null ? `killed by ${signal}` : `exit code ${status}${status === 0 ? ` without "${UPLOAD_DONE}"` : ""}`;
  const line = firstErrorLine(`${stderr}\n${stdout}`);
  const fix = line === null ? UNKNOWN_FAILURE : TOOL_FAILURES.find(([cause]) => cause.test(line))?.[1] ?? UNKNOWN_FAILURE;
  return `the Espruino tools did not write the board (${ended}; ${line === null ? "no error message" : `they said: ${line}`}): ${fix}`;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

export function formatPlan(plan: FlashPlan): string {
  const m = plan.manifest.memory;
  return [
    `board ${plan.manifest.board} (Espruino ${plan.manifest.espruinoBoard}); client memory ${m.total} of ${m.budget} variables`,
    ...plan.writes.map((w) => `  ${w}`),
    `the tools read the board's description from ${relative(plan.boardDescription.file)} (written by flash), not from espruino.com`,
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
  // Written for a dry run too, so that its command can be run as printed.
  writeFileSync(plan.boardDescription.file, plan.boardDescription.text);
  console.log(formatPlan(plan));
  if (options.dryRun) {
    console.log("dry run: nothing was written to the board");
    return 0;
  }
  // Their output is read as well as shown: their exit code alone does not say whether the board was written.
  const result = spawnSync(plan.command[0], plan.command.slice(1),
    { cwd: ROOT, stdio: ["inherit", "pipe", "pipe"], encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) {
    console.error(`flash: could not run ${plan.command[0]}: ${result.error.message}`);
    return 1;
  }
  process.stdout.write(result.stdout);
  const failure = explainToolFailure(result.status, result.signal, result.stdout, result.stderr);
  if (failure === null) {
    process.stderr.write(result.stderr);
    return 0;
  }
  console.error(`flash: ${failure}`);
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main(process.argv.slice(2)));
}
