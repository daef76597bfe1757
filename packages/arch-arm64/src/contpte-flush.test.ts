import { entryRegs, PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { foldBlock, tableFixture } from "./test-fixtures";

const RW = 11;

describe("contpte_convert break-before-make and its TLB flush", () => {
  it("a fold records one flush of the block, stride PAGE_SIZE, at the PTE level", () => {
    const f = tableFixture();
    foldBlock(f, 32, 0x3000, RW);
    expect(f.ctx.flushes).toEqual([{ start: f.va(32), end: f.va(48), stride: 4096, level: PTE, reason: "contpte-convert" }]);
  });

  it("an unfold from the middle of a block flushes the whole, aligned block", () => {
    const f = tableFixture();
    foldBlock(f, 32, 0x3000, RW);
    f.ctx.flushes.length = 0;
    const out = entryRegs(1);
    f.b.getAndClear(f.ctx, f.table, 41, PTE, f.va(41), out, 0);
    expect(f.ctx.flushes).toEqual([{ start: f.va(32), end: f.va(48), stride: 4096, level: PTE, reason: "contpte-convert" }]);
  });

  it("64K pages: the block is 2M", () => {
    const f = tableFixture("64k-48");
    foldBlock(f, 32, 0x3000, RW);
    expect(f.ctx.flushes).toEqual([{ start: f.va(32), end: f.va(64), stride: 65536, level: PTE, reason: "contpte-convert" }]);
    expect(f.va(64) - f.va(32)).toBe(2 ** 21);
  });
});
