// The byte layer for Node: buffers are Uint8Array; strings are JavaScript (UTF-16) strings encoded to
// UTF-8 on the way out. This is the module the codec imports; the Espruino and NodeMCU builds put their
// own platform file in its place at build time, with the same exports.

export type Bytes = Uint8Array;

// The open block, if any (see beginBytesBlock), and how much of it newBytes has handed out.
let block: Bytes | null = null;
let blockUsed = 0;

/**
 * A buffer of `size` zero bytes: called at construction time only, never on the message path. While a
 * block is open it is a view into the block, if it fits there.
 */
export function newBytes(size: number): Bytes {
  if (block !== null && size <= block.length - blockUsed) {
    const bytes = block.subarray(blockUsed, blockUsed + size);
    blockUsed += size;
    return bytes;
  }
  return new Uint8Array(size);
}

/**
 * Until endBytesBlock(), newBytes() carves its buffers out of one allocation of `size` zero bytes. For an
 * owner that makes several buffers at construction (the engine: receive, transmit, message slots): on V8
 * a buffer of its own costs an ArrayBuffer object and a native backing store besides its bytes. A buffer
 * that no longer fits gets its own allocation, so a wrong `size` wastes memory but breaks nothing.
 * Runtimes without views into a buffer make these two no-ops.
 */
export function beginBytesBlock(size: number): void {
  block = new Uint8Array(size);
  blockUsed = 0;
}

export function endBytesBlock(): void {
  block = null;
  blockUsed = 0;
}

export function byteAt(buffer: Bytes, index: number): number {
  return buffer[index];
}

export function setByte(buffer: Bytes, index: number, value: number): void {
  buffer[index] = value;
}

export function bytesLength(buffer: Bytes): number {
  return buffer.length;
}

// A whole source goes through set(), a memcpy that makes nothing. A part of one would need a subarray()
// view (or Buffer.copy, which makes one inside) per call, so parts are copied by a loop instead.
export function copyBytes(target: Bytes, targetOffset: number, source: Bytes, sourceOffset: number, length: number): void {
  if (sourceOffset === 0 && length === source.length) {
    target.set(source, targetOffset);
    return;
  }
  for (let i = 0; i < length; i++) {
    target[targetOffset + i] = source[sourceOffset + i];
  }
}

/**
 * The UTF-8 length of `text`, or -1 when it holds U+0000 or an unpaired surrogate: MQTT strings may not
 * carry either, and a lone surrogate has no UTF-8 form. Allocation-free.
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
        return -1;
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
