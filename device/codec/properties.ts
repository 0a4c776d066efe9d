// MQTT 5.0 properties (section 2.2.2): which identifiers exist, their data types, which packets may carry
// them, and the checks on their values. Both directions go through the one table below.

import { Bytes, byteAt, setByte } from "../platform/bytes";
import * as errors from "./errors";
import { Properties, Packet, UserProperty, reservePropertyTables } from "./packets";
import * as wire from "./wire";
import * as mqtt from "./constants";

// Data types (section 1.5).
const BYTE = 1;
const TWO_BYTE = 2;
const FOUR_BYTE = 3;
const VARIABLE = 4;
const UTF8 = 5;
const BINARY = 6;
const PAIR = 7;

/** The will's properties sit inside CONNECT; they get the bit of the reserved packet type 0. */
export const WILL_PROPERTIES = 0;

const WILL = 1 << WILL_PROPERTIES;
const ACKS = (1 << mqtt.PUBACK) | (1 << mqtt.PUBREC) | (1 << mqtt.PUBREL) | (1 << mqtt.PUBCOMP);
const MESSAGE = (1 << mqtt.PUBLISH) | WILL;

const TYPES: number[] = [];
const ALLOWED: number[] = [];
for (let id = 0; id <= mqtt.PROP_SHARED_SUB_AVAILABLE; id++) {
  TYPES.push(0);
  ALLOWED.push(0);
}

function define(id: number, type: number, packets: number): void {
  TYPES[id] = type;
  ALLOWED[id] = packets;
}

define(mqtt.PROP_PAYLOAD_FORMAT, BYTE, MESSAGE);
define(mqtt.PROP_MESSAGE_EXPIRY, FOUR_BYTE, MESSAGE);
define(mqtt.PROP_CONTENT_TYPE, UTF8, MESSAGE);
define(mqtt.PROP_RESPONSE_TOPIC, UTF8, MESSAGE);
define(mqtt.PROP_CORRELATION_DATA, BINARY, MESSAGE);
define(mqtt.PROP_SUBSCRIPTION_IDENTIFIER, VARIABLE, (1 << mqtt.PUBLISH) | (1 << mqtt.SUBSCRIBE));
define(mqtt.PROP_SESSION_EXPIRY, FOUR_BYTE, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK) | (1 << mqtt.DISCONNECT));
define(mqtt.PROP_ASSIGNED_CLIENT_ID, UTF8, 1 << mqtt.CONNACK);
define(mqtt.PROP_SERVER_KEEP_ALIVE, TWO_BYTE, 1 << mqtt.CONNACK);
define(mqtt.PROP_AUTH_METHOD, UTF8, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK) | (1 << mqtt.AUTH));
define(mqtt.PROP_AUTH_DATA, BINARY, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK) | (1 << mqtt.AUTH));
define(mqtt.PROP_REQUEST_PROBLEM_INFO, BYTE, 1 << mqtt.CONNECT);
define(mqtt.PROP_WILL_DELAY, FOUR_BYTE, WILL);
define(mqtt.PROP_REQUEST_RESPONSE_INFO, BYTE, 1 << mqtt.CONNECT);
define(mqtt.PROP_RESPONSE_INFO, UTF8, 1 << mqtt.CONNACK);
define(mqtt.PROP_SERVER_REFERENCE, UTF8, (1 << mqtt.CONNACK) | (1 << mqtt.DISCONNECT));
define(mqtt.PROP_REASON_STRING, UTF8, (1 << mqtt.CONNACK) | ACKS | (1 << mqtt.SUBACK) | (1 << mqtt.UNSUBACK) | (1 << mqtt.DISCONNECT) | (1 << mqtt.AUTH));
define(mqtt.PROP_RECEIVE_MAXIMUM, TWO_BYTE, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK));
define(mqtt.PROP_TOPIC_ALIAS_MAXIMUM, TWO_BYTE, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK));
define(mqtt.PROP_TOPIC_ALIAS, TWO_BYTE, 1 << mqtt.PUBLISH);
define(mqtt.PROP_MAXIMUM_QOS, BYTE, 1 << mqtt.CONNACK);
define(mqtt.PROP_RETAIN_AVAILABLE, BYTE, 1 << mqtt.CONNACK);
define(mqtt.PROP_USER_PROPERTY, PAIR, 0xfffe | WILL);
define(mqtt.PROP_MAXIMUM_PACKET_SIZE, FOUR_BYTE, (1 << mqtt.CONNECT) | (1 << mqtt.CONNACK));
define(mqtt.PROP_WILDCARD_SUB_AVAILABLE, BYTE, 1 << mqtt.CONNACK);
define(mqtt.PROP_SUB_ID_AVAILABLE, BYTE, 1 << mqtt.CONNACK);
define(mqtt.PROP_SHARED_SUB_AVAILABLE, BYTE, 1 << mqtt.CONNACK);

