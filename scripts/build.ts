// The Espruino build (npm run build, after the type check): bundles the device code with esbuild into two
// modules for Espruino's Storage, in dist/espruino/:
//
//   starling-mqtt311.min.js   MQTT 3.1.1
//   starling-mqtt5.min.js     MQTT 3.1.1 and 5.0
//
// Each exports EspruinoClient, EngineOptions, Will, topicText and payloadText
// (device/platform/espruino/index.ts). A maker writes one to Storage under a short name and require()s it.
//
// How the output is made Espruino-runnable:
// - The esbuild settings of DESIGN.md ("The portable subset"): target es2020 with optional chaining,
//   the exponent operator, object rest/spread and logical assignment marked unsupported; and optional catch
//   binding too (see ESPRUINO_TARGET).
// - device/platform/bytes.ts (the Node byte layer) is replaced by device/platform/espruino/bytes.ts.
// - The module format. Espruino runs a Storage module's text with `exports` and `module` in scope and
//   returns `exports` (jspEvaluateModule); its own modules are written as `exports.name = ...`. The entry
//   (device/platform/espruino/index.ts) assigns to `exports` itself and exports nothing, so esbuild's "cjs"
//   format emits the bundle flat, with no module wrappers and none of the helpers that an ES module entry
//   would bring (getters copied in a `for (let key ...)` loop whose closures Espruino, without per-iteration
//   bindings, would break). "net" and "tls" are Espruino's built-in modules: external, so each
//   `require("net")` stays as written (the "esm" format would route it through a shim).
// - Property names are mangled, except the names a maker's code or the host can see, derived from the types
//   of the bundled code by scripts/property-names.ts (host-tests/espruino/bundle.test.ts drives a session
//   through the module's API to show none is lost).
// - The 3.1.1 flavour: device/codec/constants.ts is read with MQTT5 false, so EspruinoClient refuses a 5.0
//   connection and every branch the codec and the engine guard with `MQTT5 && version === MQTT_5` falls away;
//   device/codec/properties.ts (the 5.0 property table, reader and writer) is replaced by
//   device/platform/espruino/properties-mqtt311.ts.
// - A last pass (esbuild's transform, tree shaking on) minifies the bundle again. esbuild puts a constant
//   imported from another module in place only as it prints the bundle, after its own folding and tree
//   shaking: the last pass folds what those constants decide and drops what nothing reaches any more.
//   It is repeated while it still shrinks the bundle (a function it leaves uncalled goes in the next one).

import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { espruinoPropertyNames } from "./property-names";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT_DIR = path.join(ROOT, "dist", "espruino");

const ENTRY = path.join(ROOT, "device/platform/espruino/index.ts");
const NODE_BYTES = path.join(ROOT, "device/platform/bytes.ts");
const ESPRUINO_BYTES = path.join(ROOT, "device/platform/espruino/bytes.ts");
const PROPERTIES = path.join(ROOT, "device/codec/properties.ts");
const PROPERTIES_MQTT311 = path.join(ROOT, "device/platform/espruino/properties-mqtt311.ts");
const CONSTANTS = path.join(ROOT, "device/codec/constants.ts");
const MQTT5_ON = "export const MQTT5: boolean = true;";
const MQTT5_USE = /\bmqtt\.MQTT5\b/;
const DEVICE = path.join(ROOT, "device") + path.sep;

/**
 * The esbuild settings that produce Espruino-runnable output: those of DESIGN.md ("The portable subset"), and
 * optional catch binding off. Espruino's parser wants `catch (e)` (jspeStatementTry matches '(' after
 * `catch`), and esbuild's minifier drops an unused catch variable when the target allows `catch {}`.
 */
export const ESPRUINO_TARGET = {
  target: "es2020",
  supported: {
    "optional-chain": false,
    "exponent-operator": false,
    "object-rest-spread": false,
    "logical-assignment": false,
    "optional-catch-binding": false,
  },
} as const;

