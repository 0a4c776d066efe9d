// The codec's test vectors, written once and run twice: by Node (this module as it is) and by Lua (this
// module compiled by the Lua build, scripts/build-lua.ts, with the NodeMCU byte layer). lua.test.ts compares
// the two outputs byte for byte. So this file stays inside the portable subset: index loops, no regular
// expressions, no toString(16).
//
// Encoding: every packet type a client sends, in both versions, with and without 5.0 properties, payloads
// whose Remaining Length takes one, two and three bytes, and arguments the encoder must refuse. Decoding: any
// bytes (the malformed-input corpus, host-tests/codec/malformed-corpus.ts), summarised field by field.

import * as codec from "../../device/codec";
import { Bytes, byteAt, newBytes, setByte, utf8Length, writeUtf8 } from "../../device/platform/bytes";

const HEX = "0123456789abcdef";

function hexOf(buffer: Bytes, offset: number, length: number): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) {
    const b = byteAt(buffer, offset + i);
    parts.push(HEX.charAt(Math.floor(b / 16)) + HEX.charAt(b % 16));
  }
  return parts.join("");
}

function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

function bytesOfHex(hex: string): Bytes {
  const bytes = newBytes(Math.floor(hex.length / 2));
  for (let i = 0; i + 1 < hex.length; i += 2) {
    setByte(bytes, i / 2, hexDigit(hex.charCodeAt(i)) * 16 + hexDigit(hex.charCodeAt(i + 1)));
  }
  return bytes;
}

function bytesOfText(text: string): Bytes {
  const length = utf8Length(text);
  const bytes = newBytes(length < 0 ? 0 : length);
  writeUtf8(bytes, 0, text);
  return bytes;
}

/** `length` bytes counting 0, 1, 2, ... (mod 256). */
function countingBytes(length: number): Bytes {
  const bytes = newBytes(length);
  for (let i = 0; i < length; i++) {
    setByte(bytes, i, i % 256);
  }
  return bytes;
}

function userProperties(): codec.UserProperty[] {
  return [new codec.UserProperty("site", "greenhouse-7"), new codec.UserProperty("höhe", "3 m"), new codec.UserProperty("site", "")];
}

function connect(version: number, full: boolean): codec.ConnectFields {
  const fields = new codec.ConnectFields();
  fields.protocolVersion = version;
  fields.clientId = full ? "starling-ünit-7" : "c";
  if (full) {
    fields.cleanStart = false;
    fields.keepAlive = 300;
    fields.username = "maker";
    fields.password = bytesOfHex("00ff7f80");
    const will = new codec.Will();
    will.topic = "devices/7/presence";
    will.payload = bytesOfText("offline");
    will.qos = 1;
    will.retain = true;
    if (version === codec.MQTT_5) {
      const willProperties = new codec.Properties();
      willProperties.willDelay = 5;
      willProperties.contentType = "text/plain";
      willProperties.messageExpiry = 3600;
      will.properties = willProperties;
      const properties = new codec.Properties();
      properties.sessionExpiry = 86400;
      properties.receiveMaximum = 16;
      properties.maximumPacketSize = 4096;
      properties.requestProblemInfo = 0;
      properties.userProperties = userProperties();
      fields.properties = properties;
    }
    fields.will = will;
  }
  return fields;
}

function publish(version: number, qos: number, payloadLength: number, properties: boolean): codec.PublishFields {
  const fields = new codec.PublishFields();
  fields.topic = qos === 2 ? "temp/é/ü" : "fleet/device-0042/telemetry";
  fields.payload = countingBytes(payloadLength);
  fields.payloadLength = payloadLength;
  fields.qos = qos;
  fields.packetId = qos > 0 ? 300 + qos : 0;
  fields.retain = qos === 2;
  fields.dup = qos === 1;
  if (properties && version === codec.MQTT_5) {
    const p = new codec.Properties();
    p.payloadFormat = 1;
    p.messageExpiry = 120;
    p.contentType = "application/octet-stream";
    p.responseTopic = "fleet/replies/7";
    p.correlationData = bytesOfHex("deadbeef");
    p.topicAlias = 3;
    p.userProperties = userProperties();
    fields.properties = p;
  }
  return fields;
}