/** The value checks of section 3: 0 is OK, otherwise ERR_PROPERTY_VALUE. */
function checkValue(id: number, value: number): number {
  // Every one-byte property is a boolean, but for Maximum QoS, which may only say 0 or 1 too.
  if (TYPES[id] === BYTE) {
    return value > 1 ? errors.ERR_PROPERTY_VALUE : 0;
  }
  if (id === mqtt.PROP_RECEIVE_MAXIMUM || id === mqtt.PROP_MAXIMUM_PACKET_SIZE || id === mqtt.PROP_TOPIC_ALIAS ||
    id === mqtt.PROP_SUBSCRIPTION_IDENTIFIER) {
    return value === 0 ? errors.ERR_PROPERTY_VALUE : 0;
  }
  return 0;
}

/** One property value as read from the wire: a number, or (offset, length) of a string; a pair has two. */
export class PropertyValue {
  value = 0;
  length = 0;
  pairValue = 0;
  pairLength = 0;
  next = 0;
}

const cursor = new wire.Cursor();

/** Reads the value of a property of `type` at `pos`, no further than `end`. */
function readValue(buffer: Bytes, pos: number, end: number, type: number, out: PropertyValue): number {
  out.length = 0;
  if (type === BYTE || type === TWO_BYTE || type === FOUR_BYTE) {
    const size = type === BYTE ? 1 : type === TWO_BYTE ? 2 : 4;
    if (pos + size > end) {
      return errors.ERR_MALFORMED;
    }
    out.value = size === 1 ? byteAt(buffer, pos) : size === 2 ? wire.readU16(buffer, pos) : wire.readU32(buffer, pos);
    out.next = pos + size;
    return 0;
  }
  let error = 0;
  if (type === VARIABLE) {
    // A bad Variable Byte Integer inside a property is a malformed property, whatever the reason.
    error = wire.readVarint(buffer, pos, end, cursor) === 0 ? 0 : errors.ERR_MALFORMED;
  } else if (type === BINARY) {
    error = wire.readBinary(buffer, pos, end, cursor);
  } else {
    error = wire.readString(buffer, pos, end, cursor);
  }
  if (error !== 0) {
    return error;
  }
  out.value = cursor.value;
  out.length = cursor.length;
  if (type === PAIR) {
    error = wire.readString(buffer, cursor.next, end, cursor);
    if (error !== 0) {
      return error;
    }
    out.pairValue = cursor.value;
    out.pairLength = cursor.length;
  }
  out.next = cursor.next;
  return 0;
}

function isPresent(packet: Packet, id: number): boolean {
  if (id < 32) {
    return (packet.propertiesPresentLow & (1 << id)) !== 0;
  }
  return (packet.propertiesPresentHigh & (1 << (id - 32))) !== 0;
}

function setPresent(packet: Packet, id: number): void {
  if (id < 32) {
    packet.propertiesPresentLow = packet.propertiesPresentLow | (1 << id);
  } else {
    packet.propertiesPresentHigh = packet.propertiesPresentHigh | (1 << (id - 32));
  }
}

const scratch = new PropertyValue();

/**
 * Reads and checks the property block at `at` (length first) of a received packet of `packetType` into
 * `packet`: malformed values, unknown identifiers, identifiers the packet may not carry, duplicates and
 * out-of-range values are each an error code. On success returns the offset after the block.
 */
