// PUBLISH encode and decode, starling's codec against mqtt-packet, measured side by side in one run.
//
//   npm run bench:codec                      the full table (about a minute on a 2-core machine)
//   npm run bench:codec -- --json out.json   also write the results as JSON
//   npm run bench:codec -- --rounds 3 --round-ms 60   a quicker, noisier run
//
// Rows: encode and decode x MQTT 3.1.1 and 5.0 x QoS 0 and 1 x payloads of 16 B, 256 B and 4 KB.
// Each side does the whole job of its API:
//   encode  ours:   encodePublish into a preallocated Uint8Array (the bytes ready to send), fields reused
//           theirs: mqtt.generate(packet, { protocolVersion }) -> a new Buffer, packet object reused
//   decode  ours:   Framer.feed of a Buffer holding one whole packet, decodePacket of the framed bytes,
//                   then reading the topic length and the payload offset/length from the reused Packet
//           theirs: parser.parse(buffer) of the same bytes, with a 'packet' listener reading topic and payload
// Per row and side: calibrate, warm up, then R rounds that alternate ours/theirs; the median ops/s of the
// rounds is reported. Not a test: nothing here asserts a time.

import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Command } from "commander";
import mqtt from "mqtt-packet";
import type { IPublishPacket, Packet as MqttPacket, QoS } from "mqtt-packet";
import {
  encodePublish, decodePacket, Framer, Packet, PublishFields, PUBLISH, MQTT_3_1_1, MQTT_5,
} from "../device/codec";
import { formatRatio, judge, parseBenchOptions, ratio, wholeNumber } from "./options";

const TARGET_RATIO = 5;
/** Why a row can have no ratio: a side's rounds took no measurable time. */
const NOT_TIMED = "a side's rounds took no measurable time: give a larger --round-ms";
const TOPIC = "fleet/device-0042/telemetry";
const PAYLOAD_SIZES = [16, 256, 4096];
const VERSIONS = [MQTT_3_1_1, MQTT_5];
const QOS_LEVELS = [0, 1];

interface Options {
  rounds: number;
  roundMs: number;
  warmupMs: number;
  json: string | null;
}

function parseOptions(argv: string[]): Options {
  const program = new Command("bench:codec")
    .description("PUBLISH encode and decode, starling's codec against mqtt-packet")
    .option("--rounds <n>", "timed rounds per side and row (the median is kept)", wholeNumber("--rounds", 1, 1000), 7)
    .option("--round-ms <ms>", "milliseconds per round", wholeNumber("--round-ms", 5, 60_000), 110)
    .option("--warmup-ms <ms>", "milliseconds of warm-up per side and row", wholeNumber("--warmup-ms", 0, 60_000), 150)
    .option("--json <file>", "also write the results as JSON");
  const options = parseBenchOptions<Omit<Options, "json"> & { json?: string }>(program, argv);
  return { ...options, json: options.json ?? null };
}

/** A benchmark body: runs `n` operations and returns something derived from them (kept, so no dead code). */
type Body = (n: number) => number;

let sink = 0;

function timeRun(body: Body, n: number): number {
  const start = process.hrtime.bigint();
  sink = (sink + body(n)) | 0;
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Operations per second from a short doubling run, so that rounds can be sized by time. */
function calibrate(body: Body): number {
  let n = 16;
  for (;;) {
    const seconds = timeRun(body, n);
    if (seconds >= 0.02 || n >= 1 << 26) {
      return n / seconds;
    }
    n *= 2;
  }
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Warms both sides, then alternates them round by round; returns the median ops/s of each. */
function compare(ours: Body, theirs: Body, options: Options): { ours: number; theirs: number } {
  let oursRate = calibrate(ours);
  let theirsRate = calibrate(theirs);
  timeRun(ours, Math.max(1, Math.round((oursRate * options.warmupMs) / 1000)));
  timeRun(theirs, Math.max(1, Math.round((theirsRate * options.warmupMs) / 1000)));
  // Re-estimate after warm-up: optimized code is often much faster than the calibration saw.
  oursRate = calibrate(ours);
  theirsRate = calibrate(theirs);
  const oursOps: number[] = [];
  const theirsOps: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const nOurs = Math.max(1, Math.round((oursRate * options.roundMs) / 1000));
    const nTheirs = Math.max(1, Math.round((theirsRate * options.roundMs) / 1000));
    oursOps.push(nOurs / timeRun(ours, nOurs));
    theirsOps.push(nTheirs / timeRun(theirs, nTheirs));
  }
  return { ours: median(oursOps), theirs: median(theirsOps) };
}

function payloadOf(size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    payload[i] = 0x20 + (i % 90);
  }
  return payload;
}