function subscriptions(version: number): codec.Subscription[] {
  const list = [new codec.Subscription("a/+/c", 0), new codec.Subscription("sensors/#", 1), new codec.Subscription("$SYS/x", 2)];
  if (version === codec.MQTT_5) {
    list[1].noLocal = true;
    list[1].retainAsPublished = true;
    list[2].retainHandling = 2;
  }
  return list;
}

function reasonProperties(version: number): codec.Properties | null {
  if (version !== codec.MQTT_5) {
    return null;
  }
  const p = new codec.Properties();
  p.reasonString = "quota exceeded";
  p.userProperties = userProperties();
  return p;
}

/** One encoder call: the packet's bytes in hex, or "error <code>". */
function encoded(buffer: Bytes, length: number): string {
  return length < 0 ? "error " + length : hexOf(buffer, 0, length);
}

/** Every encode vector, in a fixed order: a name and the result of encoding it (hex or an error code). */
export function encodeVectors(): string[] {
  const out: string[] = [];
  const buffer = newBytes(25000);
  const versions = [codec.MQTT_3_1_1, codec.MQTT_5];
  for (let v = 0; v < versions.length; v++) {
    const version = versions[v];
    const tag = version === codec.MQTT_5 ? "v5 " : "v4 ";
    out.push(tag + "CONNECT minimal " + encoded(buffer, codec.encodeConnect(buffer, 0, connect(version, false))));
    out.push(tag + "CONNECT full " + encoded(buffer, codec.encodeConnect(buffer, 0, connect(version, true))));
    const sizes = [0, 100, 300, 20000];
    for (let qos = 0; qos <= 2; qos++) {
      for (let s = 0; s < sizes.length; s++) {
        const fields = publish(version, qos, sizes[s], s === 1);
        out.push(tag + "PUBLISH qos " + qos + " payload " + sizes[s] + " " + encoded(buffer, codec.encodePublish(buffer, 0, version, fields)));
      }
    }
    const acks = [codec.PUBACK, codec.PUBREC, codec.PUBREL, codec.PUBCOMP];
    for (let a = 0; a < acks.length; a++) {
      out.push(tag + "ack " + acks[a] + " " + encoded(buffer, codec.encodeAck(buffer, 0, version, acks[a], 65535, 0, null)));
      const reason = acks[a] === codec.PUBREL || acks[a] === codec.PUBCOMP ? 0x92 : 0x97;
      out.push(tag + "ack " + acks[a] + " reason " + encoded(buffer, codec.encodeAck(buffer, 0, version, acks[a], 7, reason, reasonProperties(version))));
    }
    const subscribeProperties = version === codec.MQTT_5 ? new codec.Properties() : null;
    if (subscribeProperties !== null) {
      subscribeProperties.subscriptionIdentifier = 268435455;
    }
    out.push(tag + "SUBSCRIBE " + encoded(buffer, codec.encodeSubscribe(buffer, 0, version, 10, subscriptions(version), 3, subscribeProperties)));
    const unsubscribeProperties = version === codec.MQTT_5 ? new codec.Properties() : null;
    if (unsubscribeProperties !== null) {
      unsubscribeProperties.userProperties = userProperties();
    }
    out.push(tag + "UNSUBSCRIBE " + encoded(buffer, codec.encodeUnsubscribe(buffer, 0, version, 11, ["a/+/c", "sensors/#"], 2, unsubscribeProperties)));
    out.push(tag + "PINGREQ " + encoded(buffer, codec.encodePingreq(buffer, 0)));
    out.push(tag + "DISCONNECT " + encoded(buffer, codec.encodeDisconnect(buffer, 0, version, 0, null)));
    if (version === codec.MQTT_5) {
      const p = new codec.Properties();
      p.sessionExpiry = 0;
      p.reasonString = "bye";
      out.push(tag + "DISCONNECT with will " + encoded(buffer, codec.encodeDisconnect(buffer, 0, version, 0x04, p)));
      const auth = new codec.Properties();
      auth.authMethod = "SCRAM-SHA-1";
      auth.authData = bytesOfHex("0102030405");
      out.push(tag + "AUTH " + encoded(buffer, codec.encodeAuth(buffer, 0, 0x18, auth)));
    }
    // Arguments the encoder refuses.
    const wildcard = publish(version, 1, 4, false);
    wildcard.topic = "a/+/c";
    out.push(tag + "PUBLISH wildcard topic " + encoded(buffer, codec.encodePublish(buffer, 0, version, wildcard)));
    const badQos = publish(version, 1, 4, false);
    badQos.qos = 3;
    out.push(tag + "PUBLISH qos 3 " + encoded(buffer, codec.encodePublish(buffer, 0, version, badQos)));
    const small = newBytes(8);
    out.push(tag + "PUBLISH into 8 bytes " + encoded(small, codec.encodePublish(small, 0, version, publish(version, 0, 100, false))));
    const badFilter = [new codec.Subscription("a/#/b", 0)];
    out.push(tag + "SUBSCRIBE bad filter " + encoded(buffer, codec.encodeSubscribe(buffer, 0, version, 12, badFilter, 1, null)));
    const zeroId = publish(version, 1, 4, false);
    zeroId.packetId = 0;
    out.push(tag + "PUBLISH qos 1 id 0 " + encoded(buffer, codec.encodePublish(buffer, 0, version, zeroId)));
  }
  return out;
}

