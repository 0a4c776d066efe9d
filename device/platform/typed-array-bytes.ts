// What the JavaScript runtimes (Node, Espruino) share of the byte layer: buffers are Uint8Array. Each
// runtime's byte layer (bytes.ts for Node, espruino/bytes.ts) re-exports these and adds its own strings.

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
 * A buffer of `size` zero bytes that may stay untouched for long (the engine's receive buffer and stored
 * messages). Here the same as newBytes; Node's byte layer (bytes.ts) puts it where pages never written cost
 * no memory.
 */
export function newColdBytes(size: number): Bytes {
  return newBytes(size);
}

/**
 * newRarelyWrittenBytes: a cold buffer written only in rare cases (the engine's receive buffer: only a
 * packet that arrives in pieces is gathered there). Here newColdBytes itself; Node's byte layer keeps these
 * apart from the stored messages, which are written whenever a message is sent.
 */
export { newColdBytes as newRarelyWrittenBytes };

/**
 * Until endBytesBlock(), newBytes() and newColdBytes() carve their buffers out of one allocation of `size`
 * + `coldSize` zero bytes (`coldSize` of them for newColdBytes). For an owner that makes several buffers at
 * construction (the engine: receive, transmit, message slots): on V8 a buffer of its own costs an
 * ArrayBuffer object and a native backing store besides its bytes; on Espruino one flat string instead of
 * several leaves fewer blocks to find in a fragmented heap. A buffer that no longer fits gets its own
 * allocation, so a wrong size wastes memory but breaks nothing. Runtimes without views into a buffer make
 * these two no-ops.
 */
export function beginBytesBlock(size: number, coldSize: number): void {
  openBytesBlock(new Uint8Array(size + coldSize));
}

/** beginBytesBlock with the block given: a runtime that gets its blocks elsewhere (Node: bytes.ts). */
export function openBytesBlock(bytes: Bytes): void {
  block = bytes;
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
