import { entryRegs, PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { AF, big, CONT, contBits, DIRTY, foldBlock, RDONLY, tableFixture, WRITE, type TableFixture } from "./test-fixtures";

const RW = 11; // PAGE_SHARED
const RO = 9; // PAGE_READONLY (shared)
const BASE = 0x0068000001000fc3n; // PAGE_SHARED entry for pfn 0x1000
const cont16 = (v: boolean) => Array.from({ length: 16 }, () => v);

/** A folded block at entries 16..31 mapping pfn 0x1000.., entry 20 hardware-dirty, others clean. */
function folded(variant = "4k-48"): TableFixture {
  const f = tableFixture(variant);
  foldBlock(f, 16, 0x1000, RW, (v, i) => {
    if (i === 4) f.b.mkdirty(v, 0, PTE);
  });
  f.ctx.flushes.length = 0;
  return f;
}
const pfnBits = (i: number) => BigInt(i) << 12n;
/** What every entry holds after the fold: young and dirty gathered. */
const foldedEntry = (i: number) => ((BASE | DIRTY) & ~RDONLY) + pfnBits(i) + CONT;

describe("contpte unfold", () => {
  it("the fixture block is folded with dirty gathered into every entry", () => {
    const f = folded();
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe(foldedEntry(i));
  });

  it("set_ptes(nr == 1) over a cont entry unfolds the block first", () => {
    const f = folded();
    f.set(21, 0x5000, RO);
    expect(contBits(f, 16, 16)).toEqual(cont16(false));
    expect(f.raw(21)).toBe(0x0060000005000fc3n);
    expect(f.raw(16)).toBe(foldedEntry(0) - CONT);
    expect(f.raw(31)).toBe(foldedEntry(15) - CONT);
    expect(f.ctx.flushes).toEqual([{ start: f.va(16), end: f.va(32), stride: 4096, level: PTE, reason: "contpte-convert" }]);
  });

  it("ptep_get_and_clear unfolds and returns the entry with the block's young/dirty", () => {
    const f = folded();
    const out = entryRegs(1);
    f.b.getAndClear(f.ctx, f.table, f.b.contPtes + 2, PTE, f.va(18), out, 0);
    expect(big(out)).toBe(foldedEntry(2) - CONT);
    expect(f.raw(18)).toBe(0n);
    expect(contBits(f, 16, 16)).toEqual(cont16(false));
    expect(f.ctx.flushes.length).toBe(1);
  });

  it("get_and_clear_full_ptes over the whole block does not unfold", () => {
    const f = folded();
    const out = entryRegs(1);
    f.b.getAndClearEntries(f.ctx, f.table, 16, PTE, f.va(16), 16, out, 0);
    expect(big(out)).toBe(foldedEntry(0)); // PTE_CONT leaks out through the getter
    for (let i = 16; i < 32; i++) expect(f.raw(i)).toBe(0n);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("get_and_clear_full_ptes unfolds only the partially covered blocks at the ends", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x1000, RW);
    foldBlock(f, 16, 0x1010, RW);
    foldBlock(f, 32, 0x1020, RW);
    f.ctx.flushes.length = 0;
    const out = entryRegs(1);
    f.b.getAndClearEntries(f.ctx, f.table, 8, PTE, f.va(8), 32, out, 0); // half of block 0, all of block 1, half of block 2
    expect(f.ctx.flushes.map((x) => x.start)).toEqual([f.va(0), f.va(32)]);
    expect(contBits(f, 0, 8)).toEqual(cont16(false).slice(0, 8));
    expect(contBits(f, 40, 8)).toEqual(cont16(false).slice(0, 8));
    for (let i = 8; i < 40; i++) expect(f.raw(i)).toBe(0n);
  });

  it("a short range inside one block unfolds it", () => {
    const f = folded();
    const out = entryRegs(1);
    f.b.getAndClearEntries(f.ctx, f.table, 20, PTE, f.va(20), 4, out, 0);
    expect(f.ctx.flushes.length).toBe(1);
    expect(contBits(f, 24, 8)).toEqual(cont16(false).slice(0, 8));
  });

  it("wrprotect_ptes(nr == 1) unfolds, then write-protects one entry", () => {
    const f = folded();
    f.b.wrprotectEntries(f.ctx, f.table, 25, PTE, f.va(25), 1);
    expect(contBits(f, 16, 16)).toEqual(cont16(false));
    expect(f.raw(25) & WRITE).toBe(0n);
    expect(f.raw(25) & DIRTY).toBe(DIRTY);
    expect(f.raw(24) & WRITE).toBe(WRITE);
    expect(f.ctx.flushes.length).toBe(1);
  });

  it("wrprotect_ptes over a whole block write-protects it in place", () => {
    const f = folded();
    f.b.wrprotectEntries(f.ctx, f.table, 16, PTE, f.va(16), 16);
    expect(contBits(f, 16, 16)).toEqual(cont16(true));
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe((foldedEntry(i) & ~WRITE) | RDONLY);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("wrprotect_ptes(nr > 1) over part of a block unfolds it", () => {
    const f = folded();
    f.b.wrprotectEntries(f.ctx, f.table, 16, PTE, f.va(16), 8);
    expect(contBits(f, 16, 16)).toEqual(cont16(false));
    expect([f.raw(23) & WRITE, f.raw(24) & WRITE]).toEqual([0n, WRITE]);
  });

  it("ptep_set_access_flags with the same write permission updates every entry, no unfold", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x1000, RW, (v) => f.b.mkold(v, 0, PTE));
    f.ctx.flushes.length = 0;
    const e = f.entry(0x1003, RW, (v) => f.b.mkyoung(v, 0, PTE));
    expect(f.b.setAccessFlags(f.ctx, f.table, 3, PTE, f.va(3), e, 0, false)).toBe(true);
    expect(contBits(f, 0, 16)).toEqual(cont16(true));
    for (let i = 0; i < 16; i++) expect(f.raw(i) & AF, `entry ${i}`).toBe(AF);
    expect(f.ctx.flushes).toEqual([]);
    // Asking again changes nothing.
    expect(f.b.setAccessFlags(f.ctx, f.table, 3, PTE, f.va(3), e, 0, false)).toBe(false);
  });

  it("ptep_set_access_flags(dirty) over a block flushes the block once", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x1000, RW);
    f.ctx.flushes.length = 0;
    const e = f.entry(0x1003, RW, (v) => f.b.mkdirty(v, 0, PTE));
    expect(f.b.setAccessFlags(f.ctx, f.table, 3, PTE, f.va(3), e, 0, true)).toBe(true);
    for (let i = 0; i < 16; i++) expect(f.raw(i) & (DIRTY | RDONLY | CONT)).toBe(DIRTY | CONT);
    expect(f.ctx.flushes).toEqual([{ start: f.va(0), end: f.va(16), stride: 4096, level: PTE, reason: "access-flags" }]);
  });

  it("ptep_set_access_flags that makes the entry writable unfolds the block", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x1000, RO);
    f.ctx.flushes.length = 0;
    const e = f.entry(0x1003, RW, (v) => f.b.mkdirty(v, 0, PTE));
    expect(f.b.setAccessFlags(f.ctx, f.table, 3, PTE, f.va(3), e, 0, true)).toBe(true);
    expect(contBits(f, 0, 16)).toEqual(cont16(false));
    expect(f.raw(3) & (WRITE | DIRTY | RDONLY)).toBe(WRITE | DIRTY);
    expect(f.raw(4) & WRITE).toBe(0n);
    expect(f.ctx.flushes.map((x) => x.reason)).toEqual(["contpte-convert", "access-flags"]);
  });

  it("ptep_test_and_clear_young ages the whole block without unfolding", () => {
    const f = folded();
    expect(f.b.testAndClearYoung(f.ctx, f.table, 21, PTE, f.va(21), 1)).toBe(true);
    for (let i = 16; i < 32; i++) expect(f.raw(i) & (AF | CONT)).toBe(CONT);
    expect(f.b.testAndClearYoung(f.ctx, f.table, 21, PTE, f.va(21), 1)).toBe(false);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("clear_young_dirty_ptes widens to the block and keeps it folded", () => {
    const f = folded();
    f.b.clearYoungDirty(f.ctx, f.table, 17, PTE, f.va(17), 2, true, true);
    for (let i = 16; i < 32; i++) expect(f.raw(i) & (AF | DIRTY | RDONLY | CONT)).toBe(RDONLY | CONT);
    expect(f.raw(15)).toBe(0n);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("ptep_get gathers young/dirty over the block; the raw read does not", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x1000, RW, (v) => f.b.mkold(v, 0, PTE));
    const r = entryRegs(1);
    f.b.readEntry(f.table, 7, PTE, r, 0);
    r[0] = r[0]! | 0x400;
    f.b.writeEntry(f.table, 7, PTE, r, 0);
    f.b.getEntry(f.table, 2, PTE, r, 0);
    expect(f.b.young(r, 0, PTE)).toBe(true);
    f.b.readEntry(f.table, 2, PTE, r, 0);
    expect(f.b.young(r, 0, PTE)).toBe(false);
  });

  it("pte_batch_hint counts to the end of the block", () => {
    const f = folded();
    expect([16, 19, 31].map((i) => f.b.batchHint(f.table, i, PTE))).toEqual([16, 13, 1]);
    expect(f.b.batchHint(f.table, 40, PTE)).toBe(1);
  });

  it("a kernel context never unfolds (contiguity belongs to user mm only)", () => {
    const f = folded();
    const kctx = { ...f.ctx, user: false };
    const out = entryRegs(1);
    f.b.getAndClear(kctx, f.table, 20, PTE, f.va(20), out, 0);
    expect(contBits(f, 21, 11)).toEqual(cont16(true).slice(0, 11));
    expect(f.ctx.flushes).toEqual([]);
  });
});

