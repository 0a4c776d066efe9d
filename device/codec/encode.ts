// Encoders for what a client sends. Each writes one whole packet into the caller's transmit buffer at
// `at` and returns the number of bytes written, or a negative error code with nothing promised about
// the buffer. No encoder allocates.

import { Bytes, bytesLength, setByte, copyBytes } from "../platform/bytes";
import * as mqtt from "./constants";
import * as errors from "./errors";
import { ConnectFields, PublishFields, Properties, Subscription } from "./packets";
import { encodeProperties, WILL_PROPERTIES } from "./properties";
import { isValidReasonCode } from "./reasons";
import {
  varintSize, writeVarint, writeU16, writeString, writeBinary, stringFieldSize, binaryFieldSize,
  topicNameFieldSize, topicFilterFieldSize, isWhole,
} from "./wire";

/** Checks that a packet with this Remaining Length fits; returns its total size or an error code. */
function packetSize(buffer: Bytes, at: number, remainingLength: number): number {
  if (remainingLength > mqtt.MAX_REMAINING_LENGTH) {
    return errors.ERR_PACKET_TOO_LARGE;
  }
  const total = 1 + varintSize(remainingLength) + remainingLength;
  return at + total > bytesLength(buffer) ? errors.ERR_BUFFER_TOO_SMALL : total;
}

function writeHeader(buffer: Bytes, at: number, firstByte: number, remainingLength: number): number {
  setByte(buffer, at, firstByte);
  return writeVarint(buffer, at + 1, remainingLength);
}

/** The size of a property block with its length prefix; the block itself is `contentSize` bytes. */
function blockSize(contentSize: number): number {
  return varintSize(contentSize) + contentSize;
}

function writePropertyBlock(buffer: Bytes, at: number, properties: Properties | null, packetType: number,
  contentSize: number): number {
  at = writeVarint(buffer, at, contentSize);
  return at + encodeProperties(properties, packetType, buffer, at);
}

function isU16(value: number): boolean {
  return isWhole(value, 0, 65535);
}

function isPacketId(id: number): boolean {
  return id !== 0 && isU16(id);
}

function isQos(qos: number): boolean {
  return qos === 0 || qos === 1 || qos === 2;
}

function isVersion(version: number): boolean {
  return version === mqtt.MQTT_3_1_1 || (mqtt.MQTT5 && version === mqtt.MQTT_5);
}

