/** @noSelfInFile */
// Types of byte-layer.lua (see there). `Bytes` is a table of bytes; where a function also reads a Lua string,
// its parameter says so.

export type Bytes = number[];

export function newBytes(size: number): Bytes;
export function byteAt(buffer: Bytes | string, index: number): number;
export function setByte(buffer: Bytes, index: number, value: number): void;
export function bytesLength(buffer: Bytes | string): number;
export function copyBytes(target: Bytes, targetOffset: number, source: Bytes | string, sourceOffset: number,
  length: number): void;
export function writeUtf8(target: Bytes, offset: number, text: string): number;
export function bytesToString(buffer: Bytes | string, offset: number, length: number): string;
