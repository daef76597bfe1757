import {
  ArchInputError,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  MAX_SWAPFILES,
  SWP_MIGRATION_WRITE,
  SWP_PTE_MARKER,
  PMD,
  PTE,
  PUD,
  P4D,
  PGD,
} from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ARM64_VARIANTS, createArm64Backend } from "./index";
import { big } from "./test-fixtures";

const b = createArm64Backend("4k-48");

describe("swap / softleaf entries (v6.10+ layout)", () => {
  it("type in bits 10:6, offset in bits 61:12, bits 1:0 and 11 clear", () => {
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PTE, SWP_MIGRATION_WRITE, 0x123456789abc);
    expect(big(r)).toBe(0x0123456789abc6c0n);
    b.softleafEntry(r, 0, PTE, 31, 2 ** 50 - 1);
    expect(big(r)).toBe(0x3ffffffffffff7c0n);
    expect([b.swpType(r, 0, PTE), b.swpOffset(r, 0, PTE)]).toEqual([31, 2 ** 50 - 1]);
  });

  it("exclusive is bit 2 and uffd-wp bit 3, independent of each other and of the entry", () => {
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PTE, MAX_SWAPFILES - 1, 2 ** 50 - 1);
    const plain = big(r);
    expect(b.swpExclusive(r, 0, PTE)).toBe(false);
    b.swpMkExclusive(r, 0, PTE);
    expect(big(r)).toBe(plain | 0x4n);
    expect([b.swpExclusive(r, 0, PTE), b.swpUffdWp(r, 0, PTE), b.swpSoftDirty(r, 0, PTE)]).toEqual([true, false, false]);
    b.swpMkUffdWp(r, 0, PTE);
    expect(big(r)).toBe(plain | 0xcn);
    expect([b.swpType(r, 0, PTE), b.swpOffset(r, 0, PTE)]).toEqual([MAX_SWAPFILES - 1, 2 ** 50 - 1]);
    b.swpClearExclusive(r, 0, PTE);
    b.swpClearUffdWp(r, 0, PTE);
    b.swpMkSoftDirty(r, 0, PTE); // no soft-dirty on arm64: unchanged
    expect(big(r)).toBe(plain);
  });

  it("softleaves are neither none nor present, at the PTE, PMD and PUD levels", () => {
    const r = entryRegs(1);
    for (const level of [PTE, PMD, PUD] as const) {
      b.softleafEntry(r, 0, level, 0, 0);
      expect(big(r)).toBe(0n); // type 0 offset 0 is the none entry
      b.softleafEntry(r, 0, level, SWP_PTE_MARKER, 1);
      expect([b.none(r, 0, level), b.present(r, 0, level), b.isSoftleaf(r, 0, level)]).toEqual([false, false, true]);
    }
  });

  it("migration entries carry young and dirty above the pfn (SWP_PFN_BITS = PA bits - PAGE_SHIFT)", () => {
    for (const variant of ARM64_VARIANTS) {
      const v = createArm64Backend(variant);
      const g = v.geometry;
      expect(v.softleaf.pfnBits).toBe(g.physBits - g.pageShift);
      expect(v.softleaf.maxOffset).toBe(2 ** 50 - 1);
      expect(v.softleaf.migrationYoungDirty).toBe(true);
      const off = migrationOffset(v.softleaf, g.maxPfn, true, true);
      const r = entryRegs(1);
      v.softleafEntry(r, 0, PMD, SWP_MIGRATION_WRITE, off);
      const back = v.swpOffset(r, 0, PMD);
      expect([migrationYoung(v.softleaf, back), migrationDirty(v.softleaf, back), back % 2 ** v.softleaf.pfnBits]).toEqual([true, true, g.maxPfn]);
    }
  });

  it("property: type/offset round trip bit-exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 2 ** 50 - 1 }), fc.boolean(), fc.boolean(), (t, off, ex, wp) => {
        const r = entryRegs(1);
        b.softleafEntry(r, 0, PTE, t, off);
        if (ex) b.swpMkExclusive(r, 0, PTE);
        if (wp) b.swpMkUffdWp(r, 0, PTE);
        const want = (BigInt(off) << 12n) | (BigInt(t) << 6n) | (ex ? 4n : 0n) | (wp ? 8n : 0n);
        expect(big(r)).toBe(want);
        expect([b.swpType(r, 0, PTE), b.swpOffset(r, 0, PTE), b.swpExclusive(r, 0, PTE), b.swpUffdWp(r, 0, PTE)]).toEqual([t, off, ex, wp]);
      }),
      { seed: 99, numRuns: 500 },
    );
  });

  it("rejects a type outside 0..31, an offset above 2^50 - 1, and the P4D/PGD levels", () => {
    const r = entryRegs(1);
    expect(() => b.softleafEntry(r, 0, PTE, 32, 0)).toThrow(/swap type 32: expected an integer in \[0, 31\]/);
    expect(() => b.softleafEntry(r, 0, PTE, -1, 0)).toThrow(ArchInputError);
    expect(() => b.softleafEntry(r, 0, PTE, 1, 2 ** 50)).toThrow(/swap offset .*0x4000000000000.*expected an integer in \[0, 0x3ffffffffffff\]/);
    expect(() => b.softleafEntry(r, 0, P4D, 1, 1)).toThrow(/softleaf level 3/);
    expect(() => b.softleafEntry(r, 0, PGD, 1, 1)).toThrow(ArchInputError);
    expect(() => b.softleafEntry(r, 0, 5 as never, 1, 1)).toThrow(/page-table level 5/);
  });
});
