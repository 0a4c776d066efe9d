// The outgoing message store: a fixed number of slots, each holding one encoded PUBLISH, from publish()
// until the broker has acknowledged it. A slot is queued (not yet sent on the current link), waiting
// for PUBACK/PUBREC, or waiting for PUBCOMP. Slot order is publish order, which is resend order.

import { Bytes, newBytes, byteAt, setByte } from "../platform/bytes";

export const FREE = 0;
export const QUEUED = 1;
export const AWAIT_ACK = 2;
export const AWAIT_COMPLETE = 3;

export class Outbox {
  readonly capacity: number;
  readonly buffers: Bytes[] = [];
  readonly lengths: number[] = [];
  readonly states: number[] = [];
  readonly packetIds: number[] = [];
  readonly qos: number[] = [];
  readonly order: number[] = [];
  /** The link number on which the slot was last sent, so each is sent once per link. */
  readonly sentOnLink: number[] = [];
  private nextOrder = 1;
  used = 0;
  queued = 0;
  inflight = 0;

  constructor(capacity: number, slotSize: number) {
    this.capacity = capacity;
    for (let i = 0; i < capacity; i++) {
      this.buffers.push(newBytes(slotSize));
      this.lengths.push(0);
      this.states.push(FREE);
      this.packetIds.push(0);
      this.qos.push(0);
      this.order.push(0);
      this.sentOnLink.push(0);
    }
  }

  /** A free slot's index, or -1. */
  freeSlot(): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.states[i] === FREE) {
        return i;
      }
    }
    return -1;
  }

  /** Marks a slot whose buffer now holds an encoded PUBLISH as queued, last in order. */
  enqueue(slot: number, length: number, packetId: number, qos: number): void {
    this.lengths[slot] = length;
    this.packetIds[slot] = packetId;
    this.qos[slot] = qos;
    this.order[slot] = this.nextOrder;
    this.nextOrder++;
    this.sentOnLink[slot] = 0;
    this.setState(slot, QUEUED);
  }

  setState(slot: number, state: number): void {
    const before = this.states[slot];
    this.used += (state !== FREE ? 1 : 0) - (before !== FREE ? 1 : 0);
    this.queued += (state === QUEUED ? 1 : 0) - (before === QUEUED ? 1 : 0);
    this.inflight += (state >= AWAIT_ACK ? 1 : 0) - (before >= AWAIT_ACK ? 1 : 0);
    this.states[slot] = state;
  }

  /** The slot waiting in `state` for `packetId`, or -1. */
  find(state: number, packetId: number): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.states[i] === state && this.packetIds[i] === packetId) {
        return i;
      }
    }
    return -1;
  }

  /** True when a stored message uses `packetId`. */
  usesPacketId(packetId: number): boolean {
    for (let i = 0; i < this.capacity; i++) {
      if (this.states[i] !== FREE && this.qos[i] > 0 && this.packetIds[i] === packetId) {
        return true;
      }
    }
    return false;
  }

  /**
   * The earliest slot in `state` (or, with AWAIT_ACK, in either waiting state) not yet sent on link
   * `link`, or -1.
   */
  earliest(state: number, link: number): number {
    let best = -1;
    for (let i = 0; i < this.capacity; i++) {
      const s = this.states[i];
      const matches = state === AWAIT_ACK ? s >= AWAIT_ACK : s === state;
      if (matches && this.sentOnLink[i] !== link && (best < 0 || this.order[i] < this.order[best])) {
        best = i;
      }
    }
    return best;
  }

  /** Sets or clears the DUP flag of the stored PUBLISH ([MQTT-3.3.1-1]). */
  setDup(slot: number, dup: boolean): void {
    const first = byteAt(this.buffers[slot], 0);
    setByte(this.buffers[slot], 0, dup ? first | 0x08 : first & 0xf7);
  }
}
