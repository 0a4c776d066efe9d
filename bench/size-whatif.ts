// What-if sizes of the Espruino modules (bench/README.md, "size"): builds a scratch copy of the project with
//   define   the 5.0 branches of codec and engine guarded by a build-time MQTT5 constant (esbuild define)
//   mangle   property names mangled by esbuild, the modules' public API and the host APIs kept
// and prints minified/gzip bytes of each flavour for baseline, define, mangle and both. Each variant must pass
// the syntax gate and write a CONNECT when loaded as Espruino loads a module. The project's own files are not
// touched; the define edits are text replacements in the scratch copy, and the script stops, naming the
// text, when a source no longer holds it. Run: npx tsx bench/size-whatif.ts

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { checkEspruinoSyntax } from "../host-tests/espruino/syntax";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * The MQTT5 guard, site by site: [file, text, replacement]; each text must occur at least once, and each
 * edited file gets GUARD_DECLARATION at its top. The guard is written out at every site:
 * `typeof MQTT5 === "undefined" || MQTT5` is true where nothing defines MQTT5 (Node, vitest,
 * typescript-to-lua: typeof of an undeclared name is "undefined"), and esbuild folds it, and every branch
 * behind it, when the build defines MQTT5. A constant holding it does not fold: esbuild turns a module's
 * top-level const into a var when bundling, and inlines a constant imported from another module without
 * folding what it makes.
 */
const GUARD_DECLARATION = "declare const MQTT5: boolean | undefined;\n";
const GUARD = '(typeof MQTT5 === "undefined" || MQTT5)';
const DEFINE_EDITS: Array<[string, string, string]> = [
  ["device/codec/encode.ts", "const v5 = version === mqtt.MQTT_5;", `const v5 = ${GUARD} && version === mqtt.MQTT_5;`],
  ["device/codec/encode.ts", "return version === mqtt.MQTT_3_1_1 || version === mqtt.MQTT_5;",
    `return version === mqtt.MQTT_3_1_1 || (${GUARD} && version === mqtt.MQTT_5);`],
  ["device/codec/decode.ts", "const v5 = version === mqtt.MQTT_5;", `const v5 = ${GUARD} && version === mqtt.MQTT_5;`],
  ["device/codec/decode.ts", "version !== mqtt.MQTT_5", `!(${GUARD} && version === mqtt.MQTT_5)`],
  ["device/codec/decode.ts", "if (version === mqtt.MQTT_5) {", `if (${GUARD} && version === mqtt.MQTT_5) {`],
  ["device/codec/reasons.ts", "version === mqtt.MQTT_5 ?", `${GUARD} && version === mqtt.MQTT_5 ?`],
  ["device/engine/engine.ts", "this.version === mqtt.MQTT_5", `(${GUARD} && this.version === mqtt.MQTT_5)`],
];

/** What a maker's code touches (options, will, events, received packet, counters, client) and host APIs. */
const RESERVED = [
  // EngineOptions
  "protocolVersion clientId cleanStart keepAlive username password will sessionExpiry connectUserProperties",
  "receiveBufferSize transmitBufferSize messageSlotSize inflightWindow queueSlots queuePolicy incomingQos2Slots",
  "subscriptionSlots connectTimeoutMs backoffInitialMs backoffMaxMs backoffResetAfterMs seed resendOnReconnect",
  // Will, UserProperty, Properties (5.0)
  "topic payload qos retain properties key value payloadFormat messageExpiry contentType responseTopic",
  "correlationData subscriptionIdentifier authMethod authData requestProblemInfo willDelay requestResponseInfo",
  "receiveMaximum topicAliasMaximum topicAlias maximumPacketSize reasonString userProperties",
  // EngineEvents, Packet, Counters
  "connected disconnected message acknowledged buffer type packetId dup topicOffset topicLength payloadOffset",
  "payloadLength sessionPresent reasonCode reasonCodesOffset reasonCodesCount propertiesOffset propertiesLength",
  "propertiesPresentLow propertiesPresentHigh propertyValues propertyLengths userPropertyCount",
  "subscriptionIdentifierCount connects reconnects retransmits drops messagesSent messagesReceived",
  "duplicatesSuppressed qosDowngrades pingRoundTripMs queueHighWater",
  // EspruinoClient, Engine as the client exposes it, Endpoint
  "connect disconnect publish subscribe unsubscribe counters engine lastSocketError state lastReasonCode",
  "pendingMessages host port tls ca key cert",
  // The module's exports, and the host APIs the bundle calls
  "EspruinoClient EngineOptions Will topicText payloadText",
  "charCodeAt subarray set length push floor indexOf toString fromCharCode on write end code",
].join(" ").split(" ");

