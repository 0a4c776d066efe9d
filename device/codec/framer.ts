// Streaming framing: cuts a byte stream, arriving in chunks of any size, into whole packets. A packet
// that lies whole inside one chunk is handed out in place; one split across chunks is gathered in the
// receive buffer, whose size is the largest packet accepted. The size is checked from the fixed header,
// before any byte of the packet is kept, so a peer can never make the framer grow or allocate.

import { Bytes, newRarelyWrittenBytes, byteAt, setByte, copyBytes } from "../platform/bytes";
import * as errors from "./errors";
import { Cursor, readVarint } from "./wire";

/** The receive buffer a Framer makes: room for a whole fixed header even when the maximum is tinier. */
export function framerBufferSize(maximumPacketSize: number): number {
  return maximumPacketSize < 5 ? 5 : maximumPacketSize;
}

/** Where packetSizeAt reads a fixed header's remaining length: scratch shared by every framer. */
const header = new Cursor();

export class Framer {
  /**
   * The receive buffer: gathers a packet that arrives in pieces. Rarely written (newRarelyWrittenBytes): a
   * packet that lies whole in the chunk read never touches it, so a client whose packets arrive whole (most,
   * on a LAN) never writes it.
   */
  readonly buffer: Bytes;
  /** After feed() set ready: the packet is packetBuffer[packetStart .. packetStart+packetLength). */
  ready = false;
  packetBuffer: Bytes;
  packetStart = 0;
  packetLength = 0;
  // Bytes of the current packet gathered so far, and its total size once its header is known (0 before).
  private gathered = 0;
  private total = 0;
  private readonly maximumPacketSize: number;

  constructor(maximumPacketSize: number) {
    this.maximumPacketSize = maximumPacketSize;
    // Room for a whole fixed header even when the maximum is tinier than one.
    this.buffer = newRarelyWrittenBytes(framerBufferSize(maximumPacketSize));
    this.packetBuffer = this.buffer;
  }

  /**
   * Consumes bytes of chunk[offset .. offset+length) up to the end of the next packet. Returns how many
   * it consumed, or an error code (ERR_REMAINING_LENGTH, ERR_PACKET_TOO_LARGE) after which the stream
   * cannot be resynchronised and the link must close. When `ready` is set, handle the packet, then call
   * next() before feeding again.
   */
  feed(chunk: Bytes, offset: number, length: number): number {
    let used = 0;
    if (this.gathered === 0 && this.total === 0) {
      // At a packet boundary: if the whole packet is in the chunk, hand it out where it lies.
      const size = this.packetSizeAt(chunk, offset, length);
      if (size < 0) {
        return size;
      }
      if (size > 0 && size <= length) {
        this.packetBuffer = chunk;
        this.packetStart = offset;
        this.packetLength = size;
        this.ready = true;
        return size;
      }
    }
    // Gather: first the fixed header byte by byte until its size is known, then the rest in one copy.
    while (this.total === 0 && used < length) {
      setByte(this.buffer, this.gathered, byteAt(chunk, offset + used));
      this.gathered++;
      used++;
      if (this.gathered >= 2) {
        const size = this.packetSizeAt(this.buffer, 0, this.gathered);
        if (size < 0) {
          return size;
        }
        this.total = size;
      }
    }
    if (this.total === 0) {
      return used;
    }
    let take = this.total - this.gathered;
    if (take > length - used) {
      take = length - used;
    }
    copyBytes(this.buffer, this.gathered, chunk, offset + used, take);
    this.gathered += take;
    used += take;
    if (this.gathered === this.total) {
      this.packetBuffer = this.buffer;
      this.packetStart = 0;
      this.packetLength = this.total;
      this.ready = true;
    }
    return used;
  }

  /** Releases the packet that was ready (or drops a partial one, for a new connection). */
  next(): void {
    this.ready = false;
    this.gathered = 0;
    this.total = 0;
  }

  /**
   * The total size of the packet whose fixed header starts at bytes[at], 0 when more header bytes are
   * needed, or an error code. The size is checked against the maximum here, before buffering.
   */
  private packetSizeAt(bytes: Bytes, at: number, available: number): number {
    const error = readVarint(bytes, at + 1, at + available, header);
    if (error === errors.ERR_MALFORMED) {
      return 0;
    }
    if (error !== 0) {
      return error;
    }
    const size = header.next - at + header.value;
    return size > this.maximumPacketSize ? errors.ERR_PACKET_TOO_LARGE : size;
  }
}
