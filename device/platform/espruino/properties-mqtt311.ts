// The MQTT 3.1.1 Espruino module's stand-in for device/codec/properties.ts (scripts/build.ts puts it in that
// file's place): 3.1.1 has no properties, so the 5.0 property table, reader and writer are left out. The codec
// and the engine reach these functions only on a 5.0 connection, which that module refuses to make
// (EspruinoClient.connect returns ERR_NOT_SUPPORTED); should one be reached all the same, it fails with an
// error code rather than send or accept a property it does not understand.

import * as errors from "../../codec/errors";
import { Packet, Properties } from "../../codec/packets";
import { Bytes } from "./bytes";

export const WILL_PROPERTIES = 0;

export function encodeProperties(_properties: Properties | null, _packetType: number, _buffer: Bytes | null,
  _at: number): number {
  return errors.ERR_NOT_SUPPORTED;
}

export function readProperties(_buffer: Bytes, _at: number, _end: number, _packetType: number, _packet: Packet): number {
  return errors.ERR_NOT_SUPPORTED;
}

export function hasProperty(_packet: Packet, _id: number): boolean {
  return false;
}

export function propertyValue(_packet: Packet, _id: number): number {
  return -1;
}
