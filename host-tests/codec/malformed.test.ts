// Malformed and forbidden input, both directions. Every decode entry of malformed-corpus.ts is checked
// three ways: decodePacket on the whole packet, and the same bytes through a Framer (one byte per chunk,
// and the whole packet in one chunk surrounded by other bytes) with the framed packet then decoded. All
// three must report the entry's code. Framing errors (ERR_REMAINING_LENGTH, ERR_PACKET_TOO_LARGE) must
// come from Framer.feed itself, at the header byte that decides them. Every encode entry is one encoder
// call that must return the entry's code; controls must succeed (and write the given bytes).

import { describe, expect, it } from "vitest";
import * as codec from "../../device/codec";
import {
  OK, ERR_REMAINING_LENGTH, ERR_PACKET_TOO_LARGE, ERR_MALFORMED, ERR_RESERVED_FLAGS, Framer, Packet, decodePacket,
  errorName, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP, DISCONNECT, AUTH,
} from "../../device/codec";
import { DECODE_CORPUS, ENCODE_CORPUS, DecodeCase, toBytes, toHex, hexToBytes } from "./malformed-corpus";

const DEFAULT_MAXIMUM_PACKET_SIZE = 4096;

/** A code with its name, so that a failed comparison reads "ERR_MALFORMED (-4)" on both sides. */
function named(code: number): string {
  return code > 0 ? `${code} bytes written` : `${errorName(code)} (${code})`;
}

interface FramerOutcome {
  /** The first error from feed(), or the decode result of the first framed packet, or null if neither. */
  code: number | null;
  /** "feed" when feed() returned the error, "decode" when it came from decoding a framed packet. */
  source: "feed" | "decode" | "none";
  /** Index (into the packet's bytes) of the byte whose feed() returned the error. */
  errorAt: number;
  packets: number;
  consumed: number;
}

/**
 * Feeds `bytes` to a fresh Framer in chunks of `chunkSize`, each chunk a separate array (so that a framer
 * reading past what it was given finds nothing), except with `surround`: then the whole packet is fed
 * from the middle of a larger buffer with 0xEE bytes before and after it.
 */
function runFramer(bytes: Uint8Array, version: number, maximumPacketSize: number, chunkSize: number,
  surround: boolean): FramerOutcome {
  const framer = new Framer(maximumPacketSize);
  const packet = new Packet();
  const outcome: FramerOutcome = { code: null, source: "none", errorAt: -1, packets: 0, consumed: 0 };
  let pos = 0;
  while (pos < bytes.length) {
    const size = Math.min(chunkSize, bytes.length - pos);
    let chunk: Uint8Array;
    let offset: number;
    if (surround) {
      chunk = new Uint8Array(size + 6).fill(0xee);
      chunk.set(bytes.subarray(pos, pos + size), 3);
      offset = 3;
    } else {
      chunk = bytes.slice(pos, pos + size);
      offset = 0;
    }
    let inChunk = 0;
    while (inChunk < size) {
      const used = framer.feed(chunk, offset + inChunk, size - inChunk);
      if (used < 0) {
        outcome.code = used;
        outcome.source = "feed";
        outcome.errorAt = pos + inChunk;
        outcome.consumed = pos + inChunk;
        return outcome;
      }
      if (used === 0 && !framer.ready) {
        throw new Error(`framer made no progress at byte ${pos + inChunk}`);
      }
      inChunk += used;
      if (framer.ready) {
        const code = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, packet);
        if (outcome.packets === 0) {
          outcome.code = code;
          outcome.source = "decode";
        }
        outcome.packets++;
        framer.next();
      }
    }
    pos += size;
  }
  outcome.consumed = pos;
  return outcome;
}

function checkFields(entry: DecodeCase, packet: Packet): void {
  if (entry.fields === undefined) {
    return;
  }
  const actual: Record<string, unknown> = {};
  for (const key of Object.keys(entry.fields)) {
    actual[key] = (packet as unknown as Record<string, unknown>)[key];
  }
  expect(actual).toEqual(entry.fields);
}

const isFramingError = (entry: DecodeCase): boolean => entry.failsAtByte !== undefined;

describe("decode corpus: decodePacket on the whole packet", () => {
  for (const entry of DECODE_CORPUS) {
    it(entry.name, () => {
      const bytes = toBytes(entry.bytes);
      const packet = new Packet();
      const code = decodePacket(bytes, 0, bytes.length, entry.version, packet);
      // The receive size limit belongs to the framer; decodePacket alone sees only the packet itself.
      const expected = entry.decodeAlone !== undefined ? entry.decodeAlone : entry.expected;
      expect(named(code), `${entry.spec}; bytes ${toHex(bytes)}`).toBe(named(expected));
      if (code === OK) {
        checkFields(entry, packet);
      }
    });
  }
});

