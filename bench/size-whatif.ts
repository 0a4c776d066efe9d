// What-if sizes of the Espruino modules (bench/README.md, "size"): what changes to the module's API would
// still save, measured. The build already mangles every property name that code outside the module cannot
// see (scripts/property-names.ts); what stays whole is what the API hands out. Each variant treats one of
// those types as if the API no longer handed it out, so that its members' names get mangled too:
//
//   Packet   the received packet of the message event (a maker reads packet.qos, packet.topicOffset, ...);
//            an API that handed out the topic and payload some other way
//   Engine   EspruinoClient.engine (a maker reads engine.state, engine.pendingMessages, ...); a client
//            that offers those few itself
//
// Each variant must pass the syntax gate and write a CONNECT when loaded as Espruino loads a module (the
// smoke test below uses only what none of the variants hides). The project's files are not touched.
// Run: npx tsx bench/size-whatif.ts

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { checkEspruinoSyntax } from "../host-tests/espruino/syntax";
import { buildFlavour, FLAVOURS, ROOT } from "../scripts/build";
import { espruinoPropertyNames } from "../scripts/property-names";

const VARIANTS: Array<{ label: string; opaque: string[] }> = [
  { label: "today", opaque: [] },
  { label: "Packet not handed out", opaque: ["Packet"] },
  { label: "Engine not handed out", opaque: ["Engine"] },
  { label: "neither", opaque: ["Packet", "Engine"] },
];

/** Loads the module as Espruino would and connects a client over a fake socket: a CONNECT must be written. */
function smoke(code: string, label: string): void {
  const written: string[] = [];
  let onConnect: () => void = () => undefined;
  const exports: Record<string, any> = {};
  const sandbox = {
    exports, Uint8Array, String, Math, getTime: () => 1000, setTimeout: () => 1, clearTimeout: () => undefined,
    E: { toString: (u8: Uint8Array) => String.fromCharCode(...u8) },
    require: () => ({
      connect: (_options: unknown, callback: () => void) => {
        onConnect = callback;
        return { on: () => undefined, write: (s: string) => written.push(s), end: () => undefined };
      },
    }),
  };
  vm.runInNewContext(`(function(exports){${code}\n})(exports)`, sandbox);
  const options = new exports.EngineOptions();
  options.clientId = "whatif";
  const client = new exports.EspruinoClient({ host: "h", port: 1, tls: false }, options,
    { connected() {}, disconnected() {}, message() {}, acknowledged() {} });
  client.connect();
  onConnect();
  if (written.length !== 1 || written[0].charCodeAt(0) !== 0x10 || written[0].indexOf("whatif") < 0) {
    throw new Error(`${label}: no CONNECT written`);
  }
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), "starling-size-"));
  try {
    console.log(`${"variant".padEnd(24)} ${"module".padEnd(26)} ${"minified".padStart(9)} ${"gzip".padStart(12)}  saved`);
    for (const flavour of FLAVOURS) {
      const files = (await buildFlavour(flavour, scratch)).inputs.map((input) => path.join(ROOT, input.file));
      let today = 0;
      for (const variant of VARIANTS) {
        const { mangled } = espruinoPropertyNames(files, variant.opaque);
        const bundle = await buildFlavour(flavour, scratch, { mangleProps: new RegExp(`^(?:${mangled.join("|")})$`) });
        const label = `${variant.label} ${flavour.file}`;
        const findings = checkEspruinoSyntax(bundle.code, flavour.file);
        if (findings.length > 0) {
          throw new Error(`${label}: ${findings.length} syntax finding(s), first: ${findings[0].rule}`);
        }
        smoke(bundle.code, label);
        today = variant.opaque.length === 0 ? bundle.minified : today;
        console.log(`${variant.label.padEnd(24)} ${flavour.file.padEnd(26)} ${String(bundle.minified).padStart(7)} B ` +
          `${String(bundle.gzip).padStart(7)} B gzip  ${today - bundle.minified} B`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
