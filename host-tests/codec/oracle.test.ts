// The codec against mqtt-packet, the independent oracle, in both directions and for both protocol versions:
//  1. encode: what our encoders write, mqtt-packet's parser reads back as the packet we meant; and where
//     both libraries have one canonical encoding, the bytes are identical to mqtt.generate's;
//  2. decode: what mqtt.generate writes, our decoder reads as the packet mqtt-packet meant, field by field;
//  3. framing: a stream of generated packets cut anywhere is reassembled by Framer into the same packets,
//     and a packet larger than the Framer's maximum is refused as soon as its fixed header is read.
// Arbitraries, converters and the normalising comparison live in ./arbitraries.ts.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as mqtt from "mqtt-packet";
import {
  OK, ERR_BUFFER_TOO_SMALL, ERR_PACKET_TOO_LARGE, PROP_SUBSCRIPTION_IDENTIFIER,
  CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP, DISCONNECT, AUTH,
  Framer, Packet, decodePacket, errorName, hasProperty, propertyValue,
} from "../../device/codec";
import {
  Version, MqttPacket, UserProps, clientPacketArbs, serverPacketArbs, anyServerPacket, largePublishArb,
  encodeOurs, fromDecoded,
  normalize, hasProperties, expandUserProperties, decodedUserProperties, decodedSubscriptionIdentifiers,
} from "./arbitraries";
import { readUtf8 } from "../../device/platform/bytes";

const RUNS = 300;
const VERSIONS: Version[] = [4, 5];

type Loose = Record<string, unknown>;

/** Parses `bytes` with a fresh mqtt-packet parser: exactly one packet, no error, nothing left over. */
function parseWithMqtt(bytes: Buffer, version: Version): MqttPacket {
  const parser = mqtt.parser({ protocolVersion: version });
  const packets: MqttPacket[] = [];
  const errors: Error[] = [];
  parser.on("packet", (p) => packets.push(p));
  parser.on("error", (e) => errors.push(e as Error));
  const left = parser.parse(bytes);
  if (errors.length > 0) {
    throw new Error("mqtt-packet rejects our bytes " + bytes.toString("hex") + ": " + errors[0].message);
  }
  expect(packets.length, "packets parsed from " + bytes.toString("hex")).toBe(1);
  expect(left).toBe(0);
  return packets[0];
}

/**
 * How mqtt.generate's bytes relate to ours for the same packet:
 * - "same": one canonical encoding, byte for byte equal.
 * - "trailing-zeros": both are valid, but mqtt-packet never leaves out what 5.0 allows to leave out.
 *   PUBACK/PUBREC/PUBREL/PUBCOMP: with a non-zero reason code and no properties it writes an empty
 *   property length after the code; we stop after the code (3.4.2.2.1: the Property Length may be
 *   omitted when the Remaining Length is less than 4). DISCONNECT and AUTH: it always writes the reason
 *   code and a property length; we leave out a property length of 0, and a success code too
 *   (3.14.2.1, 3.15.2.1). Its bytes are then ours plus zero bytes, with a larger Remaining Length.
 * - "refused": mqtt.generate throws on a packet 5.0 allows: a password without a user name (5.0 dropped
 *   [MQTT-3.1.2-22]) and an empty client id with Clean Start 0 (5.0 dropped [MQTT-3.1.3-7]).
 */
function mqttForm(p: MqttPacket, version: Version): "same" | "trailing-zeros" | "refused" {
  const loose = p as unknown as Loose;
  if (version !== 5) {
    return "same";
  }
  switch (p.cmd) {
    case "connect":
      return (p.password !== undefined && p.username === undefined) || (p.clientId === "" && p.clean === false)
        ? "refused" : "same";
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return hasProperties(p) || ((loose.reasonCode as number | undefined) ?? 0) === 0 ? "same" : "trailing-zeros";
    case "disconnect":
    case "auth":
      return hasProperties(p) ? "same" : "trailing-zeros";
    default:
      return "same";
  }
}

const SENTINEL = 0xa5;
const scratch = new Uint8Array(16 + 80000);