function theirPacket(qos: number, payload: Buffer): IPublishPacket {
  return {
    cmd: "publish",
    topic: TOPIC,
    payload,
    qos: qos as QoS,
    dup: false,
    retain: false,
    messageId: qos > 0 ? 42 : undefined,
  };
}

function ourFields(qos: number, payload: Uint8Array): PublishFields {
  const fields = new PublishFields();
  fields.topic = TOPIC;
  fields.payload = payload;
  fields.payloadOffset = 0;
  fields.payloadLength = payload.length;
  fields.qos = qos;
  fields.packetId = qos > 0 ? 42 : 0;
  return fields;
}

// ---- encode ----

function oursEncode(version: number, fields: PublishFields, out: Uint8Array): Body {
  const qos = fields.qos;
  return (n) => {
    let check = 0;
    for (let i = 0; i < n; i++) {
      if (qos > 0) {
        fields.packetId = (i & 0x7fff) + 1;
      }
      check = (check + encodePublish(out, 0, version, fields)) | 0;
    }
    return check;
  };
}

function theirsEncode(version: number, packet: IPublishPacket): Body {
  const opts = { protocolVersion: version };
  return (n) => {
    let check = 0;
    for (let i = 0; i < n; i++) {
      if (packet.qos > 0) {
        packet.messageId = (i & 0x7fff) + 1;
      }
      check = (check + mqtt.generate(packet, opts).length) | 0;
    }
    return check;
  };
}

// ---- decode ----

function oursDecode(version: number, bytes: Buffer): Body {
  const framer = new Framer(8192);
  const packet = new Packet();
  const length = bytes.length;
  return (n) => {
    let check = 0;
    for (let i = 0; i < n; i++) {
      framer.feed(bytes, 0, length);
      if (framer.ready) {
        if (decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, packet) === 0) {
          check = (check + packet.topicLength + packet.payloadOffset + packet.payloadLength) | 0;
        }
        framer.next();
      }
    }
    return check;
  };
}

function theirsDecode(version: number, bytes: Buffer): Body {
  const parser = mqtt.parser({ protocolVersion: version });
  let got = 0;
  parser.on("packet", (packet: MqttPacket) => {
    const publish = packet as IPublishPacket;
    got = (got + publish.topic.length + publish.payload.length) | 0;
  });
  parser.on("error", (error: Error) => {
    throw error;
  });
  return (n) => {
    for (let i = 0; i < n; i++) {
      parser.parse(bytes);
    }
    return got;
  };
}

// ---- correctness before timing: both sides must agree on every row's bytes ----

function checkRow(version: number, qos: number, size: number, ours: Uint8Array, oursLength: number,
  theirs: Buffer): void {
  const where = `v${version === MQTT_5 ? "5" : "3.1.1"} QoS ${qos} ${size} B`;
  if (oursLength < 0) {
    throw new Error(`${where}: encodePublish returned ${oursLength}`);
  }
  if (Buffer.compare(Buffer.from(ours.buffer, ours.byteOffset, oursLength), theirs) !== 0) {
    throw new Error(`${where}: our bytes differ from mqtt-packet's`);
  }
  const packet = new Packet();
  const framer = new Framer(8192);
  framer.feed(theirs, 0, theirs.length);
  const error = framer.ready ? decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, packet) : -99;
  if (error !== 0 || packet.type !== PUBLISH || packet.topicLength !== TOPIC.length || packet.payloadLength !== size ||
    packet.qos !== qos) {
    throw new Error(`${where}: decodePacket of mqtt-packet's bytes failed (${error})`);
  }
}

// ---- run ----

interface Case {
  direction: "encode" | "decode";
  version: number;
  qos: number;
  size: number;
  ours: Body;
  theirs: Body;
}

interface Row {
  direction: "encode" | "decode";
  version: string;
  qos: number;
  payload: number;
  oursOps: number;
  theirsOps: number;
  /** Ours / theirs; null when a side measured nothing (options.ts ratio). */
  ratio: number | null;
}

function sizeLabel(size: number): string {
  return size >= 1024 ? `${size / 1024} KB` : `${size} B`;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line !== undefined) {
      return line.slice(line.indexOf(":") + 1).trim();
    }
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

