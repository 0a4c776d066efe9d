// The byte layer for NodeMCU Lua: the exports of ../bytes.ts (the Node layer), for the Lua build
// (scripts/build-lua.ts puts this module in that one's place).
//
// Lua has no typed arrays, and its strings cannot be changed, so a buffer the client writes is a table of
// numbers, one per byte. That costs a table slot per byte: 12 bytes on NodeMCU's Lua 5.1 (a TValue: an 8-byte
// double and a 4-byte type tag) and 8 bytes on its Lua 5.3 with 32-bit numbers. Against a string (1 byte per
// byte) that is the price of writing in place: a string buffer would make a new string for every byte
// written, which is garbage on every packet. The buffers are few and sized once from the board profile
// (receive, transmit, message slots), so the profile's sizes decide the cost: see the README, "NodeMCU (Lua)".
// What the client only reads stays a string: a received TCP segment is decoded where it lies, a string
// payload is copied straight into its packet (byte-layer.lua).
//
// Text is a Lua string of UTF-8 bytes, one character per byte, as on Espruino: it is checked, not encoded.

export type { Bytes } from "./byte-layer";
export { newBytes, byteAt, setByte, bytesLength, copyBytes, writeUtf8, bytesToString } from "./byte-layer";
// readUtf8: the bytes were validated by the codec; a string is made of them (the caller asked for one).
export { bytesToString as readUtf8 } from "./byte-layer";
export { utf8Length } from "../byte-string-utf8";
import type { Bytes } from "./byte-layer";
import { newBytes } from "./byte-layer";

/**
 * One allocation for several buffers means views into it, which a Lua table cannot give: each buffer is its
 * own table, and these two do nothing.
 */
export function beginBytesBlock(_size: number, _coldSize: number): void {}

/** Lua tables are filled as they are written: a cold buffer, rarely written or not, is an ordinary one here. */
export function newColdBytes(size: number): Bytes {
  return newBytes(size);
}

export { newColdBytes as newRarelyWrittenBytes };

export function endBytesBlock(): void {}

/**
 * A received segment or a string payload, handed to the codec as bytes it only reads (byteAt, copyBytes,
 * bytesLength and readUtf8 read a Lua string as well as a table): the one place a string passes for Bytes.
 */
export function stringBytes(text: string): Bytes {
  return text as unknown as Bytes;
}
