// The board build (npm run build, after scripts/build.ts): for each Espruino board of boards/ (a folder with
// a profile.json), dist/espruino/<board>/ gets what goes into the board's Storage, and a manifest that says
// where each file goes (scripts/flash.ts writes them):
//
//   starling.min.js        the module of the profile's flavour      -> Storage "starling" (require("starling"))
//   firmware.js            the reference firmware with the profile  -> Storage ".boot0" (runs at every boot)
//   starling.example.json  the settings to fill in                  -> Storage "starling.json" (flash --settings)
//   manifest.json          the above, and the memory the profile costs
//
// It prints the memory each profile costs, computed from the profile (boards/espruino/profile.ts).

import * as esbuild from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { buildFlavour, ESPRUINO_TARGET, FLAVOURS, OUT_DIR, ROOT } from "./build";
import { BoardProfile, describeMemory, espruinoBoards, loadProfile, memoryUse, MemoryUse } from "../boards/espruino/profile";
import { SETTINGS_FILE } from "../boards/espruino/settings";

const FIRMWARE = path.join(ROOT, "boards/espruino/firmware.ts");

/** The Storage names the firmware uses: require("starling") and its settings file. */
export const MODULE_STORAGE_NAME = "starling";
export const SETTINGS_STORAGE_NAME = SETTINGS_FILE;
/** Espruino runs the Storage file .boot0 at every boot. */
export const BOOT_STORAGE_NAME = ".boot0";

export interface StorageFile {
  /** The name in the board's Storage. */
  storage: string;
  /** The file, relative to the board's folder in dist/espruino/. */
  file: string;
}

export interface Manifest {
  board: string;
  /** Espruino's board name (the espruino CLI's --board). */
  espruinoBoard: string;
  files: StorageFile[];
  settings: { storage: string; example: string };
  memory: MemoryUse;
}

/** Settings a maker fills in (boards/README.md): they stay in the board's Storage. */
function exampleSettings(profile: BoardProfile): object {
  return {
    wifi: { ssid: "your-network", password: "your-password" },
    broker: { host: "192.168.1.10", port: 1883, tls: false },
    device: `${profile.name}-1`,
    topicPrefix: "starling",
    telemetrySeconds: 30,
  };
}

/** The firmware with the board's profile in it: readable (not minified), for a maker to start from. */
export async function buildFirmware(profile: BoardProfile): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [FIRMWARE],
    bundle: true,
    write: false,
    // "cjs" keeps each require() as written (other formats route it through a shim Espruino cannot run).
    format: "cjs",
    platform: "neutral",
    // Espruino's built-in modules, and the module the build writes to Storage beside the firmware.
    external: ["Storage", "Wifi", MODULE_STORAGE_NAME],
    legalComments: "none",
    charset: "ascii",
    define: { PROFILE: JSON.stringify({ name: profile.name, client: profile.client, memory: { total: memoryUse(profile).total } }) },
    logLevel: "silent",
    ...ESPRUINO_TARGET,
  });
  return `// starling reference firmware for ${profile.board} (${profile.name}), built from boards/espruino/firmware.ts\n` +
    result.outputFiles[0].text;
}

/** Builds one board into `outDir`/<board>/ and returns its manifest. */
export async function buildBoard(name: string, outDir: string = OUT_DIR): Promise<Manifest> {
  const profile = loadProfile(name);
  const flavour = FLAVOURS.find((f) => f.file === profile.module);
  if (flavour === undefined) {
    throw new Error(`boards/${name}/profile.json: module ${profile.module} is none of ${FLAVOURS.map((f) => f.file).join(", ")}`);
  }
  const dir = path.join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const bundle = await buildFlavour(flavour, dir);
  writeFileSync(path.join(dir, flavour.file), bundle.code);
  writeFileSync(path.join(dir, "firmware.js"), await buildFirmware(profile));
  writeFileSync(path.join(dir, "starling.example.json"), `${JSON.stringify(exampleSettings(profile), null, 2)}\n`);
  const manifest: Manifest = {
    board: name,
    espruinoBoard: profile.board,
    files: [
      { storage: MODULE_STORAGE_NAME, file: flavour.file },
      { storage: BOOT_STORAGE_NAME, file: "firmware.js" },
    ],
    settings: { storage: SETTINGS_STORAGE_NAME, example: "starling.example.json" },
    memory: memoryUse(profile),
  };
  writeFileSync(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function main(): Promise<void> {
  for (const name of espruinoBoards()) {
    const manifest = await buildBoard(name);
    console.log(`dist/espruino/${name}/  ${manifest.files.map((f) => `${f.file} -> ${f.storage}`).join(", ")}`);
    console.log(`  memory: ${describeMemory(loadProfile(name))}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