export interface Flavour {
  name: string;
  file: string;
  /** Speaks MQTT 5.0 as well as 3.1.1. */
  mqtt5: boolean;
}

export const FLAVOURS: Flavour[] = [
  { name: "MQTT 3.1.1", file: "starling-mqtt311.min.js", mqtt5: false },
  { name: "MQTT 3.1.1 + 5.0", file: "starling-mqtt5.min.js", mqtt5: true },
];

export interface InputSize {
  /** Relative to the project root. */
  file: string;
  bytes: number;
}

export interface Bundle {
  flavour: Flavour;
  /** Where it was written (or would be, when not written). */
  path: string;
  code: string;
  /** Minified size in bytes, and gzip -9 of it. */
  minified: number;
  gzip: number;
  /**
   * What each source file contributes to the minified output (esbuild's metafile), largest first. Taken
   * before the last pass, so they add up to a little more than `minified`.
   */
  inputs: InputSize[];
}

/**
 * Puts the Espruino files in the place of the Node byte layer and (3.1.1) of the 5.0 properties, and
 * (3.1.1) switches MQTT5 off in device/codec/constants.ts.
 */
function espruinoPlatform(mqtt5: boolean): esbuild.Plugin {
  return {
    name: "espruino-platform",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const resolved = path.resolve(args.resolveDir, args.path);
        const file = resolved.endsWith(".ts") ? resolved : `${resolved}.ts`;
        if (file === NODE_BYTES) {
          return { path: ESPRUINO_BYTES };
        }
        if (!mqtt5 && file === PROPERTIES) {
          return { path: PROPERTIES_MQTT311 };
        }
        return undefined;
      });
      // 3.1.1: MQTT5 off. In constants.ts the switch itself. In a file that reads it as `mqtt.MQTT5` (the
      // guards of the codec and the engine), each use too, as esbuild's `define` does for a global name (it
      // cannot name an imported one): the guards then fold as the file is parsed, a `const v5 = MQTT5 && ...`
      // with them, and tree shaking leaves out what only 5.0 reaches. Anywhere else esbuild puts the constant
      // in as it prints the bundle, where a local holding it no longer folds.
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const file = path.resolve(args.path);
        if (mqtt5 || !file.startsWith(DEVICE)) {
          return undefined;
        }
        const source = readFileSync(file, "utf8");
        const where = path.relative(ROOT, file);
        if (file === CONSTANTS) {
          if (!source.includes(MQTT5_ON)) {
            throw new Error(`espruino build: ${where} no longer holds '${MQTT5_ON}'`);
          }
          return { contents: source.replace(MQTT5_ON, MQTT5_ON.replace("true", "false")), loader: "ts" };
        }
        if (!MQTT5_USE.test(source)) {
          return undefined;
        }
        if (!/^import \* as mqtt from "(\.|\.\.\/codec)\/constants";$/m.test(source)) {
          throw new Error(`espruino build: ${where} reads mqtt.MQTT5, but its mqtt is not the codec's constants`);
        }
        return { contents: source.replace(new RegExp(MQTT5_USE.source, "g"), "false"), loader: "ts" };
      });
    },
  };
}

type ExtraOptions = Omit<esbuild.BuildOptions, "write" | "metafile">;

/**
 * Builds one flavour (in memory); `extra` esbuild options are for experiments (bench/README.md, "size").
 * Property names are mangled (mangleProps) except those code outside the module can see: a first build
 * finds the bundled files, and scripts/property-names.ts derives the names from their types.
 */
export async function buildFlavour(flavour: Flavour, outDir: string = OUT_DIR, extra: ExtraOptions = {}): Promise<Bundle> {
  const unmangled = await bundleFlavour(flavour, outDir, { ...extra, mangleProps: undefined });
  const { mangled } = espruinoPropertyNames(unmangled.inputs.map((input) => path.join(ROOT, input.file)));
  return bundleFlavour(flavour, outDir, { mangleProps: new RegExp(`^(?:${mangled.join("|")})$`), ...extra });
}

