// The malformed-input corpus for the codec: packets a client must refuse (and a few it must accept, so
// that a decoder rejecting everything cannot pass), and encoder calls with arguments it must refuse.
// Each entry names the rule it rests on: a normative statement [MQTT-x.x.x-y] or, where the
// specification states the rule without a number, its section (§). "v4" is MQTT 3.1.1 (protocol level
// 4), "v5" is MQTT 5.0. malformed.test.ts runs every entry.

import {
  OK, ERR_BUFFER_TOO_SMALL, ERR_PACKET_TOO_LARGE, ERR_REMAINING_LENGTH, ERR_MALFORMED, ERR_RESERVED_FLAGS,
  ERR_UNEXPECTED_PACKET, ERR_BAD_UTF8, ERR_UTF8_NULL, ERR_TOPIC_WILDCARD, ERR_TOPIC_EMPTY, ERR_PACKET_ID_ZERO,
  ERR_BAD_QOS, ERR_PROPERTY_DUPLICATE, ERR_PROPERTY_UNKNOWN, ERR_PROPERTY_NOT_ALLOWED, ERR_PROPERTY_VALUE,
  ERR_REASON_CODE, ERR_STRING_TOO_LONG, ERR_BAD_ARGUMENT, ERR_TOPIC_FILTER,
  ConnectFields, PublishFields, Properties, Subscription, UserProperty, Will, Packet,
  PUBACK, PUBREC, PUBREL, SUBACK,
  encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodePingreq, encodeDisconnect,
  encodeAuth,
} from "../../device/codec";

// ---------------------------------------------------------------------------------------------------
// Byte helpers