describe("contpte and mprotect (modify_prot_start/commit_ptes)", () => {
  it("a whole block re-protected as one folio batch stays folded, without a flush", () => {
    const f = folded();
    f.b.modifyEntries(f.ctx, f.table, 16, PTE, f.va(16), 16, RO);
    expect(contBits(f, 16, 16)).toEqual(cont16(true));
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe(0x00e0000001000fc3n + pfnBits(i) + CONT);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("a range that is not one folio batch is done entry by entry; softleaves are left alone", () => {
    const f = tableFixture();
    f.set(0, 0x1000, RW);
    f.set(1, 0x7000, RW);
    const swp = entryRegs(1);
    f.b.softleafEntry(swp, 0, PTE, 2, 0x99);
    f.b.writeEntry(f.table, 2, PTE, swp, 0);
    f.b.modifyEntries(f.ctx, f.table, 0, PTE, f.va(0), 3, RO);
    expect([f.raw(0), f.raw(1), f.raw(2)]).toEqual([0x0060000001000fc3n, 0x0060000007000fc3n, big(swp)]);
  });

  it("part of a block re-protected unfolds it", () => {
    const f = folded();
    f.b.modifyEntries(f.ctx, f.table, 16, PTE, f.va(16), 4, RO);
    expect(contBits(f, 16, 16)).toEqual(cont16(false));
    expect([f.raw(19) & WRITE, f.raw(20) & WRITE]).toEqual([0n, WRITE]);
  });
});
