// The decoder for what a client receives. It reads one whole packet (as framed by Framer) in place and
// fills the caller's reused Packet: no allocation, every failure an error code.

import { Bytes, byteAt } from "../platform/bytes";
import * as mqtt from "./constants";
import * as errors from "./errors";
import { Packet } from "./packets";
import { readProperties, hasProperty } from "./properties";
import { isValidReasonCode } from "./reasons";
import { Cursor, readVarint, readString, readU16, hasWildcard } from "./wire";

const cursor = new Cursor();

/**
 * Decodes the packet occupying buffer[start .. start+length) for a connection of protocol `version`
 * into `packet`. Returns OK (0) or an error code; on error `packet` holds nothing to rely on.
 */
export function decodePacket(buffer: Bytes, start: number, length: number, version: number, packet: Packet): number {
  const v5 = mqtt.MQTT5 && version === mqtt.MQTT_5;
  const end = start + length;
  if (length < 2) {
    return errors.ERR_MALFORMED;
  }
  const first = byteAt(buffer, start);
  const type = first >> 4;
  const flags = first & 0x0f;
  const headerError = readVarint(buffer, start + 1, end, cursor);
  if (headerError !== 0) {
    return headerError;
  }
  if (cursor.next + cursor.value !== end) {
    return errors.ERR_MALFORMED;
  }
  const at = cursor.next;
  packet.buffer = buffer;
  packet.type = type;
  if (mqtt.MQTT5) {
    // Only 5.0 reads properties: a 3.1.1-only build never sets these.
    packet.propertiesLength = 0;
    packet.propertiesPresentLow = 0;
    packet.propertiesPresentHigh = 0;
    packet.userPropertyCount = 0;
    packet.subscriptionIdentifierCount = 0;
  }
  if (type === mqtt.PUBLISH) {
    return decodePublish(buffer, at, end, flags, v5, packet);
  }
  // [MQTT-2.2.2-2] every other packet has fixed flags: 0010 for PUBREL, 0000 for the rest we receive.
  if (flags !== (type === mqtt.PUBREL ? 0x02 : 0)) {
    return isReceivable(type, v5) ? errors.ERR_RESERVED_FLAGS : errors.ERR_UNEXPECTED_PACKET;
  }
  if (type === mqtt.CONNACK) {
    return decodeConnack(buffer, at, end, version, packet);
  }
  if (type >= mqtt.PUBACK && type <= mqtt.PUBCOMP) {
    return decodeAck(buffer, at, end, type, version, packet);
  }
  if (type === mqtt.SUBACK || type === mqtt.UNSUBACK) {
    return decodeSubscribeAck(buffer, at, end, type, version, packet);
  }
  if (type === mqtt.PINGRESP) {
    return at === end ? 0 : errors.ERR_MALFORMED;
  }
  if (v5 && (type === mqtt.DISCONNECT || type === mqtt.AUTH)) {
    return decodeReasonPacket(buffer, at, end, type, version, packet);
  }
  // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, the reserved 0, and (3.1.1) DISCONNECT and AUTH.
  return errors.ERR_UNEXPECTED_PACKET;
}

function isReceivable(type: number, v5: boolean): boolean {
  return type === mqtt.CONNACK || (type >= mqtt.PUBLISH && type <= mqtt.PUBCOMP) || type === mqtt.SUBACK || type === mqtt.UNSUBACK ||
    type === mqtt.PINGRESP || (mqtt.MQTT5 && v5 && (type === mqtt.DISCONNECT || type === mqtt.AUTH));
}

function decodePublish(buffer: Bytes, at: number, end: number, flags: number, v5: boolean, packet: Packet): number {
  const qos = (flags >> 1) & 0x03;
  // [MQTT-3.3.1-4] both QoS bits set is malformed.
  if (qos === 3) {
    return errors.ERR_BAD_QOS;
  }
  packet.qos = qos;
  packet.dup = (flags & 0x08) !== 0;
  packet.retain = (flags & 0x01) !== 0;
  const topicError = readString(buffer, at, end, cursor);
  if (topicError !== 0) {
    return topicError;
  }
  packet.topicOffset = cursor.value;
  packet.topicLength = cursor.length;
  // [MQTT-3.3.2-2] no wildcards in a topic name.
  if (hasWildcard(buffer, cursor.value, cursor.length)) {
    return errors.ERR_TOPIC_WILDCARD;
  }
  let pos = cursor.next;
  packet.packetId = 0;
  if (qos > 0) {
    const idError = readPacketId(buffer, pos, end, packet);
    if (idError !== 0) {
      return idError;
    }
    pos += 2;
  }
  if (mqtt.MQTT5 && v5) {
    pos = readProperties(buffer, pos, end, mqtt.PUBLISH, packet);
    if (pos < 0) {
      return pos;
    }
  }
  // [MQTT-3.3.2-1] (3.1.1) a topic name is required; 5.0 lets a topic alias stand in for it.
  if (packet.topicLength === 0 && !(mqtt.MQTT5 && v5 && hasProperty(packet, mqtt.PROP_TOPIC_ALIAS))) {
    return errors.ERR_TOPIC_EMPTY;
  }
  packet.payloadOffset = pos;
  packet.payloadLength = end - pos;
  return 0;
}