function checkEncode(input: MqttPacket, version: Version, at: number): void {
  scratch.fill(SENTINEL);
  const n = encodeOurs(input, version, scratch, at);
  expect(n, "our encoder: " + errorName(n)).toBeGreaterThan(0);
  // Nothing written before `at` or past the packet.
  let stray = -1;
  for (let i = 0; i < at + n + 64 && stray < 0; i++) {
    if ((i < at || i >= at + n) && scratch[i] !== SENTINEL) stray = i;
  }
  expect(stray, "byte written outside [at, at + length)").toBe(-1);
  const ours = Buffer.from(scratch.subarray(at, at + n));

  // The size check is exact: a buffer ending at the packet's last byte is enough, one byte less is not.
  const exact = new Uint8Array(at + n);
  expect(encodeOurs(input, version, exact, at)).toBe(n);
  expect(Buffer.from(exact.subarray(at)).toString("hex")).toBe(ours.toString("hex"));
  expect(encodeOurs(input, version, new Uint8Array(at + n - 1), at)).toBe(ERR_BUFFER_TOO_SMALL);

  // mqtt-packet reads our bytes as the packet we meant.
  const parsed = parseWithMqtt(ours, version);
  expect(normalize(parsed, version)).toEqual(normalize(input, version));
  // ... with the user properties in the order we wrote them.
  if (version === 5) {
    const props = (parsed as unknown as Loose).properties as Loose | undefined;
    const sent = (input as unknown as Loose).properties as Loose | undefined;
    expect(expandUserProperties(props?.userProperties as UserProps | undefined))
      .toEqual(expandUserProperties(sent?.userProperties as UserProps | undefined));
  }

  // And against mqtt.generate, byte for byte where the encoding is canonical.
  const form = mqttForm(input, version);
  if (form === "refused") {
    expect(() => mqtt.generate(input, { protocolVersion: version })).toThrow();
    return;
  }
  const theirs = mqtt.generate(input, { protocolVersion: version });
  if (form === "same") {
    expect(ours.toString("hex")).toBe(theirs.toString("hex"));
    return;
  }
  // "trailing-zeros": these packets are short (no properties), so the Remaining Length is one byte.
  expect(theirs[0]).toBe(ours[0]);
  expect(theirs[1]).toBe(theirs.length - 2);
  expect(theirs.length).toBeGreaterThan(ours.length);
  expect(theirs.subarray(2, ours.length).toString("hex")).toBe(ours.subarray(2).toString("hex"));
  expect(theirs.subarray(ours.length).every((b) => b === 0)).toBe(true);
}

describe.each(VERSIONS)("encode: our bytes, read by mqtt-packet (protocol level %i)", (version) => {
  const arbs = clientPacketArbs(version);
  for (const name of Object.keys(arbs)) {
    const constant = name === "pingreq" || (version === 4 && name === "disconnect");
    it(name, () => {
      fc.assert(fc.property(arbs[name], fc.nat(15), (input, at) => checkEncode(input, version, at)),
        { numRuns: constant ? 20 : RUNS });
    });
  }
  it("publish, 16 KB .. 70 KB payload (three-byte Remaining Length)", () => {
    fc.assert(fc.property(largePublishArb(version, false), fc.nat(15), (input, at) => checkEncode(input, version, at)),
      { numRuns: 20 });
  });
});

const TYPE_OF: Record<string, number> = {
  connack: CONNACK, publish: PUBLISH, puback: PUBACK, pubrec: PUBREC, pubrel: PUBREL, pubcomp: PUBCOMP,
  suback: SUBACK, unsuback: UNSUBACK, pingresp: PINGRESP, disconnect: DISCONNECT, auth: AUTH,
};

// One Packet for every decode, as the engine keeps one: no field may leak from one packet into the next.
const decoded = new Packet();

