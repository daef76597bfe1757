import { PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { AF, CONT, contBits, DIRTY, foldBlock, RDONLY, tableFixture } from "./test-fixtures";

const RW = 11; // PAGE_SHARED
const allCont = (n: number) => Array.from({ length: n }, () => true);
const noCont = (n: number) => Array.from({ length: n }, () => false);

describe("contpte fold: set_ptes(nr == 1) on the last entry of a block", () => {
  it("folds a block written entry by entry, on the last write only", () => {
    const f = tableFixture();
    for (let i = 0; i < 15; i++) f.set(16 + i, 0x1000 + i, RW);
    expect(contBits(f, 16, 16)).toEqual(noCont(16));
    f.set(31, 0x100f, RW);
    expect(contBits(f, 16, 16)).toEqual(allCont(16));
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe(0x0068000001000fc3n + (BigInt(i) << 12n) + CONT);
    expect(contBits(f, 0, 16)).toEqual(noCont(16));
    expect(contBits(f, 32, 16)).toEqual(noCont(16));
  });

  it("folds 128-entry blocks with 16K pages and 32-entry blocks with 64K pages", () => {
    for (const [variant, n] of [["16k-47", 128], ["64k-48", 32]] as const) {
      const f = tableFixture(variant);
      expect(f.b.contPtes).toBe(n);
      foldBlock(f, n, 4 * n, RW);
      expect(contBits(f, n, n), variant).toEqual(allCont(n));
    }
  });

  it("ignores a CONT bit in the caller's entry (set_ptes strips it) and still folds", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x2000, RW, (v) => {
      v[1] = v[1]! | 0x100000;
    });
    expect(contBits(f, 0, 16)).toEqual(allCont(16));
  });

  it("OR-s young and dirty of the block into every entry", () => {
    const f = tableFixture();
    foldBlock(f, 0, 0x2000, RW, (v, i) => {
      f.b.mkold(v, 0, PTE);
      if (i === 3) f.b.mkdirty(v, 0, PTE);
      if (i === 5) f.b.mkyoung(v, 0, PTE);
    });
    for (let i = 0; i < 16; i++) {
      const x = f.raw(i);
      expect([(x & AF) !== 0n, (x & DIRTY) !== 0n, (x & RDONLY) !== 0n, (x & CONT) !== 0n], `entry ${i}`).toEqual([true, true, false, true]);
    }
  });

  describe("each failing condition alone prevents the fold", () => {
    it("valign: the last write is not the block's last entry", () => {
      const f = tableFixture();
      f.set(15, 0x200f, RW);
      for (let i = 0; i < 15; i++) f.set(i, 0x2000 + i, RW);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
      expect(f.ctx.flushes).toEqual([]);
    });

    it("palign: the pfns are consecutive but not aligned to the block", () => {
      const f = tableFixture();
      foldBlock(f, 0, 0x2001, RW);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
    });

    it("valid: PROT_NONE entries are never folded", () => {
      let asked = 0;
      const f = tableFixture("4k-48", { folioCovers: () => (asked++, true) });
      foldBlock(f, 0, 0x2000, 0);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
      expect(asked).toBe(0);
    });

    it("special: special mappings have no folio and are never folded", () => {
      let asked = 0;
      const f = tableFixture("4k-48", { folioCovers: () => (asked++, true) });
      foldBlock(f, 0, 0x2000, RW, (v) => f.b.mkspecial(v, 0, PTE));
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
      expect(asked).toBe(0);
    });

    it("mm_is_user: a kernel context never folds", () => {
      let asked = 0;
      const f = tableFixture("4k-48", { user: false, folioCovers: () => (asked++, true) });
      foldBlock(f, 0, 0x2000, RW);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
      expect(asked).toBe(0);
    });

    it("the folio must cover the whole block", () => {
      const calls: [number, number][] = [];
      const f = tableFixture("4k-48", { folioCovers: (pfn, nr) => (calls.push([pfn, nr]), false) });
      foldBlock(f, 0, 0x2000, RW);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
      expect(calls).toEqual([[0x2000, 16]]);
    });

    it("an entry with other permissions", () => {
      const f = tableFixture();
      foldBlock(f, 0, 0x2000, RW, (v, i) => {
        if (i === 7) f.b.wrprotect(v, 0, PTE);
      });
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
    });

    it("a pfn out of sequence", () => {
      const f = tableFixture();
      foldBlock(f, 0, 0x2000, RW, (v, i) => {
        if (i === 9) f.b.advancePfn(v, 0, PTE, 0x100);
      });
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
    });

    it("a none entry in the block", () => {
      const f = tableFixture();
      for (let i = 0; i < 16; i++) if (i !== 4) f.set(i, 0x2000 + i, RW);
      expect(contBits(f, 0, 16)).toEqual(noCont(16));
    });
  });
});