function exportedNames(dir: string, out: Set<string>): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      exportedNames(full, out);
    } else if (entry.name.endsWith(".ts")) {
      for (const m of readFileSync(full, "utf8").matchAll(/export (?:const|function|class|let) ([A-Za-z_0-9]+)/g)) {
        out.add(m[1]);
      }
    }
  }
  return out;
}

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
    for (const name of ["device", "scripts", "package.json", "tsconfig.json"]) {
      cpSync(path.join(ROOT, name), path.join(scratch, name), { recursive: true });
    }
    symlinkSync(path.join(ROOT, "node_modules"), path.join(scratch, "node_modules"));
    const build = await import(pathToFileURL(path.join(scratch, "scripts/build.ts")).href);
    // Namespace imports (import * as mqtt) are resolved by member name: exported names must keep theirs.
    const reserve = new Set([...RESERVED, ...exportedNames(path.join(scratch, "device"), new Set())]);
    const mangle = { mangleProps: /./, reserveProps: new RegExp(`^(${[...reserve].join("|")})$`) };

    const rows: string[] = [];
    const run = async (label: string, extra: object): Promise<void> => {
      for (const flavour of build.FLAVOURS) {
        const bundle = await build.buildFlavour(flavour, path.join(scratch, "out"), extra);
        const findings = checkEspruinoSyntax(bundle.code, flavour.file);
        if (findings.length > 0) {
          throw new Error(`${label} ${flavour.file}: ${findings.length} syntax finding(s), first: ${findings[0].rule}`);
        }
        smoke(bundle.code, `${label} ${flavour.file}`);
        rows.push(`${label.padEnd(16)} ${flavour.file.padEnd(26)} ${String(bundle.minified).padStart(7)} B ${String(bundle.gzip).padStart(7)} B gzip`);
      }
    };
    await run("baseline", {});
    await run("mangle", mangle);
    let sites = 0;
    for (const [file, text, replacement] of DEFINE_EDITS) {
      const full = path.join(scratch, file);
      const source = readFileSync(full, "utf8");
      const count = source.split(text).length - 1;
      if (count === 0) {
        throw new Error(`${file}: '${text}' not found; update DEFINE_EDITS`);
      }
      sites += count;
      const edited = source.split(text).join(replacement);
      writeFileSync(full, edited.startsWith(GUARD_DECLARATION) ? edited : `${GUARD_DECLARATION}${edited}`);
    }
    // Where nothing defines MQTT5 (here: tsx, as in Node and the tests), 5.0 is still in.
    const codec = await import(pathToFileURL(path.join(scratch, "device/codec/index.ts")).href);
    const fields = new codec.ConnectFields();
    fields.protocolVersion = codec.MQTT_5;
    fields.clientId = "whatif";
    const connect = new Uint8Array(64);
    const length = codec.encodeConnect(connect, 0, fields);
    if (length <= 0 || connect[8] !== codec.MQTT_5) {
      throw new Error(`define: without a definition of MQTT5, a 5.0 CONNECT no longer encodes (${length})`);
    }
    await run(`define (${sites} sites)`, {});
    await run("define + mangle", mangle);
    console.log(rows.join("\n"));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
