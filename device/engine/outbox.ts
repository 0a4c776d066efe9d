// The outgoing message store: a fixed number of slots, each holding one encoded PUBLISH, from publish()
// until the broker has acknowledged it. A slot is queued (not yet sent on the current link), waiting
// for PUBACK/PUBREC, or waiting for PUBCOMP. Publish order is resend order.
//
// It lives in two byte buffers, parts of the engine's allocation: the stored PUBLISHes (slot i at
// i * slotSize), and the slots' state (META bytes per slot, then the queue). Arrays of numbers would cost
// each engine a few hundred bytes of array headers and element stores (and a view per slot), which a fleet
// of 100,000 multiplies. The PUBLISHes are apart because they may stay untouched for long: an idle client
// touches none, a client that sends one message at a time touches one slot (the free list gives back the
// slot freed last), and the Node byte layer puts them where untouched pages cost no memory (newColdBytes).
//
// What happens per message takes the same few steps however many slots there are (a Node client may have
// a window of thousands): a slot's packet id tells the slot (Engine.nextPacketId), queued slots leave in
// publish order from a ring, and free slots are a list. Only what happens per connection (resend, a lost
// session) walks the slots.

import { Bytes, byteAt, setByte } from "../platform/bytes";
import { readU16, writeU16 } from "../codec/wire";

export const FREE = 0;
export const QUEUED = 1;
export const AWAIT_ACK = 2;
export const AWAIT_COMPLETE = 3;
/** For after(): any state but FREE. */
const USED = 4;

// A slot's state bytes: its state; its order stamp (published later, larger), or in a free slot the next free
// one; its packet id (kept after the slot is freed: the slot's next id follows it); the stored PUBLISH's length.
const ORDER = 1;
const ID = 3;
const LENGTH = 5;
const META = 7;
/** Bytes per slot besides the PUBLISH: META, and one place of the queue ring (which has one per slot). */
export const SLOT_STATE_BYTES = META + 2;
/** Order stamps are 16 bits: at this one they are renumbered 0 .. used-1. */
const LAST_ORDER = 65535;

export class Outbox {
  readonly capacity: number;
  /** The stored PUBLISHes: capacity * slotSize bytes. */
  readonly messageBytes: Bytes;
  /** The slots' state bytes, then the queue ring: capacity * SLOT_STATE_BYTES bytes. */
  private readonly stateBytes: Bytes;
  private readonly slotSize: number;
  /**
   * The queued slots in publish order, a ring of 16-bit slot numbers from queueHead. Queued slots are always
   * the last published of the used ones (a message goes out only after every earlier one has), so they leave
   * from the head; only a lost session puts sent ones back, all of them (Engine.forgetSession, sortQueue).
   */
  private readonly ring: number;
  private queueHead = 0;
  private nextOrder = 0;
  /** The first free slot (capacity: none); each free slot's ORDER bytes name the next. */
  private freeHead = 0;
  used = 0;
  queued = 0;
  inflight = 0;

  constructor(stateBytes: Bytes, messageBytes: Bytes, capacity: number, slotSize: number) {
    this.stateBytes = stateBytes;
    this.messageBytes = messageBytes;
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.ring = capacity * META;
    for (let slot = 0; slot < capacity; slot++) {
      writeU16(stateBytes, this.metaOf(slot) + ORDER, slot + 1);
    }
  }

  /** Where slot `slot`'s PUBLISH starts in messageBytes. */
  offsetOf(slot: number): number {
    return slot * this.slotSize;
  }

  /** Where slot `slot`'s state bytes start. */
  private metaOf(slot: number): number {
    return slot * META;
  }

  stateOf(slot: number): number {
    return byteAt(this.stateBytes, this.metaOf(slot));
  }

  /** The QoS, from the stored PUBLISH's first byte. */
  qosOf(slot: number): number {
    return (byteAt(this.messageBytes, this.offsetOf(slot)) >> 1) & 3;
  }

  /** The packet id of the slot's message, or of its last one when it is free (0 for none yet, or QoS 0). */
  idOf(slot: number): number {
    return readU16(this.stateBytes, this.metaOf(slot) + ID);
  }

  lengthOf(slot: number): number {
    return readU16(this.stateBytes, this.metaOf(slot) + LENGTH);
  }