export function readProperties(buffer: Bytes, at: number, end: number, packetType: number, packet: Packet): number {
  const lengthError = wire.readVarint(buffer, at, end, cursor);
  if (lengthError !== 0) {
    return errors.ERR_MALFORMED;
  }
  const blockEnd = cursor.next + cursor.value;
  if (blockEnd > end) {
    return errors.ERR_MALFORMED;
  }
  reservePropertyTables(packet);
  packet.propertiesOffset = cursor.next;
  packet.propertiesLength = cursor.value;
  packet.propertiesPresentLow = 0;
  packet.propertiesPresentHigh = 0;
  packet.userPropertyCount = 0;
  packet.subscriptionIdentifierCount = 0;
  let pos = cursor.next;
  while (pos < blockEnd) {
    // Identifiers are Variable Byte Integers, but every defined one is below 128, so one byte.
    const id = byteAt(buffer, pos);
    if (id > mqtt.PROP_SHARED_SUB_AVAILABLE || TYPES[id] === 0) {
      return errors.ERR_PROPERTY_UNKNOWN;
    }
    if ((ALLOWED[id] & (1 << packetType)) === 0) {
      return errors.ERR_PROPERTY_NOT_ALLOWED;
    }
    const error = readValue(buffer, pos + 1, blockEnd, TYPES[id], scratch);
    if (error !== 0) {
      return error;
    }
    pos = scratch.next;
    if (checkValue(id, scratch.value) !== 0) {
      return errors.ERR_PROPERTY_VALUE;
    }
    // [MQTT-3.3.2-14] a Response Topic is a topic name: no wildcards.
    if (id === mqtt.PROP_RESPONSE_TOPIC && wire.hasWildcard(buffer, scratch.value, scratch.length)) {
      return errors.ERR_TOPIC_WILDCARD;
    }
    if (id === mqtt.PROP_USER_PROPERTY) {
      packet.userPropertyCount++;
    } else if (id === mqtt.PROP_SUBSCRIPTION_IDENTIFIER && packetType === mqtt.PUBLISH) {
      // One per matching subscription may come ([MQTT-3.3.4-4]): the first is kept, all are counted.
      if (packet.subscriptionIdentifierCount === 0) {
        setPresent(packet, id);
        packet.propertyValues[id] = scratch.value;
      }
      packet.subscriptionIdentifierCount++;
    } else {
      if (isPresent(packet, id)) {
        return errors.ERR_PROPERTY_DUPLICATE;
      }
      setPresent(packet, id);
      packet.propertyValues[id] = scratch.value;
      packet.propertyLengths[id] = scratch.length;
    }
  }
  return blockEnd;
}

/** True when the decoded packet carried property `id`. */
export function hasProperty(packet: Packet, id: number): boolean {
  return isPresent(packet, id);
}

/**
 * The value of property `id` of the decoded packet, or -1 when absent. For a string or binary property
 * this is the offset of its bytes in packet.buffer and packet.propertyLengths[id] is their length.
 */
export function propertyValue(packet: Packet, id: number): number {
  return isPresent(packet, id) ? packet.propertyValues[id] : -1;
}

/**
 * Finds the index-th occurrence of property `id` (user property or subscription identifier) in the
 * decoded packet's block and leaves it in `out`. Returns false when there are not that many.
 */
export function repeatedPropertyAt(packet: Packet, id: number, index: number, out: PropertyValue): boolean {
  const buffer = packet.buffer;
  if (buffer === null) {
    return false;
  }
  const end = packet.propertiesOffset + packet.propertiesLength;
  let pos = packet.propertiesOffset;
  let seen = 0;
  while (pos < end) {
    const current = byteAt(buffer, pos);
    readValue(buffer, pos + 1, end, TYPES[current], out);
    pos = out.next;
    if (current === id) {
      if (seen === index) {
        return true;
      }
      seen++;
    }
  }
  return false;
}

/**
 * Sizes and, when `buffer` is not null, writes the properties of `properties` that are set, for a packet
 * of `packetType` (or WILL_PROPERTIES). Returns the size of the block without its length prefix, or an
 * error code. One walk for both so that the size and the bytes can never disagree.
 */
export function encodeProperties(properties: Properties | null, packetType: number, buffer: Bytes | null,
  at: number): number {
  if (properties === null) {
    return 0;
  }
  const start = at;
  at = numberProperty(mqtt.PROP_PAYLOAD_FORMAT, properties.payloadFormat, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_MESSAGE_EXPIRY, properties.messageExpiry, packetType, buffer, at);
  at = stringProperty(mqtt.PROP_CONTENT_TYPE, properties.contentType, packetType, buffer, at);
  at = stringProperty(mqtt.PROP_RESPONSE_TOPIC, properties.responseTopic, packetType, buffer, at);
  at = binaryProperty(mqtt.PROP_CORRELATION_DATA, properties.correlationData, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_SUBSCRIPTION_IDENTIFIER, properties.subscriptionIdentifier, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_SESSION_EXPIRY, properties.sessionExpiry, packetType, buffer, at);
  at = stringProperty(mqtt.PROP_AUTH_METHOD, properties.authMethod, packetType, buffer, at);
  at = binaryProperty(mqtt.PROP_AUTH_DATA, properties.authData, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_REQUEST_PROBLEM_INFO, properties.requestProblemInfo, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_WILL_DELAY, properties.willDelay, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_REQUEST_RESPONSE_INFO, properties.requestResponseInfo, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_RECEIVE_MAXIMUM, properties.receiveMaximum, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_TOPIC_ALIAS_MAXIMUM, properties.topicAliasMaximum, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_TOPIC_ALIAS, properties.topicAlias, packetType, buffer, at);
  at = numberProperty(mqtt.PROP_MAXIMUM_PACKET_SIZE, properties.maximumPacketSize, packetType, buffer, at);
  at = stringProperty(mqtt.PROP_REASON_STRING, properties.reasonString, packetType, buffer, at);
  const pairs = properties.userProperties;
  if (pairs !== null && at >= 0) {
    if ((ALLOWED[mqtt.PROP_USER_PROPERTY] & (1 << packetType)) === 0) {
      return errors.ERR_PROPERTY_NOT_ALLOWED;
    }
    for (let i = 0; i < pairs.length && at >= 0; i++) {
      at = pairProperty(pairs[i], buffer, at);
    }
  }
  return at < 0 ? at : at - start;
}