export function encodeConnect(buffer: Bytes, at: number, fields: ConnectFields): number {
  const v5 = mqtt.MQTT5 && fields.protocolVersion === mqtt.MQTT_5;
  const version = fields.protocolVersion;
  if (!isVersion(version) || !isU16(fields.keepAlive)) {
    return errors.ERR_BAD_ARGUMENT;
  }
  // [MQTT-3.1.3-7] (3.1.1): an empty client id needs a clean session.
  // [MQTT-3.1.2-22] (3.1.1): a password needs a user name.
  if (!v5 && ((fields.clientId === "" && !fields.cleanStart) || (fields.password !== null && fields.username === null))) {
    return errors.ERR_BAD_ARGUMENT;
  }
  const clientIdSize = stringFieldSize(fields.clientId);
  if (clientIdSize < 0) {
    return clientIdSize;
  }
  // Protocol name, level, flags, keep-alive.
  let length = 10 + clientIdSize;
  let propertiesSize = 0;
  if (v5) {
    propertiesSize = encodeProperties(fields.properties, mqtt.CONNECT, null, 0);
    if (propertiesSize < 0) {
      return propertiesSize;
    }
    length += blockSize(propertiesSize);
  }
  const will = fields.will;
  let willPropertiesSize = 0;
  if (will !== null) {
    if (!isQos(will.qos)) {
      return errors.ERR_BAD_QOS;
    }
    const topicSize = topicNameFieldSize(will.topic);
    if (topicSize < 0) {
      return topicSize;
    }
    if (topicSize === 2) {
      return errors.ERR_TOPIC_EMPTY;
    }
    const payloadSize = binaryFieldSize(will.payload);
    if (payloadSize < 0) {
      return payloadSize;
    }
    length += topicSize + payloadSize;
    if (v5) {
      willPropertiesSize = encodeProperties(will.properties, WILL_PROPERTIES, null, 0);
      if (willPropertiesSize < 0) {
        return willPropertiesSize;
      }
      length += blockSize(willPropertiesSize);
    }
  }
  const username = fields.username;
  if (username !== null) {
    const usernameSize = stringFieldSize(username);
    if (usernameSize < 0) {
      return usernameSize;
    }
    length += usernameSize;
  }
  const password = fields.password;
  if (password !== null) {
    const passwordSize = binaryFieldSize(password);
    if (passwordSize < 0) {
      return passwordSize;
    }
    length += passwordSize;
  }
  const total = packetSize(buffer, at, length);
  if (total < 0) {
    return total;
  }
  let flags = fields.cleanStart ? 0x02 : 0;
  if (will !== null) {
    flags = flags | 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (password !== null) {
    flags = flags | 0x40;
  }
  if (username !== null) {
    flags = flags | 0x80;
  }
  let pos = writeHeader(buffer, at, mqtt.CONNECT << 4, length);
  pos = writeString(buffer, pos, "MQTT");
  setByte(buffer, pos, version);
  setByte(buffer, pos + 1, flags);
  pos = writeU16(buffer, pos + 2, fields.keepAlive);
  if (v5) {
    pos = writePropertyBlock(buffer, pos, fields.properties, mqtt.CONNECT, propertiesSize);
  }
  pos = writeString(buffer, pos, fields.clientId);
  if (will !== null) {
    if (v5) {
      pos = writePropertyBlock(buffer, pos, will.properties, WILL_PROPERTIES, willPropertiesSize);
    }
    pos = writeString(buffer, pos, will.topic);
    pos = writeBinary(buffer, pos, will.payload);
  }
  if (username !== null) {
    pos = writeString(buffer, pos, username);
  }
  if (password !== null) {
    pos = writeBinary(buffer, pos, password);
  }
  return total;
}

/**
 * The size a PUBLISH of `fields` would have, after every check encodePublish makes, or an error code:
 * so a caller can find room for it before encoding.
 */
export function publishSize(version: number, fields: PublishFields): number {
  const length = publishRemainingLength(version, fields);
  return length < 0 ? length : 1 + varintSize(length) + length;
}

function publishRemainingLength(version: number, fields: PublishFields): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  const qos = fields.qos;
  if (!isQos(qos)) {
    return errors.ERR_BAD_QOS;
  }
  // [MQTT-2.3.1-1] a packet id for QoS 1 and 2; [MQTT-3.3.1-2] no DUP at QoS 0.
  if (qos > 0 && !isPacketId(fields.packetId)) {
    return errors.ERR_PACKET_ID_ZERO;
  }
  if (qos === 0 && fields.dup) {
    return errors.ERR_BAD_ARGUMENT;
  }
  const topicSize = topicNameFieldSize(fields.topic);
  if (topicSize < 0) {
    return topicSize;
  }
  const properties = fields.properties;
  // [MQTT-3.3.2-1] a topic name is required, unless (5.0) a topic alias stands for it.
  if (topicSize === 2 && !(v5 && properties !== null && properties.topicAlias !== -1)) {
    return errors.ERR_TOPIC_EMPTY;
  }
  const payload = fields.payload;
  const payloadLength = payload === null ? 0 : fields.payloadLength;
  // Written so that NaN, a fraction or a payload that is no byte buffer (no length) fails too.
  if (payload !== null && !(isWhole(fields.payloadOffset, 0, mqtt.MAX_REMAINING_LENGTH) && isWhole(payloadLength, 0, mqtt.MAX_REMAINING_LENGTH) &&
    fields.payloadOffset + payloadLength <= bytesLength(payload))) {
    return errors.ERR_BAD_ARGUMENT;
  }
  let length = topicSize + (qos > 0 ? 2 : 0) + payloadLength;
  if (v5) {
    // [MQTT-3.3.4-6] a subscription identifier is the server's to send, never the client's.
    if (properties !== null && properties.subscriptionIdentifier !== -1) {
      return errors.ERR_PROPERTY_NOT_ALLOWED;
    }
    const propertiesSize = encodeProperties(properties, mqtt.PUBLISH, null, 0);
    if (propertiesSize < 0) {
      return propertiesSize;
    }
    length += blockSize(propertiesSize);
  }
  return length;
}

