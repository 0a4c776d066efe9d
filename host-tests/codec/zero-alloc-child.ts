// Child process of zero-alloc.test.ts: runs encode+decode cycles through the codec and reports, as one
// line of JSON on stdout, how many garbage collections happened while the measured loop ran.
//
//   node --import tsx host-tests/codec/zero-alloc-child.ts [--cycles N] [--payload BYTES]
//        [--payload-offset BYTES] [--split] [--allocating]
//
// One cycle: encodePublish of a QoS 1 PUBLISH into the preallocated transmit buffer, Framer.feed of those
// bytes and decodePacket of the framed packet, then encodeAck of a PUBACK and its feed+decode; the protocol
// version alternates between 3.1.1 and 5.0 cycle by cycle. Every result is checked, so a codec that
// stopped working could not pass for one that stopped allocating.
//   --payload-offset  the payload is a slice starting this far into a larger buffer (PublishFields.payloadOffset)
//   --split           each packet reaches the framer in two chunks, so it is gathered in the receive buffer
//   --allocating      also allocates a 64-byte Uint8Array per cycle: proves the observer sees GC
//
// GC is observed with a PerformanceObserver on 'gc' entries; entries are delivered asynchronously, so the
// loop runs to the end first and only entries whose start lies inside the loop's time window are counted.
// No --expose-gc, no forced collections: whatever the loop leaves behind is there for a scavenge to find.

import { PerformanceObserver, performance } from "node:perf_hooks";
import {
  encodePublish, encodeAck, decodePacket, Framer, Packet, PublishFields, PUBLISH, PUBACK, MQTT_3_1_1, MQTT_5,
} from "../../device/codec";

interface Options {
  cycles: number;
  warmup: number;
  payload: number;
  payloadOffset: number;
  split: boolean;
  allocating: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { cycles: 1_000_000, warmup: 200_000, payload: 16, payloadOffset: 0, split: false, allocating: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--allocating") {
      options.allocating = true;
    } else if (arg === "--split") {
      options.split = true;
    } else if (arg === "--cycles") {
      options.cycles = Number(argv[++i]);
    } else if (arg === "--warmup") {
      options.warmup = Number(argv[++i]);
    } else if (arg === "--payload") {
      options.payload = Number(argv[++i]);
    } else if (arg === "--payload-offset") {
      options.payloadOffset = Number(argv[++i]);
    } else {
      process.stderr.write(`unknown argument ${arg}\n`);
      process.exit(2);
    }
  }
  return options;
}

const options = parseOptions(process.argv.slice(2));

// Everything the loop touches is made here, once.
const tx = new Uint8Array(8192);
const framer = new Framer(8192);
const packet = new Packet();
// With an offset the payload is a slice (bytes before and after it); without, it is the whole array.
const source = new Uint8Array(options.payloadOffset + options.payload + (options.payloadOffset > 0 ? 8 : 0));
for (let i = 0; i < source.length; i++) {
  source[i] = 0x30 + (i % 64);
}
const fields = new PublishFields();
fields.topic = "fleet/device-0042/telemetry";
fields.payload = source;
fields.payloadOffset = options.payloadOffset;
fields.payloadLength = options.payload;
fields.qos = 1;
const allocating = options.allocating;
const split = options.split;
// Where --allocating keeps its garbage: a module variable, so the allocation cannot be optimized away.
let kept: Uint8Array | null = null;

/** Feeds tx[0 .. length) to the framer (whole, or in two chunks) and decodes it; returns the error code. */
function receive(length: number, version: number): number {
  let used = 0;
  if (split) {
    const first = length >> 1;
    used = framer.feed(tx, 0, first);
    if (used !== first || framer.ready) {
      return -100;
    }
  }
  const rest = framer.feed(tx, used, length - used);
  if (rest !== length - used || !framer.ready) {
    return -101;
  }
  const error = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, packet);
  framer.next();
  return error;
}

/** Runs `count` cycles; returns how many completed with every check passing. */
function run(count: number): number {
  let good = 0;
  for (let i = 0; i < count; i++) {
    const version = (i & 1) === 0 ? MQTT_3_1_1 : MQTT_5;
    const packetId = (i & 0x7fff) + 1;
    fields.packetId = packetId;
    const publishLength = encodePublish(tx, 0, version, fields);
    if (publishLength < 0 || receive(publishLength, version) !== 0 || packet.type !== PUBLISH ||
      packet.packetId !== packetId || packet.payloadLength !== options.payload ||
      packet.buffer === null || packet.buffer[packet.payloadOffset + options.payload - 1] !==
        source[options.payloadOffset + options.payload - 1]) {
      continue;
    }
    const ackLength = encodeAck(tx, 0, version, PUBACK, packetId, 0, null);
    if (ackLength < 0 || receive(ackLength, version) !== 0 || (packet.type as number) !== PUBACK || packet.packetId !== packetId) {
      continue;
    }
    if (allocating) {
      kept = new Uint8Array(64);
      kept[0] = i & 0xff;
    }
    good++;
  }
  return good;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

async function main(): Promise<void> {
  const gcStarts: number[] = [];
  const gcKinds: number[] = [];
  const observer = new PerformanceObserver((list) => {
    const entries = list.getEntries();
    for (let i = 0; i < entries.length; i++) {
      gcStarts.push(entries[i].startTime);
      // 'gc' entries carry { kind } (1 = minor/scavenge, 4 = major, ...) in detail; older typings omit it.
      const detail = (entries[i] as unknown as { detail?: { kind?: number } | null }).detail;
      gcKinds.push(detail !== null && detail !== undefined && detail.kind !== undefined ? detail.kind : -1);
    }
  });
  observer.observe({ entryTypes: ["gc"] });

  // Warm-up: every function on the path, and run() itself as a whole call (not only through on-stack
  // replacement), gets optimized before the measured loop, with pauses for the concurrent compiler.
  let warmed = 0;
  for (let round = 0; round < 4; round++) {
    warmed += run(Math.ceil(options.warmup / 4));
    await settle();
  }

  const heapUsedBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const cycles = run(options.cycles);
  const ended = performance.now();
  const heapUsedAfter = process.memoryUsage().heapUsed;

  await settle();
  observer.disconnect();
  let gcCount = 0;
  const kinds: number[] = [];
  for (let i = 0; i < gcStarts.length; i++) {
    if (gcStarts[i] >= started && gcStarts[i] <= ended) {
      gcCount++;
      kinds.push(gcKinds[i]);
    }
  }
  process.stdout.write(JSON.stringify({
    cycles,
    gcCount,
    heapUsedBefore,
    heapUsedAfter,
    warmupCycles: warmed,
    gcKinds: kinds.slice(0, 20),
    milliseconds: Math.round(ended - started),
    options,
    kept: kept === null ? 0 : kept.length,
  }) + "\n");
}

main().catch((error: unknown) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
