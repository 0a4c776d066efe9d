// The Node byte layer's blocks (device/platform/bytes.ts): an engine's buffers are carved out of a slab
// shared with other engines, so each must stay inside its own bytes, start zeroed, and a big one must not
// pin a slab. Its stored messages (newColdBytes) come from slabs of their own, apart from the blocks.

import { describe, expect, it } from "vitest";
import { beginBytesBlock, endBytesBlock, newBytes, newColdBytes } from "../../device/platform/bytes";
import { Engine, EngineOptions } from "../../device/engine";

function block(sizes: number[]): Uint8Array[] {
  beginBytesBlock(sizes.reduce((a, b) => a + b, 0), 0);
  const views = sizes.map((size) => newBytes(size));
  endBytesBlock();
  return views;
}

describe("byte blocks from a shared slab", () => {
  it("blocks made one after another share a slab without overlapping, and start zeroed", () => {
    const blocks = Array.from({ length: 20 }, (_, i) => block([100 + i, 37, 250]));
    const ranges = blocks.flat().map((view) => ({ buffer: view.buffer, start: view.byteOffset, end: view.byteOffset + view.length }));
    expect(new Set(ranges.map((r) => r.buffer)).size, "20 small blocks in few slabs").toBeLessThan(3);
    for (const a of ranges) {
      for (const b of ranges) {
        if (a !== b && a.buffer === b.buffer) expect(a.end <= b.start || b.end <= a.start).toBe(true);
      }
    }
    expect(blocks.flat().every((view) => view.every((byte) => byte === 0))).toBe(true);
    // Filling one block leaves the others as they were.
    for (const view of blocks[7]) view.fill(0xff);
    expect(blocks.filter((_, i) => i !== 7).flat().every((view) => view.every((byte) => byte === 0))).toBe(true);
  });

  it("a block too big to share gets an allocation of its own", () => {
    const [big] = block([20_000]);
    const [small] = block([64]);
    expect(big.buffer.byteLength).toBe(20_000);
    expect(small.buffer).not.toBe(big.buffer);
  });

  it("two engines on one slab keep their stored messages apart", () => {
    const make = () => {
      const options = new EngineOptions();
      options.clientId = "slab";
      const written: number[][] = [];
      const engine = new Engine(options, { open() {}, write(bytes, offset, length) { written.push([...bytes.subarray(offset, offset + length)]); }, close() {} },
        { connected() {}, disconnected() {}, message() {}, acknowledged() {} });
      return { engine, written };
    };
    const a = make();
    const b = make();
    a.engine.start(0);
    b.engine.start(0);
    // Stored while connecting, each in its own engine's slots.
    expect(a.engine.publish("a/topic", Uint8Array.of(1, 2, 3), 0, 3, 1, false, 0)).toBeGreaterThan(0);
    expect(b.engine.publish("b/topic", Uint8Array.of(9, 9), 0, 2, 1, false, 0)).toBeGreaterThan(0);
    for (const side of [a, b]) {
      side.engine.linkOpened(0);
      side.engine.received(Uint8Array.of(0x20, 0x02, 0x00, 0x00), 0, 4, 1);
    }
    const publishOf = (written: number[][]) => written.find((bytes) => bytes[0] >> 4 === 3)!;
    expect(Buffer.from(publishOf(a.written)).includes(Buffer.from("a/topic"))).toBe(true);
    expect(publishOf(a.written).slice(-3)).toEqual([1, 2, 3]);
    expect(Buffer.from(publishOf(b.written)).includes(Buffer.from("b/topic"))).toBe(true);
    expect(publishOf(b.written).slice(-2)).toEqual([9, 9]);
  });

  it("cold buffers share slabs of their own: apart from the blocks, without overlapping, zeroed", () => {
    const blocks = Array.from({ length: 10 }, () => block([64, 64]));
    beginBytesBlock(128, 3072);
    const hot = newBytes(128);
    const colds = Array.from({ length: 50 }, (_, i) => newColdBytes(3072 + i));
    endBytesBlock();
    const blockBuffers = new Set(blocks.flat().map((view) => view.buffer));
    blockBuffers.add(hot.buffer);
    expect(colds.every((cold) => !blockBuffers.has(cold.buffer)), "no cold buffer in a block's slab").toBe(true);
    expect(new Set(colds.map((cold) => cold.buffer)).size, "50 cold buffers in one slab").toBe(1);
    expect(colds.map((cold) => cold.length)).toEqual(colds.map((_, i) => 3072 + i));
    const ranges = colds.map((view) => ({ start: view.byteOffset, end: view.byteOffset + view.length }));
    for (const a of ranges) {
      for (const b of ranges) {
        if (a !== b) expect(a.end <= b.start || b.end <= a.start).toBe(true);
      }
    }
    expect(colds.every((view) => view.every((byte) => byte === 0))).toBe(true);
    colds[3].fill(0xff);
    expect(colds.filter((_, i) => i !== 3).every((view) => view.every((byte) => byte === 0))).toBe(true);
    // One too big to share (over an eighth of a slab) gets its own allocation.
    const big = newColdBytes(200_000);
    expect(big.buffer.byteLength).toBe(200_000);
  });

  it("a cold buffer of a size that is no size (NaN, negative, a fraction: new Framer(NaN)) takes nothing: the buffers after it are whole and apart", () => {
    for (const size of [NaN, -1, 2.5]) expect(newColdBytes(size).length).toBe(0);
    const after = [newColdBytes(100), newColdBytes(100), newBytes(64), newBytes(64)];
    expect(after.map((view) => view.length)).toEqual([100, 100, 64, 64]);
    after[0].fill(1);
    after[2].fill(2);
    expect([after[1].every((byte) => byte === 0), after[3].every((byte) => byte === 0)]).toEqual([true, true]);
  });
});