/** "30 02 00 00" (spaces optional) -> bytes. */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new Error(`bad hex: ${hex}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

export function toBytes(bytes: string | number[]): Uint8Array {
  return typeof bytes === "string" ? hexToBytes(bytes) : Uint8Array.from(bytes);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** A Variable Byte Integer in its shortest form. */
function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    out.push(digit);
  } while (rest > 0);
  return out;
}

/** A whole packet: first byte, shortest Remaining Length, body. */
function pkt(firstByte: number, ...body: number[][]): number[] {
  const flat = ([] as number[]).concat(...body);
  return [firstByte, ...varint(flat.length), ...flat];
}

/** Two-byte length prefix + the given raw bytes (a string or binary field, whatever the bytes). */
function lp(bytes: number[]): number[] {
  return [(bytes.length >> 8) & 0xff, bytes.length & 0xff, ...bytes];
}

/** A well-formed UTF-8 string field. */
function str(text: string): number[] {
  return lp(Array.from(Buffer.from(text, "utf8")));
}

function u16(value: number): number[] {
  return [(value >> 8) & 0xff, value & 0xff];
}

/** A v5 property block: Property Length (shortest form) + the properties. */
function props(...entries: number[][]): number[] {
  const flat = ([] as number[]).concat(...entries);
  return [...varint(flat.length), ...flat];
}

function ascii(text: string): number[] {
  return Array.from(Buffer.from(text, "latin1"));
}

function repeat(byte: number, count: number): number[] {
  return new Array<number>(count).fill(byte);
}

// Property identifiers used below.
const PAYLOAD_FORMAT = 0x01;
const CONTENT_TYPE = 0x03;
const RESPONSE_TOPIC = 0x08;
const SUBSCRIPTION_ID = 0x0b;
const SESSION_EXPIRY = 0x11;
const ASSIGNED_CLIENT_ID = 0x12;
const AUTH_METHOD = 0x15;
const WILL_DELAY = 0x18;
const SERVER_REFERENCE = 0x1c;
const REASON_STRING = 0x1f;
const RECEIVE_MAXIMUM = 0x21;
const TOPIC_ALIAS_MAXIMUM = 0x22;
const TOPIC_ALIAS = 0x23;
const MAXIMUM_QOS = 0x24;
const RETAIN_AVAILABLE = 0x25;
const USER_PROPERTY = 0x26;
const MAXIMUM_PACKET_SIZE = 0x27;
const WILDCARD_SUB_AVAILABLE = 0x28;

/** A v4 QoS 0 PUBLISH whose topic field holds exactly these bytes, followed by a payload. */
function publishTopicBytes(topic: number[], payload: number[] = ascii("x")): number[] {
  return pkt(0x30, lp(topic), payload);
}

/** A v5 QoS 0 PUBLISH with topic "t", these properties, and payload "x". */
function publishV5(...properties: number[][]): number[] {
  return pkt(0x30, str("t"), props(...properties), ascii("x"));
}

/** A v5 CONNACK (success, no session) with these properties. */
function connackV5(...properties: number[][]): number[] {
  return pkt(0x20, [0x00, 0x00], props(...properties));
}

// ---------------------------------------------------------------------------------------------------
// The decode corpus

export interface DecodeCase {
  name: string;
  version: 4 | 5;
  /** The bytes as they arrive from the broker: hex or numbers. */
  bytes: string | number[];
  /** The code the link reports: from Framer.feed for framing errors, else from decodePacket. OK for controls. */
  expected: number;
  /** The rule: "[MQTT-x.x.x-y]" and/or a section. */
  spec: string;
  /** The Framer's maximum packet size for this case (default 4096). */
  maximumPacketSize?: number;
  /**
   * Framing errors only: the index of the byte whose feed() returns the error when the bytes arrive one
   * at a time, proving that the framer decides from the fixed header, before the body arrives.
   */
  failsAtByte?: number;
  /** What decodePacket alone returns when the fault is one it cannot see (the receive size limit). */
  decodeAlone?: number;
  /** The Remaining Length promises more bytes than arrive: decodePacket says ERR_MALFORMED, the framer waits. */
  incomplete?: boolean;
  /** Controls only: fields of the decoded Packet to check. */
  fields?: { [K in keyof Packet]?: number | boolean };
}

const controls: DecodeCase[] = [
  { name: "control: v4 CONNACK accepted", version: 4, bytes: "20 02 00 00", expected: OK, spec: "3.1.1 §3.2",
    fields: { type: 2, sessionPresent: false, reasonCode: 0 } },
  { name: "control: v4 CONNACK session present", version: 4, bytes: "20 02 01 00", expected: OK, spec: "3.1.1 §3.2.2.2",
    fields: { sessionPresent: true } },
  { name: "control: v4 CONNACK return code 5 (not authorized)", version: 4, bytes: "20 02 00 05", expected: OK,
    spec: "3.1.1 §3.2.2.3", fields: { reasonCode: 5 } },
  { name: "control: v5 CONNACK with properties and two user properties", version: 5,
    bytes: connackV5([RECEIVE_MAXIMUM, 0x00, 0x0a], [TOPIC_ALIAS_MAXIMUM, 0x00, 0x05], [MAXIMUM_QOS, 0x01],
      [RETAIN_AVAILABLE, 0x00], [USER_PROPERTY, ...str("k"), ...str("v")], [USER_PROPERTY, ...str("k"), ...str("w")]),
    expected: OK, spec: "5.0 §3.2.2.3", fields: { userPropertyCount: 2 } },
  { name: "control: v4 PUBLISH QoS 0", version: 4, bytes: "30 07 00 03 61 2f 62 68 69", expected: OK,
    spec: "3.1.1 §3.3", fields: { type: 3, qos: 0, topicLength: 3, payloadLength: 2 } },
  { name: "control: v4 PUBLISH QoS 1 with DUP and RETAIN", version: 4, bytes: "3b 06 00 01 61 00 01 78",
    expected: OK, spec: "3.1.1 §3.3.1", fields: { qos: 1, dup: true, retain: true, packetId: 1, payloadLength: 1 } },
  { name: "control: v4 PUBLISH QoS 2, topic at the UTF-8 edges (U+0080, U+D7FF, U+E000, U+10FFFF)", version: 4,
    bytes: "34 10 00 0c c2 80 ed 9f bf ee 80 80 f4 8f bf bf 00 02", expected: OK, spec: "[MQTT-1.5.3-1]",
    fields: { qos: 2, packetId: 2, topicLength: 12, payloadLength: 0 } },
  { name: "control: v4 PUBLISH topic U+FEFF kept as its 3 bytes", version: 4, bytes: "30 05 00 03 ef bb bf",
    expected: OK, spec: "[MQTT-1.5.3-3]", fields: { topicLength: 3, payloadLength: 0 } },
  { name: "control: v5 PUBLISH topic U+FEFF kept as its 3 bytes", version: 5, bytes: "30 06 00 03 ef bb bf 00",
    expected: OK, spec: "[MQTT-1.5.4-3]", fields: { topicLength: 3, payloadLength: 0 } },
  { name: "control: v5 PUBLISH with an empty property block", version: 5, bytes: "30 05 00 01 61 00 7a",
    expected: OK, spec: "[MQTT-2.2.2-1]", fields: { topicLength: 1, payloadLength: 1 } },
  { name: "control: v5 PUBLISH empty topic with a topic alias", version: 5, bytes: "30 07 00 00 03 23 00 05 70",
    expected: OK, spec: "5.0 §3.3.2.1, §3.3.2.3.4", fields: { topicLength: 0, payloadLength: 1 } },
  { name: "control: v5 PUBLISH with two user properties", version: 5,
    bytes: publishV5([USER_PROPERTY, ...str("a"), ...str("b")], [USER_PROPERTY, ...str("a"), ...str("c")]),
    expected: OK, spec: "5.0 §3.3.2.3.7", fields: { userPropertyCount: 2 } },
  { name: "control: v5 PUBLISH with two subscription identifiers", version: 5,
    bytes: publishV5([SUBSCRIPTION_ID, 0x01], [SUBSCRIPTION_ID, 0x80, 0x01]), expected: OK,
    spec: "[MQTT-3.3.4-4]", fields: { subscriptionIdentifierCount: 2 } },
  { name: "control: v4 PUBACK", version: 4, bytes: "40 02 00 01", expected: OK, spec: "3.1.1 §3.4",
    fields: { type: 4, packetId: 1 } },
  { name: "control: v4 PUBREC", version: 4, bytes: "50 02 12 34", expected: OK, spec: "3.1.1 §3.5",
    fields: { packetId: 0x1234 } },
  { name: "control: v4 PUBREL with flags 0010", version: 4, bytes: "62 02 00 01", expected: OK, spec: "[MQTT-3.6.1-1]" },
  { name: "control: v4 PUBCOMP packet id 65535", version: 4, bytes: "70 02 ff ff", expected: OK, spec: "3.1.1 §3.7",
    fields: { packetId: 65535 } },
  { name: "control: v5 PUBACK with reason code only", version: 5, bytes: "40 03 00 01 10", expected: OK,
    spec: "5.0 §3.4.2.1", fields: { reasonCode: 0x10 } },
  { name: "control: v5 PUBACK with reason code and reason string", version: 5, bytes: "40 08 00 01 80 04 1f 00 01 78",
    expected: OK, spec: "5.0 §3.4.2.2", fields: { reasonCode: 0x80 } },
  { name: "control: v5 PUBREL 0x92 (packet identifier not found)", version: 5, bytes: "62 03 00 01 92", expected: OK,
    spec: "[MQTT-3.6.2-1]", fields: { reasonCode: 0x92 } },
  { name: "control: v5 PUBCOMP with an empty property block", version: 5, bytes: "70 04 00 01 00 00", expected: OK,
    spec: "5.0 §3.7.2" },
  { name: "control: v4 SUBACK with all four return codes", version: 4, bytes: "90 06 00 01 00 01 02 80", expected: OK,
    spec: "[MQTT-3.9.3-2]", fields: { reasonCodesCount: 4 } },
  { name: "control: v5 SUBACK with six reason codes", version: 5, bytes: "90 09 00 01 00 00 01 02 80 9e a2",
    expected: OK, spec: "[MQTT-3.9.3-2]", fields: { reasonCodesCount: 6 } },
  { name: "control: v4 UNSUBACK", version: 4, bytes: "b0 02 00 01", expected: OK, spec: "3.1.1 §3.11" },
  { name: "control: v5 UNSUBACK with two reason codes", version: 5, bytes: "b0 05 00 01 00 00 11", expected: OK,
    spec: "[MQTT-3.11.3-2]", fields: { reasonCodesCount: 2 } },
  { name: "control: v4 PINGRESP", version: 4, bytes: "d0 00", expected: OK, spec: "3.1.1 §3.13" },
  { name: "control: v5 PINGRESP", version: 5, bytes: "d0 00", expected: OK, spec: "5.0 §3.13" },
  { name: "control: v5 DISCONNECT with Remaining Length 0", version: 5, bytes: "e0 00", expected: OK,
    spec: "5.0 §3.14.2.1", fields: { reasonCode: 0 } },
  { name: "control: v5 DISCONNECT 0x8B (server shutting down)", version: 5, bytes: "e0 01 8b", expected: OK,
    spec: "[MQTT-3.14.2-1]", fields: { reasonCode: 0x8b } },
  { name: "control: v5 DISCONNECT 0x9C with a server reference", version: 5,
    bytes: pkt(0xe0, [0x9c], props([SERVER_REFERENCE, ...str("h2")])), expected: OK, spec: "5.0 §3.14.2.2.5" },
  { name: "control: v5 AUTH with Remaining Length 0", version: 5, bytes: "f0 00", expected: OK, spec: "5.0 §3.15.2.1" },
  { name: "control: v5 AUTH 0x18 with an authentication method", version: 5,
    bytes: pkt(0xf0, [0x18], props([AUTH_METHOD, ...str("SCRAM")])), expected: OK, spec: "[MQTT-3.15.2-1]",
    fields: { reasonCode: 0x18 } },
  { name: "control: v4 PUBLISH with Remaining Length 128 (0x80 0x01)", version: 4,
    bytes: pkt(0x30, str("a"), repeat(0x41, 125)), expected: OK, spec: "3.1.1 §2.2.3", fields: { payloadLength: 125 } },
  { name: "control: v4 PUBLISH exactly the maximum packet size", version: 4,
    bytes: pkt(0x30, str("a"), repeat(0x41, 59)), maximumPacketSize: 64, expected: OK, spec: "5.0 §3.1.2.11.4",
    fields: { payloadLength: 59 } },
];

const framing: DecodeCase[] = [
  { name: "v4 Remaining Length of five bytes", version: 4, bytes: "30 ff ff ff ff 7f", expected: ERR_REMAINING_LENGTH,
    failsAtByte: 4, spec: "3.1.1 §2.2.3 (at most four bytes)" },
  { name: "v5 Remaining Length of five bytes", version: 5, bytes: "d0 80 80 80 80 01", expected: ERR_REMAINING_LENGTH,
    failsAtByte: 4, spec: "5.0 §1.5.5 (at most four bytes)" },
  { name: "v5 Remaining Length not minimal: 0x80 0x00", version: 5, bytes: "d0 80 00", expected: ERR_REMAINING_LENGTH,
    failsAtByte: 2, spec: "[MQTT-1.5.5-1]" },
  { name: "v5 Remaining Length not minimal: 0x82 0x00 for 2", version: 5, bytes: "40 82 00 00 01",
    expected: ERR_REMAINING_LENGTH, failsAtByte: 2, spec: "[MQTT-1.5.5-1]" },
  { name: "v5 Remaining Length not minimal: 0x85 0x80 0x00 for 5", version: 5, bytes: "30 85 80 00 00 01 61 00 7a",
    expected: ERR_REMAINING_LENGTH, failsAtByte: 3, spec: "[MQTT-1.5.5-1]" },
  { name: "v4 Remaining Length of 268,435,455 over a 1024-byte maximum (header only)", version: 4,
    bytes: "30 ff ff ff 7f", maximumPacketSize: 1024, expected: ERR_PACKET_TOO_LARGE, failsAtByte: 4,
    decodeAlone: ERR_MALFORMED, spec: "receive limit (DESIGN.md); 5.0 §3.1.2.11.4" },
  { name: "v5 PUBLISH one byte over the maximum packet size", version: 5,
    bytes: pkt(0x30, str("a"), [0x00], repeat(0x41, 59)), maximumPacketSize: 64, expected: ERR_PACKET_TOO_LARGE,
    failsAtByte: 1, decodeAlone: OK, spec: "5.0 §3.1.2.11.4, [MQTT-3.1.2-24]" },
  { name: "v5 PUBLISH of 301 bytes over a 100-byte maximum", version: 5,
    bytes: pkt(0x30, str("a"), [0x00], repeat(0x41, 294)), maximumPacketSize: 100, expected: ERR_PACKET_TOO_LARGE,
    failsAtByte: 2, decodeAlone: OK, spec: "5.0 §3.1.2.11.4, [MQTT-3.1.2-24]" },
];

const lengths: DecodeCase[] = [
  { name: "v4 PUBLISH topic length runs past the Remaining Length", version: 4, bytes: "30 05 00 0a 61 62 63",
    expected: ERR_MALFORMED, spec: "[MQTT-3.3.2-1], 3.1.1 §1.5.3" },
  { name: "v5 PUBLISH Remaining Length 1 cuts the topic length", version: 5, bytes: "30 01 00",
    expected: ERR_MALFORMED, spec: "[MQTT-3.3.2-1]" },
  { name: "v4 PUBLISH QoS 1 packet id cut to one byte", version: 4, bytes: "32 04 00 01 61 00",
    expected: ERR_MALFORMED, spec: "3.1.1 §3.3.2.2" },
  { name: "v5 PUBLISH QoS 2 without a packet id", version: 5, bytes: "34 03 00 01 61", expected: ERR_MALFORMED,
    spec: "5.0 §3.3.2.2" },
  { name: "v5 PUBLISH without a property length", version: 5, bytes: "30 03 00 01 61", expected: ERR_MALFORMED,
    spec: "[MQTT-2.2.2-1]" },
  { name: "v4 PUBACK Remaining Length 1", version: 4, bytes: "40 01 00", expected: ERR_MALFORMED, spec: "3.1.1 §3.4.1" },
  { name: "v5 PUBACK Remaining Length 0", version: 5, bytes: "40 00", expected: ERR_MALFORMED, spec: "5.0 §3.4.2" },
  { name: "v4 SUBACK Remaining Length 1", version: 4, bytes: "90 01 00", expected: ERR_MALFORMED, spec: "3.1.1 §3.9.2" },
  { name: "v4 CONNACK Remaining Length 1", version: 4, bytes: "20 01 00", expected: ERR_MALFORMED, spec: "3.1.1 §3.2.1" },
  { name: "v4 PINGRESP with a trailing byte", version: 4, bytes: "d0 01 00", expected: ERR_MALFORMED,
    spec: "3.1.1 §3.13 (Remaining Length 0)" },
  { name: "v5 PINGRESP with a trailing byte", version: 5, bytes: "d0 01 00", expected: ERR_MALFORMED,
    spec: "5.0 §3.13 (no variable header or payload)" },
  { name: "v4 CONNACK with a trailing byte", version: 4, bytes: "20 03 00 00 00", expected: ERR_MALFORMED,
    spec: "3.1.1 §3.2.1 (Remaining Length 2)" },
  { name: "v4 PUBACK with a trailing byte", version: 4, bytes: "40 03 00 01 00", expected: ERR_MALFORMED,
    spec: "3.1.1 §3.4.1 (Remaining Length 2)" },
  { name: "v4 PUBREC with a trailing byte", version: 4, bytes: "50 03 00 01 10", expected: ERR_MALFORMED,
    spec: "3.1.1 §3.5.1 (Remaining Length 2)" },
  { name: "v4 UNSUBACK with a trailing byte", version: 4, bytes: "b0 03 00 01 00", expected: ERR_MALFORMED,
    spec: "3.1.1 §3.11.1 (Remaining Length 2)" },
  { name: "v5 PUBACK with bytes after its property block", version: 5, bytes: "40 05 00 01 00 00 ff",
    expected: ERR_MALFORMED, spec: "5.0 §3.4.2" },
  { name: "v5 CONNACK without a property length", version: 5, bytes: "20 02 00 00", expected: ERR_MALFORMED,
    spec: "[MQTT-2.2.2-1], 5.0 §3.2.2.3.1" },
  { name: "v4 PUBLISH whose Remaining Length promises more than arrives", version: 4, bytes: "30 0a 00 01 61",
    expected: ERR_MALFORMED, incomplete: true, spec: "3.1.1 §2.2.3" },
  { name: "v5 SUBACK without any reason code", version: 5, bytes: "90 03 00 01 00", expected: ERR_MALFORMED,
    spec: "[MQTT-3.8.4-6], [MQTT-3.9.3-1]" },
  { name: "v5 UNSUBACK without any reason code", version: 5, bytes: "b0 03 00 01 00", expected: ERR_MALFORMED,
    spec: "[MQTT-3.11.3-1], [MQTT-3.10.3-2]" },
  { name: "v4 SUBACK without any return code", version: 4, bytes: "90 02 00 01", expected: ERR_MALFORMED,
    spec: "[MQTT-3.8.4-5], [MQTT-3.8.3-3]" },
];

const flags: DecodeCase[] = [
  { name: "v4 PUBREL with flags 0000", version: 4, bytes: "60 02 00 01", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-3.6.1-1], [MQTT-2.2.2-2]" },
  { name: "v5 PUBREL with flags 0011", version: 5, bytes: "63 02 00 01", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-3.6.1-1], [MQTT-2.1.3-1]" },
  { name: "v4 PUBACK with flags 0010", version: 4, bytes: "42 02 00 01", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.2.2-1], [MQTT-2.2.2-2]" },
  { name: "v5 PUBREC with flags 0001", version: 5, bytes: "51 02 00 01", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.1.3-1]" },
  { name: "v4 PUBCOMP with flags 0010", version: 4, bytes: "72 02 00 01", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.2.2-2]" },
  { name: "v4 CONNACK with flags 0001", version: 4, bytes: "21 02 00 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.2.2-2]" },
  { name: "v5 CONNACK with flags 1000", version: 5, bytes: "28 03 00 00 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.1.3-1]" },
  { name: "v4 SUBACK with flags 0010", version: 4, bytes: "92 03 00 01 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.2.2-2]" },
  { name: "v5 UNSUBACK with flags 0010", version: 5, bytes: "b2 04 00 01 00 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.1.3-1]" },
  { name: "v4 PINGRESP with flags 0001", version: 4, bytes: "d1 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.2.2-2]" },
  { name: "v5 PINGRESP with flags 0100", version: 5, bytes: "d4 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-2.1.3-1]" },
  { name: "v5 DISCONNECT with flags 0010", version: 5, bytes: "e2 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-3.14.1-1]" },
  { name: "v5 AUTH with flags 0001", version: 5, bytes: "f1 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-3.15.1-1]" },
  { name: "v4 PUBLISH QoS 3", version: 4, bytes: "36 05 00 01 61 00 01", expected: ERR_BAD_QOS,
    spec: "[MQTT-3.3.1-4]" },
  { name: "v5 PUBLISH QoS 3 with DUP", version: 5, bytes: "3e 06 00 01 61 00 01 00", expected: ERR_BAD_QOS,
    spec: "[MQTT-3.3.1-4]" },
  { name: "v4 CONNACK acknowledge flags 0x02", version: 4, bytes: "20 02 02 00", expected: ERR_RESERVED_FLAGS,
    spec: "3.1.1 §3.2.2.1 (bits 7-1 reserved)" },
  { name: "v5 CONNACK acknowledge flags 0x80", version: 5, bytes: "20 03 80 00 00", expected: ERR_RESERVED_FLAGS,
    spec: "[MQTT-3.2.2-1]" },
];

const reasonCodes: DecodeCase[] = [
  { name: "v4 CONNACK return code 6", version: 4, bytes: "20 02 00 06", expected: ERR_REASON_CODE,
    spec: "3.1.1 §3.2.2.3 (6-255 reserved)" },
  { name: "v5 CONNACK reason code 0x01", version: 5, bytes: "20 03 00 01 00", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.2.2-8]" },
  { name: "v5 PUBACK reason code 0x05", version: 5, bytes: "40 03 00 01 05", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.4.2-1]" },
  { name: "v5 PUBREC reason code 0x92 (PUBREL/PUBCOMP only)", version: 5, bytes: "50 03 00 01 92",
    expected: ERR_REASON_CODE, spec: "[MQTT-3.5.2-1]" },
  { name: "v5 PUBREL reason code 0x10", version: 5, bytes: "62 03 00 01 10", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.6.2-1]" },
  { name: "v5 PUBCOMP reason code 0x80", version: 5, bytes: "70 03 00 01 80", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.7.2-1]" },
  { name: "v4 SUBACK return code 0x03", version: 4, bytes: "90 03 00 01 03", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.9.3-2]" },
  { name: "v4 SUBACK second return code 0x81", version: 4, bytes: "90 04 00 01 00 81", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.9.3-2]" },
  { name: "v5 SUBACK reason code 0x03", version: 5, bytes: "90 04 00 01 00 03", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.9.3-2]" },
  { name: "v5 UNSUBACK reason code 0x01", version: 5, bytes: "b0 04 00 01 00 01", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.11.3-2]" },
  { name: "v5 DISCONNECT 0x04 from the server (client only)", version: 5, bytes: "e0 01 04",
    expected: ERR_REASON_CODE, spec: "[MQTT-3.14.2-1], 5.0 Table 3-10" },
  { name: "v5 AUTH reason code 0x01", version: 5, bytes: "f0 01 01", expected: ERR_REASON_CODE,
    spec: "[MQTT-3.15.2-1]" },
  { name: "v5 AUTH 0x19 from the server (re-authenticate is client only)", version: 5,
    bytes: pkt(0xf0, [0x19], props([AUTH_METHOD, ...str("SCRAM")])), expected: ERR_REASON_CODE,
    spec: "[MQTT-3.15.2-1], 5.0 Table 3-11" },
];

const utf8: DecodeCase[] = [
  { name: "v4 topic with overlong C0 80", version: 4, bytes: publishTopicBytes([0x61, 0xc0, 0x80]),
    expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v5 topic with overlong E0 80 AF ('/')", version: 5,
    bytes: pkt(0x30, lp([0x61, 0xe0, 0x80, 0xaf]), [0x00]), expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.4-1]" },
  { name: "v4 topic with encoded surrogate ED A0 80", version: 4, bytes: publishTopicBytes([0xed, 0xa0, 0x80]),
    expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v5 topic with encoded surrogate ED BF BF", version: 5,
    bytes: pkt(0x30, lp([0xed, 0xbf, 0xbf]), [0x00]), expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.4-1]" },
  { name: "v4 topic with F5 80 80 80", version: 4, bytes: publishTopicBytes([0xf5, 0x80, 0x80, 0x80]),
    expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic with F4 90 80 80 (past U+10FFFF)", version: 4, bytes: publishTopicBytes([0xf4, 0x90, 0x80, 0x80]),
    expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic ending inside a sequence (E2 82, payload AC follows)", version: 4,
    bytes: publishTopicBytes([0x61, 0xe2, 0x82], [0xac, 0x21]), expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic with a lone continuation byte 80", version: 4, bytes: publishTopicBytes([0x61, 0x80, 0x62]),
    expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic with byte FF", version: 4, bytes: publishTopicBytes([0xff]), expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic with F0 9F 98 41 (bad third continuation)", version: 4,
    bytes: publishTopicBytes([0xf0, 0x9f, 0x98, 0x41]), expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.3-1]" },
  { name: "v4 topic with U+0000", version: 4, bytes: publishTopicBytes([0x61, 0x00, 0x62]), expected: ERR_UTF8_NULL,
    spec: "[MQTT-1.5.3-2], [MQTT-4.7.3-2]" },
  { name: "v5 topic with U+0000", version: 5, bytes: pkt(0x30, lp([0x00]), [0x00]), expected: ERR_UTF8_NULL,
    spec: "[MQTT-1.5.4-2], [MQTT-4.7.3-2]" },
  { name: "v5 content type with encoded surrogate", version: 5,
    bytes: publishV5([CONTENT_TYPE, ...lp([0xed, 0xb0, 0x80])]), expected: ERR_BAD_UTF8,
    spec: "[MQTT-3.3.2-19], [MQTT-1.5.4-1]" },
  { name: "v5 response topic with overlong C1 BF", version: 5,
    bytes: publishV5([RESPONSE_TOPIC, ...lp([0xc1, 0xbf])]), expected: ERR_BAD_UTF8,
    spec: "[MQTT-3.3.2-13], [MQTT-1.5.4-1]" },
  { name: "v5 PUBACK reason string with U+0000", version: 5,
    bytes: pkt(0x40, u16(1), [0x80], props([REASON_STRING, ...lp([0x6f, 0x00])])), expected: ERR_UTF8_NULL,
    spec: "[MQTT-1.5.4-2]" },
  { name: "v5 CONNACK assigned client id with a lone continuation byte", version: 5,
    bytes: connackV5([ASSIGNED_CLIENT_ID, ...lp([0x63, 0xbf])]), expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.4-1]" },
  { name: "v5 DISCONNECT server reference with overlong C0 AE", version: 5,
    bytes: pkt(0xe0, [0x9d], props([SERVER_REFERENCE, ...lp([0xc0, 0xae])])), expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.4-1]" },
  { name: "v5 user property key with overlong C1 BF", version: 5,
    bytes: publishV5([USER_PROPERTY, ...lp([0xc1, 0xbf]), ...str("v")]), expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.7-1]" },
  { name: "v5 user property value ending inside a sequence", version: 5,
    bytes: publishV5([USER_PROPERTY, ...str("k"), ...lp([0x76, 0xf0, 0x9f])]), expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.7-1]" },
  { name: "v5 user property value with U+0000", version: 5,
    bytes: connackV5([USER_PROPERTY, ...str("k"), ...lp([0x00])]), expected: ERR_UTF8_NULL, spec: "[MQTT-1.5.7-1]" },
];

const topics: DecodeCase[] = [
  { name: "v4 topic name with '+'", version: 4, bytes: publishTopicBytes(ascii("a/+/b")), expected: ERR_TOPIC_WILDCARD,
    spec: "[MQTT-3.3.2-2], [MQTT-4.7.1-1]" },
  { name: "v4 topic name with '#'", version: 4, bytes: publishTopicBytes(ascii("a/#")), expected: ERR_TOPIC_WILDCARD,
    spec: "[MQTT-3.3.2-2], [MQTT-4.7.1-1]" },
  { name: "v5 topic name with '#'", version: 5, bytes: pkt(0x30, str("#"), [0x00]), expected: ERR_TOPIC_WILDCARD,
    spec: "[MQTT-3.3.2-2], [MQTT-4.7.0-1]" },
  { name: "v5 topic name with '+' inside a level", version: 5, bytes: pkt(0x30, str("a+b"), [0x00]),
    expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-3.3.2-2], [MQTT-4.7.0-1]" },
  { name: "v4 empty topic name", version: 4, bytes: "30 03 00 00 78", expected: ERR_TOPIC_EMPTY,
    spec: "[MQTT-4.7.3-1]" },
  // Topic "a", properties: Response Topic (0x08) "r/+", no payload.
  { name: "v5 PUBLISH with a wildcard in its response topic", version: 5,
    bytes: pkt(0x30, str("a"), [0x06, 0x08], str("r/+")), expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-3.3.2-14]" },
  { name: "v5 empty topic name without a topic alias", version: 5, bytes: "30 03 00 00 00", expected: ERR_TOPIC_EMPTY,
    spec: "5.0 §3.3.2.1, [MQTT-4.7.3-1]" },
  { name: "v5 empty topic name with properties but no topic alias", version: 5,
    bytes: pkt(0x30, str(""), props([PAYLOAD_FORMAT, 0x01]), ascii("x")), expected: ERR_TOPIC_EMPTY,
    spec: "5.0 §3.3.2.1" },
];

const packetIds: DecodeCase[] = [
  { name: "v4 PUBLISH QoS 1 packet id 0", version: 4, bytes: "32 05 00 01 61 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.3.1-1], [MQTT-2.3.1-4]" },
  { name: "v5 PUBLISH QoS 2 packet id 0", version: 5, bytes: "34 06 00 01 61 00 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.2.1-4]" },
  { name: "v4 PUBACK packet id 0", version: 4, bytes: "40 02 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.3.1-6] (the PUBLISH's id is never 0)" },
  { name: "v5 PUBREL packet id 0", version: 5, bytes: "62 02 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.2.1-5]" },
  { name: "v4 SUBACK packet id 0", version: 4, bytes: "90 03 00 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.3.1-7]" },
  { name: "v5 UNSUBACK packet id 0", version: 5, bytes: "b0 04 00 00 00 00", expected: ERR_PACKET_ID_ZERO,
    spec: "[MQTT-2.2.1-6]" },
];

const propertyCases: DecodeCase[] = [
  { name: "v5 CONNACK with two receive maximums", version: 5,
    bytes: connackV5([RECEIVE_MAXIMUM, 0x00, 0x0a], [RECEIVE_MAXIMUM, 0x00, 0x0b]), expected: ERR_PROPERTY_DUPLICATE,
    spec: "5.0 §3.2.2.3.3" },
  { name: "v5 PUBLISH with two topic aliases", version: 5,
    bytes: publishV5([TOPIC_ALIAS, 0x00, 0x01], [TOPIC_ALIAS, 0x00, 0x02]), expected: ERR_PROPERTY_DUPLICATE,
    spec: "5.0 §3.3.2.3.4" },
  { name: "v5 PUBLISH with two content types", version: 5,
    bytes: publishV5([CONTENT_TYPE, ...str("a")], [CONTENT_TYPE, ...str("b")]), expected: ERR_PROPERTY_DUPLICATE,
    spec: "5.0 §3.3.2.3.9" },
  { name: "v5 PUBACK with two reason strings", version: 5,
    bytes: pkt(0x40, u16(1), [0x80], props([REASON_STRING, ...str("a")], [REASON_STRING, ...str("b")])),
    expected: ERR_PROPERTY_DUPLICATE, spec: "5.0 §3.4.2.2.2" },
  { name: "v5 DISCONNECT with two session expiry intervals", version: 5,
    bytes: pkt(0xe0, [0x00], props([SESSION_EXPIRY, 0, 0, 0, 1], [SESSION_EXPIRY, 0, 0, 0, 2])),
    expected: ERR_PROPERTY_DUPLICATE, spec: "5.0 §3.14.2.2.2" },
  { name: "v5 PUBLISH with property id 0x00", version: 5, bytes: publishV5([0x00, 0x01]),
    expected: ERR_PROPERTY_UNKNOWN, spec: "5.0 §2.2.2.2" },
  { name: "v5 CONNACK with property id 0x04", version: 5, bytes: connackV5([0x04, 0x01]),
    expected: ERR_PROPERTY_UNKNOWN, spec: "5.0 §2.2.2.2" },
  { name: "v5 PUBACK with property id 0x2B", version: 5, bytes: pkt(0x40, u16(1), [0x00], props([0x2b, 0x01])),
    expected: ERR_PROPERTY_UNKNOWN, spec: "5.0 §2.2.2.2" },
  { name: "v5 DISCONNECT with property id 0x7F", version: 5, bytes: pkt(0xe0, [0x00], props([0x7f, 0x01])),
    expected: ERR_PROPERTY_UNKNOWN, spec: "5.0 §2.2.2.2" },
  { name: "v5 topic alias in CONNACK", version: 5, bytes: connackV5([TOPIC_ALIAS, 0x00, 0x01]),
    expected: ERR_PROPERTY_NOT_ALLOWED, spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 session expiry interval in PUBLISH", version: 5, bytes: publishV5([SESSION_EXPIRY, 0, 0, 0, 10]),
    expected: ERR_PROPERTY_NOT_ALLOWED, spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 will delay interval in CONNACK", version: 5, bytes: connackV5([WILL_DELAY, 0, 0, 0, 10]),
    expected: ERR_PROPERTY_NOT_ALLOWED, spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 subscription identifier in SUBACK", version: 5,
    bytes: pkt(0x90, u16(1), props([SUBSCRIPTION_ID, 0x01]), [0x00]), expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 receive maximum in PUBACK", version: 5,
    bytes: pkt(0x40, u16(1), [0x00], props([RECEIVE_MAXIMUM, 0x00, 0x01])), expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 server reference in AUTH", version: 5, bytes: pkt(0xf0, [0x18], props([SERVER_REFERENCE, ...str("h")])),
    expected: ERR_PROPERTY_NOT_ALLOWED, spec: "5.0 §2.2.2.2, Table 2-4" },
  { name: "v5 receive maximum 0", version: 5, bytes: connackV5([RECEIVE_MAXIMUM, 0x00, 0x00]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.2.2.3.3" },
  { name: "v5 maximum packet size 0", version: 5, bytes: connackV5([MAXIMUM_PACKET_SIZE, 0, 0, 0, 0]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.2.2.3.6" },
  { name: "v5 topic alias 0", version: 5, bytes: publishV5([TOPIC_ALIAS, 0x00, 0x00]), expected: ERR_PROPERTY_VALUE,
    spec: "[MQTT-3.3.2-8]" },
  { name: "v5 maximum QoS 2", version: 5, bytes: connackV5([MAXIMUM_QOS, 0x02]), expected: ERR_PROPERTY_VALUE,
    spec: "5.0 §3.2.2.3.4" },
  { name: "v5 retain available 2", version: 5, bytes: connackV5([RETAIN_AVAILABLE, 0x02]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.2.2.3.5" },
  { name: "v5 wildcard subscription available 2", version: 5, bytes: connackV5([WILDCARD_SUB_AVAILABLE, 0x02]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.2.2.3.11" },
  { name: "v5 payload format indicator 2", version: 5, bytes: publishV5([PAYLOAD_FORMAT, 0x02]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.3.2.3.2" },
  { name: "v5 subscription identifier 0", version: 5, bytes: publishV5([SUBSCRIPTION_ID, 0x00]),
    expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.3.2.3.8" },
  { name: "v5 property length runs past the packet", version: 5, bytes: "40 04 00 01 00 05",
    expected: ERR_MALFORMED, spec: "5.0 §2.2.2.1" },
  { name: "v5 property value runs past the property block", version: 5,
    bytes: pkt(0x20, [0x00, 0x00], [0x02, RECEIVE_MAXIMUM, 0x00], [0x0a]), expected: ERR_MALFORMED,
    spec: "5.0 §2.2.2.2" },
  { name: "v5 reason string length runs past the property block", version: 5,
    bytes: pkt(0x40, u16(1), [0x80], props([REASON_STRING, 0x00, 0x0a, 0x61])), expected: ERR_MALFORMED,
    spec: "5.0 §1.5.4, §2.2.2.2" },
  { name: "v5 property length not minimal (0x80 0x00)", version: 5, bytes: "40 05 00 01 00 80 00",
    expected: ERR_MALFORMED, spec: "[MQTT-1.5.5-1]" },
  { name: "v5 subscription identifier not minimal (0x80 0x00)", version: 5,
    bytes: publishV5([SUBSCRIPTION_ID, 0x80, 0x00]), expected: ERR_MALFORMED, spec: "[MQTT-1.5.5-1]" },
];

const unexpected: DecodeCase[] = [
  { name: "v4 CONNECT", version: 4, bytes: pkt(0x10, str("MQTT"), [0x04, 0x02, 0x00, 0x3c], str("c")),
    expected: ERR_UNEXPECTED_PACKET, spec: "3.1.1 Table 2.1 (Client to Server only)" },
  { name: "v5 CONNECT", version: 5, bytes: pkt(0x10, str("MQTT"), [0x05, 0x02, 0x00, 0x3c, 0x00], str("c")),
    expected: ERR_UNEXPECTED_PACKET, spec: "5.0 Table 2-1 (Client to Server only)" },
  { name: "v5 SUBSCRIBE", version: 5, bytes: pkt(0x82, u16(1), [0x00], str("a"), [0x01]),
    expected: ERR_UNEXPECTED_PACKET, spec: "5.0 Table 2-1 (Client to Server only)" },
  { name: "v4 SUBSCRIBE with flags 0000", version: 4, bytes: pkt(0x80, u16(1), str("a"), [0x01]),
    expected: ERR_UNEXPECTED_PACKET, spec: "3.1.1 Table 2.1 (Client to Server only)" },
  { name: "v4 UNSUBSCRIBE", version: 4, bytes: pkt(0xa2, u16(1), str("a")), expected: ERR_UNEXPECTED_PACKET,
    spec: "3.1.1 Table 2.1 (Client to Server only)" },
  { name: "v5 PINGREQ", version: 5, bytes: "c0 00", expected: ERR_UNEXPECTED_PACKET,
    spec: "5.0 Table 2-1 (Client to Server only)" },
  { name: "v4 reserved packet type 0", version: 4, bytes: "00 00", expected: ERR_UNEXPECTED_PACKET,
    spec: "3.1.1 Table 2.1 (0 reserved)" },
  { name: "v5 reserved packet type 0", version: 5, bytes: "00 02 00 01", expected: ERR_UNEXPECTED_PACKET,
    spec: "5.0 Table 2-1 (0 reserved)" },
  { name: "v4 DISCONNECT", version: 4, bytes: "e0 00", expected: ERR_UNEXPECTED_PACKET,
    spec: "3.1.1 Table 2.1 (DISCONNECT Client to Server only)" },
  { name: "v4 packet type 15 (AUTH in 5.0)", version: 4, bytes: "f0 00", expected: ERR_UNEXPECTED_PACKET,
    spec: "3.1.1 Table 2.1 (15 reserved)" },
];

export const DECODE_CORPUS: DecodeCase[] = [
  ...controls, ...framing, ...lengths, ...flags, ...reasonCodes, ...utf8, ...topics, ...packetIds, ...propertyCases,
  ...unexpected,
];

// ---------------------------------------------------------------------------------------------------
// The encode corpus

export interface EncodeCase {
  name: string;
  version: 4 | 5;
  /** The code the encoder returns; OK for controls (which then return the packet's length). */
  expected: number;
  spec: string;
  encode: (buffer: Uint8Array) => number;
  /** Transmit buffer size (default 1024). */
  bufferSize?: number;
  /** Controls: the exact bytes written. */
  bytes?: string;
  /** Controls: the first bytes written and the total length. */
  prefix?: string;
  length?: number;
  /** Controls of a type the client also receives: decodePacket must accept what was written. */
  roundTrip?: boolean;
}

function publishFields(init: Partial<PublishFields> & { body?: string }): PublishFields {
  const fields = new PublishFields();
  const { body, ...rest } = init;
  Object.assign(fields, rest);
  if (body !== undefined) {
    fields.payload = Uint8Array.from(Buffer.from(body, "latin1"));
    fields.payloadOffset = 0;
    fields.payloadLength = fields.payload.length;
  }
  return fields;
}

function properties(init: Partial<Properties>): Properties {
  return Object.assign(new Properties(), init);
}

function connectFields(init: Partial<ConnectFields>): ConnectFields {
  return Object.assign(new ConnectFields(), init);
}

function will(init: Partial<Will>): Will {
  return Object.assign(new Will(), init);
}

function sub(filter: string, qos: number, options: Partial<Subscription> = {}): Subscription {
  return Object.assign(new Subscription(filter, qos), options);
}

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, "latin1"));
}

const LONG_65535 = "a".repeat(65535);
const LONG_65536 = "a".repeat(65536);

const encodeControls: EncodeCase[] = [
  { name: "control: v4 CONNECT, empty client id, clean session", version: 4, expected: OK,
    spec: "[MQTT-3.1.3-7], [MQTT-3.1.2-3], [MQTT-3.1.2-11]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 4, clientId: "", cleanStart: true, keepAlive: 60 })),
    bytes: "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00" },
  { name: "control: v4 CONNECT with will, user name and password in order", version: 4, expected: OK,
    spec: "[MQTT-3.1.3-1], [MQTT-3.1.2-9], [MQTT-3.1.2-19], [MQTT-3.1.2-21]",
    encode: (b) => encodeConnect(b, 0, connectFields({
      protocolVersion: 4, clientId: "c", keepAlive: 10, username: "u", password: bytesOf("p"),
      will: will({ topic: "w", payload: bytesOf("x"), qos: 1, retain: true }),
    })),
    bytes: "10 19 00 04 4d 51 54 54 04 ee 00 0a 00 01 63 00 01 77 00 01 78 00 01 75 00 01 70" },
  { name: "control: v5 CONNECT without properties writes property length 0", version: 5, expected: OK,
    spec: "[MQTT-2.2.2-1]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "", keepAlive: 60 })),
    bytes: "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 00 00" },
  { name: "control: v5 CONNECT with will: will property length before will topic", version: 5, expected: OK,
    spec: "[MQTT-3.1.2-9], [MQTT-3.1.3-1], [MQTT-2.2.2-1]",
    encode: (b) => encodeConnect(b, 0, connectFields({
      protocolVersion: 5, clientId: "c", keepAlive: 10, will: will({ topic: "w", payload: bytesOf("x") }),
    })),
    bytes: "10 15 00 04 4d 51 54 54 05 06 00 0a 00 00 01 63 00 00 01 77 00 01 78" },
  { name: "control: v5 CONNECT with user name and password", version: 5, expected: OK,
    spec: "[MQTT-3.1.2-17], [MQTT-3.1.2-19], [MQTT-3.1.3-1]",
    encode: (b) => encodeConnect(b, 0, connectFields({
      protocolVersion: 5, clientId: "c", keepAlive: 10, username: "u", password: bytesOf("p"),
    })),
    bytes: "10 14 00 04 4d 51 54 54 05 c2 00 0a 00 00 01 63 00 01 75 00 01 70" },
  { name: "control: v5 CONNECT password without user name", version: 5, expected: OK, spec: "5.0 §3.1.2.9",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c", password: bytesOf("p") })) },
  { name: "control: v4 PUBLISH QoS 0 carries no packet id", version: 4, expected: OK, spec: "[MQTT-2.3.1-5]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", qos: 0, packetId: 7, body: "b" })),
    bytes: "30 04 00 01 61 62", roundTrip: true },
  { name: "control: v5 PUBLISH QoS 0 carries no packet id", version: 5, expected: OK, spec: "[MQTT-2.2.1-2]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", qos: 0, packetId: 7, body: "b" })),
    bytes: "30 05 00 01 61 00 62", roundTrip: true },
  { name: "control: v5 PUBLISH QoS 1: topic, packet id, property length, payload", version: 5, expected: OK,
    spec: "5.0 §3.3.2, [MQTT-2.2.2-1]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", qos: 1, packetId: 0x1234, body: "b" })),
    bytes: "32 07 00 01 61 12 34 00 62", roundTrip: true },
  { name: "control: v5 PUBLISH empty topic with a topic alias", version: 5, expected: OK, spec: "5.0 §3.3.2.1",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "", properties: properties({ topicAlias: 5 }) })),
    bytes: "30 06 00 00 03 23 00 05", roundTrip: true },
  { name: "control: v4 PUBLISH topic of 65,535 bytes", version: 4, expected: OK, spec: "[MQTT-4.7.3-3]",
    bufferSize: 70000, encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: LONG_65535 })),
    prefix: "30 81 80 04 ff ff 61", length: 65541, roundTrip: true },
  { name: "control: Remaining Length 127 in one byte", version: 4, expected: OK, spec: "[MQTT-1.5.5-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", body: "x".repeat(124) })),
    prefix: "30 7f", length: 129, roundTrip: true },
  { name: "control: Remaining Length 128 in two bytes (80 01)", version: 4, expected: OK, spec: "[MQTT-1.5.5-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", body: "x".repeat(125) })),
    prefix: "30 80 01", length: 131, roundTrip: true },
  { name: "control: Remaining Length 16,384 in three bytes (80 80 01)", version: 4, expected: OK,
    spec: "[MQTT-1.5.5-1]", bufferSize: 20000,
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", body: "x".repeat(16381) })),
    prefix: "30 80 80 01", length: 16388, roundTrip: true },
  { name: "control: v4 PUBLISH multi-byte UTF-8 topic", version: 4, expected: OK, spec: "[MQTT-1.5.3-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "\u00e9\u20ac\u{1d11e}" })),
    bytes: "30 0b 00 09 c3 a9 e2 82 ac f0 9d 84 9e", roundTrip: true },
  { name: "control: v4 PUBLISH topic U+FEFF written as EF BB BF", version: 4, expected: OK, spec: "[MQTT-1.5.3-3]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "\ufeff" })),
    bytes: "30 05 00 03 ef bb bf", roundTrip: true },
  { name: "control: v4 PUBREL with flags 0010", version: 4, expected: OK, spec: "[MQTT-3.6.1-1]",
    encode: (b) => encodeAck(b, 0, 4, PUBREL, 1, 0, null), bytes: "62 02 00 01", roundTrip: true },
  { name: "control: v5 PUBACK success without properties omits the reason code", version: 5, expected: OK,
    spec: "5.0 §3.4.2.1", encode: (b) => encodeAck(b, 0, 5, PUBACK, 5, 0, null), bytes: "40 02 00 05", roundTrip: true },
  { name: "control: v5 PUBREC 0x10 (no matching subscribers)", version: 5, expected: OK, spec: "[MQTT-3.5.2-1]",
    encode: (b) => encodeAck(b, 0, 5, PUBREC, 5, 0x10, null), bytes: "50 03 00 05 10", roundTrip: true },
  { name: "control: v4 SUBSCRIBE with flags 0010", version: 4, expected: OK, spec: "[MQTT-3.8.1-1]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("a/#", 1)], 1, null),
    bytes: "82 08 00 01 00 03 61 2f 23 01" },
  { name: "control: v5 SUBSCRIBE options leave bits 7-6 zero", version: 5, expected: OK, spec: "[MQTT-3.8.3-5]",
    encode: (b) => encodeSubscribe(b, 0, 5, 1,
      [sub("a", 1, { noLocal: true, retainAsPublished: true, retainHandling: 2 })], 1, null),
    bytes: "82 07 00 01 00 00 01 61 2d" },
  { name: "control: valid topic filters '#', '+', '+/+', 'a/+/b/#', '/', 'a//b'", version: 4, expected: OK,
    spec: "[MQTT-4.7.1-2], [MQTT-4.7.1-3]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1,
      [sub("#", 0), sub("+", 0), sub("+/+", 0), sub("a/+/b/#", 0), sub("/", 0), sub("a//b", 0)], 6, null) },
  { name: "control: v5 shared subscription '$share/g/a/#'", version: 5, expected: OK, spec: "[MQTT-4.8.2-1]",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("$share/g/a/#", 1)], 1, null) },
  { name: "control: v4 UNSUBSCRIBE with flags 0010", version: 4, expected: OK, spec: "[MQTT-3.10.1-1]",
    encode: (b) => encodeUnsubscribe(b, 0, 4, 1, ["a"], 1, null), bytes: "a2 05 00 01 00 01 61" },
  { name: "control: v5 UNSUBSCRIBE with flags 0010", version: 5, expected: OK, spec: "[MQTT-3.10.1-1]",
    encode: (b) => encodeUnsubscribe(b, 0, 5, 2, ["a/+"], 1, null), bytes: "a2 08 00 02 00 00 03 61 2f 2b" },
  { name: "control: PINGREQ", version: 4, expected: OK, spec: "3.1.1 §3.12", encode: (b) => encodePingreq(b, 0),
    bytes: "c0 00" },
  { name: "control: v4 DISCONNECT", version: 4, expected: OK, spec: "[MQTT-3.14.1-1]",
    encode: (b) => encodeDisconnect(b, 0, 4, 0, null), bytes: "e0 00" },
  { name: "control: v5 DISCONNECT 0x04 (with will message)", version: 5, expected: OK, spec: "[MQTT-3.14.2-1]",
    encode: (b) => encodeDisconnect(b, 0, 5, 0x04, null), bytes: "e0 01 04" },
  { name: "control: v5 DISCONNECT 0x97 (quota exceeded, client or server)", version: 5, expected: OK,
    spec: "[MQTT-3.14.2-1], 5.0 Table 3-10", encode: (b) => encodeDisconnect(b, 0, 5, 0x97, null),
    bytes: "e0 01 97" },
  { name: "control: v5 DISCONNECT with a session expiry interval", version: 5, expected: OK, spec: "5.0 §3.14.2.2.2",
    encode: (b) => encodeDisconnect(b, 0, 5, 0, properties({ sessionExpiry: 0 })), bytes: "e0 07 00 05 11 00 00 00 00" },
  { name: "control: v5 AUTH 0x19 (re-authenticate) with method", version: 5, expected: OK, spec: "[MQTT-3.15.2-1]",
    encode: (b) => encodeAuth(b, 0, 0x19, properties({ authMethod: "SCRAM" })),
    bytes: "f0 0a 19 08 15 00 05 53 43 52 41 4d" },
];

const encodeErrors: EncodeCase[] = [
  // QoS
  { name: "v4 PUBLISH QoS 3", version: 4, expected: ERR_BAD_QOS, spec: "[MQTT-3.3.1-4]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", qos: 3, packetId: 1 })) },
  { name: "v5 PUBLISH QoS 3", version: 5, expected: ERR_BAD_QOS, spec: "[MQTT-3.3.1-4]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", qos: 3, packetId: 1 })) },
  { name: "v4 will QoS 3", version: 4, expected: ERR_BAD_QOS, spec: "[MQTT-3.1.2-14]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", will: will({ topic: "w", qos: 3 }) })) },
  { name: "v5 will QoS 3", version: 5, expected: ERR_BAD_QOS, spec: "[MQTT-3.1.2-12]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      will: will({ topic: "w", qos: 3 }) })) },
  { name: "v4 SUBSCRIBE requested QoS 3", version: 4, expected: ERR_BAD_QOS, spec: "[MQTT-3.8.3-4]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("a", 3)], 1, null) },
  // Packet identifiers
  { name: "v4 PUBLISH QoS 1 packet id 0", version: 4, expected: ERR_PACKET_ID_ZERO, spec: "[MQTT-2.3.1-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", qos: 1, packetId: 0 })) },
  { name: "v5 PUBLISH QoS 2 packet id 0", version: 5, expected: ERR_PACKET_ID_ZERO, spec: "[MQTT-2.2.1-3]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", qos: 2, packetId: 0 })) },
  { name: "v4 SUBSCRIBE packet id 0", version: 4, expected: ERR_PACKET_ID_ZERO, spec: "[MQTT-2.3.1-1]",
    encode: (b) => encodeSubscribe(b, 0, 4, 0, [sub("a", 0)], 1, null) },
  { name: "v5 UNSUBSCRIBE packet id 0", version: 5, expected: ERR_PACKET_ID_ZERO, spec: "[MQTT-2.2.1-3]",
    encode: (b) => encodeUnsubscribe(b, 0, 5, 0, ["a"], 1, null) },
  { name: "v4 PUBACK packet id 0", version: 4, expected: ERR_PACKET_ID_ZERO, spec: "[MQTT-2.3.1-6]",
    encode: (b) => encodeAck(b, 0, 4, PUBACK, 0, 0, null) },
  // DUP
  { name: "v4 PUBLISH DUP with QoS 0", version: 4, expected: ERR_BAD_ARGUMENT, spec: "[MQTT-3.3.1-2]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", qos: 0, dup: true })) },
  { name: "v5 PUBLISH DUP with QoS 0", version: 5, expected: ERR_BAD_ARGUMENT, spec: "[MQTT-3.3.1-2]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", qos: 0, dup: true })) },
  // Topic names
  { name: "v4 PUBLISH topic with '+'", version: 4, expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-3.3.2-2], [MQTT-4.7.1-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a/+/c" })) },
  { name: "v5 PUBLISH topic with '#'", version: 5, expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-3.3.2-2], [MQTT-4.7.0-1]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a/#" })) },
  { name: "v4 will topic with '#'", version: 4, expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-4.7.1-1]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", will: will({ topic: "w/#" }) })) },
  { name: "v5 response topic with '+'", version: 5, expected: ERR_TOPIC_WILDCARD, spec: "[MQTT-3.3.2-14]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", properties: properties({ responseTopic: "r/+" }) })) },
  { name: "v4 PUBLISH empty topic", version: 4, expected: ERR_TOPIC_EMPTY, spec: "[MQTT-4.7.3-1]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "" })) },
  { name: "v5 PUBLISH empty topic without a topic alias", version: 5, expected: ERR_TOPIC_EMPTY,
    spec: "5.0 §3.3.2.1, [MQTT-4.7.3-1]", encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "" })) },
  { name: "v4 will topic empty", version: 4, expected: ERR_TOPIC_EMPTY, spec: "[MQTT-4.7.3-1]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", will: will({ topic: "" }) })) },
  // UTF-8
  { name: "v4 PUBLISH topic with U+0000", version: 4, expected: ERR_UTF8_NULL, spec: "[MQTT-1.5.3-2], [MQTT-4.7.3-2]",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a\u0000b" })) },
  { name: "v4 client id with a lone high surrogate", version: 4, expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.3-1], [MQTT-3.1.3-4]", encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c\ud800" })) },
  { name: "v5 client id with a lone low surrogate", version: 5, expected: ERR_BAD_UTF8,
    spec: "[MQTT-1.5.4-1], [MQTT-3.1.3-4]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "\udc00c" })) },
  { name: "v4 user name with U+0000", version: 4, expected: ERR_UTF8_NULL, spec: "[MQTT-3.1.3-11], [MQTT-1.5.3-2]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", username: "u\u0000" })) },
  { name: "v5 user name with a lone surrogate", version: 5, expected: ERR_BAD_UTF8, spec: "[MQTT-3.1.3-12]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c", username: "\ud83d" })) },
  { name: "v4 will topic with U+0000", version: 4, expected: ERR_UTF8_NULL, spec: "[MQTT-3.1.3-10]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", will: will({ topic: "w\u0000" }) })) },
  { name: "v5 will topic with a lone surrogate", version: 5, expected: ERR_BAD_UTF8, spec: "[MQTT-3.1.3-11]",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      will: will({ topic: "w\udbff" }) })) },
  { name: "v5 SUBSCRIBE filter with a lone surrogate", version: 5, expected: ERR_BAD_UTF8, spec: "[MQTT-3.8.3-1]",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("\ud800/a", 0)], 1, null) },
  { name: "v4 UNSUBSCRIBE filter with U+0000", version: 4, expected: ERR_UTF8_NULL, spec: "[MQTT-3.10.3-1]",
    encode: (b) => encodeUnsubscribe(b, 0, 4, 1, ["\u0000"], 1, null) },
  { name: "v4 SUBSCRIBE filter with U+0000", version: 4, expected: ERR_UTF8_NULL, spec: "[MQTT-3.8.3-1], [MQTT-4.7.3-2]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("a\u0000", 0)], 1, null) },
  { name: "v5 UNSUBSCRIBE filter with a lone surrogate", version: 5, expected: ERR_BAD_UTF8, spec: "[MQTT-3.10.3-1]",
    encode: (b) => encodeUnsubscribe(b, 0, 5, 1, ["a\udfff"], 1, null) },
  { name: "v5 user property key with U+0000", version: 5, expected: ERR_UTF8_NULL, spec: "[MQTT-1.5.7-1]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ userProperties: [new UserProperty("k\u0000", "v")] }) })) },
  { name: "v5 user property value with a lone surrogate", version: 5, expected: ERR_BAD_UTF8, spec: "[MQTT-1.5.7-1]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ userProperties: [new UserProperty("k", "\ud800")] }) })) },
  { name: "v5 reason string with U+0000", version: 5, expected: ERR_UTF8_NULL, spec: "[MQTT-1.5.4-2]",
    encode: (b) => encodeAck(b, 0, 5, PUBACK, 1, 0x80, properties({ reasonString: "\u0000" })) },
  // Lengths
  { name: "v4 PUBLISH topic of 65,536 bytes", version: 4, expected: ERR_STRING_TOO_LONG, spec: "[MQTT-4.7.3-3]",
    bufferSize: 70000, encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: LONG_65536 })) },
  { name: "v5 user property value of 65,536 UTF-8 bytes (32,768 chars)", version: 5, expected: ERR_STRING_TOO_LONG,
    spec: "5.0 §1.5.4, [MQTT-1.5.7-1]", bufferSize: 140000,
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ userProperties: [new UserProperty("k", "\u00e9".repeat(32768))] }) })) },
  { name: "v4 password of 65,536 bytes", version: 4, expected: ERR_STRING_TOO_LONG, spec: "3.1.1 §3.1.3.5",
    bufferSize: 70000,
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", username: "u", password: new Uint8Array(65536) })) },
  { name: "v5 correlation data of 65,536 bytes", version: 5, expected: ERR_STRING_TOO_LONG, spec: "5.0 §1.5.6",
    bufferSize: 70000, encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ correlationData: new Uint8Array(65536) }) })) },
  // Topic filters
  { name: "v4 topic filter 'a/#/b'", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-2]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("a/#/b", 0)], 1, null) },
  { name: "v4 topic filter 'a/b#'", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-2]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("a/b#", 0)], 1, null) },
  { name: "v5 topic filter 'a+'", version: 5, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-2] (5.0)",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a+", 0)], 1, null) },
  { name: "v4 topic filter '+a/b'", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-3]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("+a/b", 0)], 1, null) },
  { name: "v4 empty topic filter", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.3-1]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [sub("", 0)], 1, null) },
  { name: "v5 bad filter in second place", version: 5, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-1] (5.0)",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a", 0), sub("#/a", 0)], 2, null) },
  { name: "v4 UNSUBSCRIBE filter 'a/#/b'", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-4.7.1-2]",
    encode: (b) => encodeUnsubscribe(b, 0, 4, 1, ["a/#/b"], 1, null) },
  { name: "v4 SUBSCRIBE with no subscriptions", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-3.8.3-3]",
    encode: (b) => encodeSubscribe(b, 0, 4, 1, [], 0, null) },
  { name: "v5 SUBSCRIBE with no subscriptions", version: 5, expected: ERR_TOPIC_FILTER, spec: "[MQTT-3.8.3-2]",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a", 0)], 0, null) },
  { name: "v4 UNSUBSCRIBE with no filters", version: 4, expected: ERR_TOPIC_FILTER, spec: "[MQTT-3.10.3-2]",
    encode: (b) => encodeUnsubscribe(b, 0, 4, 1, ["a"], 0, null) },
  { name: "v5 UNSUBSCRIBE with no filters", version: 5, expected: ERR_TOPIC_FILTER, spec: "[MQTT-3.10.3-2]",
    encode: (b) => encodeUnsubscribe(b, 0, 5, 1, [], 0, null) },
  { name: "v5 shared subscription with an empty share name '$share//a'", version: 5, expected: ERR_TOPIC_FILTER,
    spec: "[MQTT-4.8.2-1]", encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("$share//a", 0)], 1, null) },
  { name: "v5 shared subscription without a topic filter '$share/g'", version: 5, expected: ERR_TOPIC_FILTER,
    spec: "[MQTT-4.8.2-2]", encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("$share/g", 0)], 1, null) },
  { name: "v5 No Local on a shared subscription", version: 5, expected: ERR_BAD_ARGUMENT, spec: "[MQTT-3.8.3-4]",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("$share/g/a", 0, { noLocal: true })], 1, null) },
  { name: "v5 retain handling 3", version: 5, expected: ERR_BAD_ARGUMENT, spec: "5.0 §3.8.3.1",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a", 0, { retainHandling: 3 })], 1, null) },
  // Buffer
  { name: "v4 PUBLISH into an 8-byte buffer", version: 4, expected: ERR_BUFFER_TOO_SMALL, spec: "codec contract",
    bufferSize: 8, encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "abc", body: "payload" })) },
  { name: "v4 PINGREQ one byte before the end of the buffer", version: 4, expected: ERR_BUFFER_TOO_SMALL,
    spec: "codec contract", bufferSize: 8, encode: (b) => encodePingreq(b, 7) },
  { name: "v5 CONNECT into a 14-byte buffer", version: 5, expected: ERR_BUFFER_TOO_SMALL, spec: "codec contract",
    bufferSize: 14, encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "" })) },
  // Properties
  { name: "v5 topic alias on CONNECT", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED, spec: "5.0 §2.2.2.2, Table 2-4",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ topicAlias: 1 }) })) },
  { name: "v5 subscription identifier on a client PUBLISH", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "[MQTT-3.3.4-6]", encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ subscriptionIdentifier: 1 }) })) },
  { name: "v5 will delay interval in CONNECT properties", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4", encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5,
      clientId: "c", properties: properties({ willDelay: 5 }) })) },
  { name: "v5 session expiry interval in will properties", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4", encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5,
      clientId: "c", will: will({ topic: "w", properties: properties({ sessionExpiry: 5 }) }) })) },
  { name: "v5 receive maximum on PUBLISH", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4", encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a",
      properties: properties({ receiveMaximum: 5 }) })) },
  { name: "v5 reason string on CONNECT", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4", encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5,
      clientId: "c", properties: properties({ reasonString: "r" }) })) },
  { name: "v5 topic alias on SUBSCRIBE", version: 5, expected: ERR_PROPERTY_NOT_ALLOWED,
    spec: "5.0 §2.2.2.2, Table 2-4",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a", 0)], 1, properties({ topicAlias: 1 })) },
  { name: "v5 receive maximum 0", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.1.2.11.3",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ receiveMaximum: 0 }) })) },
  { name: "v5 receive maximum 65536", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §1.5.2 (Two Byte Integer)",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ receiveMaximum: 65536 }) })) },
  { name: "v5 maximum packet size 0", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.1.2.11.4",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ maximumPacketSize: 0 }) })) },
  { name: "v5 request problem information 2", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.1.2.11.7",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ requestProblemInfo: 2 }) })) },
  { name: "v5 topic alias 0 on PUBLISH", version: 5, expected: ERR_PROPERTY_VALUE, spec: "[MQTT-3.3.2-8]",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", properties: properties({ topicAlias: 0 }) })) },
  { name: "v5 payload format indicator 2", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.3.2.3.2",
    encode: (b) => encodePublish(b, 0, 5, publishFields({ topic: "a", properties: properties({ payloadFormat: 2 }) })) },
  { name: "v5 subscription identifier 0 on SUBSCRIBE", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §3.8.2.1.2",
    encode: (b) => encodeSubscribe(b, 0, 5, 1, [sub("a", 0)], 1, properties({ subscriptionIdentifier: 0 })) },
  { name: "v5 session expiry interval 1.5", version: 5, expected: ERR_PROPERTY_VALUE, spec: "5.0 §1.5.3 (integer)",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c",
      properties: properties({ sessionExpiry: 1.5 }) })) },
  // Reason codes
  { name: "v5 PUBACK reason code 0x05", version: 5, expected: ERR_REASON_CODE, spec: "[MQTT-3.4.2-1]",
    encode: (b) => encodeAck(b, 0, 5, PUBACK, 1, 0x05, null) },
  { name: "v4 PUBACK with a non-zero reason code", version: 4, expected: ERR_REASON_CODE, spec: "3.1.1 §3.4",
    encode: (b) => encodeAck(b, 0, 4, PUBACK, 1, 0x10, null) },
  { name: "v5 PUBREL reason code 0x10", version: 5, expected: ERR_REASON_CODE, spec: "[MQTT-3.6.2-1]",
    encode: (b) => encodeAck(b, 0, 5, PUBREL, 1, 0x10, null) },
  { name: "v5 DISCONNECT 0x8B from the client (server only)", version: 5, expected: ERR_REASON_CODE,
    spec: "[MQTT-3.14.2-1], 5.0 Table 3-10", encode: (b) => encodeDisconnect(b, 0, 5, 0x8b, null) },
  { name: "v5 DISCONNECT 0x01", version: 5, expected: ERR_REASON_CODE, spec: "[MQTT-3.14.2-1]",
    encode: (b) => encodeDisconnect(b, 0, 5, 0x01, null) },
  { name: "v4 DISCONNECT with a reason code", version: 4, expected: ERR_REASON_CODE, spec: "3.1.1 §3.14",
    encode: (b) => encodeDisconnect(b, 0, 4, 0x80, null) },
  { name: "v5 AUTH reason code 0x01", version: 5, expected: ERR_REASON_CODE, spec: "[MQTT-3.15.2-1]",
    encode: (b) => encodeAuth(b, 0, 0x01, properties({ authMethod: "SCRAM" })) },
  { name: "v5 AUTH 0x00 from the client (success is server only)", version: 5, expected: ERR_REASON_CODE,
    spec: "[MQTT-3.15.2-1], 5.0 Table 3-11", encode: (b) => encodeAuth(b, 0, 0x00, properties({ authMethod: "SCRAM" })) },
  // CONNECT arguments
  { name: "v4 CONNECT password without user name", version: 4, expected: ERR_BAD_ARGUMENT, spec: "[MQTT-3.1.2-22]",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", password: bytesOf("p") })) },
  { name: "v4 CONNECT empty client id without clean session", version: 4, expected: ERR_BAD_ARGUMENT,
    spec: "[MQTT-3.1.3-7]", encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "", cleanStart: false })) },
  { name: "v4 CONNECT keep-alive 70000", version: 4, expected: ERR_BAD_ARGUMENT, spec: "3.1.1 §3.1.2.10 (16 bits)",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", keepAlive: 70000 })) },
  { name: "v5 CONNECT keep-alive -1", version: 5, expected: ERR_BAD_ARGUMENT, spec: "5.0 §3.1.2.10 (Two Byte Integer)",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 5, clientId: "c", keepAlive: -1 })) },
  { name: "CONNECT protocol level 3", version: 4, expected: ERR_BAD_ARGUMENT,
    spec: "3.1.1 §3.1.2.2 (level 4), 5.0 §3.1.2.2 (level 5)",
    encode: (b) => encodeConnect(b, 0, connectFields({ protocolVersion: 3, clientId: "c" })) },
  { name: "v4 CONNECT keep-alive 1.5", version: 4, expected: ERR_BAD_ARGUMENT, spec: "3.1.1 §3.1.2.10 (16-bit integer)",
    encode: (b) => encodeConnect(b, 0, connectFields({ clientId: "c", keepAlive: 1.5 })) },
  { name: "v4 encodeAck asked for a SUBACK", version: 4, expected: ERR_BAD_ARGUMENT, spec: "codec contract",
    encode: (b) => encodeAck(b, 0, 4, SUBACK, 1, 0, null) },
  { name: "v4 PUBLISH payloadLength past the end of the payload", version: 4, expected: ERR_BAD_ARGUMENT,
    spec: "codec contract (the packet would carry bytes that are not the payload)",
    encode: (b) => encodePublish(b, 0, 4, publishFields({ topic: "a", payload: new Uint8Array(2), payloadLength: 10 })) },
];

export const ENCODE_CORPUS: EncodeCase[] = [...encodeControls, ...encodeErrors];