  /** The slot's order stamp: a slot published later has a larger one. */
  orderOf(slot: number): number {
    return readU16(this.stateBytes, this.metaOf(slot) + ORDER);
  }

  /** A free slot's index, or -1. */
  freeSlot(): number {
    return this.freeHead < this.capacity ? this.freeHead : -1;
  }

  /** Marks the free slot freeSlot() gave, its bytes now an encoded PUBLISH of `length` bytes, as queued, last in order. */
  enqueue(slot: number, length: number, packetId: number): void {
    this.freeHead = this.orderOf(slot);
    if (this.nextOrder === LAST_ORDER) {
      // Renumbered smallest first, each stamp becomes its rank, never larger than it was: so the next
      // unrenumbered slot is the first after the last rank given.
      let rank = 0;
      for (let slot = this.after(-1, USED); slot >= 0; slot = this.after(rank - 1, USED)) {
        writeU16(this.stateBytes, this.metaOf(slot) + ORDER, rank++);
      }
      this.nextOrder = rank;
    }
    const at = this.metaOf(slot);
    writeU16(this.stateBytes, at + ORDER, this.nextOrder++);
    writeU16(this.stateBytes, at + ID, packetId);
    writeU16(this.stateBytes, at + LENGTH, length);
    this.setRing(this.queued, slot);
    this.setState(slot, QUEUED);
  }

  /** Sets a slot's state. A slot leaving QUEUED is the queue's first (firstQueued), as the ring says. */
  setState(slot: number, state: number): void {
    const at = this.metaOf(slot);
    const before = byteAt(this.stateBytes, at);
    this.used += (state !== FREE ? 1 : 0) - (before !== FREE ? 1 : 0);
    this.queued += (state === QUEUED ? 1 : 0) - (before === QUEUED ? 1 : 0);
    this.inflight += (state >= AWAIT_ACK ? 1 : 0) - (before >= AWAIT_ACK ? 1 : 0);
    if (before === QUEUED && state !== QUEUED) {
      this.queueHead = (this.queueHead + 1) % this.capacity;
    }
    if (state === FREE && before !== FREE) {
      writeU16(this.stateBytes, at + ORDER, this.freeHead);
      this.freeHead = slot;
    }
    setByte(this.stateBytes, at, state);
  }

  /** The queued slot published first (the next to go out), or -1. */
  firstQueued(): number {
    return this.queued > 0 ? readU16(this.stateBytes, this.ring + this.queueHead * 2) : -1;
  }

  /** Rebuilds the queue ring from the queued slots' order (after a lost session has queued sent ones again). */
  sortQueue(): void {
    this.queueHead = 0;
    let count = 0;
    for (let slot = this.after(-1, QUEUED); slot >= 0; slot = this.after(this.orderOf(slot), QUEUED)) {
      this.setRing(count++, slot);
    }
  }

  /** The `index`th place of the queue ring, counted from its head, holds `slot`. */
  private setRing(index: number, slot: number): void {
    writeU16(this.stateBytes, this.ring + ((this.queueHead + index) % this.capacity) * 2, slot);
  }

  /**
   * The slot published next after order stamp `order` (-1: the first) among those in `state` (AWAIT_ACK:
   * either waiting state; USED: any), or -1.
   */
  after(order: number, state: number): number {
    let best = -1;
    let bestOrder = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const s = this.stateOf(slot);
      const o = this.orderOf(slot);
      const wanted = state === USED ? s !== FREE : state === AWAIT_ACK ? s >= AWAIT_ACK : s === state;
      if (wanted && o > order && (best < 0 || o < bestOrder)) {
        best = slot;
        bestOrder = o;
      }
    }
    return best;
  }

  /** The slot waiting in `state` for `packetId`, or -1: the id says which slot it can be (Engine.nextPacketId). */
  find(state: number, packetId: number, classes: number): number {
    const slot = (packetId - 1) % classes;
    return packetId > 0 && slot < this.capacity && this.stateOf(slot) === state && this.idOf(slot) === packetId ? slot : -1;
  }

  /** Sets or clears the DUP flag of the stored PUBLISH ([MQTT-3.3.1-1]). */
  setDup(slot: number, dup: boolean): void {
    const at = this.offsetOf(slot);
    const first = byteAt(this.messageBytes, at);
    setByte(this.messageBytes, at, dup ? first | 0x08 : first & 0xf7);
  }
}
