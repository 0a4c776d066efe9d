// Every failure of the device code (codec and engine) is one of these codes (negative numbers, so that a function can return
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

// The engine's codes: what ended a connection or refused a call.
// The broker refused the connection (CONNACK reason/return code in Engine.lastReasonCode).
export const ERR_CONNECTION_REFUSED = -21;
// No CONNACK within the connect timeout.
export const ERR_CONNECT_TIMEOUT = -22;
// Nothing received for 1.5x the keep-alive interval: the link is dead.
export const ERR_KEEPALIVE_TIMEOUT = -23;
// The transport closed without a DISCONNECT.
export const ERR_LINK_LOST = -24;
// The broker sent DISCONNECT (5.0; its reason code is in Engine.lastReasonCode).
export const ERR_SERVER_DISCONNECT = -25;
// An acknowledgement for a packet id the client is not waiting on.
export const ERR_UNKNOWN_PACKET_ID = -26;
// A packet that is valid on the wire but not at this point of the protocol (a second CONNACK, AUTH, ...).
export const ERR_PROTOCOL = -27;
// The broker sent more unacknowledged QoS 2 messages than the client has room for.
export const ERR_RECEIVE_MAXIMUM = -28;
// A topic alias the client did not allow.
export const ERR_TOPIC_ALIAS = -29;
// publish(): no room in the offline queue / in-flight store (policy "reject new").
export const ERR_QUEUE_FULL = -30;
// publish(): the message does not fit a message slot, or exceeds the broker's maximum packet size.
export const ERR_MESSAGE_TOO_LARGE = -31;
// publish(): the broker does not support this QoS or retained messages (5.0 CONNACK).
export const ERR_NOT_SUPPORTED = -32;
// subscribe(): every subscription slot is taken; unsubscribe(): no such subscription.
export const ERR_NO_SUBSCRIPTION_SLOT = -33;
// A call that needs a started client (publish after disconnect(), ...).
export const ERR_STOPPED = -34;

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
  "ERR_CONNECTION_REFUSED",
  "ERR_CONNECT_TIMEOUT",
  "ERR_KEEPALIVE_TIMEOUT",
  "ERR_LINK_LOST",
  "ERR_SERVER_DISCONNECT",
  "ERR_UNKNOWN_PACKET_ID",
  "ERR_PROTOCOL",
  "ERR_RECEIVE_MAXIMUM",
  "ERR_TOPIC_ALIAS",
  "ERR_QUEUE_FULL",
  "ERR_MESSAGE_TOO_LARGE",
  "ERR_NOT_SUPPORTED",
  "ERR_NO_SUBSCRIPTION_SLOT",
  "ERR_STOPPED",
];

/** The name of an error code, for logs and messages. */
export function errorName(code: number): string {
  const index = -code;
  if (index >= 0 && index < NAMES.length && index === Math.floor(index)) {
    return NAMES[index];
  }
  return "ERR_UNKNOWN";
}