function checkDecode(input: MqttPacket, version: Version, prefix: Uint8Array, suffix: Uint8Array): void {
  const bytes = mqtt.generate(input, { protocolVersion: version });
  // The packet sits inside a larger buffer: every offset must be relative to that buffer.
  const host = new Uint8Array(prefix.length + bytes.length + suffix.length);
  host.set(prefix, 0);
  host.set(bytes, prefix.length);
  host.set(suffix, prefix.length + bytes.length);
  const rc = decodePacket(host, prefix.length, bytes.length, version, decoded);
  expect(rc, errorName(rc) + " decoding " + bytes.toString("hex")).toBe(OK);
  expect(decoded.buffer).toBe(host);
  expect(decoded.type).toBe(TYPE_OF[input.cmd]);
  expect(normalize(fromDecoded(decoded, version), version)).toEqual(normalize(input, version));
  if (version !== 5) {
    return;
  }
  const sent = ((input as unknown as Loose).properties ?? {}) as Loose;
  // Each user property, in the order they are on the wire.
  expect(decodedUserProperties(decoded)).toEqual(expandUserProperties(sent.userProperties as UserProps | undefined));
  if (input.cmd === "publish") {
    // Each subscription identifier; propertyValue gives the first, subscriptionIdentifierCount all.
    const given = sent.subscriptionIdentifier;
    const ids = given === undefined ? [] : Array.isArray(given) ? given : [given];
    expect(decodedSubscriptionIdentifiers(decoded)).toEqual(ids);
    expect(decoded.subscriptionIdentifierCount).toBe(ids.length);
    expect(hasProperty(decoded, PROP_SUBSCRIPTION_IDENTIFIER)).toBe(ids.length > 0);
    expect(propertyValue(decoded, PROP_SUBSCRIPTION_IDENTIFIER)).toBe(ids.length > 0 ? ids[0] : -1);
  }
}

describe.each(VERSIONS)("decode: mqtt-packet's bytes, read by our decoder (protocol level %i)", (version) => {
  const arbs = serverPacketArbs(version);
  for (const name of Object.keys(arbs)) {
    it(name, () => {
      fc.assert(fc.property(arbs[name], fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }),
        (input, prefix, suffix) => checkDecode(input, version, prefix, suffix)),
      { numRuns: name === "pingresp" ? 20 : RUNS });
    });
  }
  it("publish, 16 KB .. 70 KB payload (three-byte Remaining Length)", () => {
    fc.assert(fc.property(largePublishArb(version, true), fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }),
      (input, prefix, suffix) => checkDecode(input, version, prefix, suffix)), { numRuns: 20 });
  });
});

/** The same packet without properties. */
function withoutProperties(p: MqttPacket): MqttPacket {
  const copy: Loose = {};
  for (const key of Object.keys(p)) {
    if (key !== "properties") copy[key] = (p as unknown as Loose)[key];
  }
  return copy as unknown as MqttPacket;
}

