// Every failure of the codec is one of these codes (negative numbers, so that a function can return
// either a length or an error). Nothing in device/ throws.

export const OK = 0;
// Encoding: the transmit buffer cannot hold the packet.
export const ERR_BUFFER_TOO_SMALL = -1;
// The packet is larger than the maximum packet size (ours on receive, the broker's on send).
export const ERR_PACKET_TOO_LARGE = -2;
// Remaining Length longer than four bytes, or not in its shortest form.
export const ERR_REMAINING_LENGTH = -3;
// The packet ends before a field does, or has bytes left over after its last field.
export const ERR_MALFORMED = -4;
// Fixed-header flag bits (or other reserved bits) with values the specification forbids.
export const ERR_RESERVED_FLAGS = -5;
// A packet type a client never receives (CONNECT, SUBSCRIBE, ...) or the reserved type 0.
export const ERR_UNEXPECTED_PACKET = -6;
// A UTF-8 string that is not well-formed UTF-8 (overlong forms, surrogates, truncated sequences, > U+10FFFF).
export const ERR_BAD_UTF8 = -7;
// A UTF-8 string containing U+0000.
export const ERR_UTF8_NULL = -8;
// A PUBLISH topic name containing '+' or '#'.
export const ERR_TOPIC_WILDCARD = -9;
// An empty topic name where one is required (3.1.1 always; 5.0 without a topic alias).
export const ERR_TOPIC_EMPTY = -10;
// Packet identifier 0 where one is required.
export const ERR_PACKET_ID_ZERO = -11;
// QoS 3.
export const ERR_BAD_QOS = -12;
// A v5 property that may appear once appears twice.
export const ERR_PROPERTY_DUPLICATE = -13;
// A v5 property identifier the specification does not define.
export const ERR_PROPERTY_UNKNOWN = -14;
// A defined v5 property in a packet that may not carry it.
export const ERR_PROPERTY_NOT_ALLOWED = -15;
// A v5 property value outside its range (receive maximum 0, topic alias 0, a boolean above 1, ...).
export const ERR_PROPERTY_VALUE = -16;
// A reason code (or 3.1.1 return code) not defined for this packet type.
export const ERR_REASON_CODE = -17;
// A string or binary field longer than 65,535 bytes.
export const ERR_STRING_TOO_LONG = -18;
// An encode argument out of range: keep-alive, protocol version, client id, will, ...
export const ERR_BAD_ARGUMENT = -19;
// A topic filter that breaks the wildcard rules, or a SUBSCRIBE/UNSUBSCRIBE without any filter.
export const ERR_TOPIC_FILTER = -20;

const NAMES = [
  "OK",
  "ERR_BUFFER_TOO_SMALL",
  "ERR_PACKET_TOO_LARGE",
  "ERR_REMAINING_LENGTH",
  "ERR_MALFORMED",
  "ERR_RESERVED_FLAGS",
  "ERR_UNEXPECTED_PACKET",
  "ERR_BAD_UTF8",
  "ERR_UTF8_NULL",
  "ERR_TOPIC_WILDCARD",
  "ERR_TOPIC_EMPTY",
  "ERR_PACKET_ID_ZERO",
  "ERR_BAD_QOS",
  "ERR_PROPERTY_DUPLICATE",
  "ERR_PROPERTY_UNKNOWN",
  "ERR_PROPERTY_NOT_ALLOWED",
  "ERR_PROPERTY_VALUE",
  "ERR_REASON_CODE",
  "ERR_STRING_TOO_LONG",
  "ERR_BAD_ARGUMENT",
  "ERR_TOPIC_FILTER",
];

/** The name of an error code, for logs and messages. */
export function errorName(code: number): string {
  const index = -code;
  if (index >= 0 && index < NAMES.length) {
    return NAMES[index];
  }
  return "ERR_UNKNOWN";
}
