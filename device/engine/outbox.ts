// The outgoing message store: a fixed number of slots, each holding one encoded PUBLISH, from publish()
// until the broker has acknowledged it. A slot is queued (not yet sent on the current link), waiting
// for PUBACK/PUBREC, or waiting for PUBCOMP. Slot order is publish order, which is resend order.
//
// All of it lives in one byte buffer, a part of the engine's one allocation: the slots, slot i at
// i * slotSize, then META bytes of state per slot. Arrays of numbers would cost each engine a few hundred
// bytes of array headers and element stores (and a view per slot), which a fleet of 100,000 multiplies.

import { Bytes, byteAt, setByte } from "../platform/bytes";
import { readU16, writeU16 } from "../codec/wire";

export const FREE = 0;
export const QUEUED = 1;
export const AWAIT_ACK = 2;
export const AWAIT_COMPLETE = 3;

// A slot's state bytes: its state; 1 once it went out on the current link (set with a waiting state, cleared
// when a link opens); its rank among the used slots (0 = published first; 16 bits, so any slot count works);
// its packet id; the stored PUBLISH's length.
const SENT = 1;
const RANK = 2;
const ID = 4;
const LENGTH = 6;
export const META = 8;

export class Outbox {
  readonly capacity: number;
  /** The slots and their state: the first capacity * (slotSize + META) bytes. */
  readonly slots: Bytes;
  private readonly slotSize: number;
  /** Where the state bytes start. */
  private readonly meta: number;
  used = 0;
  queued = 0;
  inflight = 0;

  constructor(slots: Bytes, capacity: number, slotSize: number) {
    this.slots = slots;
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.meta = capacity * slotSize;
  }

  /** Where slot `slot`'s PUBLISH starts in `slots`. */
  offsetOf(slot: number): number {
    return slot * this.slotSize;
  }

  /** Where slot `slot`'s state bytes start. */
  private metaOf(slot: number): number {
    return this.meta + slot * META;
  }

  stateOf(slot: number): number {
    return byteAt(this.slots, this.metaOf(slot));
  }

  /** The QoS, from the stored PUBLISH's first byte. */
  qosOf(slot: number): number {
    return (byteAt(this.slots, this.offsetOf(slot)) >> 1) & 3;
  }

  idOf(slot: number): number {
    return readU16(this.slots, this.metaOf(slot) + ID);
  }

  lengthOf(slot: number): number {
    return readU16(this.slots, this.metaOf(slot) + LENGTH);
  }

  /** A free slot's index, or -1. */
  freeSlot(): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.stateOf(i) === FREE) {
        return i;
      }
    }
    return -1;
  }

  /** Marks a free slot whose bytes now hold an encoded PUBLISH of `length` bytes as queued, last in order. */
  enqueue(slot: number, length: number, packetId: number): void {
    const at = this.metaOf(slot);
    writeU16(this.slots, at + RANK, this.used);
    writeU16(this.slots, at + ID, packetId);
    writeU16(this.slots, at + LENGTH, length);
    this.setState(slot, QUEUED);
  }

  /**
   * A waiting state means the slot is going out now (flushQueue), or again (resendInflight sets the state it
   * has): either way it has gone out on the current link.
   */
  setState(slot: number, state: number): void {
    const slots = this.slots;
    const at = this.metaOf(slot);
    const before = byteAt(slots, at);
    this.used += (state !== FREE ? 1 : 0) - (before !== FREE ? 1 : 0);
    this.queued += (state === QUEUED ? 1 : 0) - (before === QUEUED ? 1 : 0);
    this.inflight += (state >= AWAIT_ACK ? 1 : 0) - (before >= AWAIT_ACK ? 1 : 0);
    if (state === FREE && before !== FREE) {
      // The slots published after this one move up a rank, so the used slots' ranks stay 0 .. used-1 (a
      // free slot's rank means nothing until enqueue sets it).
      const rank = readU16(slots, at + RANK);
      for (let i = 0; i < this.capacity; i++) {
        const other = this.metaOf(i) + RANK;
        const r = readU16(slots, other);
        if (r > rank) {
          writeU16(slots, other, r - 1);
        }
      }
    }
    setByte(slots, at, state);
    setByte(slots, at + SENT, state >= AWAIT_ACK ? 1 : 0);
  }

  /** A new link: nothing has been sent on it yet. */
  clearSent(): void {
    for (let i = 0; i < this.capacity; i++) {
      setByte(this.slots, this.metaOf(i) + SENT, 0);
    }
  }

  /** The slot waiting in `state` for `packetId`, or -1. */
  find(state: number, packetId: number): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.stateOf(i) === state && this.idOf(i) === packetId) {
        return i;
      }
    }
    return -1;
  }

  /** True when a stored message uses `packetId`. */
  usesPacketId(packetId: number): boolean {
    for (let i = 0; i < this.capacity; i++) {
      // A QoS 0 message is stored with id 0, which is never allocated.
      if (this.stateOf(i) !== FREE && this.idOf(i) === packetId) {
        return true;
      }
    }
    return false;
  }

  /**
   * The earliest slot in `state` (or, with AWAIT_ACK, in either waiting state) not yet sent on the current
   * link (which every queued slot is), or -1.
   */
  earliest(state: number): number {
    const slots = this.slots;
    let best = -1;
    let bestRank = 0;
    for (let i = 0; i < this.capacity; i++) {
      const at = this.metaOf(i);
      const s = byteAt(slots, at);
      const rank = readU16(slots, at + RANK);
      if ((state === AWAIT_ACK ? s >= AWAIT_ACK : s === state) && byteAt(slots, at + SENT) === 0 &&
        (best < 0 || rank < bestRank)) {
        best = i;
        bestRank = rank;
      }
    }
    return best;
  }

  /** Sets or clears the DUP flag of the stored PUBLISH ([MQTT-3.3.1-1]). */
  setDup(slot: number, dup: boolean): void {
    const at = this.offsetOf(slot);
    const first = byteAt(this.slots, at);
    setByte(this.slots, at, dup ? first | 0x08 : first & 0xf7);
  }
}
