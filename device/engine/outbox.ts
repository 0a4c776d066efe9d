// The outgoing message store: a fixed number of slots, each holding one encoded PUBLISH, from publish()
// until the broker has acknowledged it. A slot is queued (not yet sent on the current link), waiting
// for PUBACK/PUBREC, or waiting for PUBCOMP. Slot order is publish order, which is resend order.
//
// Everything lives in one byte buffer (a part of the engine's one allocation): the slots, slot i at
// i * slotSize, then each slot's state in META bytes. Arrays of numbers would cost each engine a few
// hundred bytes of array headers and element stores (and a view per slot), which a fleet of 100,000
// engines multiplies.

import { Bytes, byteAt, setByte } from "../platform/bytes";
import { readU16, writeU16 } from "../codec/wire";

export const FREE = 0;
export const QUEUED = 1;
export const AWAIT_ACK = 2;
export const AWAIT_COMPLETE = 3;

// A slot's state bytes: state, whether it was sent on the current link, its rank among the used slots
// (0 = published first; 16 bits, so any slot count works) and its packet id. Its QoS and length are read
// from the stored PUBLISH's fixed header, so they cost nothing and bound no slot size.
const STATE = 0;
const SENT = 1;
const RANK = 2;
const ID = 4;
const META = 6;

/** The bytes an Outbox of `capacity` slots of `slotSize` bytes takes in its buffer. */
export function outboxSize(capacity: number, slotSize: number): number {
  return capacity * (slotSize + META);
}

export class Outbox {
  readonly capacity: number;
  readonly slotSize: number;
  /** The slots and their state: the first outboxSize(capacity, slotSize) bytes of it. */
  readonly buffer: Bytes;
  /** Where the state bytes start. */
  private readonly meta: number;
  used = 0;
  queued = 0;
  inflight = 0;

  constructor(buffer: Bytes, capacity: number, slotSize: number) {
    this.buffer = buffer;
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.meta = capacity * slotSize;
  }

  /** Where slot `slot`'s PUBLISH starts in `buffer`. */
  offset(slot: number): number {
    return slot * this.slotSize;
  }

  state(slot: number): number {
    return byteAt(this.buffer, this.meta + slot * META + STATE);
  }

  qos(slot: number): number {
    return (byteAt(this.buffer, this.offset(slot)) >> 1) & 3;
  }

  packetId(slot: number): number {
    return readU16(this.buffer, this.meta + slot * META + ID);
  }

  /** The length of the stored PUBLISH: its fixed header and the remaining length that header gives. */
  size(slot: number): number {
    const start = this.offset(slot);
    let at = start + 1;
    let remaining = 0;
    let scale = 1;
    let digit = 0;
    do {
      digit = byteAt(this.buffer, at);
      at++;
      remaining += (digit & 0x7f) * scale;
      scale *= 128;
    } while ((digit & 0x80) !== 0);
    return at - start + remaining;
  }

  /** A free slot's index, or -1. */
  freeSlot(): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.state(i) === FREE) {
        return i;
      }
    }
    return -1;
  }

  /** Marks a free slot whose bytes now hold an encoded PUBLISH as queued, last in order. */
  enqueue(slot: number, packetId: number): void {
    const at = this.meta + slot * META;
    writeU16(this.buffer, at + ID, packetId);
    writeU16(this.buffer, at + RANK, this.used);
    setByte(this.buffer, at + SENT, 0);
    this.setState(slot, QUEUED);
  }

  setState(slot: number, state: number): void {
    const buffer = this.buffer;
    const at = this.meta + slot * META;
    const before = byteAt(buffer, at + STATE);
    this.used += (state !== FREE ? 1 : 0) - (before !== FREE ? 1 : 0);
    this.queued += (state === QUEUED ? 1 : 0) - (before === QUEUED ? 1 : 0);
    this.inflight += (state >= AWAIT_ACK ? 1 : 0) - (before >= AWAIT_ACK ? 1 : 0);
    if (state === FREE && before !== FREE) {
      // The slots published after this one move up a rank, so the ranks stay 0 .. used-1.
      const rank = readU16(buffer, at + RANK);
      for (let i = 0; i < this.capacity; i++) {
        const other = this.meta + i * META;
        const r = readU16(buffer, other + RANK);
        if (byteAt(buffer, other + STATE) !== FREE && r > rank) {
          writeU16(buffer, other + RANK, r - 1);
        }
      }
    }
    setByte(buffer, at + STATE, state);
  }

  /** Records that the slot went out on the current link. */
  markSent(slot: number): void {
    setByte(this.buffer, this.meta + slot * META + SENT, 1);
  }

  /** A new link: nothing has been sent on it yet. */
  clearSent(): void {
    for (let i = 0; i < this.capacity; i++) {
      setByte(this.buffer, this.meta + i * META + SENT, 0);
    }
  }

  /** The slot waiting in `state` for `packetId`, or -1. */
  find(state: number, packetId: number): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.state(i) === state && this.packetId(i) === packetId) {
        return i;
      }
    }
    return -1;
  }

  /** True when a stored message uses `packetId`. */
  usesPacketId(packetId: number): boolean {
    for (let i = 0; i < this.capacity; i++) {
      if (this.state(i) !== FREE && this.qos(i) > 0 && this.packetId(i) === packetId) {
        return true;
      }
    }
    return false;
  }

  /**
   * The earliest slot in `state` (or, with AWAIT_ACK, in either waiting state), or -1. With `unsent`, only
   * a slot not yet sent on the current link.
   */
  earliest(state: number, unsent: boolean): number {
    const buffer = this.buffer;
    let best = -1;
    let bestRank = 0;
    for (let i = 0; i < this.capacity; i++) {
      const at = this.meta + i * META;
      const s = byteAt(buffer, at + STATE);
      const matches = state === AWAIT_ACK ? s >= AWAIT_ACK : s === state;
      const rank = readU16(buffer, at + RANK);
      if (matches && (!unsent || byteAt(buffer, at + SENT) === 0) && (best < 0 || rank < bestRank)) {
        best = i;
        bestRank = rank;
      }
    }
    return best;
  }

  /** Sets or clears the DUP flag of the stored PUBLISH ([MQTT-3.3.1-1]). */
  setDup(slot: number, dup: boolean): void {
    const at = this.offset(slot);
    const first = byteAt(this.buffer, at);
    setByte(this.buffer, at, dup ? first | 0x08 : first & 0xf7);
  }
}