// mqtt.generate writes one form of a v5 ack, DISCONNECT or AUTH without properties; 5.0 allows up to three
// (3.4.2.1 / 3.4.2.2.1, 3.14.2.1, 3.15.2.1): the reason code followed by an empty property length, the
// reason code alone, and, for success, nothing at all. Every form must decode to the same packet. Each is
// also read by mqtt-packet's parser as that packet, except an AUTH of Remaining Length 0, which its parser
// rejects ("Invalid auth reason code": it reads a reason code that is not there).
describe("decode: the short forms 5.0 allows (protocol level 5)", () => {
  const arbs = serverPacketArbs(5);
  for (const name of ["puback", "pubrec", "pubrel", "pubcomp", "disconnect", "auth"]) {
    it(name, () => {
      fc.assert(fc.property(arbs[name].map(withoutProperties), (input) => {
        const generated = mqtt.generate(input, { protocolVersion: 5 });
        const isAck = name !== "disconnect" && name !== "auth";
        const fixed = isAck ? [generated[2], generated[3]] : [];
        const code = ((input as unknown as Loose).reasonCode as number | undefined) ?? 0;
        const bodies = [fixed.concat([code, 0]), fixed.concat([code])];
        if (code === 0) bodies.push(fixed);
        const expected = normalize(input, 5);
        for (const body of bodies) {
          const bytes = Buffer.from([generated[0], body.length].concat(body));
          const rc = decodePacket(bytes, 0, bytes.length, 5, decoded);
          expect(rc, errorName(rc) + " decoding " + bytes.toString("hex")).toBe(OK);
          expect(normalize(fromDecoded(decoded, 5), 5)).toEqual(expected);
          if (!(name === "auth" && body.length === 0)) {
            expect(normalize(parseWithMqtt(bytes, 5), 5)).toEqual(expected);
          }
        }
      }), { numRuns: 100 });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------------------

type Cuts = "whole" | "bytes" | number[];

function streamArb(version: Version) {
  return fc.array(anyServerPacket(version), { minLength: 1, maxLength: 8 }).chain((packets) => {
    const encoded = packets.map((p) => mqtt.generate(p, { protocolVersion: version }));
    let total = 0;
    for (const e of encoded) total += e.length;
    const cuts: fc.Arbitrary<Cuts> = fc.oneof(
      fc.constant<Cuts>("whole"),
      fc.constant<Cuts>("bytes"),
      fc.uniqueArray(fc.integer({ min: 1, max: total - 1 }), { maxLength: 16 }).map((a) => a.sort((x, y) => x - y)),
    );
    return fc.record({
      packets: fc.constant(packets), encoded: fc.constant(encoded), cuts,
      slack: fc.nat(3), lead: fc.nat(3),
    });
  });
}

describe.each(VERSIONS)("framing: generated streams cut anywhere (protocol level %i)", (version) => {
  it("Framer + decodePacket give back the generated packets, in order", () => {
    fc.assert(fc.property(streamArb(version), ({ packets, encoded, cuts, slack, lead }) => {
      const stream = Buffer.concat(encoded);
      const total = stream.length;
      let largest = 0;
      for (const e of encoded) largest = Math.max(largest, e.length);
      const positions: number[] = [];
      if (cuts === "bytes") {
        for (let i = 1; i < total; i++) positions.push(i);
      } else if (cuts !== "whole") {
        for (const c of cuts) positions.push(c);
      }
      const bounds = [0].concat(positions, [total]);
      // slack 0: the largest packet is exactly the maximum, which must be accepted.
      const framer = new Framer(largest + slack);
      const got: Loose[] = [];
      const lengths: number[] = [];
      for (let c = 0; c + 1 < bounds.length; c++) {
        const length = bounds[c + 1] - bounds[c];
        // Each chunk in its own buffer, at an offset, with bytes around it that are not part of the stream.
        const offset = (c + lead) % 4;
        const chunk = new Uint8Array(offset + length + 2).fill(0x5a);
        chunk.set(stream.subarray(bounds[c], bounds[c + 1]), offset);
        let pos = offset;
        const end = offset + length;
        while (pos < end) {
          const n = framer.feed(chunk, pos, end - pos);
          // n >= 0, and progress: a feed of a non-empty chunk consumes at least one byte (else this loop
          // would never end). (Checked with `if` first: an expect per byte is slow.)
          if (n <= 0) expect(n, "feed: " + errorName(n)).toBeGreaterThan(0);
          pos += n;
          if (framer.ready) {
            const rc = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, decoded);
            if (rc !== OK) expect(rc, "decode: " + errorName(rc)).toBe(OK);
            lengths.push(framer.packetLength);
            got.push(normalize(fromDecoded(decoded, version), version));
            framer.next();
          }
        }
      }
      expect(framer.ready).toBe(false);
      expect(lengths).toEqual(encoded.map((e) => e.length));
      expect(got).toEqual(packets.map((p) => normalize(p, version)));
    }), { numRuns: RUNS });
  });

  it("a packet larger than the maximum is refused once its fixed header is read", () => {
    fc.assert(fc.property(
      anyServerPacket(version).map((p) => mqtt.generate(p, { protocolVersion: version })).filter((b) => b.length >= 3),
      fc.nat(), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.boolean(),
      (bytes, seed, cutAt, withBody) => {
        const max = 2 + (seed % (bytes.length - 2)); // 2 .. size-1
        checkRefusedAtHeader(bytes, max, cutAt, withBody);
      }), { numRuns: RUNS });
  });
});

/** Our own Variable Byte Integer writer, independent of the codec's. */
function varint(value: number): number[] {
  const out: number[] = [];
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit += 128;
    out.push(digit);
  } while (value > 0);
  return out;
}

/**
 * Feeds the fixed header of `bytes` (whose total size exceeds `max`) in pieces cut where `cutAt` says:
 * every piece but the last is taken whole, the one completing the header gets ERR_PACKET_TOO_LARGE.
 * With `withBody` the last piece runs on to the packet's end: the refusal must not wait for the body.
 */
function checkRefusedAtHeader(bytes: Uint8Array, max: number, cutAt: boolean[], withBody: boolean): void {
  let headerLength = 2;
  while (bytes[headerLength - 1] >= 0x80) headerLength++;
  const bounds = [0];
  for (let i = 1; i < headerLength; i++) {
    if (cutAt[i - 1]) bounds.push(i);
  }
  bounds.push(withBody ? bytes.length : headerLength);
  const framer = new Framer(max);
  for (let c = 0; c + 1 < bounds.length; c++) {
    const n = framer.feed(bytes, bounds[c], bounds[c + 1] - bounds[c]);
    if (c + 2 < bounds.length) {
      expect(n, "header piece " + c + ": " + errorName(n)).toBe(bounds[c + 1] - bounds[c]);
      expect(framer.ready).toBe(false);
    } else {
      expect(n, "the piece completing the header").toBe(ERR_PACKET_TOO_LARGE);
    }
  }
}

describe("framing: oversized packets", () => {
  it("any Remaining Length past the maximum is refused at the header, without the body", () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 100000 }).chain((max) => fc.record({
        max: fc.constant(max),
        remaining: fc.oneof(
          // The smallest oversized packet: total size max + 1.
          fc.constant(-1),
          fc.integer({ min: max, max: 268435455 }),
          fc.constantFrom(16383, 16384, 2097151, 2097152, 268435455).filter((r) => r >= max),
        ),
      })),
      fc.constantFrom<number>(0x20, 0x30, 0x3d, 0x40, 0x62, 0x90, 0xb0, 0xd0, 0xe0, 0xf0),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      ({ max, remaining }, first, cutAt) => {
        let r = remaining;
        if (r < 0) {
          r = max; // fallback when no Remaining Length gives exactly max + 1
          for (let size = 1; size <= 4; size++) {
            if (max - size >= 0 && varint(max - size).length === size) {
              r = max - size;
              break;
            }
          }
        }
        const header = [first].concat(varint(r));
        expect(header.length + r).toBeGreaterThan(max);
        checkRefusedAtHeader(new Uint8Array(header), max, cutAt, false);
      }), { numRuns: RUNS });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Regressions: codec bugs these properties found, each as its smallest case.
// ---------------------------------------------------------------------------------------------------------

describe("regressions (minimal cases of bugs the properties found)", () => {
  // Found by the decode and framing properties: device/platform/bytes.ts readUtf8 decoded with
  // `new TextDecoder("utf-8")`, whose default (ignoreBOM: false) strips a leading U+FEFF, so a topic, user
  // property or reason string starting with U+FEFF reached the application without it. [MQTT-1.5.4-3]:
  // 0xEF 0xBB 0xBF is U+FEFF wherever it appears and MUST NOT be skipped over or stripped off by a
  // receiver. Fixed with { ignoreBOM: true }.
  it("a topic starting with U+FEFF keeps it when read with readUtf8 [MQTT-1.5.4-3]", () => {
    const bytes = mqtt.generate({ cmd: "publish", topic: "\uFEFFa", payload: Buffer.alloc(0), qos: 0, dup: false,
      retain: false }, { protocolVersion: 4 });
    expect(decodePacket(bytes, 0, bytes.length, 4, decoded)).toBe(OK);
    expect(decoded.topicLength).toBe(4);
    expect(readUtf8(bytes, decoded.topicOffset, decoded.topicLength)).toBe("\uFEFFa");
  });
});