function decodeConnack(buffer: Bytes, at: number, end: number, version: number, packet: Packet): number {
  if (at + 2 > end || (!(mqtt.MQTT5 && version === mqtt.MQTT_5) && at + 2 !== end)) {
    return errors.ERR_MALFORMED;
  }
  const acknowledgeFlags = byteAt(buffer, at);
  // [MQTT-3.2.2-1] bits 7-1 of the Connect Acknowledge Flags are reserved.
  if ((acknowledgeFlags & 0xfe) !== 0) {
    return errors.ERR_RESERVED_FLAGS;
  }
  packet.sessionPresent = acknowledgeFlags === 1;
  packet.reasonCode = byteAt(buffer, at + 1);
  if (!isValidReasonCode(mqtt.CONNACK, version, true, packet.reasonCode)) {
    return errors.ERR_REASON_CODE;
  }
  if (!(mqtt.MQTT5 && version === mqtt.MQTT_5)) {
    return 0;
  }
  const pos = readProperties(buffer, at + 2, end, mqtt.CONNACK, packet);
  return pos < 0 ? pos : endCheck(pos, end);
}

/** The packet id at `at` into packet.packetId: OK, or an error code. */
function readPacketId(buffer: Bytes, at: number, end: number, packet: Packet): number {
  if (at + 2 > end) {
    return errors.ERR_MALFORMED;
  }
  packet.packetId = readU16(buffer, at);
  // [MQTT-2.3.1-1] QoS 1 and 2 PUBLISH and every acknowledgement need a non-zero packet id.
  return packet.packetId === 0 ? errors.ERR_PACKET_ID_ZERO : 0;
}

function decodeAck(buffer: Bytes, at: number, end: number, type: number, version: number, packet: Packet): number {
  const idError = readPacketId(buffer, at, end, packet);
  if (idError !== 0) {
    return idError;
  }
  packet.reasonCode = 0;
  if (!(mqtt.MQTT5 && version === mqtt.MQTT_5)) {
    return endCheck(at + 2, end);
  }
  // 5.0: the reason code and the properties may each be left out ([MQTT-3.4.2-1] and 3.5-3.7 likewise).
  if (at + 2 === end) {
    return 0;
  }
  packet.reasonCode = byteAt(buffer, at + 2);
  if (!isValidReasonCode(type, version, true, packet.reasonCode)) {
    return errors.ERR_REASON_CODE;
  }
  if (at + 3 === end) {
    return 0;
  }
  const pos = readProperties(buffer, at + 3, end, type, packet);
  return pos < 0 ? pos : endCheck(pos, end);
}

function decodeSubscribeAck(buffer: Bytes, at: number, end: number, type: number, version: number,
  packet: Packet): number {
  const idError = readPacketId(buffer, at, end, packet);
  if (idError !== 0) {
    return idError;
  }
  let pos = at + 2;
  if (mqtt.MQTT5 && version === mqtt.MQTT_5) {
    pos = readProperties(buffer, pos, end, type, packet);
    if (pos < 0) {
      return pos;
    }
  }
  packet.reasonCodesOffset = pos;
  packet.reasonCodesCount = end - pos;
  if (type === mqtt.UNSUBACK && !(mqtt.MQTT5 && version === mqtt.MQTT_5)) {
    // 3.1.1's UNSUBACK is the packet id alone.
    return endCheck(pos, end);
  }
  // One code per filter of the request, and a request has at least one ([MQTT-3.9.3-1], [MQTT-3.11.3-1]).
  if (pos === end) {
    return errors.ERR_MALFORMED;
  }
  for (let i = pos; i < end; i++) {
    if (!isValidReasonCode(type, version, true, byteAt(buffer, i))) {
      return errors.ERR_REASON_CODE;
    }
  }
  return 0;
}

function decodeReasonPacket(buffer: Bytes, at: number, end: number, type: number, version: number,
  packet: Packet): number {
  // A Remaining Length of 0 means success (0x00) without properties.
  packet.reasonCode = at < end ? byteAt(buffer, at) : 0;
  if (!isValidReasonCode(type, version, true, packet.reasonCode)) {
    return errors.ERR_REASON_CODE;
  }
  if (at + 1 >= end) {
    return 0;
  }
  const pos = readProperties(buffer, at + 1, end, type, packet);
  return pos < 0 ? pos : endCheck(pos, end);
}

function endCheck(pos: number, end: number): number {
  return pos === end ? 0 : errors.ERR_MALFORMED;
}
