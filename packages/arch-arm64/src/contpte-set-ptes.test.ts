import { PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { contBits, tableFixture } from "./test-fixtures";

const RW = 11;

describe("set_ptes(nr > 1): contpte_set_ptes", () => {
  it("sets CONT on whole, aligned blocks only, and converts nothing", () => {
    const f = tableFixture();
    const e = f.entry(0x4008, RW);
    f.b.setEntries(f.ctx, f.table, 8, PTE, f.va(8), e, 0, 40); // 8..15 partial, 16..31 and 32..47 whole
    expect(contBits(f, 8, 8)).toEqual(Array(8).fill(false));
    expect(contBits(f, 16, 32)).toEqual(Array(32).fill(true));
    for (let i = 8; i < 48; i++) expect(f.b.pfn(new Uint32Array([Number(f.raw(i) & 0xffffffffn), Number(f.raw(i) >> 32n)]), 0, PTE)).toBe(0x4000 + i);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("no CONT when the pfns are not block-aligned", () => {
    const f = tableFixture();
    f.b.setEntries(f.ctx, f.table, 16, PTE, f.va(16), f.entry(0x4001, RW), 0, 32);
    expect(contBits(f, 16, 32)).toEqual(Array(32).fill(false));
  });

  it("no CONT for a kernel context", () => {
    const f = tableFixture("4k-48", { user: false });
    f.b.setEntries(f.ctx, f.table, 16, PTE, f.va(16), f.entry(0x4000, RW), 0, 32);
    expect(contBits(f, 16, 32)).toEqual(Array(32).fill(false));
  });

  it("rejects a run whose last pfn is beyond maxPfn", () => {
    const f = tableFixture();
    const e = f.entry(f.b.geometry.maxPfn - 1, RW);
    expect(() => f.b.setEntries(f.ctx, f.table, 0, PTE, f.va(0), e, 0, 4)).toThrow(/pfn/);
  });
});
