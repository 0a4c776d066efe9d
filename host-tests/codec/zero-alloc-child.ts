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
// GC is observed by host-tests/gc-probe.ts: only collections that start while the measured loop runs count.

import {
  encodePublish, encodeAck, decodePacket, Framer, Packet, PublishFields, PUBLISH, PUBACK, MQTT_3_1_1, MQTT_5,
} from "../../device/codec";
import { GcProbe, type Measurement, keepGarbage, keptLength, parseOptions, printResult, warmUp } from "../gc-probe";

const options = parseOptions({ cycles: 1_000_000, warmup: 200_000, payload: 16, payloadOffset: 0, split: false, allocating: false });

/** What the child prints: the measured loop, and what it ran with. */
export interface CodecResult extends Measurement {
  warmupCycles: number;
  options: typeof options;
  kept: number;
}

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
      keepGarbage(i);
    }
    good++;
  }
  return good;
}

printResult(async (): Promise<CodecResult> => {
  const probe = new GcProbe();
  const warmed = await warmUp(options.warmup, [run]);
  const measured = probe.measure(run, options.cycles);
  await probe.finish();
  return { ...measured, warmupCycles: warmed, options, kept: keptLength() };
});
