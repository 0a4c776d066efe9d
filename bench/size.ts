// Size of the Espruino modules beside Espruino's own MQTT module (issue 4).
//
//   npm run bench:size                      builds dist/espruino/ and prints the table
//   npm run bench:size -- --json out.json   also write the figures as JSON
//
// Minified bytes are what a board holds; gzip -9 is printed for reference. The peer figure, 6,169 B minified
// for Espruino's modules/MQTT.min.js (QoS 0 only, no will), is the one issue 4 gives: this machine cannot
// fetch espruino.com/modules, so it is quoted, not measured in this run. Not a test: nothing here asserts.

import { Command } from "commander";
import { writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { buildEspruino, buildFlavour, Bundle, Flavour, ROOT } from "../scripts/build";
import { parseBenchOptions } from "./options";
import { luaSizeRows } from "./size-lua";

const PEER = {
  name: "Espruino's MQTT module (modules/MQTT.min.js)",
  minified: 6169,
  scope: "QoS 0 only, no will, no keep-alive timeout",
  source: "the figure the project was given for it; espruino.com cannot be reached from here to measure it",
};

/** Issue 4's targets: minified bytes at most. */
const TARGETS: Record<string, number> = {
  "starling-mqtt311.min.js": 6000,
  "starling-mqtt5.min.js": 9000,
};

const TOP_INPUTS = 8;
const TOP_FUNCTIONS = 12;

/**
 * The largest functions and methods of a flavour, measured in a build that keeps identifiers so that they
 * can be named (it is larger than the real module: the sizes rank, they do not add up to it).
 */
async function largestFunctions(flavour: Flavour): Promise<Array<{ name: string; bytes: number }>> {
  const named = await buildFlavour(flavour, undefined,
    { minify: false, minifyWhitespace: true, minifySyntax: true, mangleProps: undefined });
  const sf = ts.createSourceFile("module.js", named.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const rows: Array<{ name: string; bytes: number }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) && node.name !== undefined) {
      rows.push({ name: `${node.name.text}()`, bytes: node.getWidth(sf) });
    } else if (ts.isVariableDeclaration(node) && node.initializer !== undefined && ts.isClassExpression(node.initializer)) {
      for (const member of node.initializer.members) {
        const name = member.name !== undefined ? member.name.getText(sf) : "constructor";
        rows.push({ name: `${node.name.getText(sf)}.${name}`, bytes: member.getWidth(sf) });
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return rows.sort((a, b) => b.bytes - a.bytes);
}

function parseJsonOption(argv: string[]): string | null {
  const program = new Command("bench:size")
    .description("the Espruino modules' minified sizes against their targets and the peer")
    .option("--json <file>", "also write the results as JSON");
  return parseBenchOptions<{ json?: string }>(program, argv).json ?? null;
}

const n = (value: number): string => value.toLocaleString("en-US");

function verdict(bundle: Bundle): { met: boolean; text: string } {
  const target = TARGETS[bundle.flavour.file];
  if (bundle.minified <= target) {
    return { met: true, text: `met (${n(target - bundle.minified)} B to spare)` };
  }
  const over = bundle.minified - target;
  return { met: false, text: `NOT MET: ${n(over)} B over, ${(bundle.minified / target).toFixed(2)}x the target` };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

async function main(): Promise<void> {
  const json = parseJsonOption(process.argv.slice(2));
  const bundles = await buildEspruino();

  console.log(`Espruino modules, built ${new Date().toISOString()} (esbuild, Espruino-runnable settings of scripts/build.ts, minified)`);
  console.log(`peer: ${PEER.name}: ${n(PEER.minified)} B minified, ${PEER.scope} (${PEER.source})\n`);
  const header = [
    pad("flavour", 18), pad("file", 26), pad("minified", 10, true), pad("gzip", 8, true),
    pad("x peer", 8, true), pad("target", 9, true), "  verdict",
  ].join("  ");
  console.log(header);
  console.log("-".repeat(header.length + 36));
  for (const bundle of bundles) {
    console.log([
      pad(bundle.flavour.name, 18),
      pad(bundle.flavour.file, 26),
      pad(`${n(bundle.minified)} B`, 10, true),
      pad(`${n(bundle.gzip)} B`, 8, true),
      pad(`${(bundle.minified / PEER.minified).toFixed(2)}x`, 8, true),
      pad(`<= ${n(TARGETS[bundle.flavour.file])}`, 9, true),
      `  ${verdict(bundle).text}`,
    ].join("  "));
  }
  console.log(`\n"x peer" is our minified size divided by the peer's: above 1, ours is larger.`);

  for (const bundle of bundles) {
    console.log(`\nlargest inputs of ${bundle.flavour.file} (bytes in the minified output, esbuild metafile):`);
    for (const input of bundle.inputs.slice(0, TOP_INPUTS)) {
      const share = ((100 * input.bytes) / bundle.minified).toFixed(1);
      console.log(`  ${pad(n(input.bytes), 7, true)} B  ${pad(share, 4, true)}%  ${input.file}`);
    }
  }

  for (const bundle of bundles) {
    const functions = await largestFunctions(bundle.flavour);
    console.log(`\nlargest functions of ${bundle.flavour.file} (bytes in a build that keeps identifiers):`);
    for (const f of functions.slice(0, TOP_FUNCTIONS)) {
      console.log(`  ${pad(n(f.bytes), 7, true)} B  ${f.name}`);
    }
  }

  console.log(`\n${luaSizeRows()}`);

  if (json !== null) {
    const report = {
      date: new Date().toISOString(),
      peer: PEER,
      bundles: bundles.map((b) => ({
        file: b.flavour.file,
        flavour: b.flavour.name,
        path: path.relative(ROOT, b.path),
        minified: b.minified,
        gzip: b.gzip,
        target: TARGETS[b.flavour.file],
        targetMet: verdict(b).met,
        ratioToPeer: b.minified / PEER.minified,
        inputs: b.inputs,
      })),
    };
    writeFileSync(json, JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote ${json}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
