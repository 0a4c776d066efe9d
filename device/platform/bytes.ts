// The byte layer for Node: buffers are Uint8Array; strings are JavaScript (UTF-16) strings encoded to
// UTF-8 on the way out. This is the module the codec imports; the Espruino and NodeMCU builds put their
// own platform file in its place at build time, with the same exports.

export type { Bytes } from "./typed-array-bytes";
export { newBytes, endBytesBlock, byteAt, setByte, bytesLength, copyBytes } from "./typed-array-bytes";
import type { Bytes } from "./typed-array-bytes";
import { openBytesBlock } from "./typed-array-bytes";

/**
 * Buffers carved one after another from shared slabs of `slabSize` bytes, each starting on an 8-byte
 * boundary as an allocation of its own would; one over an eighth of a slab (so a slab wastes at most that
 * at its tail) gets its own allocation. A slab is freed once nothing carved from it is left.
 */
class Slabs {
  private slab: Bytes | null = null;
  private used = 0;

  constructor(private readonly slabSize: number) {}

  take(size: number): Bytes {
    // Not a size (NaN, negative, a fraction): nothing taken from the slab, whose count must stay whole.
    if (!(size >= 0 && size === Math.floor(size))) {
      return new Uint8Array(0);
    }
    if (size > this.slabSize / 8) {
      return new Uint8Array(size);
    }
    if (this.slab === null || size > this.slabSize - this.used) {
      this.slab = new Uint8Array(this.slabSize);
      this.used = 0;
    }
    const bytes = this.slab.subarray(this.used, this.used + size);
    this.used += Math.ceil(size / 8) * 8;
    return bytes;
  }
}

// On V8 each ArrayBuffer costs a JavaScript object and a native backing store besides its bytes (about
// 300 B of resident memory), which a fleet of 100,000 engines multiplies: so an engine's block is a part of
// a slab shared with the engines made after it, as Node's Buffer pool does for small Buffers.
const blockSlabs = new Slabs(64 * 1024);

// Cold buffers (the engines' receive buffers and stored messages) come from slabs of their own, big enough
// that the allocator maps them from the system, whose pages take memory only once written: what an engine
// never writes costs nothing resident. Measured with bench/client's 2,000 idle default clients: about 3 KB
// of RSS less per client for the 12 message slots of 256 B. A page written once stays resident.
const coldSlabs = new Slabs(1024 * 1024);
// The receive buffers apart from the stored messages: a client that publishes writes its first message slot
// at once, and so every page of a slab that held both; the receive buffers of clients whose packets arrive
// whole (a fleet's, on loopback) stay unwritten. Measured with 10,000 fleet devices: see bench/README.md.
const rarelyWrittenSlabs = new Slabs(1024 * 1024);

/**
 * See typed-array-bytes.ts beginBytesBlock: the same, with the block taken from a shared slab; the cold
 * part is not in it, as newColdBytes here takes its buffers from elsewhere.
 */
export function beginBytesBlock(size: number, _coldSize: number): void {
  openBytesBlock(blockSlabs.take(size));
}

/** A buffer of `size` zero bytes that may stay untouched for long (see typed-array-bytes.ts). */
export function newColdBytes(size: number): Bytes {
  return coldSlabs.take(size);
}

/** A cold buffer written only in rare cases (see typed-array-bytes.ts), from slabs of its own. */
export function newRarelyWrittenBytes(size: number): Bytes {
  return rarelyWrittenSlabs.take(size);
}

/**
 * The UTF-8 length of `text`; -1 when it holds U+0000, which MQTT strings may not carry; -2 when it holds an
 * unpaired surrogate, which has no UTF-8 form. Allocation-free.
 */
export function utf8Length(text: string): number {
  let length = 0;
  const count = text.length;
  for (let i = 0; i < count; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) {
        return -1;
      }
      length += 1;
    } else if (c < 0x800) {
      length += 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < count ? text.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        return -2;
      }
      length += 4;
      i++;
    } else {
      length += 3;
    }
  }
  return length;
}

/** Writes `text` as UTF-8 at `offset` (the caller checked utf8Length and the room); returns the end offset. */
export function writeUtf8(target: Bytes, offset: number, text: string): number {
  let at = offset;
  const count = text.length;
  for (let i = 0; i < count; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      target[at++] = c;
    } else if (c < 0x800) {
      target[at++] = 0xc0 | (c >> 6);
      target[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00);
      i++;
      target[at++] = 0xf0 | (c >> 18);
      target[at++] = 0x80 | ((c >> 12) & 0x3f);
      target[at++] = 0x80 | ((c >> 6) & 0x3f);
      target[at++] = 0x80 | (c & 0x3f);
    } else {
      target[at++] = 0xe0 | (c >> 12);
      target[at++] = 0x80 | ((c >> 6) & 0x3f);
      target[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

// ignoreBOM: a leading U+FEFF is part of an MQTT string ([MQTT-1.5.4-3]), not a byte-order mark to strip.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** A string made from UTF-8 bytes the codec has already validated. Allocates: the caller asked for a string. */
export function readUtf8(source: Bytes, offset: number, length: number): string {
  return decoder.decode(source.subarray(offset, offset + length));
}