export function encodePublish(buffer: Bytes, at: number, version: number, fields: PublishFields): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  const length = publishRemainingLength(version, fields);
  if (length < 0) {
    return length;
  }
  const qos = fields.qos;
  const payload = fields.payload;
  const payloadLength = payload === null ? 0 : fields.payloadLength;
  const total = packetSize(buffer, at, length);
  if (total < 0) {
    return total;
  }
  const firstByte = (mqtt.PUBLISH << 4) | (fields.dup ? 0x08 : 0) | (qos << 1) | (fields.retain ? 0x01 : 0);
  let pos = writeHeader(buffer, at, firstByte, length);
  pos = writeString(buffer, pos, fields.topic);
  if (qos > 0) {
    pos = writeU16(buffer, pos, fields.packetId);
  }
  if (v5) {
    // publishRemainingLength accepted the properties.
    const properties = fields.properties;
    pos = writePropertyBlock(buffer, pos, properties, mqtt.PUBLISH, encodeProperties(properties, mqtt.PUBLISH, null, 0));
  }
  if (payload !== null && payloadLength > 0) {
    copyBytes(buffer, pos, payload, fields.payloadOffset, payloadLength);
  }
  return total;
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP (`type`); the reason code and properties are 5.0 only. */
export function encodeAck(buffer: Bytes, at: number, version: number, type: number, packetId: number,
  reasonCode: number, properties: Properties | null): number {
  if (type < mqtt.PUBACK || type > mqtt.PUBCOMP) {
    return errors.ERR_BAD_ARGUMENT;
  }
  return encodeReasonPacket(buffer, at, type, version, packetId, reasonCode, properties);
}

/**
 * The part SUBSCRIBE and UNSUBSCRIBE (`type`) share: sizes the packet whose filter list takes `listSize`
 * bytes, checks the room, and writes everything before the list. Returns the offset of the list, or an
 * error code.
 */
function writeFilterRequestHead(buffer: Bytes, at: number, version: number, type: number, packetId: number,
  properties: Properties | null, listSize: number): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  const propertiesSize = v5 ? encodeProperties(properties, type, null, 0) : 0;
  if (propertiesSize < 0) {
    return propertiesSize;
  }
  const length = 2 + listSize + (v5 ? blockSize(propertiesSize) : 0);
  const total = packetSize(buffer, at, length);
  if (total < 0) {
    return total;
  }
  // [MQTT-3.8.1-1], [MQTT-3.10.1-1] the fixed-header flags of both are 0010.
  let pos = writeHeader(buffer, at, (type << 4) | 0x02, length);
  pos = writeU16(buffer, pos, packetId);
  if (v5) {
    pos = writePropertyBlock(buffer, pos, properties, type, propertiesSize);
  }
  return pos;
}

/** SUBSCRIBE for the first `count` entries of `subscriptions`. */
export function encodeSubscribe(buffer: Bytes, at: number, version: number, packetId: number,
  subscriptions: Subscription[], count: number, properties: Properties | null): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  if (!isPacketId(packetId)) {
    return errors.ERR_PACKET_ID_ZERO;
  }
  // [MQTT-3.8.3-3] at least one topic filter.
  if (count < 1 || count > subscriptions.length) {
    return errors.ERR_TOPIC_FILTER;
  }
  let listSize = 0;
  for (let i = 0; i < count; i++) {
    const subscription = subscriptions[i];
    const size = topicFilterFieldSize(subscription.topicFilter);
    if (size < 0) {
      return size;
    }
    if (!isQos(subscription.qos)) {
      return errors.ERR_BAD_QOS;
    }
    // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
    if (v5 && (subscription.retainHandling < 0 || subscription.retainHandling > 2 ||
      (subscription.noLocal && subscription.topicFilter.indexOf("$share/") === 0))) {
      return errors.ERR_BAD_ARGUMENT;
    }
    listSize += size + 1;
  }
  let pos = writeFilterRequestHead(buffer, at, version, mqtt.SUBSCRIBE, packetId, properties, listSize);
  if (pos < 0) {
    return pos;
  }
  for (let i = 0; i < count; i++) {
    const subscription = subscriptions[i];
    pos = writeString(buffer, pos, subscription.topicFilter);
    let options = subscription.qos;
    if (v5) {
      options = options | (subscription.noLocal ? 0x04 : 0) | (subscription.retainAsPublished ? 0x08 : 0) |
        (subscription.retainHandling << 4);
    }
    setByte(buffer, pos, options);
    pos++;
  }
  return pos - at;
}