describe("decode corpus: Framer, one byte per chunk", () => {
  for (const entry of DECODE_CORPUS) {
    it(entry.name, () => {
      const bytes = toBytes(entry.bytes);
      const maximum = entry.maximumPacketSize !== undefined ? entry.maximumPacketSize : DEFAULT_MAXIMUM_PACKET_SIZE;
      const outcome = runFramer(bytes, entry.version, maximum, 1, false);
      if (entry.incomplete === true) {
        // Waiting for the rest is all a framer can do; nothing is handed out and nothing is refused.
        expect(outcome).toMatchObject({ code: null, packets: 0, consumed: bytes.length });
        return;
      }
      expect(outcome.code === null ? "no packet" : named(outcome.code), entry.spec).toBe(named(entry.expected));
      if (isFramingError(entry)) {
        expect(outcome.source, "framing errors come from feed()").toBe("feed");
        expect(outcome.errorAt, "the byte whose feed() refused the packet").toBe(entry.failsAtByte);
      } else {
        expect(outcome.source).toBe("decode");
        expect(outcome.packets).toBe(1);
        expect(outcome.consumed).toBe(bytes.length);
      }
    });
  }
});

describe("decode corpus: Framer, the whole packet in one chunk", () => {
  for (const entry of DECODE_CORPUS) {
    it(entry.name, () => {
      const bytes = toBytes(entry.bytes);
      const maximum = entry.maximumPacketSize !== undefined ? entry.maximumPacketSize : DEFAULT_MAXIMUM_PACKET_SIZE;
      const outcome = runFramer(bytes, entry.version, maximum, bytes.length, true);
      if (entry.incomplete === true) {
        expect(outcome).toMatchObject({ code: null, packets: 0, consumed: bytes.length });
        return;
      }
      expect(outcome.code === null ? "no packet" : named(outcome.code), entry.spec).toBe(named(entry.expected));
      expect(outcome.source).toBe(isFramingError(entry) ? "feed" : "decode");
      if (isFramingError(entry)) {
        expect(outcome.errorAt, "refused at the first byte fed").toBe(0);
      }
    });
  }

  it("a valid packet right after a control is framed and decoded too (boundaries stay aligned)", () => {
    for (const entry of DECODE_CORPUS) {
      if (entry.expected !== OK || entry.maximumPacketSize !== undefined) {
        continue;
      }
      const first = toBytes(entry.bytes);
      const pingresp = hexToBytes("d0 00");
      const stream = new Uint8Array(first.length + pingresp.length);
      stream.set(first, 0);
      stream.set(pingresp, first.length);
      for (const chunkSize of [1, 3, stream.length]) {
        const framer = new Framer(DEFAULT_MAXIMUM_PACKET_SIZE);
        const packet = new Packet();
        const types: number[] = [];
        let pos = 0;
        while (pos < stream.length) {
          const size = Math.min(chunkSize, stream.length - pos);
          const chunk = stream.slice(pos, pos + size);
          let inChunk = 0;
          while (inChunk < size) {
            const used = framer.feed(chunk, inChunk, size - inChunk);
            expect(used, entry.name).toBeGreaterThanOrEqual(0);
            inChunk += used;
            if (framer.ready) {
              const code = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, entry.version,
                packet);
              expect(named(code), `${entry.name}, chunks of ${chunkSize}`).toBe(named(OK));
              types.push(packet.type);
              framer.next();
            }
          }
          pos += size;
        }
        expect(types, `${entry.name}, chunks of ${chunkSize}`).toEqual([first[0] >> 4, PINGRESP]);
      }
    }
  });
});