// Each writer below passes an earlier error through, so encodeProperties can chain them.

function numberProperty(id: number, value: number, packetType: number, buffer: Bytes | null, at: number): number {
  if (at < 0 || value === -1) {
    return at;
  }
  if ((ALLOWED[id] & (1 << packetType)) === 0) {
    return errors.ERR_PROPERTY_NOT_ALLOWED;
  }
  const type = TYPES[id];
  // Four-byte values reach 2^32 - 1; compare by division, as integers past 2^31 break on NodeMCU's Lua.
  const tooLarge = type === BYTE ? value > 255 : type === TWO_BYTE ? value > 65535 :
    type === FOUR_BYTE ? value / 65536 >= 65536 : value > mqtt.MAX_REMAINING_LENGTH;
  if (value < 0 || tooLarge || value !== Math.floor(value) || checkValue(id, value) !== 0) {
    return errors.ERR_PROPERTY_VALUE;
  }
  if (buffer === null) {
    return at + 1 + (type === BYTE ? 1 : type === TWO_BYTE ? 2 : type === FOUR_BYTE ? 4 : wire.varintSize(value));
  }
  setByte(buffer, at, id);
  if (type === BYTE) {
    setByte(buffer, at + 1, value);
    return at + 2;
  }
  if (type === TWO_BYTE) {
    return wire.writeU16(buffer, at + 1, value);
  }
  if (type === FOUR_BYTE) {
    return wire.writeU32(buffer, at + 1, value);
  }
  return wire.writeVarint(buffer, at + 1, value);
}

function stringProperty(id: number, text: string | null, packetType: number, buffer: Bytes | null, at: number): number {
  if (at < 0 || text === null) {
    return at;
  }
  if ((ALLOWED[id] & (1 << packetType)) === 0) {
    return errors.ERR_PROPERTY_NOT_ALLOWED;
  }
  // [MQTT-3.3.2-14] a Response Topic is a topic name: no wildcards.
  const size = id === mqtt.PROP_RESPONSE_TOPIC ? wire.topicNameFieldSize(text) : wire.stringFieldSize(text);
  if (size < 0) {
    return size;
  }
  if (buffer === null) {
    return at + 1 + size;
  }
  setByte(buffer, at, id);
  return wire.writeString(buffer, at + 1, text);
}

function binaryProperty(id: number, data: Bytes | null, packetType: number, buffer: Bytes | null, at: number): number {
  if (at < 0 || data === null) {
    return at;
  }
  if ((ALLOWED[id] & (1 << packetType)) === 0) {
    return errors.ERR_PROPERTY_NOT_ALLOWED;
  }
  const size = wire.binaryFieldSize(data);
  if (size < 0) {
    return errors.ERR_STRING_TOO_LONG;
  }
  if (buffer === null) {
    return at + 1 + size;
  }
  setByte(buffer, at, id);
  return wire.writeBinary(buffer, at + 1, data);
}

function pairProperty(pair: UserProperty, buffer: Bytes | null, at: number): number {
  const keySize = wire.stringFieldSize(pair.key);
  if (keySize < 0) {
    return keySize;
  }
  const valueSize = wire.stringFieldSize(pair.value);
  if (valueSize < 0) {
    return valueSize;
  }
  if (buffer === null) {
    return at + 1 + keySize + valueSize;
  }
  setByte(buffer, at, mqtt.PROP_USER_PROPERTY);
  return wire.writeString(buffer, wire.writeString(buffer, at + 1, pair.key), pair.value);
}
