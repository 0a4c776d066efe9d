// The outbox's order stamps are 16 bits: once per 65,535 messages they are renumbered 0 .. used-1. The
// engine-level tests pass through a renumbering only with sparse stamps; here the messages still stored
// when it happens hold the densest stamps there are (0, 1, 2), where an off-by-one would tie or skip one.

import { describe, expect, it } from "vitest";
import { AWAIT_ACK, FREE, Outbox, QUEUED, SLOT_STATE_BYTES } from "../../device/engine/outbox";

const SLOT = 16;

function outbox(capacity: number): Outbox {
  return new Outbox(new Uint8Array(capacity * SLOT_STATE_BYTES), new Uint8Array(capacity * SLOT), capacity, SLOT);
}

/** The slots in `state`, in publish order as the stamps tell it. */
function inOrder(box: Outbox, state: number): number[] {
  const slots: number[] = [];
  for (let slot = box.after(-1, state); slot >= 0; slot = box.after(box.orderOf(slot), state)) slots.push(slot);
  return slots;
}

describe("outbox order stamps", () => {
  it("keep publish order through renumberings, with the stored messages holding stamps 0, 1 and 2", () => {
    const box = outbox(4);
    const take = (id: number) => {
      const slot = box.freeSlot();
      box.enqueue(slot, 4, id);
      return slot;
    };
    const a = take(1);
    const b = take(2);
    const c = take(3);
    expect([a, b, c].map((slot) => box.orderOf(slot))).toEqual([0, 1, 2]);
    // Sent and waiting, so that the queue is only what follows.
    for (const slot of [a, b, c]) box.setState(slot, AWAIT_ACK);
    // Through the fourth slot, past two renumberings.
    for (let i = 0; i < 2 * 65_535; i++) {
      const slot = take(4);
      box.setState(slot, AWAIT_ACK);
      box.setState(slot, FREE);
    }
    const d = take(5);
    expect(inOrder(box, AWAIT_ACK)).toEqual([a, b, c]);
    expect(new Set([a, b, c, d].map((slot) => box.orderOf(slot))).size, "no two stamps alike").toBe(4);
    expect(box.orderOf(d)).toBeGreaterThan(box.orderOf(c));
    expect(box.firstQueued()).toBe(d);
    expect(inOrder(box, QUEUED)).toEqual([d]);
  });

  it("free slots are handed out again, each once, and a full outbox has none", () => {
    const box = outbox(3);
    const slots = [0, 1, 2].map((id) => {
      const slot = box.freeSlot();
      box.enqueue(slot, 4, id + 1);
      return slot;
    });
    expect(new Set(slots).size).toBe(3);
    expect(box.freeSlot()).toBe(-1);
    box.setState(slots[0], FREE);
    box.setState(slots[2], FREE);
    const again = [box.freeSlot()];
    box.enqueue(again[0], 4, 9);
    again.push(box.freeSlot());
    box.enqueue(again[1], 4, 10);
    expect(again.sort()).toEqual([slots[0], slots[2]].sort());
    expect(box.freeSlot()).toBe(-1);
    expect(box.used).toBe(3);
  });
});