async function bundleFlavour(flavour: Flavour, outDir: string, extra: ExtraOptions): Promise<Bundle> {
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    metafile: true,
    format: "cjs",
    platform: "neutral",
    external: ["net", "tls"],
    minify: true,
    legalComments: "none",
    charset: "ascii",
    // Class fields become assignments in the constructor (not Object.defineProperty calls).
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    plugins: [espruinoPlatform(flavour.mqtt5)],
    logLevel: "silent",
    // The entry is an ES module (package.json "type": "module") that uses `exports` as the global it is on
    // Espruino: esbuild leaves it as written, which is the point, and warns; that one warning is expected.
    logOverride: { "commonjs-variable-in-esm": "silent" },
    outfile: path.join(outDir, flavour.file),
    ...ESPRUINO_TARGET,
    ...extra,
  });
  if (result.warnings.length > 0) {
    const text = await esbuild.formatMessages(result.warnings, { kind: "warning" });
    throw new Error(`espruino build: esbuild warnings for ${flavour.file}:\n${text.join("\n")}`);
  }
  if (result.outputFiles === undefined || result.metafile === undefined) {
    throw new Error("espruino build: esbuild returned no output (write and metafile are set here)");
  }
  // Repeated while it still shrinks the bundle: what one pass folds can leave a function nothing calls, which
  // only the next pass drops.
  let code = await lastPass(result.outputFiles[0].text, extra);
  for (let again = await lastPass(code, extra); again.length < code.length; again = await lastPass(code, extra)) {
    code = again;
  }
  const inputs: InputSize[] = [];
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [file, info] of Object.entries(output.inputs)) {
      inputs.push({ file: path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join("/"), bytes: info.bytesInOutput });
    }
  }
  inputs.sort((a, b) => b.bytes - a.bytes);
  const bytes = Buffer.from(code, "utf8");
  return {
    flavour,
    path: path.join(outDir, flavour.file),
    code,
    minified: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    inputs,
  };
}

/** Minifies the bundle again, tree shaking on (see the top of this file), as far as `extra` minifies. */
async function lastPass(code: string, extra: ExtraOptions): Promise<string> {
  const minify = extra.minify ?? true;
  const result = await esbuild.transform(code, {
    format: "cjs",
    treeShaking: true,
    minifySyntax: extra.minifySyntax ?? minify,
    minifyWhitespace: extra.minifyWhitespace ?? minify,
    minifyIdentifiers: extra.minifyIdentifiers ?? minify,
    legalComments: "none",
    charset: "ascii",
    logLevel: "silent",
    ...ESPRUINO_TARGET,
  });
  if (result.warnings.length > 0) {
    const text = await esbuild.formatMessages(result.warnings, { kind: "warning" });
    throw new Error(`espruino build: esbuild warnings in the last pass:\n${text.join("\n")}`);
  }
  return result.code;
}

/** Builds every flavour and writes them to `outDir`. */
export async function buildEspruino(outDir: string = OUT_DIR): Promise<Bundle[]> {
  mkdirSync(outDir, { recursive: true });
  const bundles: Bundle[] = [];
  for (const flavour of FLAVOURS) {
    const bundle = await buildFlavour(flavour, outDir);
    writeFileSync(bundle.path, bundle.code);
    bundles.push(bundle);
  }
  return bundles;
}

function formatBytes(n: number): string {
  return n.toLocaleString("en-US");
}

async function main(): Promise<void> {
  const bundles = await buildEspruino();
  for (const bundle of bundles) {
    console.log(
      `${path.relative(ROOT, bundle.path)}  ${bundle.flavour.name}: ${formatBytes(bundle.minified)} B minified, ` +
        `${formatBytes(bundle.gzip)} B gzip`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