const packet = new codec.Packet();

/** The fields of the packet just decoded into `packet` that its type has (topic and payload as hex). */
function summary(buffer: Bytes, version: number): string {
  let text = "type " + packet.type + " id " + packet.packetId + " reason " + packet.reasonCode;
  if (packet.type === codec.PUBLISH) {
    text += " qos " + packet.qos + " dup " + (packet.dup ? 1 : 0) + " retain " + (packet.retain ? 1 : 0) +
      " topic " + hexOf(buffer, packet.topicOffset, packet.topicLength) +
      " payload " + hexOf(buffer, packet.payloadOffset, packet.payloadLength);
  }
  if (packet.type === codec.CONNACK) {
    text += " session " + (packet.sessionPresent ? 1 : 0);
  }
  if (packet.type === codec.SUBACK || packet.type === codec.UNSUBACK) {
    text += " codes " + hexOf(buffer, packet.reasonCodesOffset, packet.reasonCodesCount);
  }
  if (version === codec.MQTT_5) {
    text += " properties " + hexOf(buffer, packet.propertiesOffset, packet.propertiesLength) +
      " present " + packet.propertiesPresentLow + "/" + packet.propertiesPresentHigh +
      " user " + packet.userPropertyCount + " ids " + packet.subscriptionIdentifierCount;
  }
  return text;
}

/** decodePacket over all of `bytes` as one packet: "error <code>" or the summary. */
function decodedAlone(bytes: Bytes, length: number, version: number): string {
  const result = codec.decodePacket(bytes, 0, length, version, packet);
  return result < 0 ? "error " + result : summary(bytes, version);
}

/**
 * Bytes as they arrive from the broker (hex), two ways: cut by a Framer (its error, the first framed packet
 * decoded, or "incomplete"), and decoded alone as one packet, as host-tests/codec/malformed.test.ts does.
 */
export function decodeVector(hex: string, version: number, maximumPacketSize: number): string {
  const bytes = bytesOfHex(hex);
  const length = Math.floor(hex.length / 2);
  const framer = new codec.Framer(maximumPacketSize);
  let framed = "incomplete";
  let at = 0;
  while (at < length && framed === "incomplete") {
    const used = framer.feed(bytes, at, length - at);
    if (used < 0) {
      framed = "error " + used;
    } else {
      at += used;
      if (framer.ready) {
        const result = codec.decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, version, packet);
        framed = (result < 0 ? "error " + result : summary(framer.packetBuffer, version)) + " at " + at;
      }
    }
  }
  return "framed: " + framed + "; alone: " + decodedAlone(bytes, length, version);
}