function formatOps(ops: number): string {
  return Number.isFinite(ops) ? Math.round(ops).toLocaleString("en-US") : "-";
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const machine = { node: process.version, nproc: cpus().length, cpu: cpuModel() };
  console.log(`codec benchmark: starling vs mqtt-packet — node ${machine.node}, ${machine.nproc} CPUs, ${machine.cpu}`);
  const loadBefore = loadavg()[0];
  console.log(`rounds ${options.rounds} x ${options.roundMs} ms per side, warm-up ${options.warmupMs} ms; median ops/s; ` +
    `load average ${loadBefore.toFixed(2)} (other processes on the machine skew both sides)`);
  console.log("");

  const out = new Uint8Array(8192);
  const rows: Row[] = [];
  const header = ["direction", "version", "QoS", "payload", "ours ops/s", "mqtt-packet ops/s", "ratio"];
  const widths = [9, 7, 3, 7, 14, 17, 7];
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));

  // Every row's bodies, built and checked first; then one short pass over all of them, so that the JIT has
  // seen every shape (both versions, both QoS, all sizes) before any row is timed, as in a long-running
  // process, and the first rows are not measured against half-optimized code.
  const cases: Case[] = [];
  for (const direction of ["encode", "decode"] as const) {
    for (const version of VERSIONS) {
      for (const qos of QOS_LEVELS) {
        for (const size of PAYLOAD_SIZES) {
          const payload = payloadOf(size);
          const fields = ourFields(qos, payload);
          const packet = theirPacket(qos, payload);
          const wire = mqtt.generate(packet, { protocolVersion: version });
          checkRow(version, qos, size, out, encodePublish(out, 0, version, fields), wire);
          cases.push(direction === "encode"
            ? { direction, version, qos, size, ours: oursEncode(version, fields, out), theirs: theirsEncode(version, packet) }
            : { direction, version, qos, size, ours: oursDecode(version, Buffer.from(wire)), theirs: theirsDecode(version, Buffer.from(wire)) });
        }
      }
    }
  }
  for (const c of cases) {
    timeRun(c.ours, Math.max(1, Math.round(calibrate(c.ours) * 0.01)));
    timeRun(c.theirs, Math.max(1, Math.round(calibrate(c.theirs) * 0.01)));
  }


  for (const c of cases) {
    const { direction, version, qos, size } = c;
    const result = compare(c.ours, c.theirs, options);
    const row: Row = {
      direction,
      version: version === MQTT_5 ? "5.0" : "3.1.1",
      qos,
      payload: size,
      oursOps: Math.round(result.ours),
      theirsOps: Math.round(result.theirs),
      ratio: ratio(result.ours, result.theirs),
    };
    rows.push(row);
    console.log(line([row.direction, row.version, String(row.qos), sizeLabel(row.payload),
      formatOps(row.oursOps), formatOps(row.theirsOps), formatRatio(row.ratio, 1, NOT_TIMED)]));
  }

  const measured = rows.filter((row): row is Row & { ratio: number } => row.ratio !== null);
  const unmeasured = rows.length - measured.length;
  const below = measured.filter((row) => row.ratio < TARGET_RATIO);
  const pass = judge(rows.map((row) => row.ratio), TARGET_RATIO);
  let minimumText = "no row measured";
  if (measured.length > 0) {
    const minimum = measured.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    minimumText = `minimum ratio ${minimum.ratio.toFixed(1)}x (${minimum.direction} v${minimum.version} QoS ${minimum.qos} ` +
      `${sizeLabel(minimum.payload)})`;
  }
  let verdict = `NOT met by ${below.length} of ${rows.length} rows${unmeasured > 0 ? ` (${unmeasured} not measured)` : ""}`;
  if (pass === null) verdict = `not judged: ${unmeasured} of ${rows.length} rows not measured (${NOT_TIMED})`;
  else if (pass) verdict = `met by all ${rows.length} rows`;
  const seconds = (Date.now() - started) / 1000;
  console.log("");
  console.log(`${minimumText}; target >= ${TARGET_RATIO}x: ${verdict}` +
    ` (${seconds.toFixed(0)} s, load average ${loadavg()[0].toFixed(2)}, check ${sink})`);

  if (options.json !== null) {
    const report = {
      benchmark: "codec",
      date: new Date().toISOString(),
      machine,
      options: { rounds: options.rounds, roundMs: options.roundMs, warmupMs: options.warmupMs },
      loadAverage: { before: loadBefore, after: loadavg()[0] },
      topic: TOPIC,
      targetRatio: TARGET_RATIO,
      minimumRatio: measured.length > 0 ? Math.min(...measured.map((row) => row.ratio)) : null,
      pass,
      rows,
    };
    writeFileSync(options.json, JSON.stringify(report, null, 2) + "\n");
    console.log(`wrote ${options.json}`);
  }
}

main();