/** UNSUBSCRIBE for the first `count` entries of `topicFilters`. */
export function encodeUnsubscribe(buffer: Bytes, at: number, version: number, packetId: number,
  topicFilters: string[], count: number, properties: Properties | null): number {
  if (!isPacketId(packetId)) {
    return errors.ERR_PACKET_ID_ZERO;
  }
  // [MQTT-3.10.3-2] at least one topic filter.
  if (count < 1 || count > topicFilters.length) {
    return errors.ERR_TOPIC_FILTER;
  }
  let listSize = 0;
  for (let i = 0; i < count; i++) {
    const size = topicFilterFieldSize(topicFilters[i]);
    if (size < 0) {
      return size;
    }
    listSize += size;
  }
  let pos = writeFilterRequestHead(buffer, at, version, mqtt.UNSUBSCRIBE, packetId, properties, listSize);
  if (pos < 0) {
    return pos;
  }
  for (let i = 0; i < count; i++) {
    pos = writeString(buffer, pos, topicFilters[i]);
  }
  return pos - at;
}

export function encodePingreq(buffer: Bytes, at: number): number {
  const total = packetSize(buffer, at, 0);
  if (total < 0) {
    return total;
  }
  writeHeader(buffer, at, mqtt.PINGREQ << 4, 0);
  return total;
}

/**
 * A packet that ends in a reason code and properties, both 5.0 only and both optional: an acknowledgement
 * of a publish (`type` PUBACK to PUBCOMP, which starts with `packetId`), DISCONNECT (`version` 3.1.1 or
 * 5.0) or AUTH (5.0 only; the other two ignore `packetId`).
 */
function encodeReasonPacket(buffer: Bytes, at: number, type: number, version: number, packetId: number,
  reasonCode: number, properties: Properties | null): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  if (!isVersion(version)) {
    return errors.ERR_BAD_ARGUMENT;
  }
  const headSize = type <= mqtt.PUBCOMP ? 2 : 0;
  if (headSize > 0 && !isPacketId(packetId)) {
    return errors.ERR_PACKET_ID_ZERO;
  }
  if (v5 ? !isValidReasonCode(type, version, false, reasonCode) : reasonCode !== 0) {
    return errors.ERR_REASON_CODE;
  }
  // 3.1.1 has neither. 5.0 leaves out a success code without properties, and an empty property block
  // ([MQTT-3.4.2-1], 3.5-3.7 likewise, [MQTT-3.14.2-1], 3.15.2).
  let propertiesSize = 0;
  let length = headSize;
  if (v5) {
    propertiesSize = encodeProperties(properties, type, null, 0);
    if (propertiesSize < 0) {
      return propertiesSize;
    }
    if (propertiesSize > 0) {
      length = headSize + 1 + blockSize(propertiesSize);
    } else if (reasonCode !== 0) {
      length = headSize + 1;
    }
  }
  const total = packetSize(buffer, at, length);
  if (total < 0) {
    return total;
  }
  // [MQTT-3.6.1-1] PUBREL's fixed-header flags are 0010.
  let pos = writeHeader(buffer, at, (type << 4) | (type === mqtt.PUBREL ? 0x02 : 0), length);
  if (headSize > 0) {
    pos = writeU16(buffer, pos, packetId);
  }
  if (v5 && length > headSize) {
    setByte(buffer, pos, reasonCode);
    if (length > headSize + 1) {
      writePropertyBlock(buffer, pos + 1, properties, type, propertiesSize);
    }
  }
  return total;
}

export function encodeDisconnect(buffer: Bytes, at: number, version: number, reasonCode: number,
  properties: Properties | null): number {
  return encodeReasonPacket(buffer, at, mqtt.DISCONNECT, version, 0, reasonCode, properties);
}

/** AUTH (5.0): `reasonCode` 0x18 continues an exchange, 0x19 starts re-authentication. */
export function encodeAuth(buffer: Bytes, at: number, reasonCode: number, properties: Properties | null): number {
  return encodeReasonPacket(buffer, at, mqtt.AUTH, mqtt.MQTT_5, 0, reasonCode, properties);
}