describe("decode corpus: shape", () => {
  const malformed = DECODE_CORPUS.filter((entry) => entry.expected !== OK);
  const controls = DECODE_CORPUS.filter((entry) => entry.expected === OK);

  it("has at least 60 malformed cases and at least 20 positive controls", () => {
    expect(malformed.length).toBeGreaterThanOrEqual(60);
    expect(controls.length).toBeGreaterThanOrEqual(20);
  });

  it("names are unique and every entry cites a rule", () => {
    const names = new Set(DECODE_CORPUS.map((entry) => entry.name));
    expect(names.size).toBe(DECODE_CORPUS.length);
    for (const entry of DECODE_CORPUS) {
      expect(entry.spec.length, entry.name).toBeGreaterThan(0);
      expect(entry.spec, entry.name).toMatch(/\[MQTT-\d+\.\d+\.\d+-\d+\]|§|Table|DESIGN/);
    }
  });

  it("every error the decoding side can report is exercised", () => {
    const seen = new Set(malformed.map((entry) => errorName(entry.expected)));
    for (const name of [
      "ERR_REMAINING_LENGTH", "ERR_PACKET_TOO_LARGE", "ERR_MALFORMED", "ERR_RESERVED_FLAGS", "ERR_UNEXPECTED_PACKET",
      "ERR_BAD_UTF8", "ERR_UTF8_NULL", "ERR_TOPIC_WILDCARD", "ERR_TOPIC_EMPTY", "ERR_PACKET_ID_ZERO", "ERR_BAD_QOS",
      "ERR_PROPERTY_DUPLICATE", "ERR_PROPERTY_UNKNOWN", "ERR_PROPERTY_NOT_ALLOWED", "ERR_PROPERTY_VALUE",
      "ERR_REASON_CODE",
    ]) {
      expect(seen.has(name), name).toBe(true);
    }
  });

  it("every packet type a client receives has a reserved-flags case", () => {
    const covered = new Set<string>();
    for (const entry of malformed) {
      if (entry.expected === ERR_RESERVED_FLAGS) {
        const first = toBytes(entry.bytes)[0];
        if ((first & 0x0f) !== (first >> 4 === PUBREL ? 0x02 : 0)) {
          covered.add(`${entry.version}:${first >> 4}`);
        }
      }
    }
    const v4 = [CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP];
    const v5 = [...v4, DISCONNECT, AUTH];
    const missing: string[] = [];
    for (const type of v4) {
      if (!covered.has(`4:${type}`) && !covered.has(`5:${type}`)) missing.push(`type ${type}`);
    }
    for (const type of [DISCONNECT, AUTH]) {
      if (!covered.has(`5:${type}`)) missing.push(`v5 type ${type}`);
    }
    expect(missing, `receivable types: ${v5.join(",")}`).toEqual([]);
  });

  it("framing cases say where they fail, and only framing errors do", () => {
    for (const entry of DECODE_CORPUS) {
      const framingCode = entry.expected === ERR_REMAINING_LENGTH || entry.expected === ERR_PACKET_TOO_LARGE;
      if (isFramingError(entry)) {
        expect(framingCode, entry.name).toBe(true);
      }
      if (entry.expected === ERR_PACKET_TOO_LARGE) {
        expect(entry.maximumPacketSize, entry.name).toBeDefined();
        expect(entry.decodeAlone, entry.name).toBeDefined();
      }
      if (entry.incomplete === true) {
        expect(entry.expected, entry.name).toBe(ERR_MALFORMED);
      }
    }
  });
});

describe("encode corpus", () => {
  for (const entry of ENCODE_CORPUS) {
    it(entry.name, () => {
      const buffer = new Uint8Array(entry.bufferSize !== undefined ? entry.bufferSize : 1024);
      const result = entry.encode(buffer);
      if (entry.expected !== OK) {
        expect(named(result), entry.spec).toBe(named(entry.expected));
        return;
      }
      expect(result, `${entry.spec}: ${named(result)}`).toBeGreaterThan(0);
      const written = buffer.subarray(0, result);
      if (entry.bytes !== undefined) {
        expect(toHex(written), entry.spec).toBe(toHex(hexToBytes(entry.bytes)));
      }
      if (entry.prefix !== undefined) {
        const prefix = hexToBytes(entry.prefix);
        expect(toHex(written.subarray(0, prefix.length)), entry.spec).toBe(toHex(prefix));
      }
      if (entry.length !== undefined) {
        expect(result).toBe(entry.length);
      }
      if (entry.roundTrip === true) {
        const packet = new Packet();
        expect(named(decodePacket(buffer, 0, result, entry.version, packet)), "decodes what it encoded")
          .toBe(named(OK));
      }
    });
  }

  it("has controls and every error an encoder can report", () => {
    expect(ENCODE_CORPUS.filter((entry) => entry.expected === OK).length).toBeGreaterThanOrEqual(15);
    const names = new Set(ENCODE_CORPUS.map((entry) => entry.name));
    expect(names.size).toBe(ENCODE_CORPUS.length);
    const seen = new Set(ENCODE_CORPUS.map((entry) => errorName(entry.expected)));
    for (const name of [
      "ERR_BUFFER_TOO_SMALL", "ERR_BAD_QOS", "ERR_PACKET_ID_ZERO", "ERR_BAD_ARGUMENT", "ERR_TOPIC_WILDCARD",
      "ERR_TOPIC_EMPTY", "ERR_UTF8_NULL", "ERR_STRING_TOO_LONG", "ERR_TOPIC_FILTER", "ERR_PROPERTY_NOT_ALLOWED",
      "ERR_PROPERTY_VALUE", "ERR_REASON_CODE",
    ]) {
      expect(seen.has(name), name).toBe(true);
    }
  });
});

describe("errorName", () => {
  it("names every exported error code after its constant", () => {
    const exported = codec as unknown as Record<string, unknown>;
    const codes = Object.keys(exported).filter((key) => key === "OK" || key.startsWith("ERR_"));
    expect(codes.length).toBeGreaterThanOrEqual(21);
    for (const key of codes) {
      expect(errorName(exported[key] as number), key).toBe(key);
    }
  });

  it("calls anything else ERR_UNKNOWN", () => {
    expect(errorName(-999)).toBe("ERR_UNKNOWN");
    expect(errorName(7)).toBe("ERR_UNKNOWN");
    expect(errorName(-1.5)).toBe("ERR_UNKNOWN");
    expect(errorName(NaN)).toBe("ERR_UNKNOWN");
  });
});
