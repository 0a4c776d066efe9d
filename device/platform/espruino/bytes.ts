// The byte layer for Espruino (ESP32, ESP8266): the exports of ../bytes.ts (the Node layer), written with only
// what Espruino has (no Buffer, no TextDecoder). The Espruino build puts this file in place of ../bytes.ts.
//
// Buffers are Uint8Array, as on Node. Strings are not: Espruino for these boards is built without Unicode
// support, so a string is a sequence of 8-bit characters (String.fromCharCode takes codes 0-255, its reference
// says) and text is held as its UTF-8 bytes, one character per byte: a UTF-8 literal in the maker's code, the
// data a socket delivers, a file in Storage. So text goes to the wire byte for byte (after a check that it is
// UTF-8, as MQTT requires), and comes back from it as the same kind of string.

export type { Bytes } from "../typed-array-bytes";
export { newBytes, newColdBytes, newRarelyWrittenBytes, beginBytesBlock, endBytesBlock, byteAt, setByte, bytesLength, copyBytes } from "../typed-array-bytes";
import type { Bytes } from "../typed-array-bytes";
// Text is checked as a byte string, as NodeMCU Lua checks it.
export { utf8Length } from "../byte-string-utf8";

/** Espruino's E.toString, as its reference documents it: undefined when no flat string of that size can be made. */
declare const E: { toString(data: Uint8Array): string | undefined };

/** Writes `text` at `offset` (the caller checked utf8Length and the room); returns the end offset. */
export function writeUtf8(target: Bytes, offset: number, text: string): number {
  const count = text.length;
  for (let i = 0; i < count; i++) {
    target[offset + i] = text.charCodeAt(i);
  }
  return offset + count;
}

/**
 * A string of the UTF-8 bytes source[offset .. offset+length), one character per byte, as Espruino holds
 * text. Allocates: the caller asked for a string.
 */
export function readUtf8(source: Bytes, offset: number, length: number): string {
  const text = E.toString(source.subarray(offset, offset + length));
  if (text !== undefined) {
    return text;
  }
  // No flat string of that length could be had (a fragmented heap): build it character by character.
  let built = "";
  for (let i = 0; i < length; i++) {
    built += String.fromCharCode(source[offset + i]);
  }
  return built;
}
