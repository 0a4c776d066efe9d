// Which reason codes each packet may carry (MQTT 5.0 section 2.4 and each packet's section), and the
// return codes of MQTT 3.1.1. Success (0) comes first in every list, so the common case is one compare.

import * as mqtt from "./constants";

const CONNACK_V5 = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f];
const CONNACK_V4 = [0, 1, 2, 3, 4, 5];
const PUBACK_PUBREC = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_PUBCOMP = [0x00, 0x92];
const SUBACK_V5 = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
const SUBACK_V4 = [0x00, 0x01, 0x02, 0x80];
const UNSUBACK_V5 = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
// DISCONNECT codes differ by sender (table 3-10).
const DISCONNECT_FROM_SERVER = [0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94,
  0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];
const DISCONNECT_FROM_CLIENT = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99];
// AUTH codes differ by sender too (table 3-11): success is the server's, re-authenticate the client's.
const AUTH_FROM_SERVER = [0x00, 0x18];
const AUTH_FROM_CLIENT = [0x18, 0x19];
const NONE: number[] = [];

function codesFor(type: number, version: number, fromServer: boolean): number[] {
  if (type === mqtt.CONNACK) return mqtt.MQTT5 && version === mqtt.MQTT_5 ? CONNACK_V5 : CONNACK_V4;
  if (type === mqtt.SUBACK) return mqtt.MQTT5 && version === mqtt.MQTT_5 ? SUBACK_V5 : SUBACK_V4;
  // Only 5.0 gives these packets reason codes.
  if (mqtt.MQTT5 && type >= mqtt.PUBACK && type <= mqtt.PUBCOMP) return type <= mqtt.PUBREC ? PUBACK_PUBREC : PUBREL_PUBCOMP;
  if (mqtt.MQTT5 && type === mqtt.UNSUBACK) return UNSUBACK_V5;
  if (mqtt.MQTT5 && type === mqtt.DISCONNECT) return fromServer ? DISCONNECT_FROM_SERVER : DISCONNECT_FROM_CLIENT;
  if (mqtt.MQTT5 && type === mqtt.AUTH) return fromServer ? AUTH_FROM_SERVER : AUTH_FROM_CLIENT;
  return NONE;
}

/** True when `code` is defined for a packet of `type` sent by the server (or, if not, by the client). */
export function isValidReasonCode(type: number, version: number, fromServer: boolean, code: number): boolean {
  const codes = codesFor(type, version, fromServer);
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === code) {
      return true;
    }
  }
  return false;
}
